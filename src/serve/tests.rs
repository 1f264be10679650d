//! Each test serves a tiny router through [`serve`] on `127.0.0.1:0` and
//! talks raw HTTP/1.1, or drives a layer directly.
use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::routing::{get, post};
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tower::{Layer as _, ServiceExt as _};

use super::{BoundedBodyLayer, EndStreamsOnShutdown, Settings, ShutdownSignal, serve};

/// Longer than any bound under test: waiting this long means "never".
const PATIENCE: Duration = Duration::from_secs(3);

fn app() -> Router {
    Router::new()
        .route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
        )
        .route(
            "/upload",
            post(|body: Bytes| async move { body.len().to_string() }),
        )
}

struct Running {
    address: SocketAddr,
    stop: oneshot::Sender<()>,
    served: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn start(settings: Settings) -> Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = oneshot::channel::<()>();
    let served = tokio::spawn(serve(listener, app(), settings, async {
        let _ = stopped.await;
    }));
    Running {
        address,
        stop,
        served,
    }
}

/// Sends a GET and reads its whole response, keeping the connection open.
async fn get_on(stream: &mut TcpStream, path: &str) -> String {
    let head = format!("GET {path} HTTP/1.1\r\nhost: test\r\n\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let mut buffer = [0_u8; 1024];
    loop {
        let read = tokio::time::timeout(PATIENCE, stream.read(&mut buffer))
            .await
            .expect("response in time")
            .unwrap();
        assert_ne!(read, 0, "connection closed before the response");
        response.extend_from_slice(&buffer[..read]);
        let text = String::from_utf8_lossy(&response);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length: usize = head
                .lines()
                .find_map(|line| line.strip_prefix("content-length: "))
                .and_then(|value| value.parse().ok())
                .unwrap_or(0);
            if body.len() >= length {
                return text.into_owned();
            }
        }
    }
}

/// Whether the server closes the connection (EOF or reset) within `within`;
/// any data it sends first is skipped.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buffer = [0_u8; 1024];
    tokio::time::timeout(within, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await
    .is_ok()
}

#[tokio::test]
async fn handlers_see_the_peer_address() {
    let server = start(Settings::default()).await;
    let mut stream = TcpStream::connect(server.address).await.unwrap();

    let response = get_on(&mut stream, "/peer").await;

    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let peer = stream.local_addr().unwrap().to_string();
    assert!(
        response.ends_with(&peer),
        "{response} should end with {peer}"
    );
}

