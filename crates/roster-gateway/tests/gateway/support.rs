//! The test harness: the `gatewaytest.v1` pool, a generic echo gRPC service,
//! and helpers that send real HTTP requests through the gateway's router.

use std::convert::Infallible;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};

use axum::body::Body;
use base64::Engine as _;
use bytes::{Buf as _, Bytes};
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::BodyExt as _;
use prost::Message as _;
use prost_reflect::{
    DescriptorPool, DynamicMessage, MessageDescriptor, ReflectMessage as _, Value,
};
use roster_gateway::{CredentialKind, Gateway, GatewayConfig, SecurityScheme};
use tower::ServiceExt as _;

/// Largest body the test gateway accepts.
pub(crate) const MAX_BODY_BYTES: usize = 4096;

pub(crate) fn compile(files: &[&str]) -> DescriptorPool {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut compiler =
        protox::Compiler::new([crate_dir.join("tests/proto")]).expect("include paths exist");
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(files).expect("protos compile");
    DescriptorPool::decode(compiler.encode_file_descriptor_set().as_slice())
        .expect("descriptor set decodes")
}

pub(crate) fn library_pool() -> DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        compile(&[
            "gatewaytest/v1/library.proto",
            "google/rpc/error_details.proto",
        ])
    })
    .clone()
}

pub(crate) fn config() -> GatewayConfig {
    GatewayConfig {
        uuid_field_option: Some("gatewaytest.v1.id".to_owned()),
        max_body_bytes: MAX_BODY_BYTES,
        forwarded_headers: vec![
            HeaderName::from_static("authorization"),
            HeaderName::from_static("x-api-key"),
            HeaderName::from_static("x-request-id"),
        ],
        openapi_path: Some("/openapi.json".to_owned()),
        docs_path: Some("/docs".to_owned()),
        format_field_option: Some("gatewaytest.v1.format".to_owned()),
        pattern_field_option: Some("gatewaytest.v1.pattern".to_owned()),
        public_method_option: Some("gatewaytest.v1.open".to_owned()),
        security_schemes: vec![
            SecurityScheme {
                name: "bearerAuth".to_owned(),
                kind: CredentialKind::Bearer,
                description: "A token as `authorization: Bearer <token>`.".to_owned(),
            },
            SecurityScheme {
                name: "apiKeyAuth".to_owned(),
                kind: CredentialKind::ApiKeyHeader(HeaderName::from_static("x-api-key")),
                description: String::new(),
            },
        ],
        api_title: "Library".to_owned(),
        api_version: "1.2.3".to_owned(),
        preflight: None,
    }
}

/// Stands for what a server puts in request extensions (the client address).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ClientAddress(pub(crate) String);

/// What the echo service saw of one gRPC call.
#[derive(Clone, Debug)]
pub(crate) struct RecordedCall {
    pub(crate) path: String,
    pub(crate) version: http::Version,
    pub(crate) headers: HeaderMap,
    pub(crate) client_address: Option<ClientAddress>,
    /// The request as prost-reflect's own proto3 JSON: an observer
    /// independent of the gateway's codec.
    pub(crate) request: serde_json::Value,
}

/// The gateway's router in front of the echo service, and the calls it made.
pub(crate) struct TestApp {
    pub(crate) router: axum::Router,
    pub(crate) calls: Arc<Mutex<Vec<RecordedCall>>>,
}

impl TestApp {
    pub(crate) fn new() -> TestApp {
        TestApp::with_config(config())
    }

    pub(crate) fn with_config(config: GatewayConfig) -> TestApp {
        let gateway = Gateway::new(library_pool(), config).expect("gateway builds");
        let calls = Arc::new(Mutex::new(Vec::new()));
        let echo = EchoService {
            pool: library_pool(),
            calls: Arc::clone(&calls),
        };
        let grpc = tower::service_fn(move |request: Request<Body>| {
            let echo = echo.clone();
            async move { Ok::<_, Infallible>(echo.serve(request).await) }
        });
        TestApp {
            router: gateway.into_router(grpc),
            calls,
        }
    }

    pub(crate) fn last_call(&self) -> RecordedCall {
        self.calls
            .lock()
            .unwrap()
            .last()
            .cloned()
            .expect("a gRPC call was made")
    }

