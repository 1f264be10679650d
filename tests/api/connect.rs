//! The Connect protocol beside gRPC, gRPC-Web and REST: unary JSON and
//! binary (the shared cases are in `one_call_path.rs`), GET for methods free
//! of side effects, gzip both ways, streams (health, reflection) with the
//! end-of-stream message, and clear errors for bad Connect requests.
use std::io::{Read as _, Write as _};

use base64::Engine as _;
use prost::Message as _;
use roster::proto::goodmem::v1 as pb;
use serde_json::{Value, json};
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};
use tonic_reflection::pb::v1 as reflection;

use crate::helpers::{Backend, TestApp};

const GET_USER: &str = "/goodmem.v1.UserService/GetUser";

fn envelope(flags: u8, message: &[u8]) -> Vec<u8> {
    let mut framed = vec![flags];
    framed.extend_from_slice(&(message.len() as u32).to_be_bytes());
    framed.extend_from_slice(message);
    framed
}

/// Splits a stream body into its envelopes: (flags, message).
fn envelopes(mut bytes: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        assert!(bytes.len() >= 5, "a truncated envelope");
        let length = u32::from_be_bytes(bytes[1..5].try_into().unwrap()) as usize;
        out.push((bytes[0], bytes[5..5 + length].to_vec()));
        bytes = &bytes[5 + length..];
    }
    out
}

fn h2() -> reqwest::Client {
    reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap()
}

/// A client that leaves compression to the test.
fn raw_http1() -> reqwest::Client {
    reqwest::Client::builder().no_gzip().build().unwrap()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    encoder.write_all(data).unwrap();
    encoder.finish().unwrap()
}

fn gunzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .unwrap();
    out
}

