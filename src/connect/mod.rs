//! The Connect protocol (connectrpc.com/docs/protocol) on the gRPC paths,
//! beside gRPC and gRPC-Web: one generic translation layer, like
//! tonic-web's, with nothing per RPC.
//!
//! - Unary calls (`application/proto`, `application/json`, and GET for
//!   methods marked `NO_SIDE_EFFECTS`) of the unary table reach the
//!   handlers through `UnaryCalls`, the one path every protocol shares
//!   (meter, deadline, gate, handler), with `protocol="connect"`.
//! - Everything else (streams, health, reflection) is re-dressed as a gRPC
//!   call to tonic's services behind the same metrics layer and gate.
//! - Connect's JSON is the canonical proto3 mapping, converted through the
//!   descriptors (`schema.rs`); errors take Connect's shape and HTTP status
//!   table (`error.rs`); `connect-timeout-ms` becomes the deadline; gzip is
//!   negotiated both ways (`envelope.rs`).
//!
//! Requests that are not Connect's pass through to the gRPC stack.
mod envelope;
mod error;
mod grpc;
mod schema;
mod stream;
mod unary;

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use http::{HeaderMap, HeaderValue, Method, Request, Response, header};
use tonic::Status;
use tower::ServiceExt as _;

use schema::Codec;
pub use schema::ConnectSchemas;

use crate::api::calls::UnaryCalls;

/// What every Connect call needs.
#[derive(Debug)]
struct Shared {
    calls: Arc<UnaryCalls>,
    /// tonic's services behind the metrics layer and the gate.
    services: Router,
    schemas: ConnectSchemas,
    max_message: usize,
}

/// The Connect face of the gRPC paths.
#[derive(Clone, Debug)]
pub struct ConnectService {
    shared: Arc<Shared>,
    /// Where requests that are not Connect's go: gRPC and gRPC-Web.
    grpc: Router,
}

impl ConnectService {
    /// Serves Connect requests through `calls` (unary methods of the
    /// table) and `services` (the rest), refusing messages over
    /// `max_message` bytes, and passes other requests to `grpc`.
    pub fn new(
        calls: Arc<UnaryCalls>,
        services: Router,
        schemas: ConnectSchemas,
        max_message: usize,
        grpc: Router,
    ) -> Self {
        Self {
            shared: Arc::new(Shared {
                calls,
                services,
                schemas,
                max_message,
            }),
            grpc,
        }
    }
}

/// What kind of Connect request, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Unary(Codec),
    UnaryGet,
    Stream(Codec),
}

