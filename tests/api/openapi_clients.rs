//! Clients generated from `/openapi.json` by tools nobody here wrote —
//! openapi-python-client (PyPI) and openapi-typescript with openapi-fetch
//! (npm, `tests/clients/openapi/package.json`) — compile and call every
//! operation of the document against the real server. The scripts in
//! `tests/clients/openapi/` list the calls and fail if an operation of the
//! document was not called; this test also checks their count against the
//! document.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::helpers::{Backend, TestApp, TestDatabase, external_tool};

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/openapi")
}

/// A binary the npm packages of `tests/clients/openapi` install, or `None`
/// (a skip, announced) outside CI when they are not installed.
fn npm_tool(name: &str) -> Option<PathBuf> {
    let path = clients_dir().join("node_modules/.bin").join(name);
    if path.is_file() {
        return Some(path);
    }
    if std::env::var("CI").is_ok_and(|value| value == "true") {
        panic!(
            "{name} must be installed in CI (.ci/run runs npm ci --prefix tests/clients/openapi)"
        );
    }
    eprintln!("skipping: {name} is not installed (npm ci --prefix tests/clients/openapi)");
    None
}

fn succeeded(what: &str, output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{what} failed ({:?})\nstdout: {stdout}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn run(what: &str, command: &mut Command) -> String {
    let output = command
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|error| panic!("cannot run {what}: {error}"));
    succeeded(what, &output)
}

/// A fresh server whose webhooks may point at loopback addresses, so the
/// scripts' webhooks never aim at another machine.
async fn spawn() -> TestApp {
    TestApp::spawn_configured(TestDatabase::create(Backend::Sqlite).await, |config| {
        config.allow_private_webhooks = true;
    })
    .await
}

/// The served document, saved to `directory`; with its operation count.
async fn save_document(app: &TestApp, directory: &Path) -> (PathBuf, usize) {
    let text = reqwest::get(format!("{}/openapi.json", app.base_url()))
        .await
        .unwrap()
        .error_for_status()
        .unwrap()
        .text()
        .await
        .unwrap();
    let document: Value = serde_json::from_str(&text).unwrap();
    let operations = document["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    let path = directory.join("openapi.json");
    std::fs::write(&path, text).unwrap();
    (path, operations)
}

/// The `{"called": N}` line a script prints last.
fn called(stdout: &str) -> u64 {
    let line = stdout.lines().last().unwrap_or_default();
    let summary: Value =
        serde_json::from_str(line).unwrap_or_else(|_| panic!("no summary in {stdout}"));
    summary["called"].as_u64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_python_client_calls_every_operation() {
    let Some(generator) = external_tool("openapi-python-client") else {
        return;
    };
    let app = spawn().await;
    let work = tempfile::tempdir().unwrap();
    let (document, operations) = save_document(&app, work.path()).await;

    run(
        "openapi-python-client",
        Command::new(generator)
            .args(["generate", "--meta", "none", "--path"])
            .arg(&document)
            .arg("--output-path")
            .arg(work.path().join("roster_client")),
    );
    let stdout = run(
        "tests/clients/openapi/python_client.py",
        Command::new("python3")
            .arg(clients_dir().join("python_client.py"))
            .arg(app.base_url())
            .arg(&document)
            .env("PYTHONPATH", work.path()),
    );

    assert_eq!(called(&stdout), operations as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_generated_typescript_client_compiles_and_calls_every_operation() {
    let (Some(node), Some(generator), Some(tsc)) = (
        external_tool("node"),
        npm_tool("openapi-typescript"),
        npm_tool("tsc"),
    ) else {
        return;
    };
    let app = spawn().await;
    // Under the package's directory, so the compiled script finds its
    // node_modules (ES modules have no NODE_PATH).
    let work = tempfile::Builder::new()
        .prefix(".work-")
        .tempdir_in(clients_dir())
        .unwrap();
    let (document, operations) = save_document(&app, work.path()).await;

    run(
        "openapi-typescript",
        Command::new(generator)
            .arg(&document)
            .arg("--output")
            .arg(work.path().join("schema.d.ts")),
    );
    std::fs::copy(
        clients_dir().join("typescript_client.ts"),
        work.path().join("typescript_client.ts"),
    )
    .unwrap();
    std::fs::write(
        work.path().join("tsconfig.json"),
        r#"{"extends": "../tsconfig.json", "compilerOptions": {"outDir": "out"}, "files": ["typescript_client.ts", "schema.d.ts"]}"#,
    )
    .unwrap();
    run("tsc", Command::new(tsc).arg("-p").arg(work.path()));
    let stdout = run(
        "tests/clients/openapi/typescript_client.ts",
        Command::new(node)
            .arg(work.path().join("out/typescript_client.js"))
            .arg(app.base_url())
            .arg(&document),
    );

    assert_eq!(called(&stdout), operations as u64);
}
