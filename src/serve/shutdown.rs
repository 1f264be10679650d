//! Ending long-lived response streams when the server drains: a
//! `grpc.health.v1.Health/Watch` stream would otherwise hold its connection
//! for the whole drain timeout and end with a reset instead of a status.
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::{HeaderMap, HeaderValue, Request, Response};
use http_body::{Frame, SizeHint};
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// Tells long-lived streams that the server is shutting down. Clones share
/// one signal.
#[derive(Clone, Debug, Default)]
pub struct ShutdownSignal(CancellationToken);

impl ShutdownSignal {
    pub fn new() -> Self {
        Self::default()
    }

    /// Signals shutdown to every clone; later calls do nothing.
    pub fn trigger(&self) {
        self.0.cancel();
    }

    /// Waits for `shutdown`, then triggers this signal: pass the result to
    /// [`super::serve`] so streams end as the drain starts.
    pub fn trigger_after<F: Future<Output = ()>>(
        &self,
        shutdown: F,
    ) -> impl Future<Output = ()> + use<F> {
        let signal = self.clone();
        async move {
            shutdown.await;
            signal.trigger();
        }
    }
}

/// Ends the response bodies of streaming calls once the [`ShutdownSignal`]
/// fires: a body waiting for its next frame ends with the trailers
/// `grpc-status: 14` (UNAVAILABLE) and `grpc-message: server is shutting
/// down`, which clients retry elsewhere. Frames already produced are
/// delivered first. Other calls pass through untouched.
#[derive(Clone)]
pub struct EndStreamsOnShutdown {
    signal: ShutdownSignal,
    is_streaming: Arc<dyn Fn(&str) -> bool + Send + Sync>,
}

impl EndStreamsOnShutdown {
    /// `is_streaming` tells from a request path whether the call streams
    /// its response.
    pub fn new(
        signal: ShutdownSignal,
        is_streaming: impl Fn(&str) -> bool + Send + Sync + 'static,
    ) -> Self {
        Self {
            signal,
            is_streaming: Arc::new(is_streaming),
        }
    }
}

impl<S> tower::Layer<S> for EndStreamsOnShutdown {
    type Service = EndStreamsOnShutdownService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        EndStreamsOnShutdownService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`EndStreamsOnShutdown`] makes.
#[derive(Clone)]
pub struct EndStreamsOnShutdownService<S> {
    inner: S,
    layer: EndStreamsOnShutdown,
}

impl<S, ReqBody, ResBody> tower::Service<Request<ReqBody>> for EndStreamsOnShutdownService<S>
where
    S: tower::Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<EndOnShutdownBody<ResBody>>;
    type Error = S::Error;
    type Future = EndOnShutdownFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let signal =
            (self.layer.is_streaming)(request.uri().path()).then(|| self.layer.signal.0.clone());
        EndOnShutdownFuture {
            inner: self.inner.call(request),
            signal,
        }
    }
}

pin_project_lite::pin_project! {
    /// The response future of [`EndStreamsOnShutdownService`].
    pub struct EndOnShutdownFuture<F> {
        #[pin]
        inner: F,
        signal: Option<CancellationToken>,
    }
}

impl<F, B, E> Future for EndOnShutdownFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<EndOnShutdownBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = ready!(this.inner.poll(cx))?;
        let state = match this.signal.take() {
            Some(signal) => State::Watching {
                signal,
                waiting: None,
            },
            None => State::PassThrough,
        };
        Poll::Ready(Ok(response.map(|inner| EndOnShutdownBody { inner, state })))
    }
}

pin_project_lite::pin_project! {
    /// A response body that ends with UNAVAILABLE trailers on shutdown.
    pub struct EndOnShutdownBody<B> {
        #[pin]
        inner: B,
        state: State,
    }
}

enum State {
    /// Not a streaming call: no signal, no allocation.
    PassThrough,
    /// The wait is boxed only once the stream first has to wait.
    Watching {
        signal: CancellationToken,
        waiting: Option<Pin<Box<WaitForCancellationFutureOwned>>>,
    },
    /// The shutdown trailers were sent.
    Ended,
}

impl<B: http_body::Body> http_body::Body for EndOnShutdownBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.project();
        let waiting = match this.state {
            State::PassThrough => return this.inner.poll_frame(cx),
            State::Ended => return Poll::Ready(None),
            State::Watching { signal, waiting } => {
                if let Poll::Ready(frame) = this.inner.poll_frame(cx) {
                    return Poll::Ready(frame);
                }
                waiting.get_or_insert_with(|| Box::pin(signal.clone().cancelled_owned()))
            }
        };
        ready!(waiting.as_mut().poll(cx));
        *this.state = State::Ended;
        Poll::Ready(Some(Ok(Frame::trailers(shutdown_trailers()))))
    }

    fn is_end_stream(&self) -> bool {
        match self.state {
            State::Ended => true,
            State::PassThrough | State::Watching { .. } => self.inner.is_end_stream(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

fn shutdown_trailers() -> HeaderMap {
    let mut trailers = HeaderMap::with_capacity(2);
    trailers.insert("grpc-status", HeaderValue::from_static("14"));
    trailers.insert(
        "grpc-message",
        HeaderValue::from_static("server is shutting down"),
    );
    trailers
}