    pub(crate) fn call_count(&self) -> usize {
        self.calls.lock().unwrap().len()
    }

    pub(crate) async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("router is infallible");
        let (parts, body) = response.into_parts();
        let body = body.collect().await.expect("body reads").to_bytes();
        TestResponse {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    pub(crate) async fn get(&self, uri: &str) -> TestResponse {
        self.send(request("GET", uri, Body::empty())).await
    }

    pub(crate) async fn send_json(&self, method: &str, uri: &str, json: &str) -> TestResponse {
        let mut request = request(method, uri, Body::from(json.to_owned()));
        request.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        self.send(request).await
    }
}

pub(crate) fn request(method: &str, uri: &str, body: Body) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(uri)
        .body(body)
        .expect("valid request")
}

pub(crate) struct TestResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl TestResponse {
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "response is not JSON ({error}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(name)
            .map(|value| value.to_str().expect("ascii header"))
    }

    /// Asserts the status and the gateway's error shape, returning the body.
    pub(crate) fn expect_error(&self, status: u16, code: i64) -> serde_json::Value {
        let json = self.json();
        assert_eq!(self.status.as_u16(), status, "body: {json}");
        assert_eq!(json["code"], code, "body: {json}");
        assert!(
            json["message"].as_str().is_some_and(|m| !m.is_empty()),
            "body: {json}"
        );
        assert!(json["details"].is_array(), "body: {json}");
        assert_eq!(self.header("content-type"), Some("application/json"));
        json
    }

    pub(crate) fn expect_ok(&self) -> serde_json::Value {
        let json = self.json();
        assert_eq!(self.status, StatusCode::OK, "body: {json}");
        assert_eq!(self.header("content-type"), Some("application/json"));
        json
    }
}

/// A generic unary gRPC service over any pool: decodes the request with
/// the method's input type and answers with the request itself (when the
/// output type is the input type), the request field of the output type,
/// or the same-named fields copied into the output. A `FailRequest` with a
/// code fails with that status and a `google.rpc.BadRequest` detail.
#[derive(Clone)]
struct EchoService {
    pool: DescriptorPool,
    calls: Arc<Mutex<Vec<RecordedCall>>>,
}

impl EchoService {
    async fn serve(&self, request: Request<Body>) -> Response<GrpcBody> {
        let (parts, body) = request.into_parts();
        let path = parts.uri.path().to_owned();
        let Some(method) = self.find_method(&path) else {
            return trailers_only(12, "unknown method", None);
        };
        let mut bytes = body.collect().await.expect("request body").to_bytes();
        assert!(bytes.len() >= 5, "a gRPC frame");
        assert_eq!(bytes.get_u8(), 0, "uncompressed");
        assert_eq!(bytes.get_u32() as usize, bytes.len(), "frame length");
        let input = DynamicMessage::decode(method.input(), bytes).expect("request decodes");
        self.calls.lock().unwrap().push(RecordedCall {
            path,
            version: parts.version,
            headers: parts.headers.clone(),
            client_address: parts.extensions.get::<ClientAddress>().cloned(),
            request: serde_json::to_value(&input).expect("request serializes"),
        });
        if input.descriptor().name() == "FailRequest" {
            let code = input
                .get_field_by_name("code")
                .and_then(|v| v.as_i32())
                .unwrap_or(0);
            if code != 0 {
                return self.failure(&input, code);
            }
        }
        let output = respond(&input, &method.output());
        let mut data = vec![0];
        data.extend_from_slice(&(output.encoded_len() as u32).to_be_bytes());
        output.encode(&mut data).expect("encodes");
        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status", HeaderValue::from_static("0"));
        grpc_response(HeaderMap::new(), Some(Bytes::from(data)), Some(trailers))
    }

    fn find_method(&self, path: &str) -> Option<prost_reflect::MethodDescriptor> {
        let (service, method) = path.strip_prefix('/')?.split_once('/')?;
        self.pool
            .get_service_by_name(service)?
            .methods()
            .find(|candidate| candidate.name() == method)
    }

