//! One port: gRPC-Web (binary and text), health, metrics, CORS, fallbacks,
//! limits and graceful shutdown.
use base64::Engine as _;
use roster::proto::goodmem::v1 as pb;
use roster::proto::goodmem::v1::user_service_client::UserServiceClient;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::{HealthCheckRequest, health_check_response::ServingStatus};

use crate::helpers::{Backend, TestApp, bearer};
use crate::on_every_backend;

async fn health_client(app: &TestApp) -> HealthClient<tonic::transport::Channel> {
    let channel = tonic::transport::Channel::from_shared(app.base_url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    HealthClient::new(channel)
}

/// Polls the overall (`""`) health for up to five seconds until it is
/// `wanted`; returns the last status seen (unknown while none is reported).
async fn wait_for_overall_health(
    health: &mut HealthClient<tonic::transport::Channel>,
    wanted: ServingStatus,
) -> ServingStatus {
    let mut status = ServingStatus::Unknown;
    for _ in 0..100 {
        status = health
            .check(HealthCheckRequest {
                service: String::new(),
            })
            .await
            .map(|response| response.into_inner().status())
            .unwrap_or(ServingStatus::Unknown);
        if status == wanted {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    status
}

async fn grpc_web_serves_the_same_calls_and_errors(app: TestApp) {
    let mut client = app.grpc_web_users();

    let initialized = client
        .initialize_system(pb::InitializeSystemRequest::default())
        .await
        .unwrap()
        .into_inner();
    let me = client
        .get_user(bearer(
            pb::GetUserRequest::default(),
            &initialized.root_api_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let denied = client
        .get_user(pb::GetUserRequest::default())
        .await
        .unwrap_err();

    assert_eq!(me.user_id, initialized.user_id);
    assert_eq!(denied.code(), tonic::Code::Unauthenticated);
}

on_every_backend!(grpc_web_serves_the_same_calls_and_errors);

/// gRPC-Web text encodes each frame separately, so padding may appear
/// mid-stream: decode segment by segment, each ending after its `=` run.
fn decode_concatenated_base64(text: &str) -> Vec<u8> {
    let mut decoded = Vec::new();
    let mut segment = String::new();
    let mut characters = text.chars().peekable();
    while let Some(character) = characters.next() {
        segment.push(character);
        let ends_segment = character == '=' && characters.peek() != Some(&'=');
        if ends_segment || characters.peek().is_none() {
            decoded.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(&segment)
                    .unwrap(),
            );
            segment.clear();
        }
    }
    decoded
}

#[tokio::test]
async fn grpc_web_text_is_answered_in_text() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    // An empty GetSystemInfoRequest: flag 0, length 0.
    let frame = base64::engine::general_purpose::STANDARD.encode([0u8, 0, 0, 0, 0]);

    let response = app
        .http()
        .post(format!(
            "{}/goodmem.v1.SystemService/GetSystemInfo",
            app.base_url()
        ))
        .header("content-type", "application/grpc-web-text")
        .header("accept", "application/grpc-web-text")
        .body(frame)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/grpc-web-text+proto"
    );
    let body = response.text().await.unwrap();
    let decoded = decode_concatenated_base64(&body);
    let length = u32::from_be_bytes(decoded[1..5].try_into().unwrap()) as usize;
    let info =
        <pb::GetSystemInfoResponse as prost::Message>::decode(&decoded[5..5 + length]).unwrap();
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
    let trailers = String::from_utf8_lossy(&decoded[5 + length..]);
    assert!(trailers.contains("grpc-status:0"), "{trailers}");
}

#[tokio::test]
async fn health_is_serving_while_the_database_answers() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut health = health_client(&app).await;

    // The first probe runs as the server starts; wait for it.
    let status = wait_for_overall_health(&mut health, ServingStatus::Serving).await;
    let user_service = health
        .check(HealthCheckRequest {
            service: "goodmem.v1.UserService".into(),
        })
        .await
        .unwrap()
        .into_inner();
    let healthz = app
        .http()
        .get(format!("{}/healthz", app.base_url()))
        .send()
        .await
        .unwrap();
    let readyz = app
        .http()
        .get(format!("{}/readyz", app.base_url()))
        .send()
        .await
        .unwrap();

    assert_eq!(status, ServingStatus::Serving);
    assert_eq!(user_service.status(), ServingStatus::Serving);
    assert_eq!(healthz.status(), 200);
    assert_eq!(readyz.status(), 200);
}

/// PostgreSQL only: a server database can be taken away from under a
/// running server, which is what this checks.
#[cfg_attr(
    not(roster_test_postgres),
    ignore = "set ROSTER_TEST_POSTGRES_URL to run"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_turns_not_serving_when_the_database_goes_away() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let (root_key, _) = app.initialize().await;
    let mut health = health_client(&app).await;
    let admin_url = std::env::var("ROSTER_TEST_POSTGRES_URL").unwrap();
    let admin = sea_orm::Database::connect(admin_url.as_str())
        .await
        .unwrap();
    let name = app.database.name.clone().unwrap();
    use sea_orm::ConnectionTrait as _;

    admin
        .execute_unprepared(&format!("DROP DATABASE {name} WITH (FORCE)"))
        .await
        .unwrap();

    let status = wait_for_overall_health(&mut health, ServingStatus::NotServing).await;
    let readyz = app
        .http()
        .get(format!("{}/readyz", app.base_url()))
        .send()
        .await
        .unwrap();
    let call = app
        .users()
        .await
        .get_user(bearer(pb::GetUserRequest::default(), &root_key))
        .await
        .unwrap_err();

    assert_eq!(status, ServingStatus::NotServing);
    assert_eq!(readyz.status(), 503);
    // Clients retry UNAVAILABLE; INTERNAL would read as a server bug.
    assert_eq!(call.code(), tonic::Code::Unavailable, "{call:?}");
}

