//! Our own accept loop in place of `axum::serve`, which has no connection
//! cap, no header-read, body-read or idle timeouts, and whose graceful
//! shutdown waits forever for a client that never finishes its request.
//!
//! [`serve`] bounds what one client can hold: connections (`max_connections`),
//! time before headers arrive (`header_read_timeout`), time with nothing in
//! flight (`idle_timeout`) and, on shutdown, time to drain (`drain_timeout`).
//! Two layers complete it: [`BoundedBodyLayer`] bounds request-body bytes
//! and time, [`EndStreamsOnShutdown`] ends long-lived response streams when
//! the drain starts. Typical wiring:
//!
//! ```text
//! let signal = ShutdownSignal::new();
//! let router = router
//!     .layer(EndStreamsOnShutdown::new(signal.clone(), is_streaming))
//!     .layer(BoundedBodyLayer::new(settings.request_bytes_budget, settings.body_read_timeout));
//! serve(listener, router, settings, signal.trigger_after(shutdown)).await?;
//! ```
mod body;
mod connection;
mod limits;
mod shutdown;
#[cfg(test)]
mod tests;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use bytes::Bytes;
use http::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioTimer};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use body::{BoundedBodyLayer, BoundedBodyService, ClientAborted};
pub use shutdown::{
    EndOnShutdownBody, EndOnShutdownFuture, EndStreamsOnShutdown, EndStreamsOnShutdownService,
    ShutdownSignal,
};

/// File descriptors kept for everything but client connections: the
/// listener, database connections, log files.
const RESERVED_FILE_DESCRIPTORS: u64 = 128;

/// How long the accept loop pauses after an accept error such as EMFILE:
/// retrying at once would spin on the same error.
const ACCEPT_ERROR_BACKOFF: Duration = Duration::from_millis(50);

/// The most often a repeated warning (refused connections, accept errors)
/// is logged; the ones in between are counted.
const WARNING_INTERVAL: Duration = Duration::from_secs(1);

/// Resource bounds for [`serve`]. `Default` gives production values.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Open client connections at most; beyond it a new connection is
    /// accepted and closed at once, so the accept loop never stalls.
    pub max_connections: usize,
    /// Time an HTTP/1.1 client has to send a request's headers once it has
    /// started; slowloris clients are cut off after it.
    pub header_read_timeout: Duration,
    /// A connection with no request in flight for this long is closed
    /// gracefully, on HTTP/1.1 and HTTP/2 alike. A connection that never
    /// sends a request is idle from the start.
    pub idle_timeout: Duration,
    /// Interval of HTTP/2 PINGs, which find peers that vanished without
    /// closing their connection.
    pub keep_alive_interval: Duration,
    /// Time an HTTP/2 PING has to be answered before the connection is closed.
    pub keep_alive_timeout: Duration,
    /// Concurrent streams per HTTP/2 connection.
    pub max_concurrent_streams: u32,
    /// After the shutdown signal, how long in-flight calls may finish before
    /// the remaining connections are dropped.
    pub drain_timeout: Duration,
    /// Request-body bytes in flight across all connections (see
    /// [`BoundedBodyLayer`]); beyond it requests fail with RESOURCE_EXHAUSTED.
    pub request_bytes_budget: usize,
    /// Time a client has to send a whole request body (see [`BoundedBodyLayer`]).
    pub body_read_timeout: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            max_connections: 10_000,
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            keep_alive_interval: Duration::from_secs(30),
            keep_alive_timeout: Duration::from_secs(10),
            max_concurrent_streams: 200,
            drain_timeout: Duration::from_secs(10),
            request_bytes_budget: 16 * 1024 * 1024,
            body_read_timeout: Duration::from_secs(30),
        }
    }
}