    fn failure(&self, input: &DynamicMessage, code: i32) -> Response<GrpcBody> {
        let text = |name: &str| {
            input
                .get_field_by_name(name)
                .and_then(|value| value.as_str().map(str::to_owned))
                .unwrap_or_default()
        };
        let message = text("message");
        let bad_field = text("bad_field");
        let mut status_details = None;
        if !bad_field.is_empty() {
            let violation_type = self
                .pool
                .get_message_by_name("google.rpc.BadRequest.FieldViolation")
                .unwrap();
            let mut violation = DynamicMessage::new(violation_type);
            violation.set_field_by_name("field", Value::String(bad_field));
            violation.set_field_by_name("description", Value::String("is wrong".into()));
            let mut bad_request = DynamicMessage::new(
                self.pool
                    .get_message_by_name("google.rpc.BadRequest")
                    .unwrap(),
            );
            bad_request.set_field_by_name(
                "field_violations",
                Value::List(vec![Value::Message(violation)]),
            );
            let status = StatusMessage {
                code,
                message: message.clone(),
                details: vec![prost_types::Any {
                    type_url: "type.googleapis.com/google.rpc.BadRequest".to_owned(),
                    value: bad_request.encode_to_vec(),
                }],
            };
            status_details = Some(status.encode_to_vec());
        }
        let in_trailers = input
            .get_field_by_name("in_trailers")
            .and_then(|value| value.as_bool())
            .unwrap_or(false);
        if in_trailers {
            let mut trailers = HeaderMap::new();
            add_status(&mut trailers, code, &message, status_details.as_deref());
            grpc_response(HeaderMap::new(), None, Some(trailers))
        } else {
            trailers_only(code, &message, status_details.as_deref())
        }
    }
}

/// `google.rpc.Status`, to build `grpc-status-details-bin`.
#[derive(Clone, PartialEq, prost::Message)]
struct StatusMessage {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
    #[prost(message, repeated, tag = "3")]
    details: Vec<prost_types::Any>,
}

fn respond(input: &DynamicMessage, output: &MessageDescriptor) -> DynamicMessage {
    if input.descriptor() == *output {
        return input.clone();
    }
    let input_type = input.descriptor();
    if let Some(field) = input_type
        .fields()
        .find(|field| field.kind().as_message() == Some(output) && !field.is_list())
        && let Some(message) = input.get_field(&field).as_message()
    {
        return message.clone();
    }
    let mut copy = DynamicMessage::new(output.clone());
    for field in output.fields() {
        if let Some(source) = input_type.get_field_by_name(field.name())
            && source.kind() == field.kind()
            && input.has_field(&source)
        {
            copy.set_field(&field, input.get_field(&source).into_owned());
        }
    }
    copy
}

fn add_status(headers: &mut HeaderMap, code: i32, message: &str, details: Option<&[u8]>) {
    headers.insert(
        "grpc-status",
        HeaderValue::from_str(&code.to_string()).unwrap(),
    );
    let encoded: String =
        percent_encoding::utf8_percent_encode(message, percent_encoding::NON_ALPHANUMERIC)
            .collect();
    headers.insert("grpc-message", HeaderValue::from_str(&encoded).unwrap());
    if let Some(details) = details {
        let text = base64::engine::general_purpose::STANDARD_NO_PAD.encode(details);
        headers.insert(
            "grpc-status-details-bin",
            HeaderValue::from_str(&text).unwrap(),
        );
    }
}

fn trailers_only(code: i32, message: &str, details: Option<&[u8]>) -> Response<GrpcBody> {
    let mut headers = HeaderMap::new();
    add_status(&mut headers, code, message, details);
    grpc_response(headers, None, None)
}

fn grpc_response(
    headers: HeaderMap,
    data: Option<Bytes>,
    trailers: Option<HeaderMap>,
) -> Response<GrpcBody> {
    let mut response = Response::new(GrpcBody { data, trailers });
    *response.headers_mut() = headers;
    response
        .headers_mut()
        .insert("content-type", HeaderValue::from_static("application/grpc"));
    response
}

/// A response body of one data frame and then trailers, as gRPC sends them.
pub(crate) struct GrpcBody {
    data: Option<Bytes>,
    trailers: Option<HeaderMap>,
}

impl http_body::Body for GrpcBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(data) = self.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        if let Some(trailers) = self.trailers.take() {
            return Poll::Ready(Some(Ok(Frame::trailers(trailers))));
        }
        Poll::Ready(None)
    }
}
