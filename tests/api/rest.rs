//! The JSON REST face (transcoded from the protos' `google.api.http` rules):
//! every GoodMem route, the JSON rules of SPEC §4, and every error shape.
use base64::Engine as _;
use roster::domain::user::Role;
use serde_json::Value;

use crate::helpers::{Backend, TestApp, external_tool};
use crate::on_every_backend;

/// Sends `request` and returns the status, headers and parsed JSON body.
async fn call(request: reqwest::RequestBuilder) -> (u16, reqwest::header::HeaderMap, Value) {
    let response = request.send().await.expect("http call");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await.unwrap();
    let body =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, headers, body)
}

/// Asserts the google.rpc.Status error shape and returns its message.
fn assert_error(body: &Value, code: i64) -> String {
    assert_eq!(body["code"], code, "{body}");
    assert!(body["details"].is_array(), "{body}");
    body["message"].as_str().expect("message").to_owned()
}

async fn initialize_over_rest(app: &TestApp) -> (String, String) {
    let (status, _, body) = call(
        app.http()
            .post(format!("{}/v1/system/init", app.base_url())),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    (
        body["rootApiKey"].as_str().unwrap().to_owned(),
        body["userId"].as_str().unwrap().to_owned(),
    )
}

async fn system_init_and_info_over_rest(app: TestApp) {
    let url = format!("{}/v1/system/init", app.base_url());

    let (first_status, _, first) = call(app.http().post(&url)).await;
    let (second_status, _, second) = call(
        app.http()
            .post(&url)
            .header("content-type", "application/json")
            .body("{}"),
    )
    .await;
    let (info_status, _, info) =
        call(app.http().get(format!("{}/v1/system/info", app.base_url()))).await;

    assert_eq!((first_status, second_status, info_status), (200, 200, 200));
    assert_eq!(first["alreadyInitialized"], false);
    assert!(first["rootApiKey"].as_str().unwrap().starts_with("gm_"));
    let user_id = first["userId"].as_str().unwrap();
    assert_eq!(
        uuid::Uuid::parse_str(user_id).unwrap().to_string(),
        user_id,
        "canonical lowercase uuid text"
    );
    assert_eq!(second["alreadyInitialized"], true);
    assert_eq!(second["rootApiKey"], "");
    assert_eq!(second["userId"], Value::Null);
    assert_eq!(info["initialized"], true);
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        info["capabilities"]
            .as_array()
            .unwrap()
            .contains(&Value::from("rest"))
    );
}