/// Serves HTTP/1.1 and h2c on `listener` until `shutdown` resolves, then
/// stops accepting, asks every connection to finish (HTTP/2 GOAWAY, HTTP/1.1
/// close after the current response), waits at most `drain_timeout` and
/// drops what remains. Every request carries the peer address as
/// `axum::extract::ConnectInfo<SocketAddr>`.
///
/// Accept errors are logged and retried, never returned.
pub async fn serve<S, B>(
    listener: TcpListener,
    service: S,
    settings: Settings,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    S: tower::Service<Request<Body>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    warn_if_file_descriptors_short(settings.max_connections);
    let builder = Arc::new(connection_builder(&settings));
    let connection_slots = Arc::new(Semaphore::new(settings.max_connections));
    let draining = CancellationToken::new();
    let mut connections = JoinSet::new();
    let mut refused = RateLimitedWarning::default();
    let mut accept_errors = RateLimitedWarning::default();
    let mut shutdown = std::pin::pin!(shutdown);

    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
            Some(finished) = connections.join_next(), if !connections.is_empty() => {
                log_panic(finished);
                continue;
            }
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            // The client gave up before we accepted: nothing to back off from.
            Err(error) if is_connection_error(&error) => continue,
            Err(error) => {
                if let Some(count) = accept_errors.hit() {
                    tracing::warn!(%error, count, "cannot accept connections");
                }
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(ACCEPT_ERROR_BACKOFF) => continue,
                }
            }
        };
        let Ok(slot) = connection_slots.clone().try_acquire_owned() else {
            drop(stream);
            if let Some(count) = refused.hit() {
                tracing::warn!(
                    max_connections = settings.max_connections,
                    refused = count,
                    "connection limit reached: closing new connections"
                );
            }
            continue;
        };
        // Small gRPC and REST responses must not wait for Nagle's algorithm.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%error, "cannot set TCP_NODELAY");
        }
        connections.spawn(connection::serve_connection(
            stream,
            peer,
            service.clone(),
            builder.clone(),
            settings.idle_timeout,
            draining.clone(),
            slot,
        ));
    }

    drop(listener);
    draining.cancel();
    tracing::info!(connections = connections.len(), "draining connections");
    let drained = tokio::time::timeout(settings.drain_timeout, async {
        while let Some(finished) = connections.join_next().await {
            log_panic(finished);
        }
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            connections = connections.len(),
            "drain timeout: closing the remaining connections"
        );
        connections.shutdown().await;
    }
    Ok(())
}

fn connection_builder(settings: &Settings) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(settings.keep_alive_interval)
        .keep_alive_timeout(settings.keep_alive_timeout)
        .max_concurrent_streams(settings.max_concurrent_streams);
    builder
}

/// Raises the open-files limit and warns when it cannot hold
/// `max_connections` sockets: past it, accept fails with EMFILE.
fn warn_if_file_descriptors_short(max_connections: usize) {
    let Some(limit) = limits::raise_open_files_limit() else {
        return;
    };
    tracing::debug!(limit, "open-files limit");
    let needed = max_connections as u64 + RESERVED_FILE_DESCRIPTORS;
    if needed > limit {
        tracing::warn!(
            limit,
            max_connections,
            "the open-files limit is below max_connections plus {RESERVED_FILE_DESCRIPTORS} reserved: \
             accept will fail before the connection cap is reached"
        );
    }
}

/// Errors that concern one pending connection, not the listener.
fn is_connection_error(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::ConnectionRefused
            | std::io::ErrorKind::ConnectionAborted
            | std::io::ErrorKind::ConnectionReset
    )
}

fn log_panic(finished: Result<(), tokio::task::JoinError>) {
    if let Err(error) = finished
        && error.is_panic()
    {
        tracing::error!(%error, "connection task panicked");
    }
}

/// Counts occurrences of a warning and lets it through at most once per
/// [`WARNING_INTERVAL`], so a flood cannot flood the log.
#[derive(Default)]
struct RateLimitedWarning {
    last_logged: Option<Instant>,
    unlogged: u64,
}

impl RateLimitedWarning {
    /// Records one occurrence; returns how many occurred since the last
    /// time it was logged when it is time to log again.
    fn hit(&mut self) -> Option<u64> {
        self.unlogged += 1;
        let now = Instant::now();
        if self
            .last_logged
            .is_some_and(|last| now.duration_since(last) < WARNING_INTERVAL)
        {
            return None;
        }
        self.last_logged = Some(now);
        Some(std::mem::take(&mut self.unlogged))
    }
}
