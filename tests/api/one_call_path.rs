//! Every protocol reaches a unary handler through one path (`api::calls`):
//! the same authentication, the same deadline, the same size limit, the
//! same error mapping and the same metrics, whether the call came as native
//! gRPC, gRPC-Web, REST or Connect (JSON and binary). Each case is made over
//! all of them with raw HTTP, so what is compared is what a client sees.
use base64::Engine as _;
use prost::Message as _;
use roster::proto::goodmem::v1 as pb;

use crate::helpers::{Backend, TestApp};

#[derive(Clone, Copy, Debug, PartialEq)]
enum Protocol {
    Grpc,
    GrpcWeb,
    Rest,
    /// Connect unary, `application/json`, over HTTP/1.1.
    ConnectJson,
    /// Connect unary, `application/proto`, over HTTP/2.
    ConnectProto,
}

const PROTOCOLS: [Protocol; 5] = [
    Protocol::Grpc,
    Protocol::GrpcWeb,
    Protocol::Rest,
    Protocol::ConnectJson,
    Protocol::ConnectProto,
];

impl Protocol {
    fn is_connect(self) -> bool {
        matches!(self, Self::ConnectJson | Self::ConnectProto)
    }

    /// The header that sets a 300 ms deadline.
    fn short_deadline(self) -> (&'static str, &'static str) {
        if self.is_connect() {
            ("connect-timeout-ms", "300")
        } else {
            ("grpc-timeout", "300m")
        }
    }
}

/// Connect's code names, as numbers.
fn connect_code(name: &str) -> i64 {
    const NAMES: [&str; 17] = [
        "ok",
        "canceled",
        "unknown",
        "invalid_argument",
        "deadline_exceeded",
        "not_found",
        "already_exists",
        "permission_denied",
        "resource_exhausted",
        "failed_precondition",
        "aborted",
        "out_of_range",
        "unimplemented",
        "internal",
        "unavailable",
        "data_loss",
        "unauthenticated",
    ];
    NAMES
        .iter()
        .position(|known| *known == name)
        .unwrap_or_else(|| panic!("not a Connect code: {name}")) as i64
}

/// The type names in an encoded `google.rpc.Status` (base64, padded or not).
fn detail_types_of_bin(encoded: &str) -> Vec<String> {
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(encoded.trim_end_matches('='))
        .expect("grpc-status-details-bin is base64");
    roster::proto::google::rpc::Status::decode(bytes.as_slice())
        .expect("a google.rpc.Status")
        .details
        .into_iter()
        .map(|any| any.type_url.rsplit('/').next().unwrap().to_owned())
        .collect()
}

/// What came back: the gRPC code (from trailers, trailers-only headers or
/// the REST error body) and, for REST, the HTTP status.
#[derive(Debug)]
struct Outcome {
    code: i64,
    message: String,
    http: u16,
    /// The type names of the error details (`google.rpc.BadRequest`, …).
    details: Vec<String>,
}

fn frame(message: &[u8]) -> Vec<u8> {
    let mut framed = vec![0];
    framed.extend_from_slice(&(message.len() as u32).to_be_bytes());
    framed.extend_from_slice(message);
    framed
}

