//! The OpenAPI document: served, shaped by the route table, and valid.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::Command;

use roster_gateway::Gateway;
use serde_json::json;

use crate::support::{TestApp, compile, config, library_pool};

fn document() -> serde_json::Value {
    Gateway::new(library_pool(), config()).unwrap().openapi()
}

#[tokio::test]
async fn the_document_is_served_at_the_configured_path() {
    let app = TestApp::new();
    let served = app.get("/openapi.json").await.expect_ok();
    assert_eq!(served, document());
    assert_eq!(served["openapi"], json!("3.1.0"));
    assert_eq!(served["info"]["title"], json!("Library"));
    assert_eq!(served["info"]["version"], json!("1.2.3"));

    let response = app
        .send(crate::support::request(
            "POST",
            "/openapi.json",
            axum::body::Body::empty(),
        ))
        .await;
    response.expect_error(405, 12);
    assert_eq!(response.header("allow"), Some("GET, HEAD"));
}

#[test]
fn every_binding_is_one_operation_with_a_unique_id() {
    let document = document();
    let mut ids = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let id = operation["operationId"].as_str().unwrap().to_owned();
            assert_eq!(operation["tags"], json!(["Library"]), "{method} {path}");
            ids.push(id);
        }
    }
    let unique: HashSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "operation ids are unique: {ids:?}");
    for expected in [
        "GetBook",
        "GetBookFavourite",
        "GetBookByIsbn",
        "GetBookDelete",
        "UpdateBookV2",
        "ReadFile",
    ] {
        assert!(ids.iter().any(|id| id == expected), "{expected} in {ids:?}");
    }
    assert!(
        !ids.iter().any(|id| id.contains("Internal")),
        "RPCs without a binding are not documented"
    );
    assert!(
        document["paths"].get("/v1/files").is_none(),
        "a custom method (SEARCH) cannot be described in OpenAPI 3.1"
    );
}

#[test]
fn resource_name_variables_become_one_parameter_per_segment() {
    let document = document();
    let paths = document["paths"].as_object().unwrap();
    let archive = &paths["/v1/shelves/{shelf}/books/{book}:archive"]["post"];
    let parameters = archive["parameters"].as_array().unwrap();
    let names: Vec<&str> = parameters
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["shelf", "book"]);
    assert!(
        parameters[0]["description"]
            .as_str()
            .unwrap()
            .contains("`name`, which the path binds as `shelves/*/books/*`"),
        "{}",
        parameters[0]["description"]
    );
    assert!(archive["requestBody"].is_object());
    assert!(paths.contains_key("/v1/files/{path}"));
    assert!(paths.contains_key("/v1/books:search"));
}

#[test]
fn equivalent_templates_share_one_path_and_its_parameter_names() {
    let document = document();
    let paths = document["paths"].as_object().unwrap();
    // GET /v1/shelves/{shelf.id}/books/{shelf.book.id} and
    // PATCH /v1/{book.name=shelves/*/books/*} match the same URLs.
    let shared = &paths["/v1/shelves/{shelf.id}/books/{shelf.book.id}"];
    assert!(shared["get"].is_object());
    assert!(shared["patch"].is_object());
    let patch_names: Vec<&str> = shared["patch"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["in"] == "path")
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(patch_names, ["shelf.id", "shelf.book.id"]);
    assert!(
        !paths
            .keys()
            .any(|path| path == "/v1/shelves/{shelf}/books/{book}")
    );
}

#[test]
fn query_parameters_and_bodies_follow_the_binding() {
    let document = document();
    let search = &document["paths"]["/v1/books:search"]["get"];
    let parameters = search["parameters"].as_array().unwrap();
    let find = |name: &str| {
        parameters
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {parameters:?}"))
    };
    assert_eq!(find("filter.author")["in"], json!("query"));
    assert_eq!(
        find("tags")["schema"],
        json!({"type": "array", "items": {"type": "string"}})
    );
    assert_eq!(find("ownerId")["schema"]["format"], json!("uuid"));
    assert_eq!(find("publishedAfter")["schema"]["type"], json!("integer"));
    assert_eq!(
        find("view")["schema"]["$ref"],
        json!("#/components/schemas/gatewaytest.v1.View")
    );
    assert!(search.get("requestBody").is_none());

    let echo = &document["paths"]["/v1/echo"]["post"];
    assert!(
        echo.get("parameters").is_none(),
        "a whole-body request has no query parameters"
    );
    assert_eq!(
        echo["requestBody"]["content"]["application/json"]["schema"]["$ref"],
        json!("#/components/schemas/gatewaytest.v1.Everything-Input")
    );
    let create = &document["paths"]["/v1/shelves/{shelf}/books"]["post"];
    let create_names: Vec<&str> = create["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        create_names,
        ["shelf", "requestId"],
        "the body field is not a query parameter"
    );

    let name = &document["paths"]["/v1/shelves/{shelf}/books/{book}/name"]["get"];
    assert_eq!(
        name["responses"]["200"]["content"]["application/json"]["schema"]["type"],
        json!("string")
    );
    assert_eq!(
        name["responses"]["default"]["content"]["application/json"]["schema"]["$ref"],
        json!("#/components/schemas/google.rpc.Status")
    );
}

