//! Prometheus metrics for every call, whatever the protocol: a tower layer
//! around the gRPC routes counts calls by method, protocol and status code
//! and records latency. It sits inside the gRPC-Web translation and is also
//! what the REST gateway calls, so all three protocols are measured in one
//! place. The gRPC status of a streamed response is read from its trailers.
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use http::{HeaderMap, Request, Response};
use http_body::{Body, Frame, SizeHint};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

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
}

impl Protocol {
    fn label(self) -> &'static str {
        match self {
            Self::Grpc => "grpc",
            Self::GrpcWeb => "grpc-web",
            Self::Rest => "rest",
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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CallLabels {
    method: String,
    protocol: &'static str,
    code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LatencyLabels {
    method: String,
    protocol: &'static str,
}

/// The registry and the metric families.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    calls: Family<CallLabels, Counter>,
    latency: Family<LatencyLabels, Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Empty metrics, registered under the `roster_` prefix.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("roster");
        let calls = Family::<CallLabels, Counter>::default();
        // 100 µs to about 3.3 s, doubling.
        let latency = Family::<LatencyLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0001, 2.0, 16))
        });
        registry.register(
            "rpc_calls",
            "Finished calls by method, protocol (grpc, grpc-web, rest) and gRPC status code",
            calls.clone(),
        );
        registry.register(
            "rpc_duration_seconds",
            "Call latency from request to the end of the response, by method and protocol",
            latency.clone(),
        );
        Self {
            registry,
            calls,
            latency,
        }
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }

    fn record(&self, method: String, protocol: Protocol, code: &'static str, started: Instant) {
        // Unknown methods are labelled as such: a client must not be able
        // to grow the label set without bound.
        let method = if code == "UNIMPLEMENTED" {
            "unknown".to_owned()
        } else {
            method
        };
        self.latency
            .get_or_create(&LatencyLabels {
                method: method.clone(),
                protocol: protocol.label(),
            })
            .observe(started.elapsed().as_secs_f64());
        self.calls
            .get_or_create(&CallLabels {
                method,
                protocol: protocol.label(),
                code,
            })
            .inc();
    }
}

/// The layer that meters the gRPC routes.
#[derive(Clone, Debug)]
pub struct MetricsLayer {
    metrics: Arc<Metrics>,
}

impl MetricsLayer {
    /// A layer recording into `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }
}

impl<S> tower::Layer<S> for MetricsLayer {
    type Service = MetricsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        MetricsService {
            inner,
            metrics: self.metrics.clone(),
        }
    }
}

/// See [`MetricsLayer`].
#[derive(Clone, Debug)]
pub struct MetricsService<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl<S, RequestBody, ResponseBody> tower::Service<Request<RequestBody>> for MetricsService<S>
where
    S: tower::Service<Request<RequestBody>, Response = Response<ResponseBody>>,
    S::Future: Send + 'static,
{
    type Response = Response<MeteredBody<ResponseBody>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, request: Request<RequestBody>) -> Self::Future {
        let protocol = request
            .extensions()
            .get::<Protocol>()
            .copied()
            .unwrap_or(Protocol::Grpc);
        let recorder = CallRecorder {
            metrics: self.metrics.clone(),
            method: request.uri().path().to_owned(),
            protocol,
            started: Instant::now(),
            done: false,
        };
        let response = self.inner.call(request);
        Box::pin(async move {
            let response = response.await?;
            // A trailers-only response (every error tonic returns) carries
            // its status in the headers.
            let recorder = match status_code_name(response.headers()) {
                Some(code) => {
                    recorder.finish(code);
                    None
                }
                None => Some(recorder),
            };
            Ok(response.map(|inner| MeteredBody { inner, recorder }))
        })
    }
}

struct CallRecorder {
    metrics: Arc<Metrics>,
    method: String,
    protocol: Protocol,
    started: Instant,
    done: bool,
}

impl CallRecorder {
    fn finish(mut self, code: &'static str) {
        self.done = true;
        let method = std::mem::take(&mut self.method);
        self.metrics
            .record(method, self.protocol, code, self.started);
    }
}

impl Drop for CallRecorder {
    /// A body dropped before its trailers: the client went away.
    fn drop(&mut self) {
        if !self.done {
            let method = std::mem::take(&mut self.method);
            self.metrics
                .record(method, self.protocol, "CANCELLED", self.started);
        }
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

fn status_code_name(headers: &HeaderMap) -> Option<&'static str> {
    let number: usize = headers.get("grpc-status")?.to_str().ok()?.parse().ok()?;
    Some(CODE_NAMES.get(number).copied().unwrap_or("UNKNOWN"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recorded_calls_appear_in_the_exposition() {
        let metrics = Metrics::new();
        metrics.record(
            "/goodmem.v1.UserService/GetUser".to_owned(),
            Protocol::Rest,
            "NOT_FOUND",
            Instant::now(),
        );
        let text = metrics.render();
        assert!(text.contains(
            r#"roster_rpc_calls_total{method="/goodmem.v1.UserService/GetUser",protocol="rest",code="NOT_FOUND"} 1"#
        ), "{text}");
        assert!(
            text.contains("roster_rpc_duration_seconds_bucket"),
            "{text}"
        );
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