async fn every_get_user_route_returns_the_goodmem_user_shape(app: TestApp) {
    let (root_key, _) = initialize_over_rest(&app).await;
    let (alice, _) = app
        .insert_user_full(Role::User, "alice", "First.Last+tag@example.com", None)
        .await;
    let id = alice.id.0.to_string();
    let url_safe_id =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(alice.id.0.as_bytes());
    let paths = [
        format!("/v1/users/{id}"),
        format!("/v1/users/{url_safe_id}"),
        "/v1/users/email/first.last%2Btag%40example.com".to_owned(),
        "/v1/users/email/First.Last+tag@example.com".to_owned(),
        "/v1/users/username/ALICE".to_owned(),
        format!("/api/v1/users/{id}"),
        "/api/v1/users/alice".to_owned(),
    ];

    for path in paths {
        let (status, headers, user) = call(
            app.http()
                .get(format!("{}{path}", app.base_url()))
                .header("x-api-key", &root_key),
        )
        .await;

        assert_eq!(status, 200, "{path}: {user}");
        assert!(
            headers["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
        assert_eq!(user["userId"], id, "{path}");
        assert_eq!(user["email"], "First.Last+tag@example.com");
        assert_eq!(user["displayName"], "ALICE");
        assert_eq!(user["username"], "alice");
        assert_eq!(
            user["createdAt"], alice.created_at.0,
            "timestamps are epoch milliseconds"
        );
        assert_eq!(user["updatedAt"], alice.updated_at.0);
        assert_eq!(user["name"], format!("users/{id}"));
        assert_eq!(user["role"], "USER");
        assert_eq!(user["state"], "NORMAL");
        assert_eq!(user["labels"], serde_json::json!({"team": "core"}));
        assert_eq!(user["deletedAt"], Value::Null);
        assert_eq!(user["createdById"], id);
        assert!(
            user.get("password").is_none(),
            "input-only fields are never returned"
        );
    }
}

async fn me_answers_bearer_and_api_key(app: TestApp) {
    let (root_key, root_id) = initialize_over_rest(&app).await;
    let url = format!("{}/v1/users/me", app.base_url());

    let (bearer_status, _, by_bearer) = call(app.http().get(&url).bearer_auth(&root_key)).await;
    let (key_status, _, by_key) = call(app.http().get(&url).header("x-api-key", &root_key)).await;

    assert_eq!((bearer_status, key_status), (200, 200));
    assert_eq!(by_bearer["userId"], root_id);
    assert_eq!(by_bearer, by_key);
    assert_eq!(by_bearer["role"], "ROOT");
}

async fn include_deleted_is_read_from_the_query_in_either_spelling(app: TestApp) {
    let (root_key, _) = initialize_over_rest(&app).await;
    let (carol, _) = app.insert_user(Role::User, "carol").await;
    app.delete_user(&root_key, carol.id).await;
    let url = format!("{}/v1/users/{}", app.base_url(), carol.id);

    let (hidden, _, _) = call(app.http().get(&url).header("x-api-key", &root_key)).await;
    let (snake, _, by_snake) = call(
        app.http()
            .get(format!("{url}?include_deleted=true"))
            .header("x-api-key", &root_key),
    )
    .await;
    let (camel, _, by_camel) = call(
        app.http()
            .get(format!("{url}?includeDeleted=true"))
            .header("x-api-key", &root_key),
    )
    .await;

    assert_eq!((hidden, snake, camel), (404, 200, 200));
    assert!(by_snake["deletedAt"].as_i64().unwrap() >= carol.created_at.0);
    assert_eq!(by_snake, by_camel);
}

async fn grpc_errors_map_to_http_statuses_with_status_bodies(app: TestApp) {
    let (root_key, root_id) = initialize_over_rest(&app).await;
    let (_, bob_key) = app.insert_user(Role::User, "bob").await;
    let base = app.base_url();
    let http = app.http();

    let (unauthenticated, _, missing) = call(http.get(format!("{base}/v1/users/me"))).await;
    let (bad_token, _, bad) = call(
        http.get(format!("{base}/v1/users/me"))
            .bearer_auth("gm_nope"),
    )
    .await;
    let (forbidden, _, denied) = call(
        http.get(format!("{base}/v1/users/{root_id}"))
            .header("x-api-key", &bob_key),
    )
    .await;
    let (not_found, _, absent) = call(
        http.get(format!("{base}/v1/users/{}", uuid::Uuid::now_v7()))
            .header("x-api-key", &root_key),
    )
    .await;
    let (invalid, _, malformed) = call(
        http.get(format!("{base}/v1/users/not-a-uuid"))
            .header("x-api-key", &root_key),
    )
    .await;
    let (invalid_name, _, bad_name) = call(
        http.get(format!("{base}/api/v1/users/a%2Fb"))
            .header("x-api-key", &root_key),
    )
    .await;

    assert_eq!(unauthenticated, 401);
    assert!(assert_error(&missing, 16).contains("missing credentials"));
    assert_eq!(bad_token, 401);
    assert_error(&bad, 16);
    assert_eq!(forbidden, 403);
    assert!(assert_error(&denied, 7).contains("DISPLAY_USER_ANY"));
    assert_eq!(not_found, 404);
    assert_eq!(assert_error(&absent, 5), "user not found");
    assert_eq!(invalid, 400);
    assert!(assert_error(&malformed, 3).contains("user_id"));
    assert_eq!(
        malformed["details"][0]["@type"],
        "type.googleapis.com/google.rpc.BadRequest"
    );
    assert_eq!(
        malformed["details"][0]["fieldViolations"][0]["field"],
        "user_id"
    );
    assert_eq!(invalid_name, 400, "{bad_name}");
    assert_error(&bad_name, 3);
}
on_every_backend!(
    system_init_and_info_over_rest,
    every_get_user_route_returns_the_goodmem_user_shape,
    me_answers_bearer_and_api_key,
    include_deleted_is_read_from_the_query_in_either_spelling,
    grpc_errors_map_to_http_statuses_with_status_bodies
);

async fn transport_errors_share_the_status_body_shape(app: TestApp) {
    let (root_key, _) = initialize_over_rest(&app).await;
    let base = app.base_url();
    let http = app.http();

    let (unknown_path, _, unknown) = call(http.get(format!("{base}/v2/nothing"))).await;
    let (wrong_method, headers, wrong) = call(http.delete(format!("{base}/v1/system/info"))).await;
    let (wrong_type, _, media) = call(
        http.post(format!("{base}/v1/system/init"))
            .header("content-type", "text/plain")
            .body("{}"),
    )
    .await;
    let (bad_json, _, syntax) = call(
        http.post(format!("{base}/v1/system/init"))
            .header("content-type", "application/json")
            .body("{\n  \"x\": "),
    )
    .await;
    let (unknown_field, _, field) = call(
        http.post(format!("{base}/v1/system/init"))
            .header("content-type", "application/json")
            .body(r#"{"surprise": 1}"#),
    )
    .await;
    let (unknown_query, _, query) = call(
        http.get(format!("{base}/v1/users/me?colour=blue"))
            .header("x-api-key", &root_key),
    )
    .await;
    let (wrong_type_query, _, typed) = call(
        http.get(format!("{base}/v1/users/me?includeDeleted=maybe"))
            .header("x-api-key", &root_key),
    )
    .await;
    // Over HTTP/1.1 a server that refuses a body early closes the
    // connection, and a client still uploading may see a broken pipe
    // instead of the 413; HTTP/2 resets only the stream, so the answer
    // always arrives.
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let too_big = "x".repeat(2 * 1024 * 1024);
    let (oversized, _, size) = call(
        h2.post(format!("{base}/v1/system/init"))
            .header("content-type", "application/json")
            .body(too_big),
    )
    .await;

    assert_eq!(unknown_path, 404);
    assert_error(&unknown, 5);
    assert_eq!(wrong_method, 405);
    assert_eq!(headers["allow"], "GET");
    assert_error(&wrong, 12);
    assert_eq!(wrong_type, 415);
    assert_error(&media, 3);
    assert_eq!(bad_json, 400);
    assert!(assert_error(&syntax, 3).contains("line 2"), "{syntax}");
    assert_eq!(unknown_field, 400);
    assert!(assert_error(&field, 3).contains("surprise"), "{field}");
    assert_eq!(unknown_query, 400);
    assert!(assert_error(&query, 3).contains("colour"), "{query}");
    assert_eq!(wrong_type_query, 400);
    assert!(assert_error(&typed, 3).contains("include"), "{typed}");
    assert_eq!(oversized, 413);
    assert_error(&size, 8);
}

async fn responses_are_gzipped_when_accepted(app: TestApp) {
    let (root_key, _) = initialize_over_rest(&app).await;
    // A client that does not decompress, so the encoding is visible.
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();

    let response = raw
        .get(format!("{}/v1/users/me", app.base_url()))
        .header("x-api-key", &root_key)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let compressed = response.bytes().await.unwrap();
    assert_eq!(&compressed[..2], &[0x1f, 0x8b], "gzip magic");
}
// Transport rules are the gateway's, not the database's: checked once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transport_errors_share_the_status_body_shape_once() {
    transport_errors_share_the_status_body_shape(TestApp::spawn(Backend::Sqlite).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_are_gzipped_when_accepted_once() {
    responses_are_gzipped_when_accepted(TestApp::spawn(Backend::Sqlite).await).await;
}

#[tokio::test]
async fn rest_calls_are_metered_as_rest() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (root_key, _) = initialize_over_rest(&app).await;
    call(
        app.http()
            .get(format!("{}/v1/users/me", app.base_url()))
            .header("x-api-key", &root_key),
    )
    .await;

    let text = app.metrics_text().await;

    for expected in [
        r#"grpc_server_handled_total{grpc_type="unary",grpc_service="goodmem.v1.UserService",grpc_method="InitializeSystem",grpc_code="OK",protocol="rest"} 1"#,
        r#"grpc_server_handled_total{grpc_type="unary",grpc_service="goodmem.v1.UserService",grpc_method="GetUser",grpc_code="OK",protocol="rest"} 1"#,
    ] {
        assert!(text.contains(expected), "missing {expected}\n{text}");
    }
}

#[tokio::test]
async fn openapi_document_describes_the_routes_and_validates() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    let (status, _, document) =
        call(app.http().get(format!("{}/openapi.json", app.base_url()))).await;

    assert_eq!(status, 200);
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().unwrap();
    for path in [
        "/v1/system/init",
        "/v1/system/info",
        "/v1/users/me",
        "/v1/users/email/{email}",
        "/v1/users/username/{username}",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} in {:?}",
            paths.keys().collect::<Vec<_>>()
        );
    }
    let user = &document["components"]["schemas"]["goodmem.v1.User"];
    assert!(
        user["description"]
            .as_str()
            .unwrap()
            .contains("owner of credentials"),
        "proto comments become descriptions"
    );
    assert_eq!(user["properties"]["userId"]["format"], "uuid");
    let Some(validator) = external_tool("openapi-spec-validator") else {
        return;
    };
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_vec(&document).unwrap()).unwrap();
    let validation = std::process::Command::new(validator)
        .arg(file.path())
        .output()
        .unwrap();
    assert!(
        validation.status.success(),
        "{}{}",
        String::from_utf8_lossy(&validation.stdout),
        String::from_utf8_lossy(&validation.stderr)
    );
}

