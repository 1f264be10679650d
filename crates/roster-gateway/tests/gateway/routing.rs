//! Which route a request reaches, and what the path binds.

use serde_json::json;

use crate::support::{TestApp, request};

const BOOK_UUID: &str = "0192f1a4-7c3e-7b1a-9c1d-2f3e4a5b6c7d";

#[tokio::test]
async fn a_literal_segment_beats_a_variable() {
    let app = TestApp::new();

    let favourite = app.get("/v1/books/favourite").await.expect_ok();
    assert_eq!(app.last_call().path, "/gatewaytest.v1.Library/GetBook");
    assert_eq!(favourite, json!({"bookId": null, "name": "", "isbn": ""}));

    let by_id = app.get(&format!("/v1/books/{BOOK_UUID}")).await.expect_ok();
    assert_eq!(by_id["bookId"], json!(BOOK_UUID));
}

#[tokio::test]
async fn nested_path_fields_build_nested_messages() {
    let app = TestApp::new();
    let json = app.get("/v1/shelves/s1/books/b%20two").await.expect_ok();
    assert_eq!(json["shelf"], json!({"id": "s1", "book": {"id": "b two"}}));
    assert_eq!(app.last_call().path, "/gatewaytest.v1.Library/GetShelfBook");
}

#[tokio::test]
async fn patterned_variables_keep_the_literal_prefix() {
    let app = TestApp::new();
    let name = app.get("/v1/shelves/s1/books/b1/name").await.expect_ok();
    assert_eq!(
        name,
        json!("shelves/s1/books/b1"),
        "response_body renders only that field"
    );
}

#[tokio::test]
async fn custom_verbs_route_only_when_present() {
    let app = TestApp::new();

    app.get("/v1/books:search").await.expect_ok();
    assert_eq!(app.last_call().path, "/gatewaytest.v1.Library/SearchBooks");

    let archived = app
        .send_json(
            "POST",
            "/v1/shelves/s1/books/b1:archive",
            r#"{"reason": "old"}"#,
        )
        .await
        .expect_ok();
    assert_eq!(archived["name"], json!("shelves/s1/books/b1"));
    assert_eq!(archived["reason"], json!("old"));

    // Without the verb, the same path is not the archive route.
    let response = app.send_json("POST", "/v1/shelves/s1/books/b1", "{}").await;
    response.expect_error(405, 12);
}

#[tokio::test]
async fn emails_with_at_plus_and_colon_bind_verbatim() {
    let app = TestApp::new();
    for (path, expected) in [
        ("/v1/books/isbn/a.b+tag@example.com", "a.b+tag@example.com"),
        (
            "/v1/books/isbn/odd:name@example.com",
            "odd:name@example.com",
        ),
        ("/v1/books/isbn/x%2By%40example.com", "x+y@example.com"),
    ] {
        let json = app.get(path).await.expect_ok();
        assert_eq!(json["isbn"], json!(expected), "{path}");
    }
}

#[tokio::test]
async fn double_wildcards_take_any_depth() {
    let app = TestApp::new();
    let json = app
        .get("/v1/files/docs/2024/report%20final.txt")
        .await
        .expect_ok();
    assert_eq!(json["path"], json!("docs/2024/report final.txt"));
}

#[tokio::test]
async fn additional_and_custom_method_bindings_route_to_the_same_rpc() {
    let app = TestApp::new();

    let response = app
        .send(request("SEARCH", "/v1/files", axum::body::Body::empty()))
        .await;
    assert_eq!(response.expect_ok()["path"], json!(""));
    assert_eq!(app.last_call().path, "/gatewaytest.v1.Library/ReadFile");

    let v2 = app
        .send_json("PATCH", "/v2/shelves/s/books/b", r#"{"title": "T"}"#)
        .await
        .expect_ok();
    assert_eq!(v2["book"]["name"], json!("shelves/s/books/b"));
    assert_eq!(app.last_call().path, "/gatewaytest.v1.Library/UpdateBook");

    app.send(request(
        "DELETE",
        &format!("/v1/books/{BOOK_UUID}"),
        axum::body::Body::empty(),
    ))
    .await
    .expect_ok();
    assert_eq!(app.last_call().path, "/gatewaytest.v1.Library/GetBook");
}

#[tokio::test]
async fn unknown_paths_are_404_in_the_error_shape() {
    let app = TestApp::new();
    for path in [
        "/v1/nowhere",
        "/",
        "/v1/books",
        "/v1/books/",
        "/v1/files-x/a",
    ] {
        let json = app.get(path).await.expect_error(404, 5);
        assert!(
            json["message"].as_str().unwrap().contains("no route"),
            "{json}"
        );
    }
    assert_eq!(app.call_count(), 0, "nothing reached the gRPC service");
}

#[tokio::test]
async fn a_known_path_with_the_wrong_method_is_405_with_allow() {
    let app = TestApp::new();
    let response = app
        .send(request(
            "PUT",
            &format!("/v1/books/{BOOK_UUID}"),
            axum::body::Body::empty(),
        ))
        .await;
    response.expect_error(405, 12);
    assert_eq!(response.header("allow"), Some("GET, DELETE"));
}

#[tokio::test]
async fn a_path_that_is_not_utf8_once_decoded_is_400() {
    let app = TestApp::new();
    let json = app.get("/v1/books/isbn/%FF%FE").await.expect_error(400, 3);
    assert!(
        json["message"].as_str().unwrap().contains("UTF-8"),
        "{json}"
    );
}

#[tokio::test]
async fn a_malformed_uuid_in_the_path_is_400_naming_the_parameter() {
    let app = TestApp::new();
    let json = app.get("/v1/books/not-a-uuid").await.expect_error(400, 3);
    assert_eq!(
        json["message"],
        json!("invalid path parameter \"book_id\": expected a UUID, got \"not-a-uuid\"")
    );
    assert_eq!(
        json["details"][0]["fieldViolations"][0]["field"],
        json!("book_id")
    );
}
