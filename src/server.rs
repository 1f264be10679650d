//! One port for everything: native gRPC (h2c), gRPC-Web (HTTP/1.1 and h2,
//! binary and text), reflection v1 and v1alpha, health, `/healthz`,
//! `/readyz`, `/metrics`, and JSON REST with `/openapi.json` through the
//! fallback (the gateway).
//!
//! Request path: CORS → (gRPC paths) protocol tag → gRPC-Web translation →
//! unary methods through `api::calls::UnaryCalls` (meter, deadline, gate,
//! handler), everything else through metrics → gate → tonic services;
//! (any other path) gateway → preflight (the gate's rules, before the body
//! is read) → the same `UnaryCalls`, in process. Only the gRPC routes get
//! the gRPC-Web layer: applied globally it would answer plain HTTP/1.1
//! requests with 400.
//!
//! Start-up does not wait for the database: the port answers at once
//! (`/healthz` 200, `/readyz` 503, calls `UNAVAILABLE`) while a bring-up
//! task connects with backoff and migrates; then the full routes take over.
use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::body::Body;
use axum::routing::get;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode};
use tokio::net::TcpListener;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tower::ServiceExt as _;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

use crate::api::ApiContext;
use crate::api::auth_service::AuthServiceApi;
use crate::api::calls::{RestCalls, UnaryCalls};
use crate::api::gate::{GateLayer, GatePreflight, GateRules};
use crate::api::grpc_unary::GrpcUnary;
use crate::api::memo_service::MemoServiceApi;
use crate::api::methods::MethodTable;
use crate::api::system_service::SystemServiceApi;
use crate::api::unary::{UnaryTable, generated};
use crate::api::user_service::UserServiceApi;
use crate::api::webhook_events::JsonEvents;
use crate::auth::Authenticator;
use crate::config::ServerConfig;
use crate::connect::{ConnectSchemas, ConnectService};
use crate::domain::password::PasswordHasher;
use crate::domain::ports::SystemStore as _;
use crate::domain::system::SetupCode;
use crate::domain::webhook_target::TargetPolicy;
use crate::proto::FILE_DESCRIPTOR_SET;
use crate::proto::goodmem::v1::auth_service_server::AuthServiceServer;
use crate::proto::goodmem::v1::memo_service_server::MemoServiceServer;
use crate::proto::goodmem::v1::system_service_server::SystemServiceServer;
use crate::proto::goodmem::v1::user_service_server::UserServiceServer;
use crate::readiness::{Readiness, ReadinessState};
use crate::serve::{BoundedBodyLayer, EndStreamsOnShutdown, ShutdownSignal};
use crate::store::{Backend, SchemaStatus, Store};
use crate::telemetry::exposition::metrics_response;
use crate::telemetry::metrics::{Metrics, MetricsLayer, Protocol};
use crate::telemetry::request_id::RequestIdLayer;

/// Services whose health is reported, besides the overall `""`.
const HEALTH_SERVICES: &[&str] = &[
    "",
    "goodmem.v1.UserService",
    "goodmem.v1.SystemService",
    "goodmem.v1.AuthService",
    "goodmem.v1.MemoService",
];

/// Infrastructure services answered without credentials. Their protos are
/// not ours to annotate with `(goodmem.v1.public)`.
const PUBLIC_INFRASTRUCTURE: &[&str] = &[
    "grpc.health.v1.Health",
    "grpc.reflection.v1.ServerReflection",
    "grpc.reflection.v1alpha.ServerReflection",
];

/// What `GetSystemInfo` lists.
const CAPABILITIES: &[&str] = &[
    "grpc",
    "grpc-web",
    "grpc-reflection-v1",
    "grpc-reflection-v1alpha",
    "grpc-health",
    "connect",
    "rest",
    "openapi",
    "metrics",
];

/// Connection retries at start: doubling from the first to the last.
const FIRST_RETRY: Duration = Duration::from_millis(250);
const LAST_RETRY: Duration = Duration::from_secs(30);

/// Between NOT_SERVING and ending the streams that would report it.
const STREAM_END_GRACE: Duration = Duration::from_millis(100);

/// Headers the REST gateway passes on to the gRPC call.
const FORWARDED_HEADERS: &[&str] = &["authorization", "x-api-key", "x-request-id"];

/// A server bound to its port, ready to run.
pub struct Application {
    listener: TcpListener,
    config: ServerConfig,
    shared: Arc<Shared>,
}