/// A Connect GET of `method` with `query`, with `key` if given.
async fn connect_get(
    app: &TestApp,
    method: &str,
    query: &str,
    key: Option<&str>,
) -> reqwest::Response {
    let request = app
        .http()
        .get(format!("{}{method}?connect=v1&{query}", app.base_url()));
    let request = match key {
        Some(key) => request.header("x-api-key", key),
        None => request,
    };
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_read_rpc_answers_get_and_a_write_rpc_refuses_it() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (root_key, root_id) = app.initialize().await;
    let name = format!("users/{}", root_id.0);

    let message = json!({ "name": name }).to_string();
    let encoded: String =
        percent_encoding::utf8_percent_encode(&message, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    let response = connect_get(
        &app,
        GET_USER,
        &format!("encoding=json&message={encoded}"),
        Some(&root_key),
    )
    .await;
    assert_eq!(response.status(), 200);
    let user: Value = response.json().await.unwrap();
    assert_eq!(
        user["userId"],
        base64::engine::general_purpose::STANDARD.encode(root_id.0.as_bytes())
    );

    // Binary, base64url-encoded, in the query.
    let request = pb::GetUserRequest {
        name: name.clone(),
        ..Default::default()
    };
    let message = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(request.encode_to_vec());
    let binary = format!("encoding=proto&base64=1&message={message}");
    let response = connect_get(&app, GET_USER, &binary, Some(&root_key)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/proto");
    let user = pb::User::decode(response.bytes().await.unwrap()).unwrap();
    assert_eq!(user.user_id, root_id.0.as_bytes().to_vec());

    // Without credentials, the same GET is refused like any call.
    let response = connect_get(&app, GET_USER, &binary, None).await;
    assert_eq!(response.status(), 401);

    let response = connect_get(
        &app,
        "/goodmem.v1.UserService/CreateUser",
        "encoding=json&message=%7B%7D",
        Some(&root_key),
    )
    .await;
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["code"], "unimplemented");
}

#[tokio::test]
async fn gzip_is_negotiated_both_ways() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (root_key, _) = app.initialize().await;
    app.insert_many_users(40).await;

    let response = raw_http1()
        .post(format!(
            "{}/goodmem.v1.UserService/ListUsers",
            app.base_url()
        ))
        .header("content-type", "application/json")
        .header("connect-protocol-version", "1")
        .header("content-encoding", "gzip")
        .header("accept-encoding", "gzip")
        .header("x-api-key", &root_key)
        .body(gzip(br#"{"pageSize": 40}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let body = gunzip(&response.bytes().await.unwrap());
    let page: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(page["users"].as_array().unwrap().len(), 40);

    // Without accept-encoding the reply is plain.
    let response = raw_http1()
        .post(format!(
            "{}/goodmem.v1.UserService/ListUsers",
            app.base_url()
        ))
        .header("content-type", "application/json")
        .header("x-api-key", &root_key)
        .body(r#"{"pageSize": 40}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers().get("content-encoding").is_none());
    let page: Value = response.json().await.unwrap();
    assert_eq!(page["users"].as_array().unwrap().len(), 40);

    // An encoding the server does not speak is named in the answer.
    let response = raw_http1()
        .post(format!(
            "{}/goodmem.v1.UserService/ListUsers",
            app.base_url()
        ))
        .header("content-type", "application/json")
        .header("content-encoding", "br")
        .header("x-api-key", &root_key)
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 501);
    assert_eq!(response.headers()["accept-encoding"], "gzip");
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["code"], "unimplemented");
}

#[tokio::test]
async fn health_check_and_watch_work_over_connect() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    let response = app
        .http()
        .post(format!("{}/grpc.health.v1.Health/Check", app.base_url()))
        .header("content-type", "application/json")
        .body(r#"{"service": ""}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let health: Value = response.json().await.unwrap();
    assert_eq!(health, json!({ "status": "SERVING" }));

    let response = app
        .http()
        .post(format!("{}/grpc.health.v1.Health/Check", app.base_url()))
        .header("content-type", "application/json")
        .body(r#"{"service": "no.Such"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);

    // Watch: the first envelope is the current status; the stream stays
    // open, so read only that far.
    for (service, expected) in [("", 1), ("goodmem.v1.UserService", 1), ("no.Such", 3)] {
        let request = HealthCheckRequest {
            service: service.to_owned(),
        };
        let mut response = h2()
            .post(format!("{}/grpc.health.v1.Health/Watch", app.base_url()))
            .header("content-type", "application/connect+proto")
            .header("connect-protocol-version", "1")
            .body(envelope(0, &request.encode_to_vec()))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers()["content-type"],
            "application/connect+proto"
        );
        let mut received = Vec::new();
        while received.len() < 5
            || received.len() < 5 + u32::from_be_bytes(received[1..5].try_into().unwrap()) as usize
        {
            let chunk = tokio::time::timeout(std::time::Duration::from_secs(5), response.chunk())
                .await
                .expect("the first status arrives")
                .unwrap()
                .expect("the stream stays open");
            received.extend_from_slice(&chunk);
        }
        let (flags, message) = envelopes(
            &received[..5 + u32::from_be_bytes(received[1..5].try_into().unwrap()) as usize],
        )
        .remove(0);
        assert_eq!(flags, 0, "{service:?}");
        let status = HealthCheckResponse::decode(message.as_slice()).unwrap();
        assert_eq!(status.status, expected, "{service:?}");
    }

    let text = app.metrics_text().await;
    assert!(
        text.contains(
            r#"grpc_server_started_total{grpc_type="server_stream",grpc_service="grpc.health.v1.Health",grpc_method="Watch",protocol="connect"} 3"#
        ),
        "{text}"
    );
}

#[tokio::test]
async fn reflection_answers_over_connect_in_json_and_binary() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let path = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";

    let request = reflection::ServerReflectionRequest {
        host: String::new(),
        message_request: Some(
            reflection::server_reflection_request::MessageRequest::ListServices(String::new()),
        ),
    };
    let response = h2()
        .post(format!("{}{path}", app.base_url()))
        .header("content-type", "application/connect+proto")
        .header("connect-protocol-version", "1")
        .body(envelope(0, &request.encode_to_vec()))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.bytes().await.unwrap();
    let mut received = envelopes(&body);
    let (end_flags, end) = received.pop().unwrap();
    assert_eq!(end_flags, 2, "the last envelope ends the stream");
    assert_eq!(serde_json::from_slice::<Value>(&end).unwrap(), json!({}));
    let (flags, message) = &received[0];
    assert_eq!(*flags, 0);
    let listed = reflection::ServerReflectionResponse::decode(message.as_slice()).unwrap();
    let Some(reflection::server_reflection_response::MessageResponse::ListServicesResponse(list)) =
        listed.message_response
    else {
        panic!("not a service list: {listed:?}");
    };
    let names: Vec<&str> = list
        .service
        .iter()
        .map(|service| service.name.as_str())
        .collect();
    for expected in [
        "goodmem.v1.UserService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    ] {
        assert!(
            names.contains(&expected),
            "{expected} missing from {names:?}"
        );
    }

    // The same over HTTP/1.1 in Connect's JSON.
    let response = app
        .http()
        .post(format!("{}{path}", app.base_url()))
        .header("content-type", "application/connect+json")
        .body(envelope(0, br#"{"listServices": ""}"#))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.bytes().await.unwrap();
    let received = envelopes(&body);
    let listed: Value = serde_json::from_slice(&received[0].1).unwrap();
    assert!(
        listed["listServicesResponse"]["service"]
            .as_array()
            .unwrap()
            .contains(&json!({ "name": "goodmem.v1.MemoService" })),
        "{listed}"
    );
    assert_eq!(received.last().unwrap().0, 2);
}

#[tokio::test]
async fn stream_errors_travel_in_the_end_of_stream_message() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    // An unknown method is denied by default, as on gRPC.
    let response = h2()
        .post(format!(
            "{}/goodmem.v1.UserService/NoSuchStream",
            app.base_url()
        ))
        .header("content-type", "application/connect+proto")
        .body(envelope(0, &[]))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body = response.bytes().await.unwrap();
    let received = envelopes(&body);
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].0, 2);
    let end: Value = serde_json::from_slice(&received[0].1).unwrap();
    assert_eq!(end["error"]["code"], "unauthenticated", "{end}");

    // A malformed envelope from the client.
    let response = h2()
        .post(format!("{}/grpc.health.v1.Health/Watch", app.base_url()))
        .header("content-type", "application/connect+json")
        .body(envelope(0, b"{not json"))
        .send()
        .await
        .unwrap();
    let body = response.bytes().await.unwrap();
    let received = envelopes(&body);
    let end: Value = serde_json::from_slice(&received.last().unwrap().1).unwrap();
    assert_eq!(end["error"]["code"], "invalid_argument", "{end}");
}

