//! Bounds on request bodies: bytes in flight across all connections, and
//! time to receive one whole body. Without them unauthenticated clients
//! can pin memory (bodies that never end) and keep requests open forever.
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use http::Request;
use http_body::{Frame, SizeHint};
use tokio::sync::Semaphore;
use tokio::time::Sleep;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Wraps every request body: each data frame takes its length from a
/// global byte budget (never waiting: when the budget is spent the body
/// fails with RESOURCE_EXHAUSTED), the whole body must arrive within the
/// read timeout (else DEADLINE_EXCEEDED), and an aborted upload reads as
/// CANCELLED. The errors are `tonic::Status` values, which tonic and the
/// REST gateway find in the error's source chain. Bytes return to the
/// budget when the body is dropped.
#[derive(Clone, Debug)]
pub struct BoundedBodyLayer {
    budget: Arc<Semaphore>,
    read_timeout: Duration,
}

impl BoundedBodyLayer {
    /// `request_bytes_budget` is shared by every service this layer wraps.
    pub fn new(request_bytes_budget: usize, body_read_timeout: Duration) -> Self {
        Self {
            budget: Arc::new(Semaphore::new(
                request_bytes_budget.min(Semaphore::MAX_PERMITS),
            )),
            read_timeout: body_read_timeout,
        }
    }
}

impl<S> tower::Layer<S> for BoundedBodyLayer {
    type Service = BoundedBodyService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        BoundedBodyService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`BoundedBodyLayer`] makes.
#[derive(Clone, Debug)]
pub struct BoundedBodyService<S> {
    inner: S,
    layer: BoundedBodyLayer,
}

impl<S> tower::Service<Request<Body>> for BoundedBodyService<S>
where
    S: tower::Service<Request<Body>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<Body>) -> Self::Future {
        // GETs and other empty bodies hold nothing: no timer, no budget.
        if http_body::Body::is_end_stream(request.body()) {
            return self.inner.call(request);
        }
        let aborted = ClientAborted::default();
        request.extensions_mut().insert(aborted.clone());
        let drain_on_drop = request.version() <= http::Version::HTTP_11;
        let request = request.map(|body| {
            Body::new(BoundedBody {
                inner: body,
                drain_on_drop,
                deadline: tokio::time::sleep(self.layer.read_timeout),
                read_timeout: self.layer.read_timeout,
                reservation: Reservation {
                    budget: self.layer.budget.clone(),
                    bytes: 0,
                },
                failed: false,
                aborted,
            })
        });
        self.inner.call(request)
    }
}

/// Put in the request extensions of every call with a body: whether the
/// client aborted that body. tonic reads an aborted request body as a
/// complete one and then answers a unary call "missing request message";
/// whoever records the call's outcome asks this instead.
#[derive(Clone, Debug, Default)]
pub struct ClientAborted(Arc<AtomicBool>);

impl ClientAborted {
    /// Whether the client aborted the request body.
    pub fn happened(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// What is left of an HTTP/1.1 body nobody read is read and discarded, up
/// to this much and for this long, so the connection stays usable.
const DRAIN_LIMIT_BYTES: usize = 256 * 1024;
const DRAIN_TIME: Duration = Duration::from_secs(2);

pin_project_lite::pin_project! {
    struct BoundedBody {
        inner: Body,
        // HTTP/1.1: a body dropped unread is drained (see `Drop`).
        drain_on_drop: bool,
        #[pin]
        deadline: Sleep,
        read_timeout: Duration,
        reservation: Reservation,
        // After an error the body is over: readers must not see more data.
        failed: bool,
        aborted: ClientAborted,
    }

    // A call refused before its body is read (no credentials, say) drops
    // the body. Over HTTP/1.1 hyper then closes the connection after the
    // answer without saying so, and a client still sending the body, or
    // reusing the connection, gets EPIPE instead of the answer. Reading the
    // rest of a small body keeps the connection in step; a large or slow
    // one is still cut off, so refused clients cannot make us read much.
    impl PinnedDrop for BoundedBody {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if !*this.drain_on_drop || *this.failed || http_body::Body::is_end_stream(&*this.inner) {
                return;
            }
            let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                return;
            };
            let mut rest = std::mem::take(this.inner);
            runtime.spawn(async move {
                let drain = async {
                    let mut drained = 0usize;
                    while let Some(Ok(frame)) = http_body_util::BodyExt::frame(&mut rest).await {
                        drained += frame.data_ref().map_or(0, Bytes::len);
                        if drained > DRAIN_LIMIT_BYTES {
                            break;
                        }
                    }
                };
                let _ = tokio::time::timeout(DRAIN_TIME, drain).await;
            });
        }
    }
}

impl http_body::Body for BoundedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.project();
        if *this.failed {
            return Poll::Ready(None);
        }
        // Checked before reading, so a client trickling bytes cannot outlast it.
        if this.deadline.poll(cx).is_ready() {
            *this.failed = true;
            let status = tonic::Status::deadline_exceeded(format!(
                "request body not received within {} s",
                this.read_timeout.as_secs_f64()
            ));
            return Poll::Ready(Some(Err(Box::new(status))));
        }
        let frame = match Pin::new(this.inner).poll_frame(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Ready(Some(Ok(frame))) => frame,
            Poll::Ready(Some(Err(error))) => {
                *this.failed = true;
                this.aborted.0.store(true, Ordering::Relaxed);
                tracing::debug!(%error, "request body failed");
                let status = tonic::Status::cancelled("client cancelled the request");
                return Poll::Ready(Some(Err(Box::new(status))));
            }
        };
        if let Some(data) = frame.data_ref()
            && !this.reservation.take(data.len())
        {
            *this.failed = true;
            let status =
                tonic::Status::resource_exhausted("server busy: too many request bytes in flight");
            return Poll::Ready(Some(Err(Box::new(status))));
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.failed || self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// Bytes one body holds from the budget, returned on drop.
#[derive(Debug)]
struct Reservation {
    budget: Arc<Semaphore>,
    bytes: usize,
}

impl Reservation {
    /// Takes `bytes` more if the budget has them, without waiting.
    fn take(&mut self, bytes: usize) -> bool {
        let Ok(permits) = u32::try_from(bytes) else {
            return false;
        };
        let Ok(taken) = self.budget.try_acquire_many(permits) else {
            return false;
        };
        taken.forget();
        self.bytes += bytes;
        true
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.budget.add_permits(self.bytes);
    }
}