/// What the bring-up task, the probes and the request path share.
struct Shared {
    readiness: Readiness,
    health: HealthReporter,
    /// The gRPC health service, as routes.
    health_routes: Router,
    metrics: Arc<Metrics>,
    methods: Arc<MethodTable>,
    setup_code: SetupCode,
    /// Fired when the drain begins: ends response streams (Health/Watch,
    /// reflection) so they do not hold the process open.
    end_streams: ShutdownSignal,
    /// The database, once connected and migrated.
    store: OnceLock<Store>,
    /// The full routes, once the database is connected and migrated.
    routes: OnceLock<Router>,
    /// The routes served until then.
    starting: Router,
}

impl Application {
    /// Checks the configuration and binds `config.listen`; port 0 picks a
    /// free port (see [`Self::local_addr`]). The database is connected when
    /// the application runs.
    pub async fn build(config: ServerConfig) -> anyhow::Result<Self> {
        Backend::of_url(&config.database_url)?;
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let methods = Arc::new(method_table()?);
        let (health, health_service) = crate::api::health::health_service();
        report_health(&health, ServingStatus::NotServing).await;
        // One health service for the start-up routes and the full ones, so
        // the reporter's statuses reach both.
        // As tonic's `Routes` would mount it, minus the fallback that would
        // stop the merges below.
        let health_routes = Router::new().route_service(
            "/grpc.health.v1.Health/{*rest}",
            health_service.max_decoding_message_size(config.max_request_bytes),
        );
        let readiness = Readiness::new();
        let metrics = Arc::new(Metrics::new());
        let end_streams = ShutdownSignal::new();
        let starting = starting_routes(
            &config,
            health_routes.clone(),
            &readiness,
            &metrics,
            EndStreamsOnShutdown::new(end_streams.clone(), streaming_paths(&methods)),
        )?;
        let shared = Arc::new(Shared {
            readiness,
            health,
            health_routes,
            metrics,
            methods,
            setup_code: SetupCode::generate(),
            end_streams,
            store: OnceLock::new(),
            routes: OnceLock::new(),
            starting,
        });
        Ok(Self {
            listener,
            config,
            shared,
        })
    }

    /// The bound address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Resolves once the database is connected and migrated and the full
    /// routes serve; tests wait for it before their first call.
    pub fn readiness(&self) -> Readiness {
        self.shared.readiness.clone()
    }

    /// This process's one-time set-up code (also logged at start while the
    /// system is uninitialized).
    pub fn setup_code(&self) -> &str {
        self.shared.setup_code.expose()
    }

    /// Serves until `shutdown` resolves, then turns health `NOT_SERVING`,
    /// stops accepting connections and lets in-flight calls finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Self {
            listener,
            config,
            shared,
        } = self;
        let bring_up = tokio::spawn(bring_up(config.clone(), shared.clone()));
        let settings = config.connections.clone();
        let service = tower::ServiceBuilder::new()
            .layer(BoundedBodyLayer::new(
                settings.request_bytes_budget,
                settings.body_read_timeout,
            ))
            .service(Dispatch {
                shared: shared.clone(),
            });
        let draining = shared.clone();
        let begin_drain = async move {
            shutdown.await;
            tracing::info!("shutting down: health is NOT_SERVING, draining calls");
            draining.readiness.set(ReadinessState::ShuttingDown);
            report_health(&draining.health, ServingStatus::NotServing).await;
            // Let Health/Watch streams deliver NOT_SERVING before they end.
            tokio::time::sleep(STREAM_END_GRACE).await;
            draining.end_streams.trigger();
        };
        let served = crate::serve::serve(listener, service, settings, begin_drain)
            .await
            .context("server failed");
        bring_up.abort();
        if let Some(store) = shared.store.get() {
            store.clone().close().await;
        }
        served
    }
}

/// Every RPC this server answers: our services, health and reflection.
/// Tests walk the same table.
pub fn method_table() -> anyhow::Result<MethodTable> {
    MethodTable::from_descriptor_sets(DESCRIPTOR_SETS, PUBLIC_INFRASTRUCTURE)
}

/// The descriptor sets of every service served: ours, health, reflection.
const DESCRIPTOR_SETS: &[&[u8]] = &[
    FILE_DESCRIPTOR_SET,
    tonic_health::pb::FILE_DESCRIPTOR_SET,
    tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
    tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
];