fn classify<B>(request: &Request<B>) -> Option<Kind> {
    if request.method() == Method::GET {
        let query = request.uri().query().unwrap_or("");
        let names_encoding = query.split('&').any(|pair| pair.starts_with("encoding="));
        return names_encoding.then_some(Kind::UnaryGet);
    }
    if request.method() != Method::POST {
        return None;
    }
    let content_type = request.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = content_type.split(';').next().unwrap_or("").trim();
    let is = |name: &str| essence.eq_ignore_ascii_case(name);
    if is("application/proto") {
        Some(Kind::Unary(Codec::Proto))
    } else if is("application/json") {
        Some(Kind::Unary(Codec::Json))
    } else if is("application/connect+proto") {
        Some(Kind::Stream(Codec::Proto))
    } else if is("application/connect+json") {
        Some(Kind::Stream(Codec::Json))
    } else {
        None
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl tower::Service<Request<Body>> for ConnectService {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _context: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let Some(kind) = classify(&request) else {
            return Box::pin(self.grpc.clone().oneshot(request));
        };
        let shared = self.shared.clone();
        Box::pin(async move {
            Ok(match kind {
                Kind::Unary(codec) => unary::post(shared, request, codec).await,
                Kind::UnaryGet => unary::get(shared, request).await,
                Kind::Stream(codec) => stream::call(shared, request, codec).await,
            })
        })
    }
}

/// `connect-protocol-version`, when sent, must be `1`.
fn check_protocol_version(headers: &HeaderMap) -> Result<(), Status> {
    match headers.get("connect-protocol-version") {
        None => Ok(()),
        Some(version) if version.as_bytes() == b"1" => Ok(()),
        Some(version) => Err(Status::invalid_argument(format!(
            "connect-protocol-version must be 1, not {:?}",
            String::from_utf8_lossy(version.as_bytes())
        ))),
    }
}

/// `connect-timeout-ms` (at most 10 digits) becomes the call's deadline,
/// as the `grpc-timeout` the gate reads.
fn apply_timeout(headers: &mut HeaderMap) -> Result<(), Status> {
    let Some(value) = headers.remove("connect-timeout-ms") else {
        return Ok(());
    };
    let digits = value.as_bytes();
    if digits.is_empty() || digits.len() > 10 || !digits.iter().all(u8::is_ascii_digit) {
        return Err(Status::invalid_argument(
            "connect-timeout-ms must be a positive integer of at most 10 digits",
        ));
    }
    // grpc-timeout allows 8 digits: 10-digit milliseconds fit in seconds.
    let millis: u64 = String::from_utf8_lossy(digits).parse().unwrap_or(u64::MAX);
    let timeout = if millis < 100_000_000 {
        format!("{millis}m")
    } else {
        format!("{}S", millis.div_ceil(1000).min(99_999_999))
    };
    let value = HeaderValue::from_str(&timeout)
        .map_err(|_| Status::invalid_argument("connect-timeout-ms is not a valid timeout"))?;
    headers.insert("grpc-timeout", value);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(method: Method, uri: &str, content_type: Option<&'static str>) -> Request<()> {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(content_type) = content_type {
            request = request.header(header::CONTENT_TYPE, content_type);
        }
        request.body(()).unwrap()
    }

    #[test]
    fn connect_requests_are_told_from_grpc_ones() {
        let path = "/goodmem.v1.UserService/GetUser";
        let post = |content_type| classify(&request(Method::POST, path, Some(content_type)));
        assert_eq!(post("application/proto"), Some(Kind::Unary(Codec::Proto)));
        assert_eq!(
            post("application/json; charset=utf-8"),
            Some(Kind::Unary(Codec::Json))
        );
        assert_eq!(
            post("application/connect+json"),
            Some(Kind::Stream(Codec::Json))
        );
        assert_eq!(post("application/grpc"), None);
        assert_eq!(post("application/grpc-web+proto"), None);
        let get = request(
            Method::GET,
            &format!("{path}?encoding=json&message=%7B%7D"),
            None,
        );
        assert_eq!(classify(&get), Some(Kind::UnaryGet));
        assert_eq!(classify(&request(Method::GET, path, None)), None);
    }

    #[test]
    fn timeouts_become_grpc_timeouts() {
        let mut headers = HeaderMap::new();
        headers.insert("connect-timeout-ms", HeaderValue::from_static("250"));
        apply_timeout(&mut headers).unwrap();
        assert_eq!(headers["grpc-timeout"], "250m");
        headers.insert("connect-timeout-ms", HeaderValue::from_static("9999999999"));
        apply_timeout(&mut headers).unwrap();
        assert_eq!(headers["grpc-timeout"], "10000000S");
        for bad in ["", "-1", "1.5", "12345678901"] {
            headers.insert("connect-timeout-ms", HeaderValue::from_static(bad));
            assert!(apply_timeout(&mut headers).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn only_protocol_version_one_is_spoken() {
        let mut headers = HeaderMap::new();
        assert!(check_protocol_version(&headers).is_ok());
        headers.insert("connect-protocol-version", HeaderValue::from_static("1"));
        assert!(check_protocol_version(&headers).is_ok());
        headers.insert("connect-protocol-version", HeaderValue::from_static("2"));
        assert!(check_protocol_version(&headers).is_err());
    }
}
