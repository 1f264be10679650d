//! The API reference page: served from the binary, with its script and
//! style beside it, under a policy that allows nothing from elsewhere.

use roster_gateway::{Gateway, GatewayConfig, GatewayError};

use crate::support::{TestApp, config, library_pool, request};

/// The value of the first `attribute="…"` after `marker` in `html`.
fn attribute_after<'a>(html: &'a str, marker: &str, attribute: &str) -> &'a str {
    let start = html
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in {html}"));
    let rest = &html[start..];
    let key = format!("{attribute}=\"");
    let value = &rest[rest.find(&key).unwrap() + key.len()..];
    &value[..value.find('"').unwrap()]
}

#[tokio::test]
async fn the_page_is_served_with_its_script_and_style() {
    let app = TestApp::new();

    let page = app.get("/docs").await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    assert_eq!(page.header("cache-control"), Some("no-cache"));
    let policy = page.header("content-security-policy").unwrap();
    assert!(policy.contains("default-src 'none'"), "{policy}");
    assert!(policy.contains("script-src 'self'"), "{policy}");
    assert!(policy.contains("connect-src 'self'"), "{policy}");
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    let html = std::str::from_utf8(&page.body).unwrap();
    assert_eq!(
        attribute_after(html, r#"name="openapi-document""#, "content"),
        "/openapi.json"
    );
    assert!(!html.contains("<script>"), "no inline script");

    let script_path = attribute_after(html, "<script", "src");
    assert!(script_path.starts_with("/docs/page-") && script_path.ends_with(".js"));
    let script = app.get(script_path).await;
    assert_eq!(script.status, 200);
    assert_eq!(
        script.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(
        script.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    let code = std::str::from_utf8(&script.body).unwrap();
    assert!(
        code.contains(r#"meta[name="openapi-document"]"#),
        "the script reads the document's path from the page"
    );
    assert!(
        code.contains("sessionStorage"),
        "the key is kept for the tab only"
    );

    let style_path = attribute_after(html, r#"rel="stylesheet""#, "href");
    let style = app.get(style_path).await;
    assert_eq!(style.status, 200);
    assert_eq!(
        style.header("content-type"),
        Some("text/css; charset=utf-8")
    );

    // The document the page renders is where the page says.
    let document = app.get("/openapi.json").await.expect_ok();
    assert_eq!(document["info"]["title"], "Library");
}

#[tokio::test]
async fn the_page_answers_get_and_head_only() {
    let app = TestApp::new();
    let head = app
        .send(request("HEAD", "/docs", axum::body::Body::empty()))
        .await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    let post = app
        .send(request("POST", "/docs", axum::body::Body::empty()))
        .await;
    post.expect_error(405, 12);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));
    app.get("/docs/page-0000000000000000.js")
        .await
        .expect_error(404, 5);
}

#[tokio::test]
async fn without_a_docs_path_there_is_no_page() {
    let app = TestApp::with_config(GatewayConfig {
        docs_path: None,
        ..config()
    });
    app.get("/docs").await.expect_error(404, 5);
}

#[test]
fn a_page_without_a_document_is_refused() {
    let error = Gateway::new(
        library_pool(),
        GatewayConfig {
            openapi_path: None,
            ..config()
        },
    )
    .unwrap_err();
    assert!(matches!(error, GatewayError::DocsWithoutOpenApi), "{error}");
}