/// Whether a request path is a method whose responses stream (and so must
/// be ended when the drain begins).
fn streaming_paths(methods: &Arc<MethodTable>) -> impl Fn(&str) -> bool + Send + Sync + 'static {
    let methods = methods.clone();
    move |path| {
        methods
            .get(path)
            .is_some_and(|method| method.kind.streams_responses())
    }
}

/// Sets every reported health service to `status`.
async fn report_health(health: &HealthReporter, status: ServingStatus) {
    for service in HEALTH_SERVICES {
        health.set_service_status(*service, status).await;
    }
}

/// Connects (retrying with backoff), migrates, installs the full routes and
/// then watches the database until shutdown aborts it.
async fn bring_up(config: ServerConfig, shared: Arc<Shared>) {
    let mut backoff = FIRST_RETRY;
    let store = loop {
        match Store::open_with(&config.database_url, &config.store).await {
            Ok(store) => break store,
            Err(error) => {
                // Up to a quarter more, so replicas started together spread out.
                let jitter = backoff.mul_f64(rand::random::<f64>() / 4.0);
                tracing::warn!(
                    error = format!("{error:#}"),
                    retry_in_ms = (backoff + jitter).as_millis() as u64,
                    "database not ready; not serving calls yet"
                );
                shared.readiness.set(ReadinessState::DatabaseUnreachable);
                tokio::time::sleep(backoff + jitter).await;
                backoff = (backoff * 2).min(LAST_RETRY);
            }
        }
    };
    let pools = store.clone();
    shared
        .metrics
        .set_pool_stats_source(Box::new(move || pools.pool_stats()));
    let caches = store.clone();
    shared
        .metrics
        .set_read_cache_source(Box::new(move || caches.read_cache_stats()));
    let _ = shared.store.set(store.clone());
    let routes = match full_routes(&config, store.clone(), &shared) {
        Ok(routes) => routes,
        Err(error) => {
            tracing::error!(error = format!("{error:#}"), "cannot assemble the routes");
            return;
        }
    };
    let _ = shared.routes.set(routes);
    match store.is_initialized().await {
        Ok(false) => tracing::warn!(
            setup_code = shared.setup_code.expose(),
            "the system is not initialized: call InitializeSystem from this machine, \
             or from another one with this setup_code"
        ),
        Ok(true) => {}
        Err(error) => tracing::warn!(%error, "cannot tell whether the system is initialized"),
    }
    let mut dispatch = config.webhook_dispatch.clone();
    dispatch.allow_private = config.allow_private_webhooks;
    let dispatcher =
        crate::webhook::dispatcher::run(store.clone(), dispatch, shared.metrics.clone());
    // Both end when shutdown aborts this task; a delivery cut short stays
    // claimed until its lease ends, then is retried.
    tokio::join!(
        probe_database(store, &shared, config.health_probe_interval),
        dispatcher
    );
}

/// Reports SERVING and ready while the database answers with the schema
/// this binary expects; NOT_SERVING and 503 otherwise.
async fn probe_database(store: Store, shared: &Shared, interval: Duration) {
    let mut last = None;
    loop {
        let state = match store.schema_status().await {
            SchemaStatus::Current => ReadinessState::Ready,
            SchemaStatus::Mismatch => ReadinessState::SchemaMismatch,
            SchemaStatus::Unreachable => ReadinessState::DatabaseUnreachable,
        };
        if shared.readiness.get() == ReadinessState::ShuttingDown {
            return;
        }
        if last != Some(state) {
            if state != ReadinessState::Ready {
                tracing::warn!(reason = state.reason(), "not ready: health is NOT_SERVING");
            }
            shared.readiness.set(state);
            let status = if state == ReadinessState::Ready {
                ServingStatus::Serving
            } else {
                ServingStatus::NotServing
            };
            report_health(&shared.health, status).await;
            last = Some(state);
        }
        tokio::time::sleep(interval).await;
    }
}

/// Serves the full routes once they exist, the start-up routes before.
#[derive(Clone)]
struct Dispatch {
    shared: Arc<Shared>,
}

impl tower::Service<Request<Body>> for Dispatch {
    type Response = Response<Body>;
    type Error = std::convert::Infallible;
    type Future = tower::util::Oneshot<Router, Request<Body>>;

    fn poll_ready(
        &mut self,
        _context: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        std::task::Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        let router = self
            .shared
            .routes
            .get()
            .unwrap_or(&self.shared.starting)
            .clone();
        router.oneshot(request)
    }
}

