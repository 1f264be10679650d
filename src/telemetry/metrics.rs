//! Prometheus metrics for every call, whatever the protocol: a tower layer
//! around the gRPC routes counts started and handled calls and records
//! latency under the go-grpc-prometheus names dashboards already use, plus
//! our `protocol` label. It sits inside the gRPC-Web translation and is also
//! what the REST gateway calls, so all three protocols are measured in one
//! place. The gRPC status of a streamed response is read from its trailers.
//!
//! Besides calls: build info, database pool gauges (from a source the store
//! sets once it is connected) and, on Linux, process metrics.
use std::borrow::Cow;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, ready};
use std::time::Instant;

use http::{HeaderMap, HeaderValue, Request, Response};
use http_body::{Body, Frame, SizeHint};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, NoLabelSet};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::api::methods::{MethodInfo, MethodTable};
use crate::telemetry::access_log;
use crate::telemetry::request_id::REQUEST_ID_HEADER;

/// The protocol a call arrived by; put in the request extensions by the
/// layer that first sees the call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// Native gRPC over HTTP/2.
    Grpc,
    /// gRPC-Web (binary or text), translated by tonic-web.
    GrpcWeb,
    /// JSON REST, transcoded by the gateway.
    Rest,
    /// The Connect protocol (unary JSON or binary, GET, enveloped streams).
    Connect,
}

impl Protocol {
    /// The `protocol` label value.
    pub fn label(self) -> &'static str {
        match self {
            Self::Grpc => "grpc",
            Self::GrpcWeb => "grpc-web",
            Self::Rest => "rest",
            Self::Connect => "connect",
        }
    }

    /// `GrpcWeb` for a gRPC-Web content type, else `Grpc`.
    pub fn of_grpc_request(headers: &HeaderMap) -> Self {
        let is_web = headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|content_type| content_type.starts_with("application/grpc-web"));
        if is_web { Self::GrpcWeb } else { Self::Grpc }
    }
}

/// Labels of `grpc_server_started_total` and `grpc_server_handling_seconds`.
/// All `'static`, so labelling a call copies pointers and allocates nothing.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    grpc_type: &'static str,
    grpc_service: &'static str,
    grpc_method: &'static str,
    protocol: &'static str,
}

impl CallLabels {
    /// A path missing from the method table is labelled `unknown`: a client
    /// must not be able to grow the label set with made-up paths.
    fn of(method: Option<&MethodInfo>, protocol: Protocol) -> Self {
        match method {
            Some(info) => Self {
                grpc_type: info.kind.label(),
                grpc_service: info.service,
                grpc_method: info.method,
                protocol: protocol.label(),
            },
            None => Self {
                grpc_type: "unknown",
                grpc_service: "unknown",
                grpc_method: "unknown",
                protocol: protocol.label(),
            },
        }
    }
}

/// Labels of `roster_webhook_delivery_attempts_total`.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct WebhookAttemptLabels {
    outcome: &'static str,
}

/// Labels of `grpc_server_handled_total`.
#[derive(Clone, Copy, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HandledLabels {
    grpc_type: &'static str,
    grpc_service: &'static str,
    grpc_method: &'static str,
    grpc_code: &'static str,
    protocol: &'static str,
}

impl HandledLabels {
    fn of(call: CallLabels, grpc_code: &'static str) -> Self {
        Self {
            grpc_type: call.grpc_type,
            grpc_service: call.grpc_service,
            grpc_method: call.grpc_method,
            grpc_code,
            protocol: call.protocol,
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct BuildLabels {
    version: &'static str,
    git_commit: &'static str,
}

/// One database connection pool at scrape time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PoolStats {
    /// Which pool (`pool` label), e.g. `writer` or `reader`.
    pub pool: &'static str,
    /// Open connections, idle or in use.
    pub connections: u32,
    /// Open connections not in use.
    pub idle_connections: u32,
    /// The most connections the pool opens.
    pub max_connections: u32,
}

/// One in-process read cache at scrape time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadCacheStats {
    /// Which cache (`cache` label): `credentials` or `users`.
    pub cache: &'static str,
    /// Lookups answered from the cache since start.
    pub hits: u64,
    /// Lookups that read the database since start.
    pub misses: u64,
}

/// Where scrape-time values come from. Set after the metrics exist,
/// because the store connects after the server builds its metrics.
struct ScrapeSource<T>(OnceLock<Box<dyn Fn() -> Vec<T> + Send + Sync>>);

impl<T> Default for ScrapeSource<T> {
    fn default() -> Self {
        Self(OnceLock::new())
    }
}

impl<T> std::fmt::Debug for ScrapeSource<T> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = if self.0.get().is_some() {
            "set"
        } else {
            "unset"
        };
        formatter.write_str(state)
    }
}

