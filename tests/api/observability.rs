//! What operators scrape and grep: metric names and labels as go-grpc-prometheus
//! dashboards expect them, both exposition formats, build and process metrics,
//! and `x-request-id` on every response.
use std::collections::BTreeSet;

use http::uri::PathAndQuery;
use roster::proto::goodmem::v1 as pb;

use crate::helpers::{Backend, TestApp, bearer, external_tool};

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// `/metrics` with an optional `Accept`: the content type and the text.
async fn scrape(app: &TestApp, accept: Option<&str>) -> (String, String) {
    let mut request = app.http().get(format!("{}/metrics", app.base_url()));
    if let Some(accept) = accept {
        request = request.header("accept", accept);
    }
    let response = request.send().await.expect("metrics");
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    (content_type, response.text().await.expect("metrics text"))
}

fn assert_contains_all(text: &str, expected: &[&str]) {
    for line in expected {
        assert!(text.contains(line), "missing {line}\n{text}");
    }
}

#[tokio::test]
async fn grpc_and_rest_calls_are_counted_by_method_type_code_and_protocol() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (root_key, _) = app.initialize().await;
    let rest = app
        .http()
        .get(format!("{}/v1/users/me", app.base_url()))
        .header("x-api-key", &root_key)
        .send()
        .await
        .unwrap();
    assert_eq!(rest.status(), 200);

    let text = app.metrics_text().await;

    let initialize =
        r#"grpc_type="unary",grpc_service="goodmem.v1.UserService",grpc_method="InitializeSystem""#;
    let get_user =
        r#"grpc_type="unary",grpc_service="goodmem.v1.UserService",grpc_method="GetUser""#;
    assert_contains_all(
        &text,
        &[
            &format!(r#"grpc_server_started_total{{{initialize},protocol="grpc"}} 1"#),
            &format!(
                r#"grpc_server_handled_total{{{initialize},grpc_code="OK",protocol="grpc"}} 1"#
            ),
            &format!(r#"grpc_server_handling_seconds_count{{{initialize},protocol="grpc"}} 1"#),
            &format!(
                r#"grpc_server_handling_seconds_bucket{{le="+Inf",{initialize},protocol="grpc"}} 1"#
            ),
            &format!(r#"grpc_server_started_total{{{get_user},protocol="rest"}} 1"#),
            &format!(r#"grpc_server_handled_total{{{get_user},grpc_code="OK",protocol="rest"}} 1"#),
            &format!(r#"grpc_server_handling_seconds_count{{{get_user},protocol="rest"}} 1"#),
        ],
    );
    assert!(!text.contains("roster_rpc_"), "{text}");
}

#[tokio::test]
async fn a_method_outside_the_table_is_labelled_unknown() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (root_key, _) = app.initialize().await;
    let channel = tonic::transport::Channel::from_shared(app.base_url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();

    let status = grpc
        .unary(
            crate::helpers::bearer((), &root_key),
            PathAndQuery::from_static("/goodmem.v1.UserService/MadeUpMethod"),
            tonic_prost::ProstCodec::<(), ()>::default(),
        )
        .await
        .unwrap_err();

    assert_eq!(status.code(), tonic::Code::Unimplemented);
    let text = app.metrics_text().await;
    assert_contains_all(
        &text,
        &[
            r#"grpc_server_started_total{grpc_type="unknown",grpc_service="unknown",grpc_method="unknown",protocol="grpc"} 1"#,
            r#"grpc_server_handled_total{grpc_type="unknown",grpc_service="unknown",grpc_method="unknown",grpc_code="UNIMPLEMENTED",protocol="grpc"} 1"#,
        ],
    );
    assert!(!text.contains("MadeUpMethod"), "{text}");
}

#[tokio::test]
async fn prometheus_text_by_default_and_openmetrics_when_accepted() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.initialize().await;

    let (text_type, text) = scrape(&app, None).await;
    let (openmetrics_type, openmetrics) = scrape(
        &app,
        Some("application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3"),
    )
    .await;

    assert_eq!(text_type, PROMETHEUS_TEXT);
    assert!(!text.contains("# EOF"), "{text}");
    assert!(!text.contains("# UNIT"), "{text}");
    assert_contains_all(
        &text,
        &[
            "# TYPE grpc_server_started_total counter\n",
            "# HELP grpc_server_handled_total ",
            "# TYPE grpc_server_handling_seconds histogram\n",
        ],
    );
    assert_eq!(openmetrics_type, OPENMETRICS);
    assert!(openmetrics.ends_with("# EOF\n"), "{openmetrics}");
    assert_contains_all(&openmetrics, &["# TYPE grpc_server_started counter\n"]);
}

/// Metric family names declared by `# TYPE` and by `# HELP` lines.
fn declared_families(text: &str, prefix: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|line| line.strip_prefix(prefix))
        .map(|rest| rest.split(' ').next().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_metric_family_has_help_and_every_sample_a_family() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.initialize().await;

    let (_, text) = scrape(&app, None).await;

    let typed = declared_families(&text, "# TYPE ");
    let helped = declared_families(&text, "# HELP ");
    assert_eq!(typed, helped, "{text}");
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        let name = line.split(['{', ' ']).next().unwrap();
        let family_declared = typed.iter().any(|family| {
            name == family
                || ["_bucket", "_sum", "_count"]
                    .iter()
                    .any(|suffix| name.strip_suffix(suffix) == Some(family))
        });
        assert!(family_declared, "sample of no declared family: {line}");
    }
    assert!(
        text.lines()
            .filter(|line| line.starts_with("# HELP "))
            .all(|line| line
                .splitn(4, ' ')
                .nth(3)
                .is_some_and(|help| !help.is_empty())),
        "{text}"
    );
}

#[tokio::test]
async fn promtool_accepts_the_text_format() {
    let Some(promtool) = external_tool("promtool") else {
        return;
    };
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.initialize().await;
    let (_, text) = scrape(&app, None).await;

    let mut child = std::process::Command::new(promtool)
        .args(["check", "metrics"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("promtool starts");
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), text.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();

    assert!(
        output.status.success(),
        "promtool check metrics failed:\n{}{}\n{text}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test]
async fn build_info_names_the_running_build() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    let text = app.metrics_text().await;

    let expected = format!(
        r#"roster_build_info{{version="{}",git_commit="{}"}} 1"#,
        env!("CARGO_PKG_VERSION"),
        roster::api::system_service::GIT_COMMIT
    );
    assert_contains_all(&text, &[&expected]);
}

#[cfg(target_os = "linux")]
#[tokio::test]
async fn process_metrics_are_exposed() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    let text = app.metrics_text().await;

    assert_contains_all(
        &text,
        &[
            "\nprocess_cpu_seconds_total ",
            "\nprocess_resident_memory_bytes ",
            "\nprocess_virtual_memory_bytes ",
            "\nprocess_open_fds ",
            "\nprocess_max_fds ",
            "\nprocess_start_time_seconds ",
            "# TYPE process_cpu_seconds_total counter\n",
        ],
    );
}

#[tokio::test]
async fn a_sent_request_id_is_echoed_over_rest_and_grpc() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    let rest = app
        .http()
        .get(format!("{}/v1/system/info", app.base_url()))
        .header("x-request-id", "rest-call-1")
        .send()
        .await
        .unwrap();
    let mut request = tonic::Request::new(pb::GetSystemInfoRequest::default());
    request
        .metadata_mut()
        .insert("x-request-id", "grpc-call-1".parse().unwrap());
    let grpc = app.system().await.get_system_info(request).await.unwrap();

    assert_eq!(rest.status(), 200);
    assert_eq!(rest.headers()["x-request-id"], "rest-call-1");
    assert_eq!(grpc.metadata().get("x-request-id").unwrap(), "grpc-call-1");
}

#[tokio::test]
async fn a_missing_request_id_is_generated_over_rest_and_grpc() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    let rest = app
        .http()
        .get(format!("{}/v1/users/me", app.base_url()))
        .send()
        .await
        .unwrap();
    let grpc = app
        .users()
        .await
        .get_user(bearer(pb::GetUserRequest::default(), "not-a-token"))
        .await
        .unwrap_err();

    assert_eq!(rest.status(), 401);
    let rest_id = rest.headers()["x-request-id"].to_str().unwrap().to_owned();
    let grpc_id = grpc
        .metadata()
        .get("x-request-id")
        .unwrap()
        .to_str()
        .unwrap();
    for id in [rest_id.as_str(), grpc_id] {
        assert_eq!(id.len(), 32, "{id}");
        assert!(id.bytes().all(|byte| byte.is_ascii_hexdigit()), "{id}");
    }
    assert_ne!(rest_id, grpc_id);
}