#[test]
fn schemas_state_the_json_rules_and_the_proto_comments() {
    let document = document();
    let schemas = &document["components"]["schemas"];
    let book = &schemas["gatewaytest.v1.Book"];
    assert_eq!(book["description"], json!("A book."));
    assert_eq!(
        book["properties"]["title"]["description"],
        json!("The title.")
    );
    let create_time = &book["properties"]["createTime"];
    assert_eq!(create_time["type"], json!(["integer", "null"]));
    assert_eq!(create_time["readOnly"], json!(true));
    assert_eq!(book["properties"]["bookId"]["format"], json!("uuid"));
    assert_eq!(
        book["properties"]["labels"]["additionalProperties"],
        json!({"type": "string"})
    );

    let everything = &schemas["gatewaytest.v1.Everything"]["properties"];
    assert_eq!(everything["anInt64"]["type"], json!("string"));
    assert_eq!(everything["anInt32"]["type"], json!("integer"));
    assert_eq!(everything["aDuration"]["type"], json!(["string", "null"]));
    assert_eq!(
        everything["aBook"]["anyOf"][0]["$ref"],
        json!("#/components/schemas/gatewaytest.v1.Book")
    );
    assert_eq!(everything["someBytes"]["contentEncoding"], json!("base64"));

    let view = &schemas["gatewaytest.v1.View"];
    assert_eq!(view["enum"], json!(["VIEW_UNSPECIFIED", "BASIC", "FULL"]));
    assert!(
        view["description"]
            .as_str()
            .unwrap()
            .contains("`FULL`: Everything.")
    );
    assert_eq!(
        schemas["gatewaytest.v1.ArchiveBookRequest-Input"]["required"],
        json!(["reason"]),
        "a request requires what field_behavior marks REQUIRED, but not `name`, which the path binds"
    );
    assert!(
        schemas["gatewaytest.v1.Book-Input"]
            .get("required")
            .is_none(),
        "the body of a PATCH with an update mask carries only what changes, REQUIRED `title` too"
    );
    assert!(schemas["google.rpc.Status"]["properties"]["details"].is_object());
}

/// Runs `openapi-spec-validator` (PyPI) on the document when it is on PATH.
fn validate_with_standard_validator(name: &str, document: &serde_json::Value) {
    let found = Command::new("openapi-spec-validator")
        .arg("--help")
        .output();
    if found.is_err() {
        eprintln!(
            "skipped: openapi-spec-validator is not on PATH (pip install openapi-spec-validator)"
        );
        return;
    }
    let path = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-openapi.json"));
    std::fs::write(&path, serde_json::to_vec_pretty(document).unwrap()).unwrap();
    let output = Command::new("openapi-spec-validator")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "openapi-spec-validator rejected {}:\n{}\n{}",
        path.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_library_document_passes_a_standard_validator() {
    validate_with_standard_validator("library", &document());
}

#[test]
fn the_accounts_document_passes_a_standard_validator() {
    let files = [
        "gatewaytest/v1/accounts.proto",
        "google/rpc/error_details.proto",
    ];
    let document = Gateway::new(compile(&files), config()).unwrap().openapi();
    assert!(document["paths"]["/v1/users/me"]["get"].is_object());
    let user = &document["components"]["schemas"]["gatewaytest.v1.User"]["properties"];
    assert_eq!(user["userId"]["format"], json!("uuid"));
    assert_eq!(user["createdAt"]["type"], json!(["integer", "null"]));
    validate_with_standard_validator("accounts", &document);
}

fn accounts() -> Gateway {
    let files = [
        "gatewaytest/v1/accounts.proto",
        "google/rpc/error_details.proto",
    ];
    Gateway::new(compile(&files), config()).unwrap()
}

/// Every operation of a document: (path, method, operation).
fn operations(document: &serde_json::Value) -> Vec<(String, String, serde_json::Value)> {
    let mut out = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            out.push((path.clone(), method.clone(), operation.clone()));
        }
    }
    out
}

#[test]
fn operations_need_a_credential_unless_their_method_is_public() {
    let document = document();
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(
        schemes["bearerAuth"],
        json!({"type": "http", "scheme": "bearer", "description": "A token as `authorization: Bearer <token>`."})
    );
    assert_eq!(
        schemes["apiKeyAuth"],
        json!({"type": "apiKey", "in": "header", "name": "x-api-key"})
    );
    let either = json!([{"bearerAuth": []}, {"apiKeyAuth": []}]);
    assert_eq!(document["security"], either);
    for (path, method, operation) in operations(&document) {
        let expected = if path == "/v1/echo" {
            json!([])
        } else {
            either.clone()
        };
        assert_eq!(operation["security"], expected, "{method} {path}");
    }
    assert_eq!(document["servers"][0]["url"], json!("/"));

    let mut unsecured = config();
    unsecured.security_schemes.clear();
    let plain = Gateway::new(library_pool(), unsecured).unwrap().openapi();
    assert!(plain.get("security").is_none());
    assert!(plain["components"].get("securitySchemes").is_none());
    assert!(
        operations(&plain)
            .iter()
            .all(|(_, _, operation)| operation.get("security").is_none())
    );
}