/// Every operation of a document: (path, method, operation).
fn operations(document: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            out.push((path.clone(), method.clone(), operation.clone()));
        }
    }
    out
}

fn parameter<'a>(operation: &'a Value, name: &str) -> &'a Value {
    operation["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|parameter| parameter["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {operation}"))
}

#[tokio::test]
async fn openapi_document_states_security_formats_ids_and_texts() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, _, document) = call(app.http().get(format!("{}/openapi.json", app.base_url()))).await;

    assert_eq!(
        document["servers"],
        serde_json::json!([{"url": "/", "description": "The server this document is served from."}])
    );
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["bearerAuth"]["type"], "http");
    assert_eq!(schemes["bearerAuth"]["scheme"], "bearer");
    assert_eq!(schemes["apiKeyAuth"]["type"], "apiKey");
    assert_eq!(schemes["apiKeyAuth"]["in"], "header");
    assert_eq!(schemes["apiKeyAuth"]["name"], "x-api-key");
    // The methods `(goodmem.v1.public)` marks, with their aliases.
    let public = [
        "InitializeSystem",
        "GetSystemInfo",
        "CreateUser",
        "CreateUserApi",
        "SignIn",
        "SignInApi",
    ];
    let credential = serde_json::json!([{"bearerAuth": []}, {"apiKeyAuth": []}]);
    let mut ids = std::collections::HashSet::new();
    for (path, method, operation) in operations(&document) {
        let id = operation["operationId"].as_str().unwrap().to_owned();
        let expected = if public.contains(&id.as_str()) {
            serde_json::json!([])
        } else {
            credential.clone()
        };
        assert_eq!(operation["security"], expected, "{id}");
        assert!(
            operation["description"]
                .as_str()
                .is_some_and(|text| !text.is_empty()),
            "{method} {path} has its RPC's comment"
        );
        for parameter in operation["parameters"].as_array().into_iter().flatten() {
            assert!(parameter["description"].is_string(), "{id}: {parameter}");
            if parameter["in"] == "path" {
                assert_eq!(parameter["required"], true, "{id}: {parameter}");
                assert_eq!(parameter["schema"]["type"], "string", "{id}: {parameter}");
            }
        }
        assert!(ids.insert(id.clone()), "{id} is unique");
    }
    for id in [
        "GetUser",
        "GetUserByEmail",
        "GetUserByUsername",
        "GetUserMe",
        "GetUserApiByName",
        "ListUsersApi",
        "DeleteUserApiByName",
    ] {
        assert!(ids.contains(id), "{id} in {ids:?}");
    }

    let paths = &document["paths"];
    assert_eq!(
        parameter(&paths["/v1/users/{user_id}"]["get"], "user_id")["schema"]["format"],
        "uuid"
    );
    assert_eq!(
        parameter(&paths["/v1/users/email/{email}"]["get"], "email")["schema"]["format"],
        "email"
    );
    assert_eq!(
        parameter(&paths["/v1/users/username/{username}"]["get"], "username")["schema"]["pattern"],
        "^[a-zA-Z0-9]([a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$",
        "SPEC's username rule"
    );
    let schemas = &document["components"]["schemas"];
    for (name, schema) in schemas.as_object().unwrap() {
        assert!(
            schema["description"].is_string(),
            "{name} has its message's comment"
        );
        for (field, property) in schema["properties"].as_object().into_iter().flatten() {
            assert!(
                property["description"].is_string(),
                "{name}.{field} has its comment"
            );
        }
    }
    let user_input = &schemas["goodmem.v1.User-Input"];
    assert_eq!(user_input["properties"]["email"]["format"], "email");
    assert!(
        user_input.get("required").is_none(),
        "an update sends only what changes"
    );
    assert_eq!(user_input["properties"]["password"]["writeOnly"], true);
    assert!(
        schemas["goodmem.v1.User"]["properties"]
            .get("password")
            .is_none()
    );
    assert_eq!(
        schemas["goodmem.v1.CreateUserRequest-Input"]["properties"]["requestId"]["format"],
        "uuid"
    );
}

