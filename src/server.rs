//! One port for everything: native gRPC (h2c), gRPC-Web (HTTP/1.1 and h2,
//! binary and text), reflection v1 and v1alpha, health, `/healthz`,
//! `/readyz`, `/metrics`, and JSON REST with `/openapi.json` through the
//! fallback (the gateway).
//!
//! Request path: CORS → (gRPC paths) protocol tag → gRPC-Web translation →
//! metrics → tonic service → `api` → `domain` → `store`; (any other path)
//! gateway → the same metrics → tonic service, in process. Only the gRPC
//! routes get the gRPC-Web layer: applied globally it would answer plain
//! HTTP/1.1 requests with 400.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::body::Body;
use axum::routing::get;
use axum::serve::ListenerExt as _;
use http::{HeaderName, HeaderValue, Request, StatusCode};
use tokio::net::TcpListener;
use tonic_health::ServingStatus;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

use crate::api::ApiContext;
use crate::api::methods::MethodTable;
use crate::api::system_service::SystemServiceApi;
use crate::api::user_service::UserServiceApi;
use crate::config::ServerConfig;
use crate::proto::FILE_DESCRIPTOR_SET;
use crate::proto::goodmem::v1::system_service_server::SystemServiceServer;
use crate::proto::goodmem::v1::user_service_server::UserServiceServer;
use crate::store::Store;
use crate::telemetry::exposition::metrics_response;
use crate::telemetry::metrics::{Metrics, MetricsLayer, Protocol};
use crate::telemetry::request_id::RequestIdLayer;

/// Services whose health is reported, besides the overall `""`.
const HEALTH_SERVICES: &[&str] = &["", "goodmem.v1.UserService", "goodmem.v1.SystemService"];

/// What `GetSystemInfo` lists.
const CAPABILITIES: &[&str] = &[
    "grpc",
    "grpc-web",
    "grpc-reflection-v1",
    "grpc-reflection-v1alpha",
    "grpc-health",
    "rest",
    "openapi",
    "metrics",
];

/// Headers the REST gateway passes on to the gRPC call.
const FORWARDED_HEADERS: &[&str] = &["authorization", "x-api-key", "x-request-id"];

/// A server bound to its port, ready to run.
pub struct Application {
    listener: TcpListener,
    router: Router,
    health_probe: tokio::task::JoinHandle<()>,
    store: Store,
}