fn percent_decoded(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// GetUser by resource name over `protocol`, with `headers` added; `body`
/// replaces the framed request for the gRPC protocols.
async fn get_user(
    app: &TestApp,
    protocol: Protocol,
    name: &str,
    headers: &[(&str, &str)],
    body: Option<Vec<u8>>,
) -> Outcome {
    // `email:…` looks the user up by email (REST: /v1/users/email/…).
    let email = name.strip_prefix("email:");
    let request = pb::GetUserRequest {
        name: if email.is_none() {
            name.to_owned()
        } else {
            String::new()
        },
        email: email.unwrap_or_default().to_owned(),
        ..Default::default()
    };
    let rest_path = match email {
        Some(email) => format!("/v1/users/email/{email}"),
        None => format!("/api/v1/{name}"),
    };
    let connect_json = match email {
        Some(email) => serde_json::json!({ "email": email }),
        None => serde_json::json!({ "name": name }),
    };
    let grpc_body = body.unwrap_or_else(|| frame(&request.encode_to_vec()));
    let path = "/goodmem.v1.UserService/GetUser";
    let builder = match protocol {
        Protocol::Grpc => reqwest::Client::builder()
            .http2_prior_knowledge()
            .build()
            .unwrap()
            .post(format!("{}{path}", app.base_url()))
            .header("content-type", "application/grpc")
            .header("te", "trailers")
            .body(grpc_body),
        Protocol::GrpcWeb => app
            .http()
            .post(format!("{}{path}", app.base_url()))
            .header("content-type", "application/grpc-web+proto")
            .header("x-grpc-web", "1")
            .body(grpc_body),
        Protocol::Rest => app.http().get(format!("{}{rest_path}", app.base_url())),
        Protocol::ConnectJson => app
            .http()
            .post(format!("{}{path}", app.base_url()))
            .header("content-type", "application/json")
            .header("connect-protocol-version", "1")
            .body(connect_json.to_string()),
        Protocol::ConnectProto => reqwest::Client::builder()
            .http2_prior_knowledge()
            .build()
            .unwrap()
            .post(format!("{}{path}", app.base_url()))
            .header("content-type", "application/proto")
            .header("connect-protocol-version", "1")
            .body(request.encode_to_vec()),
    };
    let builder = headers.iter().fold(builder, |builder, (name, value)| {
        builder.header(*name, *value)
    });
    let response = builder.send().await.unwrap();
    let http = response.status().as_u16();
    let from_headers = |headers: &reqwest::header::HeaderMap| {
        headers.get("grpc-status").map(|code| {
            let message = headers
                .get("grpc-message")
                .map(|message| percent_decoded(message.to_str().unwrap()))
                .unwrap_or_default();
            let details = headers
                .get("grpc-status-details-bin")
                .map(|details| detail_types_of_bin(details.to_str().unwrap()))
                .unwrap_or_default();
            (
                code.to_str().unwrap().parse::<i64>().unwrap(),
                message,
                details,
            )
        })
    };
    let trailers_only = from_headers(response.headers());
    match protocol {
        Protocol::Grpc => {
            let (code, message, details) = match trailers_only {
                Some(found) => found,
                None => {
                    // reqwest does not expose trailers; the body is read
                    // through, and a reply frame means OK.
                    let bytes = response.bytes().await.unwrap();
                    assert!(bytes.len() > 5, "an OK gRPC reply carries a frame");
                    (0, String::new(), Vec::new())
                }
            };
            Outcome {
                code,
                message,
                http,
                details,
            }
        }
        Protocol::GrpcWeb => {
            let (code, message, details) = match trailers_only {
                Some(found) => found,
                None => {
                    let bytes = response.bytes().await.unwrap();
                    let trailer_at = bytes
                        .windows(12)
                        .position(|window| window == b"grpc-status:")
                        .expect("a gRPC-Web body ends with its trailers");
                    let trailers = String::from_utf8_lossy(&bytes[trailer_at..]).into_owned();
                    let field = |name: &str| {
                        trailers
                            .split("\r\n")
                            .find_map(|line| line.strip_prefix(name))
                            .map(str::trim)
                            .unwrap_or_default()
                            .to_owned()
                    };
                    let details = field("grpc-status-details-bin:");
                    (
                        field("grpc-status:").parse().unwrap(),
                        percent_decoded(&field("grpc-message:")),
                        if details.is_empty() {
                            Vec::new()
                        } else {
                            detail_types_of_bin(&details)
                        },
                    )
                }
            };
            Outcome {
                code,
                message,
                http,
                details,
            }
        }
        Protocol::Rest => {
            let body: serde_json::Value = response.json().await.unwrap();
            match body.get("code") {
                Some(code) => Outcome {
                    code: code.as_i64().unwrap(),
                    message: body["message"].as_str().unwrap().to_owned(),
                    http,
                    details: detail_names(&body, "@type"),
                },
                None => Outcome {
                    code: 0,
                    message: String::new(),
                    http,
                    details: Vec::new(),
                },
            }
        }
        Protocol::ConnectJson | Protocol::ConnectProto => {
            if http == 200 {
                let expected = if protocol == Protocol::ConnectJson {
                    "application/json"
                } else {
                    "application/proto"
                };
                assert_eq!(response.headers()["content-type"], expected);
                let bytes = response.bytes().await.unwrap();
                if protocol == Protocol::ConnectProto {
                    pb::User::decode(bytes).expect("a binary User");
                } else {
                    let user: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                    // Canonical proto3 JSON: lowerCamelCase, base64 bytes.
                    assert!(user["userId"].is_string(), "{user}");
                }
                return Outcome {
                    code: 0,
                    message: String::new(),
                    http,
                    details: Vec::new(),
                };
            }
            assert_eq!(response.headers()["content-type"], "application/json");
            let body: serde_json::Value = response.json().await.unwrap();
            Outcome {
                code: connect_code(body["code"].as_str().unwrap()),
                message: body["message"].as_str().unwrap_or_default().to_owned(),
                http,
                details: detail_names(&body, "type"),
            }
        }
    }
}

#[tokio::test]
async fn authentication_errors_and_metrics_are_the_same_for_every_protocol() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (root_key, root_id) = app.initialize().await;
    let unknown = format!("users/{}", uuid::Uuid::now_v7());
    let me = format!("users/{}", root_id.0);

    for protocol in PROTOCOLS {
        let anonymous = get_user(&app, protocol, &me, &[], None).await;
        assert_eq!(anonymous.code, 16, "{protocol:?}: {anonymous:?}");

        let forged = get_user(&app, protocol, &me, &[("x-api-key", "gm_forged")], None).await;
        assert_eq!(forged.code, 16, "{protocol:?}: {forged:?}");
        assert_eq!(forged.message, anonymous_or_invalid(&forged.message));

        let found = get_user(&app, protocol, &me, &[("x-api-key", &root_key)], None).await;
        assert_eq!(found.code, 0, "{protocol:?}: {found:?}");

        let missing = get_user(&app, protocol, &unknown, &[("x-api-key", &root_key)], None).await;
        assert_eq!(missing.code, 5, "{protocol:?}: {missing:?}");
        assert_eq!(missing.message, "user not found", "{protocol:?}");

        let invalid = get_user(
            &app,
            protocol,
            "email:not-an-email",
            &[("x-api-key", &root_key)],
            None,
        )
        .await;
        assert_eq!(invalid.code, 3, "{protocol:?}: {invalid:?}");
        assert_eq!(
            invalid.details,
            ["google.rpc.BadRequest"],
            "{protocol:?}: {invalid:?}"
        );

        let statuses = (anonymous.http, found.http, missing.http, invalid.http);
        if protocol == Protocol::Rest || protocol.is_connect() {
            assert_eq!(statuses, (401, 200, 404, 400), "{protocol:?}");
        } else {
            assert_eq!(statuses, (200, 200, 200, 200), "{protocol:?}");
        }
    }

    // One line per protocol and outcome, counted by the same meter.
    let text = app.metrics_text().await;
    let get_user =
        r#"grpc_type="unary",grpc_service="goodmem.v1.UserService",grpc_method="GetUser""#;
    // Both Connect codecs count under one label.
    for (label, calls) in [("grpc", 1), ("grpc-web", 1), ("rest", 1), ("connect", 2)] {
        for (code, count) in [
            ("UNAUTHENTICATED", 2),
            ("OK", 1),
            ("NOT_FOUND", 1),
            ("INVALID_ARGUMENT", 1),
        ] {
            let count = count * calls;
            let line = format!(
                r#"grpc_server_handled_total{{{get_user},grpc_code="{code}",protocol="{label}"}} {count}"#
            );
            assert!(text.contains(&line), "missing {line}\n{text}");
        }
        let started = format!(
            r#"grpc_server_started_total{{{get_user},protocol="{label}"}} {}"#,
            5 * calls
        );
        assert!(text.contains(&started), "missing {started}\n{text}");
    }
}

