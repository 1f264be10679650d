//! The server's life as an operator sees it: bounded connections, idle and
//! slow clients let go, a shutdown that tells the truth and ends on time,
//! and client cancellations counted as such.
use std::io::{BufRead as _, Write as _};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use futures_util::StreamExt as _;
use roster::proto::goodmem::v1 as pb;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

use crate::helpers::{Backend, TestApp, TestDatabase};

/// Whether the server closed `stream` within `limit` (a read returns EOF
/// or an error).
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> bool {
    let mut buffer = [0u8; 1024];
    let read_until_closed = async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => continue,
            }
        }
    };
    tokio::time::timeout(limit, read_until_closed).await.is_ok()
}

#[tokio::test]
async fn an_aborted_call_is_counted_as_cancelled() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (root_key, _) = app.initialize().await;
    let http2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    // Half a frame, then the client gives up (the stream is reset).
    let aborting = futures_util::stream::iter([
        Ok(bytes::Bytes::from_static(&[0, 0, 0, 0, 9, 1])),
        Err(std::io::Error::other("client gave up")),
    ]);

    let _ = http2
        .post(format!("{}/goodmem.v1.UserService/GetUser", app.base_url()))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("x-api-key", &root_key)
        .body(reqwest::Body::wrap_stream(aborting))
        .send()
        .await;

    let cancelled = r#"grpc_code="CANCELLED""#;
    let mut text = String::new();
    for _ in 0..50 {
        text = app.metrics_text().await;
        if text.contains(cancelled) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let get_user_lines: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("grpc_server_handled_total") && line.contains("GetUser"))
        .collect();
    assert!(
        get_user_lines.iter().any(|line| line.contains(cancelled)),
        "{get_user_lines:#?}"
    );
    assert!(
        !get_user_lines
            .iter()
            .any(|line| line.contains("INTERNAL") || line.contains("UNKNOWN")),
        "{get_user_lines:#?}"
    );
}

#[tokio::test]
async fn idle_and_slow_connections_are_let_go() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let app = TestApp::spawn_configured(database, |config| {
        config.connections.idle_timeout = Duration::from_millis(300);
        config.connections.header_read_timeout = Duration::from_millis(300);
    })
    .await;
    let mut idle = TcpStream::connect(app.address).await.unwrap();
    let mut slowloris = TcpStream::connect(app.address).await.unwrap();
    slowloris
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();

    assert!(
        closed_within(&mut idle, Duration::from_secs(5)).await,
        "idle connection kept open"
    );
    assert!(
        closed_within(&mut slowloris, Duration::from_secs(5)).await,
        "half-sent headers kept open"
    );
}

#[tokio::test]
async fn connections_beyond_the_cap_are_closed_at_once() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let app = TestApp::spawn_configured(database, |config| {
        config.connections.max_connections = 3;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(app.address).await.unwrap());
    }
    // Give the accept loop time to take all three.
    tokio::time::sleep(Duration::from_millis(100)).await;

    let mut refused = TcpStream::connect(app.address).await.unwrap();
    assert!(
        closed_within(&mut refused, Duration::from_secs(2)).await,
        "over-cap connection served"
    );

    drop(held);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let health = app
        .http()
        .get(format!("{}/healthz", app.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200, "a freed slot serves again");
}

#[tokio::test]
async fn healthz_stays_fast_while_a_thousand_idle_connections_are_held() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut held = Vec::new();
    for _ in 0..1030 {
        held.push(TcpStream::connect(app.address).await.unwrap());
    }

    let started = Instant::now();
    let health = reqwest::Client::new()
        .get(format!("{}/healthz", app.base_url()))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .unwrap();
    let latency = started.elapsed();

    assert_eq!(health.status(), 200);
    eprintln!(
        "/healthz with {} idle connections held: {latency:?}",
        held.len()
    );
    assert!(latency < Duration::from_secs(1), "{latency:?}");
}

