//! The web console at `/`: its headers, and the whole console driven in a
//! real headless Chromium (console/e2e/console.e2e.mjs, playwright-core).

use std::{path::PathBuf, process::Command, time::Duration};

use crate::helpers::{Backend, TestApp, external_tool};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_is_served_at_the_root_with_a_strict_policy() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let http = app.http();

    let page = http.get(app.base_url()).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let headers = page.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    let policy = headers["content-security-policy"].to_str().unwrap();
    for directive in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(
            policy.contains(directive),
            "{directive} missing from {policy}"
        );
    }
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert_eq!(headers["cache-control"], "no-cache");
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"src="/console/app.js""#), "{html}");
    assert!(!html.contains("<script>"), "no inline script: {html}");
    assert!(!html.contains("<style"), "no inline style: {html}");

    let script = http
        .get(format!("{}/console/app.js", app.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(script.status(), 200);
    assert_eq!(
        script.headers()["content-type"],
        "text/javascript; charset=utf-8"
    );
    let etag = script.headers()["etag"].clone();
    let revalidated = http
        .get(format!("{}/console/app.js", app.base_url()))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), 304);

    let style = http
        .get(format!("{}/console/app.css", app.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(style.headers()["content-type"], "text/css; charset=utf-8");

    // The API's own paths are untouched: an unknown one is still the
    // gateway's 404, not the console.
    let unknown = http
        .get(format!("{}/console/missing.js", app.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
}

/// Set-up, sign-in, users with a filter, a scoped token revoked, a refused
/// webhook URL, a stale-etag conflict and everyone's memo statistics, in
/// Chromium against this server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_works_in_a_real_browser() {
    let (Some(node), Some(chromium)) = (external_tool("node"), external_tool("chromium")) else {
        return;
    };
    let console = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("console");
    if !console.join("node_modules/playwright-core").is_dir() {
        if std::env::var("CI").is_ok_and(|value| value == "true") {
            panic!(
                "console/node_modules must be installed in CI (console/check-bundle.sh runs npm ci)"
            );
        }
        eprintln!("skipping: console/node_modules is not installed (npm ci --prefix console)");
        return;
    }
    let app = TestApp::spawn(Backend::Sqlite).await;
    let screenshots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/console-e2e");
    // Only this run's screenshots (and any failure's) are left there.
    let _ = std::fs::remove_dir_all(&screenshots);
    std::fs::create_dir_all(&screenshots).unwrap();

    let base_url = app.base_url();
    let script = console.join("e2e/console.e2e.mjs");
    let output = tokio::time::timeout(
        Duration::from_secs(120),
        tokio::task::spawn_blocking(move || {
            Command::new(node)
                .arg(script)
                .arg(base_url)
                .arg(&screenshots)
                .env("CHROMIUM", chromium)
                .output()
                .expect("node runs")
        }),
    )
    .await
    .expect("the browser test finishes within two minutes")
    .unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    println!("{stdout}");
    assert!(
        output.status.success(),
        "console e2e failed ({}):\n--- stdout\n{stdout}\n--- stderr\n{stderr}",
        output.status
    );
    assert!(stdout.contains("all steps passed"), "{stdout}");
}