impl<T> ScrapeSource<T> {
    /// Only the first source counts: there is one store per server.
    fn set(&self, source: Box<dyn Fn() -> Vec<T> + Send + Sync>, what: &str) {
        if self.0.set(source).is_err() {
            tracing::warn!("{what} source already set; keeping the first");
        }
    }

    fn read(&self) -> Option<Vec<T>> {
        self.0.get().map(|source| source())
    }
}

/// Reads the in-process read caches at scrape time.
#[derive(Debug, Default)]
struct ReadCacheCollector {
    source: Arc<ScrapeSource<ReadCacheStats>>,
}

impl Collector for ReadCacheCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(caches) = self.source.read() else {
            return Ok(());
        };
        let mut metric = encoder.encode_descriptor(
            "roster_read_cache_lookups",
            "Hot-path lookups of the in-process read caches (SQLite files only), by cache and \
             result: hit (answered from memory, nothing committed since the read) or miss",
            None,
            MetricType::Counter,
        )?;
        for stats in &caches {
            for (result, value) in [("hit", stats.hits), ("miss", stats.misses)] {
                metric
                    .encode_family(&[("cache", stats.cache), ("result", result)])?
                    .encode_counter::<NoLabelSet, _, u64>(&value, None)?;
            }
        }
        Ok(())
    }
}

/// A pool gauge's name, help and value.
type PoolGauge = (&'static str, &'static str, fn(&PoolStats) -> u32);

/// Reads the pools at scrape time.
#[derive(Debug, Default)]
struct PoolCollector {
    source: Arc<ScrapeSource<PoolStats>>,
}

impl Collector for PoolCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(pools) = self.source.read() else {
            return Ok(());
        };
        let gauges: [PoolGauge; 3] = [
            (
                "roster_db_pool_connections",
                "Open database connections, idle or in use, by pool",
                |stats| stats.connections,
            ),
            (
                "roster_db_pool_idle_connections",
                "Open database connections not in use, by pool",
                |stats| stats.idle_connections,
            ),
            (
                "roster_db_pool_max_connections",
                "Most database connections the pool opens, by pool",
                |stats| stats.max_connections,
            ),
        ];
        for (name, help, value) in gauges {
            let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            for stats in &pools {
                metric
                    .encode_family(&[("pool", stats.pool)])?
                    .encode_gauge(&value(stats))?;
            }
        }
        Ok(())
    }
}