#[tokio::test]
async fn bad_connect_requests_get_clear_errors() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (root_key, _) = app.initialize().await;
    let call = |content_type: &'static str, headers: Vec<(&'static str, String)>, body: Vec<u8>| {
        let mut request = app
            .http()
            .post(format!("{}{GET_USER}", app.base_url()))
            .header("content-type", content_type)
            .header("x-api-key", &root_key)
            .body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let error: Value = response.json().await.unwrap();
            (
                status,
                error["code"].as_str().unwrap_or("").to_owned(),
                error,
            )
        }
    };
    let json_type = "application/json";
    // (what, content type, extra headers, body, HTTP status, Connect code)
    type Case = (
        &'static str,
        &'static str,
        Vec<(&'static str, String)>,
        Vec<u8>,
        u16,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        (
            "protocol version 2",
            json_type,
            vec![("connect-protocol-version", "2".into())],
            b"{}".to_vec(),
            400,
            "invalid_argument",
        ),
        (
            "a timeout that is not a number",
            json_type,
            vec![("connect-timeout-ms", "soon".into())],
            b"{}".to_vec(),
            400,
            "invalid_argument",
        ),
        (
            "malformed JSON",
            json_type,
            vec![],
            b"{\"name\":".to_vec(),
            400,
            "invalid_argument",
        ),
        (
            "an unknown field",
            json_type,
            vec![],
            br#"{"nope": 1}"#.to_vec(),
            400,
            "invalid_argument",
        ),
        (
            "a wrong type",
            json_type,
            vec![],
            br#"{"name": 7}"#.to_vec(),
            400,
            "invalid_argument",
        ),
        (
            "bytes that are not protobuf",
            "application/proto",
            vec![],
            vec![0xff, 0xff, 0xff],
            400,
            "invalid_argument",
        ),
        (
            "a message over the limit",
            "application/proto",
            vec![],
            vec![0u8; 2 << 20],
            400,
            "out_of_range",
        ),
        (
            "a gzip body that is not gzip",
            json_type,
            vec![("content-encoding", "gzip".into())],
            b"{}".to_vec(),
            400,
            "invalid_argument",
        ),
    ];
    for (what, content_type, headers, body, http, code) in cases {
        let (status, got, error) = call(content_type, headers, body).await;
        assert_eq!((status, got.as_str()), (http, code), "{what}: {error}");
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|message| !message.is_empty()),
            "{what}: {error}"
        );
    }

    // A streaming method called as unary is told how to call it.
    let response = app
        .http()
        .post(format!("{}/grpc.health.v1.Health/Watch", app.base_url()))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.unwrap();
    assert!(
        error["message"].as_str().unwrap().contains("connect+proto"),
        "{error}"
    );

    // Refused before the body is read: no credentials, garbage body.
    let response = app
        .http()
        .post(format!("{}{GET_USER}", app.base_url()))
        .header("content-type", "application/proto")
        .body(vec![0xff; 64])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);
    let error: Value = response.json().await.unwrap();
    assert_eq!(error["code"], "unauthenticated");
}
