//! Real clients nobody here wrote: grpcurl (the reference examples, as
//! written) and buf curl over gRPC-Web and gRPC.
use std::process::{Command, Output};

use base64::Engine as _;

use crate::helpers::{Backend, TestApp, external_tool};

fn run(program: &std::path::Path, args: &[&str]) -> Output {
    Command::new(program)
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|error| panic!("cannot run {}: {error}", program.display()))
}

fn stdout_json(output: &Output) -> serde_json::Value {
    assert!(
        output.status.success(),
        "exit {:?}\nstdout: {}\nstderr: {}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("json output")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpcurl_runs_the_reference_examples_as_written() {
    let Some(grpcurl) = external_tool("grpcurl") else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await;
    let address = app.authority();

    // grpcurl -plaintext -d '{}' localhost:8080 goodmem.v1.UserService/InitializeSystem
    let initialized = stdout_json(&run(
        &grpcurl,
        &[
            "-plaintext",
            "-d",
            "{}",
            &address,
            "goodmem.v1.UserService/InitializeSystem",
        ],
    ));
    let root_key = initialized["rootApiKey"].as_str().unwrap().to_owned();
    let user_id = initialized["userId"].as_str().unwrap().to_owned();
    // grpcurl -plaintext -H 'authorization: Bearer <api-key>' \
    //   -d '{ "user_id": "BASE64_ENCODED_UUID_HERE" }' localhost:8080 goodmem.v1.UserService/GetUser
    let header = format!("authorization: Bearer {root_key}");
    let body = format!("{{ \"user_id\": \"{user_id}\" }}");
    let user = stdout_json(&run(
        &grpcurl,
        &[
            "-plaintext",
            "-H",
            &header,
            "-d",
            &body,
            &address,
            "goodmem.v1.UserService/GetUser",
        ],
    ));
    let again = stdout_json(&run(
        &grpcurl,
        &[
            "-plaintext",
            "-d",
            "{}",
            &address,
            "goodmem.v1.UserService/InitializeSystem",
        ],
    ));

    assert!(root_key.starts_with("gm_"));
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(&user_id)
            .unwrap()
            .len(),
        16
    );
    assert_eq!(user["userId"], user_id);
    assert_eq!(user["email"], "root@localhost");
    assert_eq!(user["role"], "ROOT");
    assert_eq!(again["alreadyInitialized"], true);
    assert!(again.get("rootApiKey").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpcurl_errors_carry_code_and_field_details() {
    let Some(grpcurl) = external_tool("grpcurl") else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (root_key, _) = app.initialize().await;
    let address = app.authority();
    let header = format!("x-api-key: {root_key}");

    let unauthenticated = run(
        &grpcurl,
        &[
            "-plaintext",
            "-d",
            "{}",
            &address,
            "goodmem.v1.UserService/GetUser",
        ],
    );
    let invalid = run(
        &grpcurl,
        &[
            "-plaintext",
            "-H",
            &header,
            "-d",
            r#"{"user_id": "AAE="}"#,
            &address,
            "goodmem.v1.UserService/GetUser",
        ],
    );

    let unauthenticated_text = String::from_utf8_lossy(&unauthenticated.stderr);
    let invalid_text = String::from_utf8_lossy(&invalid.stderr);
    assert!(!unauthenticated.status.success());
    assert!(
        unauthenticated_text.contains("Code: Unauthenticated"),
        "{unauthenticated_text}"
    );
    assert!(
        invalid_text.contains("Code: InvalidArgument"),
        "{invalid_text}"
    );
    assert!(
        invalid_text.contains("google.rpc.BadRequest") && invalid_text.contains("user_id"),
        "{invalid_text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grpcurl_lists_and_describes_through_reflection() {
    let Some(grpcurl) = external_tool("grpcurl") else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await;
    let address = app.authority();

    let list = run(&grpcurl, &["-plaintext", &address, "list"]);
    let service = run(
        &grpcurl,
        &["-plaintext", &address, "describe", "goodmem.v1.UserService"],
    );
    let message = run(
        &grpcurl,
        &["-plaintext", &address, "describe", "goodmem.v1.User"],
    );
    let health = run(
        &grpcurl,
        &["-plaintext", &address, "describe", "grpc.health.v1.Health"],
    );
    let check = run(
        &grpcurl,
        &["-plaintext", &address, "grpc.health.v1.Health/Check"],
    );

    let list = String::from_utf8_lossy(&list.stdout);
    for name in [
        "goodmem.v1.UserService",
        "goodmem.v1.SystemService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    ] {
        assert!(list.lines().any(|line| line == name), "{name} in\n{list}");
    }
    let service = String::from_utf8_lossy(&service.stdout);
    assert!(
        service.contains("rpc GetUser ( .goodmem.v1.GetUserRequest ) returns ( .goodmem.v1.User )"),
        "{service}"
    );
    assert!(service.contains("rpc InitializeSystem"), "{service}");
    // Comments travel with the descriptors.
    assert!(service.contains("Lookup priority"), "{service}");
    let message = String::from_utf8_lossy(&message.stdout);
    assert!(message.contains("bytes user_id = 1"), "{message}");
    assert!(String::from_utf8_lossy(&health.stdout).contains("rpc Check"));
    assert_eq!(stdout_json(&check)["status"], "SERVING");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buf_curl_calls_over_grpc_web_and_grpc() {
    let Some(buf) = external_tool("buf") else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await;
    let initialize_url = format!("{}/goodmem.v1.UserService/InitializeSystem", app.base_url());
    let get_user_url = format!("{}/goodmem.v1.UserService/GetUser", app.base_url());
    let info_url = format!("{}/goodmem.v1.SystemService/GetSystemInfo", app.base_url());

    // The schema comes from this repository's protos (buf.yaml at the root):
    // gRPC-Web over HTTP/1.1 cannot carry the streaming reflection call.
    let initialized = stdout_json(&run(
        &buf,
        &[
            "curl",
            "--schema",
            ".",
            "--protocol",
            "grpcweb",
            "--data",
            "{}",
            &initialize_url,
        ],
    ));
    let header = format!(
        "Authorization: Bearer {}",
        initialized["rootApiKey"].as_str().unwrap()
    );
    let me = stdout_json(&run(
        &buf,
        &[
            "curl",
            "--schema",
            ".",
            "--protocol",
            "grpcweb",
            "-H",
            &header,
            "--data",
            "{}",
            &get_user_url,
        ],
    ));
    let info = stdout_json(&run(
        &buf,
        &[
            "curl",
            "--protocol",
            "grpc",
            "--http2-prior-knowledge",
            "--data",
            "{}",
            &info_url,
        ],
    ));
    let info_over_h2_grpc_web = stdout_json(&run(
        &buf,
        &[
            "curl",
            "--schema",
            ".",
            "--protocol",
            "grpcweb",
            "--http2-prior-knowledge",
            "--data",
            "{}",
            &info_url,
        ],
    ));

    assert_eq!(me["userId"], initialized["userId"]);
    assert_eq!(me["username"], "root");
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(info["initialized"], true);
    assert_eq!(info_over_h2_grpc_web, info);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buf_curl_speaks_connect_with_reflection_and_no_schema() {
    let Some(buf) = external_tool("buf") else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await;
    let url = |method: &str| format!("{}/{method}", app.base_url());

    // Connect is buf curl's default protocol, and it fetches the schema by
    // reflection over Connect too.
    let initialized = stdout_json(&run(
        &buf,
        &[
            "curl",
            "--data",
            "{}",
            &url("goodmem.v1.UserService/InitializeSystem"),
        ],
    ));
    let header = format!(
        "Authorization: Bearer {}",
        initialized["rootApiKey"].as_str().unwrap()
    );
    let me = stdout_json(&run(
        &buf,
        &[
            "curl",
            "-H",
            &header,
            "--data",
            "{}",
            &url("goodmem.v1.UserService/GetUser"),
        ],
    ));
    assert_eq!(me["userId"], initialized["userId"]);
    let anonymous = run(
        &buf,
        &[
            "curl",
            "--data",
            "{}",
            &url("goodmem.v1.UserService/GetUser"),
        ],
    );
    assert!(!anonymous.status.success());
    assert!(
        String::from_utf8_lossy(&anonymous.stderr).contains("unauthenticated"),
        "{anonymous:?}"
    );

    let listed = run(&buf, &["curl", "--list-services", &app.base_url()]);
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    for service in [
        "goodmem.v1.UserService",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    ] {
        assert!(listed.lines().any(|line| line == service), "{listed}");
    }

    // Health/Watch streams until cancelled: read the first status of a
    // known and of an unknown service, then stop buf.
    for (service, expected) in [("", "SERVING"), ("no.Such", "SERVICE_UNKNOWN")] {
        let data = format!("{{\"service\": \"{service}\"}}");
        let mut watching = tokio::process::Command::new(&buf)
            .args(["curl", "--data", &data, &url("grpc.health.v1.Health/Watch")])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let mut stdout = watching.stdout.take().unwrap();
        let mut received = Vec::new();
        let first = tokio::time::timeout(std::time::Duration::from_secs(20), async {
            use tokio::io::AsyncReadExt as _;
            let mut chunk = [0u8; 256];
            loop {
                let read = stdout.read(&mut chunk).await.unwrap();
                assert!(
                    read > 0,
                    "buf curl ended: {}",
                    String::from_utf8_lossy(&received)
                );
                received.extend_from_slice(&chunk[..read]);
                if let Ok(message) = serde_json::from_slice::<serde_json::Value>(&received) {
                    return message;
                }
            }
        })
        .await
        .expect("the first status arrives");
        assert_eq!(first["status"], expected, "{service:?}");
        watching.kill().await.unwrap();
    }
}

/// True when `python3 -c "import <module>"` works; outside CI a missing
/// module is announced and the test skips, under CI=true it fails.
fn python_has(module: &str) -> bool {
    let available = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|output| output.status.success());
    if !available {
        if std::env::var("CI").is_ok_and(|value| value == "true") {
            panic!("python module {module} must be installed in CI (.ci/run installs it)");
        }
        eprintln!("skipping: python module {module} is not installed");
    }
    available
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_client_generated_from_the_protos_works() {
    if !python_has("grpc_tools") {
        return;
    }
    let app = TestApp::spawn(Backend::Sqlite).await;
    let generated = tempfile::tempdir().unwrap();
    let out = generated.path().display().to_string();
    // Every API file, so a new one is generated too; and the googleapis
    // files they import.
    let api_root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("proto");
    let mut protos: Vec<String> = std::fs::read_dir(api_root.join("goodmem/v1"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|file| file.ends_with(".proto"))
        .map(|file| format!("goodmem/v1/{file}"))
        .collect();
    protos.sort();
    protos.extend(
        [
            "google/api/annotations.proto",
            "google/api/http.proto",
            "google/api/field_behavior.proto",
            "google/api/resource.proto",
        ]
        .map(str::to_owned),
    );
    let mut protoc_args = vec![
        "-m".to_owned(),
        "grpc_tools.protoc".to_owned(),
        "-Iproto".to_owned(),
        format!("--python_out={out}"),
        format!("--grpc_python_out={out}"),
    ];
    protoc_args.extend(protos);
    let generate = Command::new("python3")
        .args(&protoc_args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        generate.status.success(),
        "{}",
        String::from_utf8_lossy(&generate.stderr)
    );
    // Regular packages, so the generated `goodmem` wins over an installed
    // GoodMem SDK of the same top-level name.
    for package in ["goodmem", "goodmem/v1"] {
        std::fs::write(generated.path().join(package).join("__init__.py"), "").unwrap();
    }

    let output = Command::new("python3")
        .arg("tests/clients/python_grpc_client.py")
        .arg(app.authority())
        .env("PYTHONPATH", &out)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let observed = stdout_json(&output);

    assert_eq!(observed["by_id_user_id_hex"], observed["user_id_hex"]);
    assert_eq!(observed["by_id_role"], "ROOT");
    assert_eq!(observed["by_api_key_username"], "root");
    assert!(observed["created_at_seconds"].as_i64().unwrap() > 1_700_000_000);
    assert_eq!(observed["invalid_code"], "INVALID_ARGUMENT");
    assert_eq!(observed["unauthenticated_code"], "UNAUTHENTICATED");
    assert_eq!(observed["initialized"], true);
}

/// The published GoodMem Python SDK (PyPI `goodmem`) reads users through
/// the REST face; its pydantic `UserResponse` must validate our JSON.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_goodmem_python_sdk_reads_users_over_rest() {
    if !python_has("goodmem") {
        return;
    }
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (root_key, root_id) = app.initialize().await;

    let output = Command::new("python3")
        .args([
            "tests/clients/goodmem_sdk_client.py",
            &app.base_url(),
            &root_key,
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let observed = stdout_json(&output);

    let id = root_id.0.to_string();
    assert_eq!(observed["me"]["user_id"], id);
    assert_eq!(observed["me"]["email"], "root@localhost");
    assert_eq!(observed["me"]["username"], "root");
    assert!(
        observed["me"]["created_at"].as_i64().unwrap() > 1_700_000_000_000,
        "milliseconds"
    );
    assert_eq!(observed["me"]["created_by_id"], id);
    assert_eq!(observed["by_id_user_id"], id);
    assert_eq!(observed["by_email_user_id"], id);
}