/// The registry and the metric families.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    started: Family<CallLabels, Counter>,
    handled: Family<HandledLabels, Counter>,
    handling_seconds: Family<CallLabels, Histogram>,
    webhook_attempts: Family<WebhookAttemptLabels, Counter>,
    pool_stats_source: Arc<ScrapeSource<PoolStats>>,
    read_cache_source: Arc<ScrapeSource<ReadCacheStats>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Empty call metrics, build info, process metrics (on Linux) and the
    /// pool gauges, which stay empty until [`Self::set_pool_stats_source`].
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let started = Family::<CallLabels, Counter>::default();
        let handled = Family::<HandledLabels, Counter>::default();
        // 100 µs to about 3.3 s, doubling: most calls take well under the
        // 5 ms of go-grpc-prometheus's first bucket.
        let handling_seconds = Family::<CallLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0001, 2.0, 16))
        });
        // Counters are registered without `_total`: the encoder appends it.
        registry.register(
            "grpc_server_started",
            "Calls started on the server, by method and protocol (grpc, grpc-web, rest)",
            started.clone(),
        );
        registry.register(
            "grpc_server_handled",
            "Calls completed on the server, by method, protocol and gRPC status code",
            handled.clone(),
        );
        registry.register(
            "grpc_server_handling_seconds",
            "Seconds from a call's arrival to the end of its response, by method and protocol",
            handling_seconds.clone(),
        );

        let webhook_attempts = Family::<WebhookAttemptLabels, Counter>::default();
        registry.register(
            "roster_webhook_delivery_attempts",
            "Webhook delivery attempts, by outcome: delivered, retried (failed, will retry) \
             or failed (failed for the last time)",
            webhook_attempts.clone(),
        );

        let build_info = Family::<BuildLabels, Gauge>::default();
        build_info
            .get_or_create(&BuildLabels {
                version: env!("CARGO_PKG_VERSION"),
                git_commit: crate::api::system_service::GIT_COMMIT,
            })
            .set(1);
        registry.register(
            "roster_build_info",
            "Always 1; the labels name the running build",
            build_info,
        );

        let pool_collector = PoolCollector::default();
        let pool_stats_source = pool_collector.source.clone();
        registry.register_collector(Box::new(pool_collector));
        let read_cache_collector = ReadCacheCollector::default();
        let read_cache_source = read_cache_collector.source.clone();
        registry.register_collector(Box::new(read_cache_collector));
        #[cfg(target_os = "linux")]
        registry.register_collector(Box::new(super::process::ProcessCollector::new()));

        Self {
            registry,
            started,
            handled,
            handling_seconds,
            webhook_attempts,
            pool_stats_source,
            read_cache_source,
        }
    }

    /// Counts one webhook delivery attempt: `delivered`, `retried` or
    /// `failed`.
    pub fn record_webhook_attempt(&self, outcome: &'static str) {
        self.webhook_attempts
            .get_or_create(&WebhookAttemptLabels { outcome })
            .inc();
    }

    /// Where the pool gauges are read from at each scrape. Only the first
    /// source counts: there is one store per server.
    pub fn set_pool_stats_source(&self, source: Box<dyn Fn() -> Vec<PoolStats> + Send + Sync>) {
        self.pool_stats_source.set(source, "pool stats");
    }

    /// Where the read-cache counters are read from at each scrape. Only the
    /// first source counts.
    pub fn set_read_cache_source(
        &self,
        source: Box<dyn Fn() -> Vec<ReadCacheStats> + Send + Sync>,
    ) {
        self.read_cache_source.set(source, "read cache stats");
    }

    /// The OpenMetrics text exposition, `# EOF` included.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    fn record_started(&self, labels: &CallLabels) {
        self.started.get_or_create(labels).inc();
    }

    fn record_handled(&self, labels: CallLabels, code: &'static str, seconds: f64) {
        self.handled
            .get_or_create(&HandledLabels::of(labels, code))
            .inc();
        self.handling_seconds
            .get_or_create(&labels)
            .observe(seconds);
    }
}

impl Metrics {
    /// Starts metering one call that is not served through
    /// [`MetricsLayer`] (the unary calls of every protocol, see
    /// `api::calls`): counts it started now; [`CallMeter::finish`] records
    /// its outcome, and dropping the meter unfinished records `CANCELLED`.
    pub fn start_call(
        self: &Arc<Self>,
        method: Option<&MethodInfo>,
        protocol: Protocol,
        headers: &HeaderMap,
        extensions: &http::Extensions,
        path: &str,
    ) -> CallMeter {
        let labels = CallLabels::of(method, protocol);
        self.record_started(&labels);
        let access = access_log::enabled()
            .then(|| CallContext::from_parts(path, method, headers, extensions));
        CallMeter(CallRecorder {
            metrics: self.clone(),
            labels,
            protocol,
            access,
            started: Instant::now(),
            done: false,
        })
    }
}

/// One call being metered; see [`Metrics::start_call`].
pub struct CallMeter(CallRecorder);

impl CallMeter {
    /// Records the call's outcome.
    pub fn finish(self, code: tonic::Code) {
        self.0.finish(code_name(code));
    }
}

/// The layer that meters the gRPC routes.
#[derive(Clone, Debug)]
pub struct MetricsLayer {
    metrics: Arc<Metrics>,
    methods: Arc<MethodTable>,
}

impl MetricsLayer {
    /// A layer recording into `metrics`, labelling calls from `methods`.
    pub fn new(metrics: Arc<Metrics>, methods: Arc<MethodTable>) -> Self {
        Self { metrics, methods }
    }
}

impl<S> tower::Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MetricsService {
            inner,
            metrics: self.metrics.clone(),
            methods: self.methods.clone(),
        }
    }
}

