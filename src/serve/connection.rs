//! One client connection: HTTP/1.1 or h2c, the peer address on every
//! request, and closing when idle or draining.
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use bytes::Bytes;
use http::{Request, Response};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, watch};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;
use tower::util::Oneshot;

/// Serves one connection until the client closes it, it stays idle for
/// `idle_timeout`, or `draining` is cancelled; the last two end it
/// gracefully. `_slot` is its place under the connection cap, given back
/// when the task ends, including when the drain aborts it.
pub(super) async fn serve_connection<S, B>(
    stream: TcpStream,
    peer: SocketAddr,
    service: S,
    builder: Arc<auto::Builder<TokioExecutor>>,
    idle_timeout: Duration,
    draining: CancellationToken,
    _slot: OwnedSemaphorePermit,
) where
    S: tower::Service<Request<Body>, Response = Response<B>, Error = Infallible>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let (in_flight, mut in_flight_changes) = watch::channel(0_usize);
    let service = ConnectionService {
        inner: service,
        peer,
        in_flight: Arc::new(in_flight),
    };
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    let reason = tokio::select! {
        result = connection.as_mut() => {
            log_end(peer, result);
            return;
        }
        () = draining.cancelled() => "server shutting down",
        () = wait_until_idle(&mut in_flight_changes, idle_timeout) => "idle",
    };
    tracing::debug!(%peer, reason, "closing connection");
    connection.as_mut().graceful_shutdown();
    log_end(peer, connection.await);
}

/// Client resets and timeouts are routine: debug, not warn.
fn log_end(peer: SocketAddr, result: Result<(), Box<dyn std::error::Error + Send + Sync>>) {
    if let Err(error) = result {
        tracing::debug!(%peer, %error, "connection ended with an error");
    }
}

/// Resolves once no request has been in flight for `idle_timeout`.
async fn wait_until_idle(in_flight: &mut watch::Receiver<usize>, idle_timeout: Duration) {
    loop {
        // The sender lives in the connection's service, which outlives this
        // wait; were it gone, the connection would be over anyway.
        if in_flight.wait_for(|count| *count == 0).await.is_err() {
            return std::future::pending().await;
        }
        match tokio::time::timeout(idle_timeout, in_flight.changed()).await {
            Err(_elapsed) => return,
            Ok(Ok(())) => continue,
            Ok(Err(_closed)) => return std::future::pending().await,
        }
    }
}

/// The tower service as hyper calls it: adds the peer address and counts
/// the request as in flight until its response body is done or dropped.
struct ConnectionService<S> {
    inner: S,
    peer: SocketAddr,
    in_flight: Arc<watch::Sender<usize>>,
}

impl<S, B> hyper::service::Service<Request<Incoming>> for ConnectionService<S>
where
    S: tower::Service<Request<Body>, Response = Response<B>, Error = Infallible> + Clone,
{
    type Response = Response<TrackedBody<B>>;
    type Error = Infallible;
    type Future = TrackedResponse<Oneshot<S, Request<Body>>>;

    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        request.extensions_mut().insert(ConnectInfo(self.peer));
        TrackedResponse {
            inner: self.inner.clone().oneshot(request.map(Body::new)),
            in_flight: Some(InFlight::start(self.in_flight.clone())),
        }
    }
}

/// One request in flight; dropping it ends the request.
struct InFlight(Arc<watch::Sender<usize>>);

impl InFlight {
    fn start(counter: Arc<watch::Sender<usize>>) -> Self {
        counter.send_modify(|count| *count += 1);
        Self(counter)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.send_modify(|count| *count -= 1);
    }
}

pin_project_lite::pin_project! {
    struct TrackedResponse<F> {
        #[pin]
        inner: F,
        in_flight: Option<InFlight>,
    }
}

impl<F, B> Future for TrackedResponse<F>
where
    F: Future<Output = Result<Response<B>, Infallible>>,
{
    type Output = Result<Response<TrackedBody<B>>, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let Ok(response) = ready!(this.inner.poll(cx));
        let in_flight = this.in_flight.take();
        Poll::Ready(Ok(response.map(|inner| TrackedBody {
            inner,
            _in_flight: in_flight,
        })))
    }
}

pin_project_lite::pin_project! {
    /// A response body that keeps its request counted as in flight.
    struct TrackedBody<B> {
        #[pin]
        inner: B,
        _in_flight: Option<InFlight>,
    }
}

impl<B: http_body::Body> http_body::Body for TrackedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        self.project().inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
