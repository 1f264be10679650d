//! `x-request-id`: every call has one, so a client's report, the access log
//! and the response can be matched. The layer keeps a usable id the client
//! sent, else generates one; either way it is put in the request headers
//! (where the REST gateway forwards it and the access log reads it) and
//! echoed on the response.
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::{HeaderName, HeaderValue, Request, Response};

/// The header's name.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longer ids are replaced: a client must not make every log line huge.
const MAX_REQUEST_ID_BYTES: usize = 128;

/// Outermost layer of the server; see the module documentation.
#[derive(Clone, Copy, Debug, Default)]
pub struct RequestIdLayer;

impl<S> tower::Layer<S> for RequestIdLayer {
    type Service = RequestIdService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        RequestIdService { inner }
    }
}

/// See [`RequestIdLayer`].
#[derive(Clone, Debug)]
pub struct RequestIdService<S> {
    inner: S,
}

impl<S, RequestBody, ResponseBody> tower::Service<Request<RequestBody>> for RequestIdService<S>
where
    S: tower::Service<Request<RequestBody>, Response = Response<ResponseBody>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = RequestIdFuture<S::Future>;

    fn poll_ready(&mut self, context: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(context)
    }

    fn call(&mut self, mut request: Request<RequestBody>) -> Self::Future {
        let request_id = match request.headers().get(REQUEST_ID_HEADER) {
            Some(sent) if is_usable(sent) => sent.clone(),
            _ => {
                let generated = generate();
                request
                    .headers_mut()
                    .insert(REQUEST_ID_HEADER, generated.clone());
                generated
            }
        };
        RequestIdFuture {
            inner: self.inner.call(request),
            request_id: Some(request_id),
        }
    }
}

pin_project_lite::pin_project! {
    /// Puts the request's id on the response.
    pub struct RequestIdFuture<F> {
        #[pin]
        inner: F,
        request_id: Option<HeaderValue>,
    }
}

impl<F, ResponseBody, Error> Future for RequestIdFuture<F>
where
    F: Future<Output = Result<Response<ResponseBody>, Error>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, context: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut result = ready!(this.inner.poll(context));
        if let (Ok(response), Some(mut request_id)) = (&mut result, this.request_id.take()) {
            // A value unique to each call gains nothing from HTTP/2 header
            // compression: marked never-indexed, it neither fills the
            // connection's HPACK table (evicting headers that repeat) nor
            // makes the encoder compare it with every id already there.
            request_id.set_sensitive(true);
            response.headers_mut().insert(REQUEST_ID_HEADER, request_id);
        }
        Poll::Ready(result)
    }
}

/// Non-empty visible ASCII of at most [`MAX_REQUEST_ID_BYTES`]: safe to
/// log and to forward as is.
fn is_usable(value: &HeaderValue) -> bool {
    let bytes = value.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_REQUEST_ID_BYTES
        && bytes.iter().all(u8::is_ascii_graphic)
}

/// A random UUID v4 as 32 hex digits. The bytes come from the thread-local
/// generator, which costs no system call.
fn generate() -> HeaderValue {
    let uuid = uuid::Builder::from_random_bytes(rand::random()).into_uuid();
    let mut buffer = uuid::Uuid::encode_buffer();
    let hex = uuid.simple().encode_lower(&mut buffer);
    HeaderValue::from_str(hex).expect("hex digits are a valid header value")
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;

    use tower::{Layer as _, ServiceExt as _};

    use super::*;

    /// Answers with the request id the inner service saw, in the body.
    async fn call(request_id: Option<&[u8]>) -> (HeaderValue, String) {
        let service = RequestIdLayer.layer(tower::service_fn(|request: Request<()>| async move {
            let seen = request
                .headers()
                .get(REQUEST_ID_HEADER)
                .map(|value| value.to_str().unwrap().to_owned())
                .unwrap_or_default();
            Ok::<_, Infallible>(Response::new(seen))
        }));
        let mut request = Request::new(());
        if let Some(request_id) = request_id {
            request.headers_mut().insert(
                REQUEST_ID_HEADER,
                HeaderValue::from_bytes(request_id).unwrap(),
            );
        }
        let response = service.oneshot(request).await.unwrap();
        (
            response.headers()[REQUEST_ID_HEADER].clone(),
            response.into_body(),
        )
    }

    #[tokio::test]
    async fn a_usable_id_is_kept_and_echoed() {
        let (echoed, seen) = call(Some(b"client-id-42")).await;

        assert_eq!(echoed, "client-id-42");
        assert_eq!(seen, "client-id-42");
    }

    #[tokio::test]
    async fn a_missing_id_is_generated_forwarded_and_echoed() {
        let (echoed, seen) = call(None).await;

        assert_eq!(echoed.len(), 32);
        assert!(echoed.as_bytes().iter().all(u8::is_ascii_hexdigit));
        assert_eq!(echoed, seen.as_str());
    }

    #[tokio::test]
    async fn unusable_ids_are_replaced() {
        let too_long = vec![b'a'; MAX_REQUEST_ID_BYTES + 1];
        for unusable in [&b""[..], b"has space", b"caf\xc3\xa9", &too_long] {
            let (echoed, seen) = call(Some(unusable)).await;

            assert_ne!(echoed.as_bytes(), unusable);
            assert_eq!(echoed.len(), 32, "{unusable:?}");
            assert_eq!(echoed, seen.as_str());
        }
        let (longest_kept, _) = call(Some(&too_long[1..])).await;
        assert_eq!(longest_kept.len(), MAX_REQUEST_ID_BYTES);
    }

    #[tokio::test]
    async fn echoed_ids_are_never_indexed_by_hpack() {
        for sent in [Some(&b"client-id-42"[..]), None] {
            let (echoed, _) = call(sent).await;
            assert!(echoed.is_sensitive(), "{sent:?}");
        }
    }

    #[test]
    fn generated_ids_differ() {
        assert_ne!(generate(), generate());
    }
}