/// See [`MetricsLayer`].
#[derive(Clone, Debug)]
pub struct MetricsService<S> {
    inner: S,
    metrics: Arc<Metrics>,
    methods: Arc<MethodTable>,
}

impl<S, RequestBody, ResponseBody> tower::Service<Request<RequestBody>> for MetricsService<S>
where
    S: tower::Service<Request<RequestBody>, Response = Response<ResponseBody>>,
{
    type Response = Response<MeteredBody<ResponseBody>>;
    type Error = S::Error;
    type Future = MeteredFuture<S::Future>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: Request<RequestBody>) -> Self::Future {
        let protocol = request
            .extensions()
            .get::<Protocol>()
            .copied()
            .unwrap_or(Protocol::Grpc);
        let method = self.methods.get(request.uri().path());
        let labels = CallLabels::of(method, protocol);
        self.metrics.record_started(&labels);
        let access = access_log::enabled().then(|| CallContext::of(&request, method));
        let recorder = CallRecorder {
            metrics: self.metrics.clone(),
            labels,
            protocol,
            access,
            started: Instant::now(),
            done: false,
        };
        MeteredFuture {
            inner: self.inner.call(request),
            recorder: Some(recorder),
        }
    }
}

/// What the access log says about a call beyond its labels; captured only
/// when the log is on.
struct CallContext {
    /// The request path; a copy only for paths not in the method table.
    path: Cow<'static, str>,
    peer: Option<SocketAddr>,
    request_id: Option<HeaderValue>,
}

impl CallContext {
    fn of<B>(request: &Request<B>, method: Option<&MethodInfo>) -> Self {
        Self::from_parts(
            request.uri().path(),
            method,
            request.headers(),
            request.extensions(),
        )
    }

    fn from_parts(
        path: &str,
        method: Option<&MethodInfo>,
        headers: &HeaderMap,
        extensions: &http::Extensions,
    ) -> Self {
        Self {
            path: method.map_or_else(
                || Cow::Owned(path.to_owned()),
                |info| Cow::Borrowed(info.path),
            ),
            peer: extensions
                .get::<axum::extract::ConnectInfo<SocketAddr>>()
                .map(|connect_info| connect_info.0),
            request_id: headers.get(REQUEST_ID_HEADER).cloned(),
        }
    }
}

struct CallRecorder {
    metrics: Arc<Metrics>,
    labels: CallLabels,
    protocol: Protocol,
    access: Option<CallContext>,
    started: Instant,
    done: bool,
}

impl CallRecorder {
    fn finish(mut self, code: &'static str) {
        self.record(code);
    }

    fn record(&mut self, code: &'static str) {
        self.done = true;
        let elapsed = self.started.elapsed();
        self.metrics
            .record_handled(self.labels, code, elapsed.as_secs_f64());
        if let Some(access) = &self.access {
            access_log::write(access_log::Entry {
                path: &access.path,
                protocol: self.protocol,
                code,
                elapsed,
                peer: access.peer,
                request_id: access.request_id.as_ref(),
            });
        }
    }
}

impl Drop for CallRecorder {
    /// A response future or body dropped before its status: the client
    /// went away.
    fn drop(&mut self) {
        if !self.done {
            self.record("CANCELLED");
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of a metered call: not boxed, so metering a call
    /// allocates nothing.
    pub struct MeteredFuture<F> {
        #[pin]
        inner: F,
        recorder: Option<CallRecorder>,
    }
}

impl<F, ResponseBody, Error> Future for MeteredFuture<F>
where
    F: Future<Output = Result<Response<ResponseBody>, Error>>,
{
    type Output = Result<Response<MeteredBody<ResponseBody>>, Error>;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = ready!(this.inner.poll(context));
        let recorder = this.recorder.take();
        let response = match result {
            Ok(response) => response,
            Err(error) => {
                if let Some(recorder) = recorder {
                    recorder.finish("UNKNOWN");
                }
                return Poll::Ready(Err(error));
            }
        };
        // A trailers-only response (every error tonic returns) carries its
        // status in the headers.
        let recorder = recorder.and_then(|recorder| match status_code_name(response.headers()) {
            Some(code) => {
                recorder.finish(code);
                None
            }
            None => Some(recorder),
        });
        Poll::Ready(Ok(response.map(|inner| MeteredBody { inner, recorder })))
    }
}

pin_project_lite::pin_project! {
    /// A response body that records the call when its trailers pass.
    pub struct MeteredBody<B> {
        #[pin]
        inner: B,
        recorder: Option<CallRecorder>,
    }
}

impl<B: Body> Body for MeteredBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(context);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(trailers) = frame.trailers_ref()
                    && let Some(recorder) = this.recorder.take()
                {
                    recorder.finish(status_code_name(trailers).unwrap_or("UNKNOWN"));
                }
            }
            Poll::Ready(None) => {
                if let Some(recorder) = this.recorder.take() {
                    recorder.finish("UNKNOWN");
                }
            }
            Poll::Ready(Some(Err(_))) | Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