#[test]
fn path_parameters_are_required_plain_values_with_the_field_format() {
    for document in [document(), accounts().openapi()] {
        for (path, method, operation) in operations(&document) {
            for parameter in operation["parameters"].as_array().into_iter().flatten() {
                if parameter["in"] != "path" {
                    continue;
                }
                assert_eq!(parameter["required"], json!(true), "{method} {path}");
                assert_eq!(
                    parameter["schema"]["type"],
                    json!("string"),
                    "{method} {path}: {parameter}"
                );
            }
        }
    }
    let document = accounts().openapi();
    let parameter = |path: &str, name: &str| {
        document["paths"][path]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|parameter| parameter["name"] == name)
            .unwrap_or_else(|| panic!("{name} of {path}"))
            .clone()
    };
    assert_eq!(
        parameter("/v1/users/{user_id}", "user_id")["schema"]["format"],
        json!("uuid")
    );
    assert_eq!(
        parameter("/v1/users/email/{email}", "email")["schema"],
        json!({"type": "string", "format": "email"})
    );
    assert_eq!(
        parameter("/v1/users/username/{username}", "username")["schema"],
        json!({"type": "string", "pattern": "^[a-z]{1,8}$"})
    );
    assert!(
        parameter("/v1/users/email/{email}", "email")["description"]
            .as_str()
            .unwrap()
            .contains("Look up by email address."),
        "a path parameter carries its field's comment"
    );
    assert_eq!(
        parameter("/v1/users/me", "email")["schema"]["format"],
        json!("email"),
        "query parameters carry the format too"
    );
    let user = &document["components"]["schemas"]["gatewaytest.v1.User"]["properties"];
    assert_eq!(user["email"]["format"], json!("email"));
    let input = &document["components"]["schemas"]["gatewaytest.v1.User-Input"]["properties"];
    assert_eq!(input["username"]["pattern"], json!("^[a-z]{1,8}$"));
}

/// Each response component lists as `required` exactly the fields the
/// encoder writes for an empty message (which are all it ever writes).
#[test]
fn response_schemas_require_every_field_the_encoder_writes() {
    let mut checked = 0;
    for gateway in [Gateway::new(library_pool(), config()).unwrap(), accounts()] {
        let document = gateway.openapi();
        let encoder = gateway.json_encoder();
        for (name, schema) in document["components"]["schemas"].as_object().unwrap() {
            let Some(properties) = schema["properties"].as_object() else {
                continue;
            };
            if name.ends_with("-Input") {
                continue;
            }
            let Some(encoded) = encoder.encode(name, &[]) else {
                // The error body's schema is written by hand; its type is
                // not in these pools.
                assert_eq!(name, "google.rpc.Status");
                continue;
            };
            let written: serde_json::Value = serde_json::from_slice(&encoded).unwrap();
            let mut written: Vec<&String> = written.as_object().unwrap().keys().collect();
            written.sort();
            let mut required: Vec<&str> = schema["required"]
                .as_array()
                .map(|list| list.iter().map(|v| v.as_str().unwrap()).collect())
                .unwrap_or_default();
            required.sort_unstable();
            let mut declared: Vec<&String> = properties.keys().collect();
            declared.sort();
            assert_eq!(written, required, "{name}");
            assert_eq!(written, declared, "{name}");
            checked += 1;
        }
    }
    assert!(checked > 5, "{checked}");
    let document = accounts().openapi();
    let schemas = &document["components"]["schemas"];
    assert!(
        schemas["gatewaytest.v1.User"]["properties"]
            .get("password")
            .is_none(),
        "an INPUT_ONLY field is never in a response"
    );
    assert_eq!(
        schemas["gatewaytest.v1.User-Input"]["properties"]["password"]["writeOnly"],
        json!(true)
    );
}

#[test]
fn operations_carry_the_proto_comments() {
    let document = document();
    let get = &document["paths"]["/v1/books/{book_id}"]["get"];
    assert_eq!(
        get["summary"],
        json!("Reads a book by id, or the caller's favourite.")
    );
    let archive = &document["paths"]["/v1/shelves/{shelf}/books/{book}:archive"]["post"];
    assert!(
        archive["requestBody"]["description"]
            .as_str()
            .unwrap()
            .starts_with("The request message.")
    );
    let create = &document["paths"]["/v1/shelves/{shelf}/books"]["post"];
    assert_eq!(
        create["requestBody"]["description"],
        json!("The request field `book`. The book to create.")
    );
    assert_eq!(
        create["requestBody"]["content"]["application/json"]["schema"],
        json!({"$ref": "#/components/schemas/gatewaytest.v1.Book-Input"}),
        "a message body is the message, not the message or null"
    );
}
