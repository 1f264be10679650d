//! A generic JSON/REST → gRPC transcoder.
//!
//! At start-up [`Gateway::new`] reads every `google.api.http` rule of every
//! service in a [`prost_reflect::DescriptorPool`] and builds a route table.
//! [`Gateway::into_router_with`] then serves REST by turning each request
//! into one unary call made **in process** on a [`UnaryService`] (normally
//! the server's own way into its handlers), so authentication, limits,
//! metrics and error mapping are one code path for every protocol; replies
//! are rendered as JSON straight from their protobuf bytes.
//! [`Gateway::into_router`] does the same over any gRPC tower service.
//!
//! The crate knows nothing about any particular API: adding an RPC with an
//! HTTP annotation needs no change here. JSON follows the proto3 mapping with
//! two project rules (see the README): `google.protobuf.Timestamp` is integer
//! milliseconds, and bytes fields carrying the configured UUID option are
//! UUID text.

mod comments;
mod docs;
mod errors;
mod grpc_call;
mod json;
mod openapi;
mod query;
mod routes;
mod template;
#[cfg(test)]
mod test_pools;
mod transcode;

use std::sync::Arc;

use bytes::Bytes;
use prost_reflect::DescriptorPool;

pub use errors::{GatewayError, http_status_for};
pub use openapi::{CredentialKind, SecurityScheme};

/// Boxed error type accepted from the in-process gRPC service and its body.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// One unary call the gateway makes for a REST request.
#[derive(Debug)]
pub struct UnaryCall {
    /// `/package.Service/Method`.
    pub uri: http::Uri,
    /// The configured forwarded headers of the REST request.
    pub headers: http::HeaderMap,
    /// Every extension of the REST request, including what the preflight
    /// added.
    pub extensions: http::Extensions,
    /// The request message, protobuf-encoded.
    pub message: Bytes,
}

/// The future of a [`UnaryService`] call.
pub type UnaryFuture = std::pin::Pin<Box<dyn Future<Output = Result<Bytes, tonic::Status>> + Send>>;

/// Where REST requests go: something that runs a unary RPC given its
/// encoded request and answers its encoded reply or a status. A status's
/// details, when present, are an encoded `google.rpc.Status`.
pub trait UnaryService: Send + Sync + 'static {
    /// Runs `call`.
    fn call(&self, call: UnaryCall) -> UnaryFuture;
}

/// How the gateway reads the descriptors and treats requests.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    /// Full name of the bool field option marking bytes fields that hold a
    /// UUID, e.g. `"example.v1.uuid"`. `None` turns the UUID rule off.
    pub uuid_field_option: Option<String>,
    /// Largest accepted request body in bytes; a larger one is answered 413.
    pub max_body_bytes: usize,
    /// Request headers copied onto the in-process gRPC call, e.g.
    /// `authorization`, `x-api-key`, `x-request-id`.
    pub forwarded_headers: Vec<http::HeaderName>,
    /// Where to serve the generated OpenAPI document, e.g. `Some("/openapi.json")`.
    pub openapi_path: Option<String>,
    /// Where to serve the API reference page that renders the document in
    /// a browser (and sends requests from it), e.g. `Some("/docs")`; its
    /// script and style are served beside it. Needs `openapi_path`.
    pub docs_path: Option<String>,
    /// Full name of the string field option holding a string field's JSON
    /// Schema `format` (`email`, `uri`, …), stated in the document for the
    /// field and for path and query parameters bound to it.
    pub format_field_option: Option<String>,
    /// Full name of the string field option holding a regular expression
    /// that a string field's values match, stated as its `pattern`.
    pub pattern_field_option: Option<String>,
    /// Full name of the bool method option marking methods that answer
    /// without credentials: their operations get `security: []`.
    pub public_method_option: Option<String>,
    /// How callers authenticate: `components.securitySchemes`, required by
    /// every operation that is not public. Empty: the document states no
    /// security.
    pub security_schemes: Vec<SecurityScheme>,
    /// `info.title` of the OpenAPI document.
    pub api_title: String,
    /// `info.version` of the OpenAPI document.
    pub api_version: String,
    /// Run on every routed request before its body is read; see [`Preflight`].
    pub preflight: Option<Arc<dyn Preflight>>,
}

/// A check the gateway runs after routing a REST request and before it reads
/// the body, so a request that will be refused (say, without credentials)
/// costs no more than its headers. It may add to the request's extensions,
/// which travel with the in-process gRPC call. The gateway knows nothing of
/// what it checks.
pub trait Preflight: std::fmt::Debug + Send + Sync + 'static {
    /// `grpc_path` is the `/package.Service/Method` the request was routed
    /// to. An error is answered like the same status from the service.
    fn check<'a>(
        &'a self,
        grpc_path: &'a str,
        request: &'a mut http::request::Parts,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<(), tonic::Status>> + Send + 'a>>;
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            uuid_field_option: None,
            max_body_bytes: 1024 * 1024,
            forwarded_headers: Vec::new(),
            openapi_path: None,
            docs_path: None,
            format_field_option: None,
            pattern_field_option: None,
            public_method_option: None,
            security_schemes: Vec::new(),
            api_title: "API".to_owned(),
            api_version: "0.0.0".to_owned(),
            preflight: None,
        }
    }
}

/// Renders protobuf messages as REST JSON by the gateway's rules.
#[derive(Clone)]
pub struct JsonEncoder {
    inner: Arc<transcode::Transcoder>,
}