#[tokio::test]
async fn metrics_count_calls_by_method_protocol_and_code() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut users = app.users().await;
    users
        .initialize_system(pb::InitializeSystemRequest::default())
        .await
        .unwrap();
    let _ = users.get_user(pb::GetUserRequest::default()).await;
    let _ = app
        .grpc_web_users()
        .get_user(pb::GetUserRequest::default())
        .await;

    let text = app.metrics_text().await;

    for expected in [
        r#"grpc_server_handled_total{grpc_type="unary",grpc_service="goodmem.v1.UserService",grpc_method="InitializeSystem",grpc_code="OK",protocol="grpc"} 1"#,
        r#"grpc_server_handled_total{grpc_type="unary",grpc_service="goodmem.v1.UserService",grpc_method="GetUser",grpc_code="UNAUTHENTICATED",protocol="grpc"} 1"#,
        r#"grpc_server_handled_total{grpc_type="unary",grpc_service="goodmem.v1.UserService",grpc_method="GetUser",grpc_code="UNAUTHENTICATED",protocol="grpc-web"} 1"#,
        r#"grpc_server_handling_seconds_count{grpc_type="unary",grpc_service="goodmem.v1.UserService",grpc_method="InitializeSystem",protocol="grpc"} 1"#,
    ] {
        assert!(text.contains(expected), "missing {expected}\n{text}");
    }
}

#[tokio::test]
async fn cors_preflight_allows_grpc_web_and_exposes_grpc_status() {
    let app = TestApp::spawn(Backend::Sqlite).await;

    let preflight = app
        .http()
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/goodmem.v1.UserService/GetUser", app.base_url()),
        )
        .header("origin", "https://app.example.com")
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "content-type,x-grpc-web,authorization",
        )
        .send()
        .await
        .unwrap();
    let call = app
        .http()
        .get(format!("{}/healthz", app.base_url()))
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();

    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    let exposed = call.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        exposed.contains("grpc-status") && exposed.contains("grpc-message"),
        "{exposed}"
    );
}

#[tokio::test]
async fn cors_can_be_restricted_to_listed_origins() {
    let database = crate::helpers::TestDatabase::create(Backend::Sqlite).await;
    let app = TestApp::spawn_configured(database, |config| {
        config.cors_origins = vec!["https://good.example".to_owned()];
    })
    .await;
    let preflight = |origin: &'static str| {
        app.http()
            .request(
                reqwest::Method::OPTIONS,
                format!("{}/goodmem.v1.UserService/GetUser", app.base_url()),
            )
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .send()
    };

    let allowed = preflight("https://good.example").await.unwrap();
    let refused = preflight("https://evil.example").await.unwrap();

    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "https://good.example"
    );
    assert!(
        refused
            .headers()
            .get("access-control-allow-origin")
            .is_none()
    );
}

#[tokio::test]
async fn unknown_paths_are_404_and_unknown_methods_unimplemented() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (root_key, _) = app.initialize().await;

    let http = app
        .http()
        .get(format!("{}/no/such/path", app.base_url()))
        .send()
        .await
        .unwrap();
    let status = http.status();
    let body: serde_json::Value = http.json().await.unwrap();
    let mut grpc = tonic::client::Grpc::new(
        tonic::transport::Channel::from_shared(app.base_url())
            .unwrap()
            .connect()
            .await
            .unwrap(),
    );
    grpc.ready().await.unwrap();
    let anonymous_unknown_method = grpc
        .unary::<pb::GetSystemInfoRequest, pb::GetSystemInfoResponse, _>(
            tonic::Request::new(pb::GetSystemInfoRequest {}),
            "/goodmem.v1.UserService/NoSuchMethod".parse().unwrap(),
            tonic_prost::ProstCodec::default(),
        )
        .await
        .unwrap_err();
    grpc.ready().await.unwrap();
    let unknown_method = grpc
        .unary::<pb::GetSystemInfoRequest, pb::GetSystemInfoResponse, _>(
            bearer(pb::GetSystemInfoRequest {}, &root_key),
            "/goodmem.v1.UserService/NoSuchMethod".parse().unwrap(),
            tonic_prost::ProstCodec::default(),
        )
        .await
        .unwrap_err();

    assert_eq!(status, 404);
    assert_eq!(body["code"], 5);
    assert!(body["message"].is_string());
    assert_eq!(
        anonymous_unknown_method.code(),
        tonic::Code::Unauthenticated,
        "deny by default: no method list for strangers"
    );
    assert_eq!(unknown_method.code(), tonic::Code::Unimplemented);
}