/// What answers while the database is not connected yet: the probes and
/// metrics, gRPC health (NOT_SERVING), and `UNAVAILABLE` for everything else.
fn starting_routes(
    config: &ServerConfig,
    health_routes: Router,
    readiness: &Readiness,
    metrics: &Arc<Metrics>,
    end_streams: EndStreamsOnShutdown,
) -> anyhow::Result<Router> {
    let grpc = health_routes
        .layer(end_streams)
        .layer(tonic_web::GrpcWebLayer::new());
    Ok(probe_routes(readiness, metrics)
        .merge(crate::console::routes())
        .merge(grpc)
        .fallback(|request: Request<Body>| async move { unavailable_while_starting(&request) })
        .layer(cors(&config.cors_origins)?)
        .layer(RequestIdLayer))
}

fn unavailable_while_starting(request: &Request<Body>) -> Response<Body> {
    const MESSAGE: &str = "server is starting: the database is not connected yet";
    let is_grpc = request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .is_some_and(|content_type| content_type.as_bytes().starts_with(b"application/grpc"));
    if is_grpc {
        return tonic::Status::unavailable(MESSAGE).into_http();
    }
    let body = serde_json::json!({ "code": 14, "message": MESSAGE, "details": [] });
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// `/healthz` (the process answers), `/readyz` (it can serve calls) and
/// `/metrics`.
fn probe_routes(readiness: &Readiness, metrics: &Arc<Metrics>) -> Router {
    let readiness = readiness.clone();
    let metrics = metrics.clone();
    Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route(
            "/readyz",
            get(move || {
                let state = readiness.get();
                async move {
                    if state == ReadinessState::Ready {
                        (StatusCode::OK, "ready\n".to_owned())
                    } else {
                        (
                            StatusCode::SERVICE_UNAVAILABLE,
                            format!("{}\n", state.reason()),
                        )
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
}

/// Everything, once the store is ready.
fn full_routes(config: &ServerConfig, store: Store, shared: &Shared) -> anyhow::Result<Router> {
    let rules = Arc::new(GateRules::new(
        Authenticator::new(store.clone()),
        shared.methods.clone(),
        config.call_timeout,
    ));
    let gateway = rest_gateway(config, rules.clone(), shared.metrics.clone())?;
    let capabilities = CAPABILITIES.iter().map(|name| (*name).to_owned()).collect();
    let context = ApiContext {
        store: store.clone(),
        capabilities,
        setup_code: shared.setup_code.clone(),
        hasher: PasswordHasher::for_this_machine(),
        webhook_policy: TargetPolicy {
            allow_private: config.allow_private_webhooks,
        },
        events: JsonEvents::new(gateway.json_encoder()),
    };
    let max_message = config.max_request_bytes;
    let user_api = Arc::new(UserServiceApi::new(context.clone()));
    let auth_api = Arc::new(AuthServiceApi::new(context.clone()));
    let memo_api = Arc::new(MemoServiceApi::new(context.clone()));
    let system_api = Arc::new(SystemServiceApi::new(context));
    // Unary methods are called in process by every protocol (api::calls);
    // tonic's services answer the rest (unknown methods, say).
    let mut unary = UnaryTable::default();
    generated::register_user_service(user_api.clone(), &mut unary);
    generated::register_auth_service(auth_api.clone(), &mut unary);
    generated::register_memo_service(memo_api.clone(), &mut unary);
    generated::register_system_service(system_api.clone(), &mut unary);
    let calls = Arc::new(UnaryCalls::new(
        rules.clone(),
        shared.metrics.clone(),
        shared.methods.clone(),
        unary,
    ));
    let user_service = UserServiceServer::from_arc(user_api).max_decoding_message_size(max_message);
    let auth_service = AuthServiceServer::from_arc(auth_api).max_decoding_message_size(max_message);
    let memo_service = MemoServiceServer::from_arc(memo_api).max_decoding_message_size(max_message);
    let system_service =
        SystemServiceServer::from_arc(system_api).max_decoding_message_size(max_message);
    // grpcurl 1.8 speaks only v1alpha; newer clients use v1. The health
    // descriptors are registered too, or clients cannot describe Health;
    // and both reflection versions, so each lists both (tonic-reflection
    // would include only its own).
    let reflection = || {
        tonic_reflection::server::Builder::configure()
            .include_reflection_service(false)
            .register_encoded_file_descriptor_set(FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(
                tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
            )
    };
    let reflection_v1 = reflection()
        .build_v1()
        .context("reflection v1")?
        .max_decoding_message_size(max_message);
    let reflection_v1alpha = reflection()
        .build_v1alpha()
        .context("reflection v1alpha")?
        .max_decoding_message_size(max_message);

    let metered_grpc = tonic::service::Routes::new(user_service)
        .add_service(system_service)
        .add_service(auth_service)
        .add_service(memo_service)
        .add_service(reflection_v1)
        .add_service(reflection_v1alpha)
        .prepare()
        .into_axum_router()
        .merge(shared.health_routes.clone())
        .layer(EndStreamsOnShutdown::new(
            shared.end_streams.clone(),
            streaming_paths(&shared.methods),
        ))
        .layer(tower::util::MapResponseLayer::new(
            crate::api::framing::reclassify_malformed_requests,
        ))
        .layer(GateLayer::new(rules.clone()))
        .layer(MetricsLayer::new(
            shared.metrics.clone(),
            shared.methods.clone(),
        ));
    // The preflight authenticates before the call it admits: both are one
    // call, with one look at the database (`store::call_view`).
    let rest = tower::ServiceBuilder::new()
        .map_future(crate::store::call_view::within_one_look)
        .service(gateway.into_service_with(Arc::new(RestCalls(calls.clone()))));
    // Every gRPC service's paths: Connect requests first (connect/), then
    // gRPC and gRPC-Web: unary methods of the table first, the metered
    // tonic services for the rest.
    let unary_first = GrpcUnary::new(calls.clone(), max_message, metered_grpc.clone());
    let grpc = shared
        .methods
        .services()
        .into_iter()
        .fold(Router::new(), |router, service| {
            router.route_service(&format!("/{service}/{{*method}}"), unary_first.clone())
        })
        .layer(tonic_web::GrpcWebLayer::new())
        .layer(tower::util::MapRequestLayer::new(
            |mut request: Request<Body>| {
                let protocol = Protocol::of_grpc_request(request.headers());
                request.extensions_mut().insert(protocol);
                request
            },
        ));
    let connect = ConnectService::new(
        calls,
        metered_grpc,
        ConnectSchemas::from_descriptor_sets(DESCRIPTOR_SETS)?,
        max_message,
        grpc,
    );
    let grpc = shared
        .methods
        .services()
        .into_iter()
        .fold(Router::new(), |router, service| {
            router.route_service(&format!("/{service}/{{*method}}"), connect.clone())
        });
    Ok(probe_routes(&shared.readiness, &shared.metrics)
        .merge(crate::console::routes())
        .merge(grpc)
        .fallback_service(rest)
        .layer(cors(&config.cors_origins)?)
        .layer(RequestIdLayer))
}

/// The REST face: routes from every `google.api.http` rule of our protos.
fn rest_gateway(
    config: &ServerConfig,
    rules: Arc<GateRules>,
    metrics: Arc<Metrics>,
) -> anyhow::Result<roster_gateway::Gateway> {
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
        docs_path: Some("/docs".to_owned()),
        format_field_option: Some("goodmem.v1.format".to_owned()),
        pattern_field_option: Some("goodmem.v1.pattern".to_owned()),
        // The option the gate reads (api/methods.rs), so the document says
        // exactly which operations answer without credentials.
        public_method_option: Some("goodmem.v1.public".to_owned()),
        // The two ways auth/authenticator.rs reads a credential (SPEC §1).
        security_schemes: vec![
            roster_gateway::SecurityScheme {
                name: "bearerAuth".to_owned(),
                kind: roster_gateway::CredentialKind::Bearer,
                description: "A personal access token, root API key or session token (`gm_…`) as `authorization: Bearer <token>`.".to_owned(),
            },
            roster_gateway::SecurityScheme {
                name: "apiKeyAuth".to_owned(),
                kind: roster_gateway::CredentialKind::ApiKeyHeader(HeaderName::from_static(
                    "x-api-key",
                )),
                description: "The same token as `x-api-key: <token>` (what the GoodMem SDK sends).".to_owned(),
            },
        ],
        api_title: "Roster".to_owned(),
        api_version: env!("CARGO_PKG_VERSION").to_owned(),
        preflight: Some(Arc::new(GatePreflight::new(rules, metrics))),
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