/// What the document says a response always holds is what GetUser writes.
#[tokio::test]
async fn openapi_required_output_fields_are_the_fields_returned() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (root_key, _) = initialize_over_rest(&app).await;
    let (_, _, document) = call(app.http().get(format!("{}/openapi.json", app.base_url()))).await;
    let (status, _, me) = call(
        app.http()
            .get(format!("{}/v1/users/me", app.base_url()))
            .header("x-api-key", &root_key),
    )
    .await;

    assert_eq!(status, 200, "{me}");
    let mut returned: Vec<&str> = me.as_object().unwrap().keys().map(String::as_str).collect();
    returned.sort_unstable();
    let mut required: Vec<&str> = document["components"]["schemas"]["goodmem.v1.User"]["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|name| name.as_str().unwrap())
        .collect();
    required.sort_unstable();
    assert_eq!(returned, required);
}

/// The value of the first `attribute="…"` after `marker` in `html`.
fn attribute_after<'a>(html: &'a str, marker: &str, attribute: &str) -> &'a str {
    let rest = &html[html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"))..];
    let key = format!("{attribute}=\"");
    let value = &rest[rest.find(&key).unwrap() + key.len()..];
    &value[..value.find('"').unwrap()]
}

#[tokio::test]
async fn the_docs_page_renders_the_document_from_the_binary() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    let page = app
        .http()
        .get(format!("{}/docs", app.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let headers = page.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["cache-control"], "no-cache");
    let policy = headers["content-security-policy"].to_str().unwrap();
    assert!(
        policy.contains("default-src 'none'") && policy.contains("script-src 'self'"),
        "{policy}"
    );
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    let html = page.text().await.unwrap();
    assert_eq!(
        attribute_after(&html, r#"name="openapi-document""#, "content"),
        "/openapi.json"
    );
    assert!(!html.contains("<script>"), "no inline script");
    assert!(!html.contains("https://"), "nothing from elsewhere");

    let script_path = attribute_after(&html, "<script", "src").to_owned();
    let script = app
        .http()
        .get(format!("{}{script_path}", app.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert_eq!(
        script.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let code = script.text().await.unwrap();
    assert!(
        code.contains(r#"meta[name="openapi-document"]"#),
        "the script loads the document the page names"
    );
    assert!(
        code.contains("sessionStorage"),
        "the key is kept for the tab only"
    );
    let style_path = attribute_after(&html, r#"rel="stylesheet""#, "href");
    let style = app
        .http()
        .get(format!("{}{style_path}", app.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(style.status(), 200);
    assert_eq!(style.headers()["content-type"], "text/css; charset=utf-8");
}

#[tokio::test]
async fn cors_preflight_covers_rest_routes() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    let preflight = app
        .http()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/v1/users/me", app.base_url()),
        )
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "x-api-key")
        .send()
        .await
        .unwrap();

    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
}