#[tokio::test]
async fn oversized_messages_are_refused() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (root_key, _) = app.initialize().await;
    let huge = pb::GetUserRequest {
        email: "a".repeat(2 * 1024 * 1024),
        ..Default::default()
    };

    let status = app
        .users()
        .await
        .get_user(bearer(huge, &root_key))
        .await
        .unwrap_err();

    assert_eq!(status.code(), tonic::Code::OutOfRange, "{status:?}");
    assert!(
        status.message().contains("too large"),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn shutdown_lets_in_flight_calls_finish_then_stops_serving() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (root_key, _) = app.initialize().await;
    let mut users = app.users().await;
    let address = app.base_url();
    // Start calls, then stop the server while they may still be running.
    let in_flight: Vec<_> = (0..8)
        .map(|_| {
            let mut users = users.clone();
            let key = root_key.clone();
            tokio::spawn(async move {
                users
                    .get_user(bearer(pb::GetUserRequest::default(), &key))
                    .await
            })
        })
        .collect();

    app.stop().await.unwrap();

    for call in in_flight {
        let outcome = call.await.unwrap();
        // A call either completed or was never accepted; none is cut off
        // half-way with an internal error.
        if let Err(status) = outcome {
            assert_ne!(status.code(), tonic::Code::Internal, "{status:?}");
        }
    }
    let after = users
        .get_user(bearer(pb::GetUserRequest::default(), &root_key))
        .await;
    assert!(after.is_err(), "the server no longer answers");
    assert!(UserServiceClient::connect(address).await.is_err());
}

/// Sends raw bytes as a request message, as a buggy or hostile client would.
#[derive(Clone, Copy, Debug, Default)]
struct RawBytesCodec;

struct RawBytesEncoder;
struct DiscardDecoder;

impl tonic::codec::Encoder for RawBytesEncoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;
    fn encode(
        &mut self,
        item: Vec<u8>,
        buffer: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        use bytes::BufMut as _;
        buffer.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Decoder for DiscardDecoder {
    type Item = ();
    type Error = tonic::Status;
    fn decode(
        &mut self,
        buffer: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<()>, tonic::Status> {
        use bytes::Buf as _;
        let remaining = buffer.remaining();
        buffer.advance(remaining);
        Ok(Some(()))
    }
}

impl tonic::codec::Codec for RawBytesCodec {
    type Encode = Vec<u8>;
    type Decode = ();
    type Encoder = RawBytesEncoder;
    type Decoder = DiscardDecoder;
    fn encoder(&mut self) -> RawBytesEncoder {
        RawBytesEncoder
    }
    fn decoder(&mut self) -> DiscardDecoder {
        DiscardDecoder
    }
}

#[tokio::test]
async fn malformed_protobuf_is_an_invalid_argument() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (root_key, _) = app.initialize().await;
    let channel = tonic::transport::Channel::from_shared(app.base_url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut grpc = tonic::client::Grpc::new(channel);
    grpc.ready().await.unwrap();
    // Field 1 (bytes) claims 100 bytes but the message ends.
    let truncated = vec![0x0a, 100, 1, 2, 3];

    let status = grpc
        .unary::<Vec<u8>, (), _>(
            bearer(truncated, &root_key),
            "/goodmem.v1.UserService/GetUser".parse().unwrap(),
            RawBytesCodec,
        )
        .await
        .unwrap_err();

    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    assert!(
        status.message().starts_with("malformed protobuf message"),
        "{}",
        status.message()
    );
}

#[tokio::test]
async fn broken_grpc_framing_is_an_invalid_argument() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (root_key, _) = app.initialize().await;
    let url = format!("{}/goodmem.v1.UserService/GetUser", app.base_url());
    let cases: [(&str, &str, Vec<u8>); 4] = [
        (
            "grpc-web, bad compression flag",
            "application/grpc-web",
            b"garbage".to_vec(),
        ),
        (
            "grpc-web-text, not base64",
            "application/grpc-web-text",
            b"!!!!".to_vec(),
        ),
        (
            "grpc-web, truncated frame",
            "application/grpc-web",
            vec![0, 0, 0, 0, 9, 1],
        ),
        (
            "grpc-web, no message at all",
            "application/grpc-web",
            vec![],
        ),
    ];

    for (case, content_type, body) in cases {
        let response = app
            .http()
            .post(&url)
            .header("content-type", content_type)
            .header("x-api-key", &root_key)
            .body(body)
            .send()
            .await
            .unwrap();

        assert_eq!(
            response.headers()["grpc-status"],
            "3",
            "{case}: {:?}",
            response.headers()
        );
        assert!(
            response.headers()["grpc-message"]
                .to_str()
                .unwrap()
                .starts_with("malformed%20request"),
            "{case}"
        );
    }
}
