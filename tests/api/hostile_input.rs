//! Bad input to the user-management routes: every case is a 4xx with the
//! `google.rpc.Status` body, never a 500. Database-independent: run once.
use serde_json::{Value, json};

use crate::helpers::{Backend, TestApp};

async fn status_and_body(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_a_client_error_naming_what_is_wrong() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (root_key, _) = app.initialize().await;
    let base = app.base_url();
    let http = app.http();
    let deep = format!("{}username == \"a\"{}", "(".repeat(300), ")".repeat(300));
    let long = format!("username == \"{}\"", "a".repeat(5000));
    let cases: Vec<(&str, reqwest::RequestBuilder, u16)> = vec![
        ("non-numeric page size", http.get(format!("{base}/v1/users?pageSize=abc")), 400),
        ("deep filter", http.get(format!("{base}/v1/users")).query(&[("filter", &deep)]), 400),
        ("long filter", http.get(format!("{base}/v1/users")).query(&[("filter", &long)]), 400),
        ("forged token", http.get(format!("{base}/v1/users?pageToken=%00%01%02")), 400),
        (
            "labels of the wrong type",
            http.patch(format!("{base}/v1/users/root")).json(&json!({"labels": "x"})),
            400,
        ),
        (
            "email of the wrong type",
            http.post(format!("{base}/v1/users")).json(&json!({"user": {"email": 5}})),
            400,
        ),
        (
            "unknown field",
            http.post(format!("{base}/v1/users"))
                .json(&json!({"user": {"email": "a@b.c"}, "colour": "blue"})),
            400,
        ),
        ("bad uuid", http.delete(format!("{base}/v1/users/not-a-uuid")), 400),
        (
            "huge label map",
            http.patch(format!("{base}/v1/users/root")).json(&json!({
                "labels": (0..50).map(|i| (format!("k{i}"), "v")).collect::<std::collections::HashMap<_, _>>()
            })),
            400,
        ),
        (
            "unknown mask path",
            http.patch(format!("{base}/v1/users/root?updateMask=createdAt"))
                .json(&json!({"displayName": "x"})),
            400,
        ),
    ];
    for (case, request, expected) in cases {
        let (status, body) = status_and_body(request.header("x-api-key", &root_key)).await;
        assert_eq!(status, expected, "{case}: {body}");
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{case}: {body}"
        );
    }
    let (status, body) = status_and_body(
        http.post(format!("{base}/v1/auth/signin"))
            .json(&json!({"username": "root", "password": "x".repeat(100_000)})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
}