impl std::fmt::Debug for JsonEncoder {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("JsonEncoder")
            .finish_non_exhaustive()
    }
}

impl JsonEncoder {
    /// The JSON of the protobuf-encoded message `protobuf` of type
    /// `full_name`; `None` if the type is not in the pool or the bytes do
    /// not decode as it.
    pub fn encode(&self, full_name: &str, protobuf: &[u8]) -> Option<Vec<u8>> {
        let codec = &self.inner.codec;
        let index = codec.plan_index_by_name(full_name)?;
        let mut out = Vec::with_capacity(protobuf.len() * 2);
        codec.encode_reply(index, None, protobuf, &mut out).ok()?;
        Some(out)
    }
}

/// A REST gateway built from a descriptor pool: the route table, the JSON
/// codec and the pre-rendered OpenAPI document.
pub struct Gateway {
    inner: Arc<transcode::Transcoder>,
    openapi: serde_json::Value,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Gateway")
            .field("routes", &self.inner.routes.len())
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// Reads every `google.api.http` rule (including `additional_bindings`)
    /// of every service in `pool`.
    ///
    /// Fails on an unparsable template, a template or `body`/`response_body`
    /// naming a field that does not exist (or cannot be bound), a
    /// configured option that is not an extension of the expected kind in
    /// the pool, or a docs page without an OpenAPI path.
    pub fn new(pool: DescriptorPool, config: GatewayConfig) -> Result<Gateway, GatewayError> {
        let codec = json::JsonCodec::new(&pool, config.uuid_field_option.as_deref())?;
        let routes = routes::RouteTable::build(&pool, &codec)?;
        let openapi = openapi::generate(&pool, &codec, &routes, &config)?;
        let openapi_bytes = Bytes::from(serde_json::to_vec(&openapi).unwrap_or_default());
        let docs = match (&config.docs_path, &config.openapi_path) {
            (None, _) => None,
            (Some(docs_path), Some(openapi_path)) => Some(docs::DocsPage::new(
                docs_path,
                openapi_path,
                &config.api_title,
            )),
            (Some(_), None) => return Err(GatewayError::DocsWithoutOpenApi),
        };
        let inner = transcode::Transcoder {
            routes,
            codec,
            config,
            openapi_bytes,
            docs,
        };
        Ok(Gateway {
            inner: Arc::new(inner),
            openapi,
        })
    }

    /// The OpenAPI 3.1 document generated from the same route table.
    pub fn openapi(&self) -> serde_json::Value {
        self.openapi.clone()
    }

    /// A handle that renders messages of the pool as REST JSON, for
    /// payloads sent outside a response (webhook events, say).
    pub fn json_encoder(&self) -> JsonEncoder {
        JsonEncoder {
            inner: Arc::clone(&self.inner),
        }
    }

    /// An axum router that answers every path: the REST routes, the OpenAPI
    /// path, the docs page, and otherwise 404 in the gateway's error shape. Install it as the
    /// server's fallback (`Router::fallback_service`).
    ///
    /// Each REST request becomes one call of `target`, in process: the
    /// request message's protobuf bytes in, the reply's bytes (rendered
    /// straight to JSON) or a status out. Responses are gzip-compressed when
    /// the client accepts gzip.
    pub fn into_router_with(self, target: Arc<dyn UnaryService>) -> axum::Router {
        axum::Router::new().fallback_service(self.into_service_with(target))
    }

    /// The service [`Self::into_router_with`] routes every request to, for
    /// a server that installs it as its own fallback
    /// (`Router::fallback_service`): one router fewer on every REST call.
    pub fn into_service_with(
        self,
        target: Arc<dyn UnaryService>,
    ) -> tower_http::compression::Compression<RestService> {
        use tower::Layer as _;
        tower_http::compression::CompressionLayer::new()
            .gzip(true)
            .layer(RestService {
                transcoder: self.inner,
                target,
            })
    }

    /// [`Self::into_router_with`] over any gRPC tower service (a tonic or
    /// axum router): each REST request becomes one framed HTTP/2 `oneshot`
    /// call on a clone of `grpc`, whose trailers carry the status. Simpler
    /// to set up, and slower: a server that can call its handlers directly
    /// should implement [`UnaryService`] instead.
    pub fn into_router<S, B>(self, grpc: S) -> axum::Router
    where
        S: tower::Service<
                http::Request<axum::body::Body>,
                Response = http::Response<B>,
                Error: Into<BoxError>,
            > + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send + 'static,
        B: http_body::Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        self.into_router_with(Arc::new(grpc_call::OverHttp::new(grpc)))
    }
}

/// Every REST request, transcoded into one call of a [`UnaryService`]
/// (see [`Gateway::into_service_with`]).
#[derive(Clone)]
pub struct RestService {
    transcoder: Arc<transcode::Transcoder>,
    target: Arc<dyn UnaryService>,
}

impl std::fmt::Debug for RestService {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("RestService")
            .finish_non_exhaustive()
    }
}

impl tower::Service<axum::extract::Request> for RestService {
    type Response = http::Response<axum::body::Body>;
    type Error = std::convert::Infallible;
    type Future = std::pin::Pin<
        Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send + 'static>,
    >;

    fn poll_ready(
        &mut self,
        _context: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: axum::extract::Request) -> Self::Future {
        let transcoder = Arc::clone(&self.transcoder);
        let target = Arc::clone(&self.target);
        Box::pin(async move { Ok(transcoder.handle(request, &*target).await) })
    }
}