impl Application {
    /// Opens the database (migrating it), binds `config.listen` and
    /// assembles the routes. Port 0 picks a free port: see [`Self::local_addr`].
    pub async fn build(config: ServerConfig) -> anyhow::Result<Self> {
        let store = Store::open(&config.database_url).await?;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let (health_reporter, health_service) = tonic_health::server::health_reporter();
        let health_probe = tokio::spawn(probe_database_health(
            store.clone(),
            health_reporter,
            config.health_probe_interval,
        ));
        let router = routes(&config, store.clone(), health_service)?;
        Ok(Self {
            listener,
            router,
            health_probe,
            store,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then stops accepting connections
    /// and lets in-flight calls finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let service = self
            .router
            .into_make_service_with_connect_info::<SocketAddr>();
        // Small gRPC and REST responses must not wait for Nagle's algorithm.
        let listener = self.listener.tap_io(|stream| {
            if let Err(error) = stream.set_nodelay(true) {
                tracing::debug!(%error, "cannot set TCP_NODELAY");
            }
        });
        let served = axum::serve(listener, service)
            .with_graceful_shutdown(shutdown)
            .await
            .context("server failed");
        self.health_probe.abort();
        self.store.close().await;
        served
    }
}

fn routes(
    config: &ServerConfig,
    store: Store,
    health_service: impl tonic::server::NamedService
    + tower::Service<
        Request<tonic::body::Body>,
        Response = http::Response<tonic::body::Body>,
        Error = std::convert::Infallible,
        Future: Send + 'static,
    > + Clone
    + Send
    + Sync
    + 'static,
) -> anyhow::Result<Router> {
    let capabilities = CAPABILITIES.iter().map(|name| (*name).to_owned()).collect();
    let context = ApiContext::new(store.clone(), capabilities);
    let max_message = config.max_request_bytes;
    let user_service = UserServiceServer::new(UserServiceApi::new(context.clone()))
        .max_decoding_message_size(max_message);
    let system_service = SystemServiceServer::new(SystemServiceApi::new(context))
        .max_decoding_message_size(max_message);
    // grpcurl 1.8 speaks only v1alpha; newer clients use v1. The health
    // descriptors are registered too, or clients cannot describe Health.
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
    };
    let reflection_v1 = reflection().build_v1().context("reflection v1")?;
    let reflection_v1alpha = reflection().build_v1alpha().context("reflection v1alpha")?;

    let metrics = Arc::new(Metrics::new());
    let methods = Arc::new(MethodTable::from_descriptor_sets(
        &[
            FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
        ],
        &[
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
        ],
    )?);
    let metered_grpc = tonic::service::Routes::new(user_service)
        .add_service(system_service)
        .add_service(health_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .prepare()
        .into_axum_router()
        .layer(tower::util::MapResponseLayer::new(
            crate::api::framing::reclassify_malformed_requests,
        ))
        .layer(MetricsLayer::new(metrics.clone(), methods));
    let rest = rest_gateway(config)?.into_router(metered_grpc.clone().layer(
        tower::util::MapRequestLayer::new(|mut request: Request<Body>| {
            request.extensions_mut().insert(Protocol::Rest);
            request
        }),
    ));
    let grpc = metered_grpc.layer(tonic_web::GrpcWebLayer::new()).layer(
        tower::util::MapRequestLayer::new(|mut request: Request<Body>| {
            let protocol = Protocol::of_grpc_request(request.headers());
            request.extensions_mut().insert(protocol);
            request
        }),
    );

    let readiness_store = store;
    let router = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(move || {
                let store = readiness_store.clone();
                async move {
                    if store.ping().await {
                        (StatusCode::OK, "ready\n")
                    } else {
                        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n")
                    }
                }
            }),
        )
        .route(
            "/metrics",
            get(move |headers: http::HeaderMap| {
                let metrics = metrics.clone();
                async move { metrics_response(&metrics, &headers) }
            }),
        )
        .merge(grpc)
        .fallback_service(rest)
        .layer(cors(&config.cors_origins)?)
        .layer(RequestIdLayer);
    Ok(router)
}

/// The REST face: routes from every `google.api.http` rule of our protos.
fn rest_gateway(config: &ServerConfig) -> anyhow::Result<roster_gateway::Gateway> {
    let pool = prost_reflect::DescriptorPool::decode(FILE_DESCRIPTOR_SET)
        .context("cannot read the embedded descriptor set")?;
    let gateway_config = roster_gateway::GatewayConfig {
        uuid_field_option: Some("goodmem.v1.uuid".to_owned()),
        max_body_bytes: config.max_request_bytes,
        forwarded_headers: FORWARDED_HEADERS
            .iter()
            .map(|name| HeaderName::from_static(name))
            .collect(),
        openapi_path: Some("/openapi.json".to_owned()),
        api_title: "Roster".to_owned(),
        api_version: env!("CARGO_PKG_VERSION").to_owned(),
    };
    roster_gateway::Gateway::new(pool, gateway_config).context("cannot build the REST routes")
}

/// CORS for browsers calling gRPC-Web and REST: the gRPC status headers are
/// exposed, or a browser client could not read errors.
fn cors(origins: &[String]) -> anyhow::Result<CorsLayer> {
    let allow_origin = if origins.is_empty() {
        AllowOrigin::any()
    } else {
        let values = origins
            .iter()
            .map(|origin| {
                HeaderValue::from_str(origin)
                    .with_context(|| format!("invalid cors origin {origin:?}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        AllowOrigin::list(values)
    };
    Ok(CorsLayer::new()
        .allow_origin(allow_origin)
        .allow_methods(Any)
        .allow_headers(Any)
        .expose_headers([
            HeaderName::from_static("grpc-status"),
            HeaderName::from_static("grpc-message"),
            HeaderName::from_static("grpc-status-details-bin"),
        ])
        .max_age(Duration::from_secs(3600)))
}

/// Reports SERVING while the database answers, NOT_SERVING otherwise.
async fn probe_database_health(
    store: Store,
    reporter: tonic_health::server::HealthReporter,
    interval: Duration,
) {
    let mut last = None;
    loop {
        let status = if store.ping().await {
            ServingStatus::Serving
        } else {
            ServingStatus::NotServing
        };
        if last != Some(status) {
            if status == ServingStatus::NotServing {
                tracing::warn!("database unreachable: health is NOT_SERVING");
            }
            for service in HEALTH_SERVICES {
                reporter.set_service_status(*service, status).await;
            }
            last = Some(status);
        }
        tokio::time::sleep(interval).await;
    }
}