#[tokio::test]
async fn connections_beyond_the_cap_are_closed_at_once() {
    let server = start(Settings {
        max_connections: 2,
        ..Settings::default()
    })
    .await;
    let mut first = TcpStream::connect(server.address).await.unwrap();
    let mut second = TcpStream::connect(server.address).await.unwrap();
    get_on(&mut first, "/peer").await;
    get_on(&mut second, "/peer").await;

    let mut third = TcpStream::connect(server.address).await.unwrap();
    assert!(closed_within(&mut third, PATIENCE).await);

    drop(first);
    let mut served = false;
    for _ in 0..50 {
        let mut again = TcpStream::connect(server.address).await.unwrap();
        let head = "GET /peer HTTP/1.1\r\nhost: test\r\n\r\n";
        let mut buffer = [0_u8; 16];
        if again.write_all(head.as_bytes()).await.is_ok()
            && matches!(again.read(&mut buffer).await, Ok(read) if read > 0)
        {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(served, "a freed slot must serve a new connection");
}

#[tokio::test]
async fn idle_connections_are_closed() {
    let server = start(Settings {
        idle_timeout: Duration::from_millis(200),
        ..Settings::default()
    })
    .await;
    let mut used = TcpStream::connect(server.address).await.unwrap();
    let mut silent = TcpStream::connect(server.address).await.unwrap();
    get_on(&mut used, "/peer").await;

    assert!(closed_within(&mut used, PATIENCE).await);
    assert!(closed_within(&mut silent, PATIENCE).await);
}

#[tokio::test]
async fn half_sent_headers_are_cut_off() {
    let server = start(Settings {
        header_read_timeout: Duration::from_millis(200),
        ..Settings::default()
    })
    .await;
    let mut stream = TcpStream::connect(server.address).await.unwrap();

    stream
        .write_all(b"GET /peer HTTP/1.1\r\nhost: te")
        .await
        .unwrap();

    assert!(closed_within(&mut stream, PATIENCE).await);
}

#[tokio::test]
async fn shutdown_returns_within_the_drain_timeout_despite_a_half_sent_body() {
    let drain_timeout = Duration::from_millis(300);
    let server = start(Settings {
        drain_timeout,
        ..Settings::default()
    })
    .await;
    let mut stream = TcpStream::connect(server.address).await.unwrap();
    stream
        .write_all(b"POST /upload HTTP/1.1\r\nhost: test\r\ncontent-length: 1000\r\n\r\npartial")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let signalled = Instant::now();
    server.stop.send(()).unwrap();
    let served = tokio::time::timeout(PATIENCE, server.served).await;

    assert!(served.is_ok(), "serve must return after the drain timeout");
    assert!(
        signalled.elapsed() >= drain_timeout,
        "in-flight calls get the drain timeout"
    );
    assert!(closed_within(&mut stream, PATIENCE).await);
}

fn pending_body() -> Body {
    Body::from_stream(futures_util::stream::pending::<Result<Bytes, Infallible>>())
}

#[tokio::test]
async fn streams_end_with_unavailable_on_shutdown() {
    let signal = ShutdownSignal::new();
    let layer = EndStreamsOnShutdown::new(signal.clone(), |path| path == "/watch");
    let service = layer.layer(tower::service_fn(|_: Request<Body>| async {
        Ok::<_, Infallible>(Response::new(pending_body()))
    }));
    let mut streamed = service
        .clone()
        .oneshot(request("/watch"))
        .await
        .unwrap()
        .into_body();
    let mut unary = service
        .oneshot(request("/check"))
        .await
        .unwrap()
        .into_body();
    let waiting = tokio::time::timeout(Duration::from_millis(50), streamed.frame()).await;
    assert!(waiting.is_err(), "the stream waits until shutdown");

    signal.trigger();

    let trailers = tokio::time::timeout(PATIENCE, streamed.frame())
        .await
        .expect("the stream ends on shutdown")
        .unwrap()
        .unwrap()
        .into_trailers()
        .unwrap();
    assert_eq!(trailers["grpc-status"], "14");
    assert_eq!(trailers["grpc-message"], "server is shutting down");
    assert!(streamed.frame().await.is_none());
    let untouched = tokio::time::timeout(Duration::from_millis(50), unary.frame()).await;
    assert!(
        untouched.is_err(),
        "calls not named streaming are left alone"
    );
}

fn request(path: &str) -> Request<Body> {
    Request::post(path).body(Body::empty()).unwrap()
}

/// A gRPC request for `grpc.health.v1.Health/Check` whose body is `body`.
fn health_check(body: Bytes) -> Request<Body> {
    Request::post("/grpc.health.v1.Health/Check")
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(Body::from(body))
        .unwrap()
}

/// The grpc-status of a response, from its headers (trailers-only) or trailers.
async fn grpc_status(response: Response<Body>) -> String {
    if let Some(status) = response.headers().get("grpc-status") {
        return status.to_str().unwrap().to_owned();
    }
    let collected = response.into_body().collect().await.unwrap();
    collected.trailers().unwrap()["grpc-status"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn grpc_clients_see_resource_exhausted_when_the_byte_budget_is_spent() {
    let (_reporter, health) = tonic_health::server::health_reporter();
    let grpc = tonic::service::Routes::new(health)
        .prepare()
        .into_axum_router()
        .layer(BoundedBodyLayer::new(16, PATIENCE));
    let empty_message = Bytes::from_static(&[0, 0, 0, 0, 0]);

    let over_budget = grpc
        .clone()
        .oneshot(health_check(Bytes::from(vec![0_u8; 17])))
        .await
        .unwrap();
    let within_budget = grpc.oneshot(health_check(empty_message)).await.unwrap();

    assert_eq!(grpc_status(over_budget).await, "8");
    assert_ne!(
        grpc_status(within_budget).await,
        "8",
        "bytes return to the budget"
    );
}

/// The code of the `tonic::Status` in an error's source chain.
fn status_code_in(error: &(dyn std::error::Error + 'static)) -> Option<tonic::Code> {
    let mut source = Some(error);
    while let Some(cause) = source {
        if let Some(status) = cause.downcast_ref::<tonic::Status>() {
            return Some(status.code());
        }
        source = cause.source();
    }
    None
}

#[tokio::test]
async fn bodies_not_received_in_time_fail_with_deadline_exceeded() {
    let reader = tower::service_fn(|request: Request<Body>| async move {
        let read = request.into_body().collect().await.map(|_| ());
        Ok::<_, Infallible>(read.map_err(|error| status_code_in(&error)))
    });
    let service = BoundedBodyLayer::new(1024, Duration::from_millis(100)).layer(reader);
    let request = Request::post("/upload").body(pending_body()).unwrap();

    let read = tokio::time::timeout(PATIENCE, service.oneshot(request))
        .await
        .expect("the body read must time out")
        .unwrap();

    assert_eq!(read, Err(Some(tonic::Code::DeadlineExceeded)));
}
