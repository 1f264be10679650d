//! gRPC failures relayed as REST errors, and compressed responses.

use std::io::Read as _;

use axum::body::Body;
use http::HeaderValue;
use roster_gateway::http_status_for;
use serde_json::json;

use crate::support::{TestApp, request};

#[tokio::test]
async fn grpc_errors_map_to_http_with_their_details() {
    let app = TestApp::new();
    let response = app
        .send_json(
            "POST",
            "/v1/fail",
            r#"{"code": 3, "message": "email is not valid: ä", "badField": "user.email"}"#,
        )
        .await;
    assert_eq!(response.status.as_u16(), 400);
    assert_eq!(
        response.json(),
        json!({
            "code": 3,
            "message": "email is not valid: ä",
            "details": [{
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{
                    "field": "user.email",
                    "description": "is wrong",
                    "reason": "",
                    "localizedMessage": null,
                }],
            }],
        }),
        "details print every field, like any other message"
    );
}

#[tokio::test]
async fn every_grpc_code_goes_through_the_one_table() {
    let app = TestApp::new();
    for code in 1..=16 {
        let body = format!(r#"{{"code": {code}, "message": "failure {code}"}}"#);
        let response = app.send_json("POST", "/v1/fail", &body).await;
        let expected = http_status_for(tonic::Code::from_i32(code));
        let json = response.expect_error(expected.as_u16(), i64::from(code));
        assert_eq!(json["message"], json!(format!("failure {code}")));
        assert_eq!(json["details"], json!([]));
    }
}

#[tokio::test]
async fn a_status_sent_in_trailers_is_read_as_well_as_a_trailers_only_one() {
    let app = TestApp::new();
    let response = app
        .send_json(
            "POST",
            "/v1/fail",
            r#"{"code": 10, "message": "etag mismatch", "badField": "etag", "inTrailers": true}"#,
        )
        .await;
    let json = response.expect_error(409, 10);
    assert_eq!(json["message"], json!("etag mismatch"));
    assert_eq!(
        json["details"][0]["fieldViolations"][0]["field"],
        json!("etag")
    );
}

#[tokio::test]
async fn an_ok_reply_is_200_json_with_every_field() {
    let app = TestApp::new();
    let json = app.send_json("POST", "/v1/fail", "{}").await.expect_ok();
    assert_eq!(json, json!({}), "google.protobuf.Empty is {{}}");

    let everything = app.send_json("POST", "/v1/echo", "{}").await.expect_ok();
    let object = everything.as_object().unwrap();
    assert_eq!(object.len(), 49, "every field of Everything is present");
    assert_eq!(everything["aBook"], json!(null));
    assert_eq!(everything["anInt64"], json!("0"));
}

#[tokio::test]
async fn responses_are_gzipped_when_the_client_accepts_gzip() {
    let app = TestApp::new();
    let body = format!(r#"{{"aString": "{}"}}"#, "compressible ".repeat(50));

    let mut gzip_request = request("POST", "/v1/echo", Body::from(body.clone()));
    gzip_request
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    gzip_request
        .headers_mut()
        .insert("accept-encoding", HeaderValue::from_static("gzip"));
    let compressed = app.send(gzip_request).await;
    assert_eq!(compressed.status.as_u16(), 200);
    assert_eq!(compressed.header("content-encoding"), Some("gzip"));
    let mut decoded = String::new();
    flate2::read::GzDecoder::new(compressed.body.as_ref())
        .read_to_string(&mut decoded)
        .expect("valid gzip");
    let decoded: serde_json::Value = serde_json::from_str(&decoded).unwrap();
    assert_eq!(decoded["aString"], json!("compressible ".repeat(50)));

    let plain = app.send_json("POST", "/v1/echo", &body).await;
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.json(), decoded);
    assert!(compressed.body.len() < plain.body.len());
}

#[tokio::test]
async fn error_responses_are_gzipped_too() {
    let app = TestApp::new();
    let long_message = "x".repeat(200);
    let mut failing = request(
        "POST",
        "/v1/fail",
        Body::from(format!(r#"{{"code": 5, "message": "{long_message}"}}"#)),
    );
    failing
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    failing
        .headers_mut()
        .insert("accept-encoding", HeaderValue::from_static("gzip"));
    let response = app.send(failing).await;
    assert_eq!(response.status.as_u16(), 404);
    assert_eq!(response.header("content-encoding"), Some("gzip"));
}