/// The type names of a JSON error body's details, under `key`.
fn detail_names(body: &serde_json::Value, key: &str) -> Vec<String> {
    body["details"]
        .as_array()
        .map(|details| {
            details
                .iter()
                .map(|detail| {
                    let name = detail[key].as_str().unwrap();
                    name.rsplit('/').next().unwrap().to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Unauthenticated answers say one of two things, whatever the protocol.
fn anonymous_or_invalid(message: &str) -> String {
    assert!(
        message.starts_with("missing credentials") || message.starts_with("invalid"),
        "{message}"
    );
    message.to_owned()
}

#[cfg_attr(
    not(roster_test_postgres),
    ignore = "set ROSTER_TEST_POSTGRES_URL to run"
)]
#[tokio::test]
async fn a_client_deadline_applies_to_every_protocol() {
    use sea_orm::{ConnectionTrait as _, TransactionTrait as _};

    let app = TestApp::spawn(Backend::Postgres).await;
    let (root_key, root_id) = app.initialize().await;
    let me = format!("users/{}", root_id.0);
    // Every call then waits on the lock (the credential read joins users),
    // so each one outlives its 300 ms deadline.
    let lock = app.store.writer().begin().await.unwrap();
    lock.execute_unprepared("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    for protocol in PROTOCOLS {
        let started = std::time::Instant::now();
        let late = get_user(
            &app,
            protocol,
            &me,
            &[("x-api-key", &root_key), protocol.short_deadline()],
            None,
        )
        .await;
        assert_eq!(late.code, 4, "{protocol:?}: {late:?}");
        assert!(
            started.elapsed() < std::time::Duration::from_secs(3),
            "{protocol:?}"
        );
        if protocol == Protocol::Rest || protocol.is_connect() {
            assert_eq!(late.http, 504, "{protocol:?}");
        }
    }
    lock.rollback().await.unwrap();
}

#[tokio::test]
async fn malformed_and_oversized_messages_are_refused_before_any_handler() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (root_key, _) = app.initialize().await;
    let key = [("x-api-key", root_key.as_str())];
    for protocol in [Protocol::Grpc, Protocol::GrpcWeb] {
        // A frame that claims more than the 1 MiB message limit.
        let mut huge = vec![0u8];
        huge.extend_from_slice(&(64u32 << 20).to_be_bytes());
        let oversized = get_user(&app, protocol, "users/me", &key, Some(huge)).await;
        assert_eq!(oversized.code, 11, "{protocol:?}: {oversized:?}");

        let truncated = get_user(
            &app,
            protocol,
            "users/me",
            &key,
            Some(vec![0, 0, 0, 0, 9, 1]),
        )
        .await;
        assert_eq!(truncated.code, 3, "{protocol:?}: {truncated:?}");

        let not_protobuf =
            get_user(&app, protocol, "users/me", &key, Some(frame(&[0xff, 0xff]))).await;
        assert_eq!(not_protobuf.code, 3, "{protocol:?}: {not_protobuf:?}");
        assert!(
            not_protobuf.message.starts_with("malformed"),
            "{not_protobuf:?}"
        );

        // Refused before the body is read: no credentials, no look at it.
        let anonymous = get_user(&app, protocol, "users/me", &[], Some(vec![9, 9, 9])).await;
        assert_eq!(anonymous.code, 16, "{protocol:?}: {anonymous:?}");
    }
}

/// Reads one HTTP/1.1 response (content-length or chunked) from `stream`;
/// returns its status, or `None` if the connection closed first.
async fn read_response(stream: &mut tokio::net::TcpStream) -> Option<u16> {
    use tokio::io::AsyncReadExt as _;
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = received.windows(4).position(|window| window == b"\r\n\r\n") {
            break at + 4;
        }
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        received.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&received[..head_end]).to_ascii_lowercase();
    let status = head.split(' ').nth(1)?.parse().ok()?;
    let length = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length:"))
        .map(|value| value.trim().parse::<usize>().unwrap());
    let complete = |body: &[u8]| match length {
        Some(length) => body.len() >= length,
        None => body.ends_with(b"0\r\n\r\n"),
    };
    while !complete(&received[head_end..]) {
        let read = stream.read(&mut chunk).await.ok()?;
        if read == 0 {
            return None;
        }
        received.extend_from_slice(&chunk[..read]);
    }
    Some(status)
}

#[tokio::test]
async fn a_call_refused_before_its_body_keeps_the_http1_connection_usable() {
    use tokio::io::AsyncWriteExt as _;
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.initialize().await;
    let json = br#"{"name": "users/me"}"#;
    let frame = frame(&[]);
    let cases: [(&str, &str, &str, &[u8]); 3] = [
        (
            "connect",
            "/goodmem.v1.UserService/GetUser",
            "application/json",
            json,
        ),
        (
            "grpc-web",
            "/goodmem.v1.UserService/GetUser",
            "application/grpc-web+proto",
            &frame,
        ),
        (
            "rest",
            "/v1/memos",
            "application/json",
            br#"{"content": "x"}"#,
        ),
    ];
    for (protocol, path, content_type, body) in cases {
        let mut stream = tokio::net::TcpStream::connect(app.authority())
            .await
            .unwrap();
        // The headers first; the body only once the refusal has arrived,
        // as a client streaming its upload would.
        let head = format!(
            "POST {path} HTTP/1.1\r\nhost: roster\r\ncontent-type: {content_type}\r\n\
             content-length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.unwrap();
        let refused = read_response(&mut stream).await;
        assert!(
            matches!(refused, Some(200 | 401)),
            "{protocol}: {refused:?}"
        );
        stream.write_all(body).await.unwrap();
        stream
            .write_all(b"GET /healthz HTTP/1.1\r\nhost: roster\r\n\r\n")
            .await
            .unwrap();
        let next = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            read_response(&mut stream),
        )
        .await
        .expect("an answer on the same connection");
        assert_eq!(next, Some(200), "{protocol}: the connection was closed");
    }
}