#[tokio::test]
async fn shutdown_turns_health_not_serving_then_ends_watch_streams() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let channel = tonic::transport::Channel::from_shared(app.base_url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut watch = HealthClient::new(channel)
        .watch(HealthCheckRequest {
            service: String::new(),
        })
        .await
        .unwrap()
        .into_inner();
    let first = watch.next().await.unwrap().unwrap();
    assert_eq!(first.status, ServingStatus::Serving as i32);

    let started = Instant::now();
    let stopping = tokio::spawn(app.stop());
    let second = watch.next().await.unwrap().unwrap();
    let end = tokio::time::timeout(Duration::from_secs(5), watch.next())
        .await
        .expect("the watch stream ends at shutdown");

    assert_eq!(second.status, ServingStatus::NotServing as i32);
    match end {
        Some(Err(status)) => assert_eq!(status.code(), tonic::Code::Unavailable, "{status:?}"),
        None => {}
        Some(Ok(message)) => panic!("unexpected message {message:?}"),
    }
    tokio::time::timeout(Duration::from_secs(5), stopping)
        .await
        .expect("the server stops once streams end")
        .unwrap()
        .unwrap();
    eprintln!(
        "shutdown with an open Watch stream took {:?}",
        started.elapsed()
    );
}

/// The real binary on SIGTERM, with requests half-sent over HTTP/1.1 (a
/// body) and HTTP/2 (a gRPC message): it exits within the drain timeout.
#[tokio::test]
async fn sigterm_exits_within_the_drain_timeout_with_half_sent_requests_open() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--log-format",
            "json",
            "--drain-timeout-secs",
            "1",
        ])
        .env("ROSTER_DATABASE_URL", &database.url)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start roster");
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("roster exited early").unwrap();
        if let Ok(event) = serde_json::from_str::<serde_json::Value>(&line)
            && let Some(address) = event["address"].as_str()
        {
            break address.to_owned();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    let base_url = format!("http://{address}");
    for _ in 0..100 {
        let ready = reqwest::get(format!("{base_url}/readyz"))
            .await
            .map(|r| r.status() == 200);
        if ready.unwrap_or(false) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut half_body = std::net::TcpStream::connect(&address).unwrap();
    half_body
        .write_all(b"POST /v1/system/init HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"setupCode\":")
        .unwrap();
    let half_message = tokio::spawn({
        let client = reqwest::Client::builder()
            .http2_prior_knowledge()
            .build()
            .unwrap();
        let never_ending = futures_util::stream::once(async {
            Ok::<_, std::io::Error>(bytes::Bytes::from_static(&[0, 0, 0, 0, 9, 1]))
        })
        .chain(futures_util::stream::pending());
        client
            .post(format!(
                "{base_url}/goodmem.v1.UserService/InitializeSystem"
            ))
            .header("content-type", "application/grpc")
            .body(reqwest::Body::wrap_stream(never_ending))
            .send()
    });
    tokio::time::sleep(Duration::from_millis(200)).await;

    let started = Instant::now();
    let signalled = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    let exited = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > Duration::from_secs(10) {
            let _ = child.kill();
            break None;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let took = started.elapsed();
    half_message.abort();

    assert!(signalled.success());
    let status = exited.expect("roster still running 10 s after SIGTERM");
    eprintln!("SIGTERM to exit with half-sent requests open: {took:?}");
    assert!(status.success(), "{status:?}");
    assert!(took < Duration::from_secs(4), "{took:?}");
    drop(half_body);
}

/// With the database unreachable at start, the port answers at once: alive,
/// not ready, calls UNAVAILABLE; once the database appears, it serves.
#[cfg_attr(
    not(roster_test_postgres),
    ignore = "set ROSTER_TEST_POSTGRES_URL to run"
)]
#[tokio::test]
async fn the_server_waits_for_its_database_and_says_so() {
    let admin = std::env::var("ROSTER_TEST_POSTGRES_URL").expect("ROSTER_TEST_POSTGRES_URL is set");
    let name = format!("roster_t_{}", uuid::Uuid::new_v4().simple());
    let url = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
    let listen = "127.0.0.1:0".parse().unwrap();
    let application =
        roster::server::Application::build(roster::config::ServerConfig::new(listen, url))
            .await
            .unwrap();
    let base_url = format!("http://{}", application.local_addr().unwrap());
    let readiness = application.readiness();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(application.run_until(async {
        let _ = stopped.await;
    }));
    tokio::time::sleep(Duration::from_millis(300)).await;

    let alive = reqwest::get(format!("{base_url}/healthz"))
        .await
        .unwrap()
        .status();
    let ready = reqwest::get(format!("{base_url}/readyz"))
        .await
        .unwrap()
        .status();
    let call = app_less_grpc_call(&base_url).await;
    assert_eq!((alive.as_u16(), ready.as_u16()), (200, 503));
    assert_eq!(call.code(), tonic::Code::Unavailable, "{call:?}");

    let admin_connection = sea_orm::Database::connect(admin.as_str()).await.unwrap();
    sea_orm::ConnectionTrait::execute_unprepared(
        &admin_connection,
        &format!("CREATE DATABASE {name}"),
    )
    .await
    .unwrap();
    tokio::time::timeout(
        Duration::from_secs(30),
        readiness.wait_for(roster::readiness::ReadinessState::Ready),
    )
    .await
    .expect("ready once the database exists");
    let ready = reqwest::get(format!("{base_url}/readyz"))
        .await
        .unwrap()
        .status();
    assert_eq!(ready, 200);

    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

async fn app_less_grpc_call(base_url: &str) -> tonic::Status {
    let mut system = pb::system_service_client::SystemServiceClient::connect(base_url.to_owned())
        .await
        .unwrap();
    system
        .get_system_info(pb::GetSystemInfoRequest {})
        .await
        .unwrap_err()
}

/// The real binary writes one access line per call, in the JSON shape of
/// its other lines, and none is lost when it exits right after the call.
#[tokio::test]
async fn access_lines_are_written_and_flushed_at_exit() {
    let database = TestDatabase::create(Backend::Sqlite).await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .env("ROSTER_DATABASE_URL", &database.url)
        .env_remove("RUST_LOG")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start roster");
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("roster exited early").unwrap();
        if let Ok(event) = serde_json::from_str::<serde_json::Value>(&line)
            && let Some(address) = event["address"].as_str()
        {
            break address.to_owned();
        }
    };
    let rest_of_stderr =
        std::thread::spawn(move || lines.map_while(Result::ok).collect::<Vec<_>>());
    let base_url = format!("http://{address}");
    for _ in 0..100 {
        let ready = reqwest::get(format!("{base_url}/readyz"))
            .await
            .map(|r| r.status() == 200);
        if ready.unwrap_or(false) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let info = reqwest::get(format!("{base_url}/v1/system/info"))
        .await
        .unwrap();
    assert_eq!(info.status(), 200);
    let signalled = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(signalled.success());
    assert!(child.wait().unwrap().success());

    let access: Vec<serde_json::Value> = rest_of_stderr
        .join()
        .unwrap()
        .iter()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|event| event["target"] == "roster::access")
        .collect();
    assert_eq!(access.len(), 1, "{access:?}");
    let line = &access[0];
    assert_eq!(line["method"], "/goodmem.v1.SystemService/GetSystemInfo");
    assert_eq!(line["protocol"], "rest");
    assert_eq!(line["code"], "OK");
    assert_eq!(line["message"], "call finished");
    assert!(line["latency"].as_f64().is_some(), "{line}");
    assert!(
        line["request_id"].as_str().is_some_and(|id| !id.is_empty()),
        "{line}"
    );
    assert!(
        line["timestamp"]
            .as_str()
            .is_some_and(|at| at.ends_with('Z')),
        "{line}"
    );
}