const CODE_NAMES: [&str; 17] = [
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
];

fn code_name(code: tonic::Code) -> &'static str {
    CODE_NAMES.get(code as usize).copied().unwrap_or("UNKNOWN")
}

fn status_code_name(headers: &HeaderMap) -> Option<&'static str> {
    let number: usize = headers.get("grpc-status")?.to_str().ok()?.parse().ok()?;
    Some(CODE_NAMES.get(number).copied().unwrap_or("UNKNOWN"))
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use http_body_util::{BodyExt as _, Empty, Full};
    use tower::{Layer as _, ServiceExt as _};

    use super::*;

    fn methods() -> Arc<MethodTable> {
        Arc::new(
            MethodTable::from_descriptor_sets(&[crate::proto::FILE_DESCRIPTOR_SET], &[]).unwrap(),
        )
    }

    fn grpc_request(path: &str, protocol: Protocol) -> Request<Empty<bytes::Bytes>> {
        let mut request = Request::post(path).body(Empty::new()).unwrap();
        request.extensions_mut().insert(protocol);
        request
    }

    /// A service answering trailers-only with `grpc-status` 5 (NOT_FOUND).
    fn trailers_only_not_found() -> impl tower::Service<
        Request<Empty<bytes::Bytes>>,
        Response = Response<Empty<bytes::Bytes>>,
        Error = Infallible,
    > + Clone {
        tower::service_fn(|_request| async {
            let mut response = Response::new(Empty::new());
            response
                .headers_mut()
                .insert("grpc-status", HeaderValue::from_static("5"));
            Ok::<_, Infallible>(response)
        })
    }

    #[tokio::test]
    async fn calls_are_labelled_from_the_method_table() {
        let metrics = Arc::new(Metrics::new());
        let service =
            MetricsLayer::new(metrics.clone(), methods()).layer(trailers_only_not_found());

        service
            .oneshot(grpc_request(
                "/goodmem.v1.UserService/GetUser",
                Protocol::Rest,
            ))
            .await
            .unwrap();

        let text = metrics.render();
        for expected in [
            r#"grpc_server_started_total{grpc_type="unary",grpc_service="goodmem.v1.UserService",grpc_method="GetUser",protocol="rest"} 1"#,
            r#"grpc_server_handled_total{grpc_type="unary",grpc_service="goodmem.v1.UserService",grpc_method="GetUser",grpc_code="NOT_FOUND",protocol="rest"} 1"#,
            r#"grpc_server_handling_seconds_count{grpc_type="unary",grpc_service="goodmem.v1.UserService",grpc_method="GetUser",protocol="rest"} 1"#,
        ] {
            assert!(text.contains(expected), "missing {expected}\n{text}");
        }
    }

    #[tokio::test]
    async fn paths_outside_the_table_are_labelled_unknown() {
        let metrics = Arc::new(Metrics::new());
        let service =
            MetricsLayer::new(metrics.clone(), methods()).layer(trailers_only_not_found());

        service
            .oneshot(grpc_request("/made.Up/Path", Protocol::Grpc))
            .await
            .unwrap();

        let text = metrics.render();
        assert!(
            text.contains(r#"grpc_server_started_total{grpc_type="unknown",grpc_service="unknown",grpc_method="unknown",protocol="grpc"} 1"#),
            "{text}"
        );
        assert!(!text.contains("made.Up"), "{text}");
    }

    #[tokio::test]
    async fn status_is_read_from_trailers_and_a_dropped_body_is_cancelled() {
        let metrics = Arc::new(Metrics::new());
        let with_trailers = tower::service_fn(|_request| async {
            let mut trailers = HeaderMap::new();
            trailers.insert("grpc-status", HeaderValue::from_static("0"));
            let body = Full::new(bytes::Bytes::from_static(b"reply"))
                .with_trailers(async { Some(Ok(trailers)) });
            Ok::<_, Infallible>(Response::new(body))
        });
        let service = MetricsLayer::new(metrics.clone(), methods()).layer(with_trailers);

        let read = service
            .clone()
            .oneshot(grpc_request(
                "/goodmem.v1.UserService/GetUser",
                Protocol::Grpc,
            ))
            .await
            .unwrap();
        read.into_body().collect().await.unwrap();
        let dropped = service
            .oneshot(grpc_request(
                "/goodmem.v1.UserService/GetUser",
                Protocol::GrpcWeb,
            ))
            .await
            .unwrap();
        drop(dropped);

        let text = metrics.render();
        for expected in [
            r#"grpc_method="GetUser",grpc_code="OK",protocol="grpc"} 1"#,
            r#"grpc_method="GetUser",grpc_code="CANCELLED",protocol="grpc-web"} 1"#,
        ] {
            assert!(text.contains(expected), "missing {expected}\n{text}");
        }
    }

    /// Collects what a subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn each_call_writes_one_access_line() {
        // The global subscriber, not a scoped one: with a single scoped
        // subscriber, tracing caches each callsite's interest as whichever
        // thread saw it first, so tests running beside this one would turn
        // the access log off. Other tests' lines land here too, hence the
        // request id filter below.
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .json()
            .flatten_event(true)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("no other global subscriber");
        let service =
            MetricsLayer::new(Arc::new(Metrics::new()), methods()).layer(trailers_only_not_found());
        let mut request = grpc_request("/goodmem.v1.UserService/GetUser", Protocol::GrpcWeb);
        request
            .headers_mut()
            .insert(REQUEST_ID_HEADER, HeaderValue::from_static("id-7"));
        let peer: SocketAddr = "192.0.2.1:4242".parse().unwrap();
        request
            .extensions_mut()
            .insert(axum::extract::ConnectInfo(peer));

        service.oneshot(request).await.unwrap();

        let output = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<serde_json::Value> = output
            .lines()
            .map(|line| serde_json::from_str(line).unwrap())
            .filter(|line: &serde_json::Value| line["request_id"] == "id-7")
            .collect();
        assert_eq!(lines.len(), 1, "{output}");
        let line = &lines[0];
        assert_eq!(line["target"], "roster::access");
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["method"], "/goodmem.v1.UserService/GetUser");
        assert_eq!(line["protocol"], "grpc-web");
        assert_eq!(line["code"], "NOT_FOUND");
        assert_eq!(line["peer"], "192.0.2.1:4242");
        assert_eq!(line["request_id"], "id-7");
        assert!(line["latency"].as_f64().unwrap() >= 0.0, "{line}");
    }

    #[test]
    fn build_info_and_pool_gauges_are_exposed() {
        let metrics = Metrics::new();
        metrics.set_pool_stats_source(Box::new(|| {
            vec![PoolStats {
                pool: "writer",
                connections: 1,
                idle_connections: 1,
                max_connections: 1,
            }]
        }));

        let text = metrics.render();

        let build_info = format!(
            r#"roster_build_info{{version="{}",git_commit="{}"}} 1"#,
            env!("CARGO_PKG_VERSION"),
            crate::api::system_service::GIT_COMMIT
        );
        assert!(text.contains(&build_info), "{text}");
        for name in [
            "roster_db_pool_connections",
            "roster_db_pool_idle_connections",
            "roster_db_pool_max_connections",
        ] {
            assert!(
                text.contains(&format!(r#"{name}{{pool="writer"}} 1"#)),
                "missing {name}\n{text}"
            );
        }
    }

    #[test]
    fn status_codes_are_named() {
        let mut headers = HeaderMap::new();
        headers.insert("grpc-status", "16".parse().unwrap());
        assert_eq!(status_code_name(&headers), Some("UNAUTHENTICATED"));
        headers.insert("grpc-status", "99".parse().unwrap());
        assert_eq!(status_code_name(&headers), Some("UNKNOWN"));
    }
}
