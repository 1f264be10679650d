//! A Connect client nobody here wrote: connect-es (`@connectrpc/connect-node`,
//! npm, `tests/clients/connect/package.json`) with protobuf-es code that
//! `buf generate` makes from `proto/` at test time. `scenario.mjs` calls
//! every RPC of the four services and `grpc.health.v1.Health/Check` in JSON
//! and binary, over HTTP/1.1 and HTTP/2, asserting on the replies, the error
//! codes and details, and a deadline; it fails if an RPC was never called,
//! and this test checks its count against the server's descriptor set.
use std::path::{Path, PathBuf};
use std::time::Duration;

use prost_reflect::DescriptorPool;
use serde_json::Value;

use crate::helpers::{Backend, TestApp, TestDatabase, external_tool};

/// The services the scenario covers in full.
const SERVICES: [&str; 4] = [
    "goodmem.v1.UserService",
    "goodmem.v1.AuthService",
    "goodmem.v1.SystemService",
    "goodmem.v1.MemoService",
];

/// Every transport the scenario runs on, in its order.
const VARIANTS: [&str; 4] = [
    "json/http1.1",
    "binary/http1.1",
    "json/http2",
    "binary/http2",
];

fn package_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/clients/connect")
}

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true")
}

/// Runs `program` in the package directory, within `limit`; its stdout, or
/// a failure showing both streams.
async fn run(program: &Path, args: &[&str], limit: Duration) -> String {
    let what = format!("{} {}", program.display(), args.join(" "));
    let output = tokio::time::timeout(
        limit,
        tokio::process::Command::new(program)
            .args(args)
            .current_dir(package_dir())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap_or_else(|_| panic!("{what} did not finish within {limit:?}"))
    .unwrap_or_else(|error| panic!("cannot run {what}: {error}"));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{what} failed ({})\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// The package's `node_modules`, installed with `npm ci` when missing
/// locally; `None` (a skip, announced) when npm is not there either. Under
/// CI `.ci/run` installs it, and a missing one fails.
async fn node_modules() -> Option<PathBuf> {
    let installed = package_dir().join("node_modules");
    if installed.join(".bin/buf").is_file() {
        return Some(installed);
    }
    assert!(
        !under_ci(),
        "tests/clients/connect/node_modules must be installed in CI \
         (.ci/run runs npm ci --prefix tests/clients/connect)"
    );
    let npm = external_tool("npm")?;
    run(
        &npm,
        &["ci", "--no-audit", "--no-fund"],
        Duration::from_secs(300),
    )
    .await;
    Some(installed)
}

/// How many RPCs the scenario must call per transport: every method of
/// `SERVICES` in the served descriptor set, and Health/Check.
fn required_rpcs() -> usize {
    let pool = DescriptorPool::decode(roster::proto::FILE_DESCRIPTOR_SET).unwrap();
    let methods: usize = SERVICES
        .iter()
        .map(|name| {
            pool.get_service_by_name(name)
                .unwrap_or_else(|| panic!("{name} is served"))
                .methods()
                .len()
        })
        .sum();
    methods + 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_es_calls_every_rpc_in_json_and_binary_over_http1_and_http2() {
    let Some(node) = external_tool("node") else {
        return;
    };
    let Some(node_modules) = node_modules().await else {
        return;
    };
    // Webhooks aim at a loopback address, so nothing leaves the machine
    // (and no DNS is needed).
    let app = TestApp::spawn_configured(TestDatabase::create(Backend::Sqlite).await, |config| {
        config.allow_private_webhooks = true;
    })
    .await;

    // buf.gen.yaml: protobuf-es JavaScript into gen/ (git-ignored), anew.
    run(
        &node_modules.join(".bin/buf"),
        &["generate"],
        Duration::from_secs(120),
    )
    .await;
    let stdout = run(
        &node,
        &["scenario.mjs", &app.base_url()],
        Duration::from_secs(180),
    )
    .await;
    eprintln!("{stdout}");

    let summary: Value = stdout
        .lines()
        .last()
        .and_then(|line| serde_json::from_str(line).ok())
        .unwrap_or_else(|| panic!("no summary line in\n{stdout}"));
    let required = required_rpcs();
    assert_eq!(summary["required"], required, "{summary}");
    let variants = summary["variants"].as_array().expect("variants");
    let names: Vec<&str> = variants
        .iter()
        .map(|variant| variant["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, VARIANTS);
    for variant in variants {
        assert_eq!(variant["called"], required, "{variant}");
    }
}
