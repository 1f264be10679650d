//! One log line per call, target `roster::access`, written by the metrics
//! layer when it records the call, so a line and a metric never disagree.
use std::net::SocketAddr;
use std::time::Duration;

use http::HeaderValue;

use crate::telemetry::metrics::Protocol;

/// What one call's line says.
pub(crate) struct Entry<'a> {
    /// The request path, `/package.Service/Method`.
    pub(crate) path: &'a str,
    pub(crate) protocol: Protocol,
    /// The gRPC status code name.
    pub(crate) code: &'static str,
    pub(crate) elapsed: Duration,
    pub(crate) peer: Option<SocketAddr>,
    pub(crate) request_id: Option<&'a HeaderValue>,
}

/// Whether lines are written at all; when not, the layer does not even
/// capture what they would say.
pub(crate) fn enabled() -> bool {
    tracing::enabled!(target: "roster::access", tracing::Level::INFO)
}

pub(crate) fn write(entry: Entry<'_>) {
    tracing::info!(
        target: "roster::access",
        method = entry.path,
        protocol = entry.protocol.label(),
        code = entry.code,
        latency = entry.elapsed.as_secs_f64() * 1000.0,
        peer = entry.peer.map(tracing::field::display),
        request_id = entry.request_id.and_then(|value| value.to_str().ok()),
        "call finished"
    );
}
