//! Unary calls over native gRPC, and over gRPC-Web once tonic-web has
//! translated them: the request frame is read (only after the gate admits
//! the call), the handler runs through [`UnaryCalls`], and the reply goes
//! back as one frame and `grpc-status` trailers — or, on error, a
//! trailers-only response. Paths that are not unary methods of the table
//! (health, reflection, unknown methods) go on to tonic's services.
//!
//! What tonic's server would check is checked here, with the client's
//! mistakes reported as `INVALID_ARGUMENT` (see `framing.rs`): a missing or
//! truncated frame, a compressed frame (no compression is accepted, so a
//! `grpc-encoding` other than `identity` is `UNIMPLEMENTED`), a message over
//! the size limit (`OUT_OF_RANGE`, as tonic answers), more than one message.
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::Router;
use axum::body::Body;
use bytes::{Buf as _, Bytes};
use http::{HeaderMap, HeaderValue, Request, Response};
use http_body::Frame;
use http_body_util::{BodyExt as _, Limited};
use tonic::Status;
use tower::ServiceExt as _;

use super::calls::UnaryCalls;
use crate::serve::ClientAborted;
use crate::telemetry::metrics::Protocol;

/// The gRPC face of the unary calls, in front of tonic's services.
#[derive(Clone, Debug)]
pub struct GrpcUnary {
    calls: Arc<UnaryCalls>,
    max_message: usize,
    others: Router,
}

impl GrpcUnary {
    /// Serves the unary methods of `calls`, refusing messages over
    /// `max_message` bytes, and passes every other path to `others`.
    pub fn new(calls: Arc<UnaryCalls>, max_message: usize, others: Router) -> Self {
        Self {
            calls,
            max_message,
            others,
        }
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

impl tower::Service<Request<Body>> for GrpcUnary {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = BoxFuture<Result<Response<Body>, Infallible>>;

    fn poll_ready(&mut self, _context: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<Body>) -> Self::Future {
        if !self.calls.serves(request.uri().path()) {
            return Box::pin(self.others.clone().oneshot(request));
        }
        let calls = self.calls.clone();
        let max_message = self.max_message;
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let http::request::Parts {
                uri,
                headers,
                extensions,
                ..
            } = parts;
            let protocol = extensions
                .get::<Protocol>()
                .copied()
                .unwrap_or(Protocol::Grpc);
            let aborted = extensions.get::<ClientAborted>().cloned();
            let encoding = headers.get("grpc-encoding").cloned();
            let message = read_message(body, encoding, max_message);
            let reply = calls
                .call(protocol, &uri, headers, extensions, message)
                .await;
            // Whatever became of a body the client aborted, the call's
            // outcome is the client's cancellation.
            if aborted.is_some_and(|aborted| aborted.happened()) {
                return Ok(Status::cancelled("client cancelled the request").into_http());
            }
            Ok(match reply {
                Ok((metadata, message)) => reply_response(metadata.into_headers(), message),
                Err(status) => status.into_http(),
            })
        })
    }
}

fn malformed(reason: impl std::fmt::Display) -> Status {
    Status::invalid_argument(format!("malformed request: {reason}"))
}

/// The one message of a unary request.
async fn read_message(
    body: Body,
    encoding: Option<HeaderValue>,
    max_message: usize,
) -> Result<Bytes, Status> {
    if let Some(encoding) = encoding
        && encoding.as_bytes() != b"identity"
    {
        return Err(Status::unimplemented(format!(
            "content is compressed with {:?}, which is not supported: send uncompressed messages",
            String::from_utf8_lossy(encoding.as_bytes())
        )));
    }
    let limit = max_message.saturating_add(5);
    let mut data = match Limited::new(body, limit).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => return Err(body_error(&*error, max_message)),
    };
    if data.is_empty() {
        return Err(malformed("missing request message"));
    }
    if data.len() < 5 {
        return Err(malformed("truncated gRPC frame header"));
    }
    let compressed = data.get_u8();
    let length = data.get_u32() as usize;
    match compressed {
        0 => {}
        1 => {
            return Err(malformed(
                "received a compressed message without a supported grpc-encoding",
            ));
        }
        other => return Err(malformed(format!("invalid compression flag {other}"))),
    }
    if length > max_message {
        return Err(too_large(max_message));
    }
    if data.len() < length {
        return Err(malformed("the message is shorter than its frame says"));
    }
    if data.len() > length {
        return Err(malformed("a unary call carries exactly one message"));
    }
    Ok(data)
}

/// `OUT_OF_RANGE`, as tonic's own limit answers (the Connect layer's too).
pub(crate) fn too_large(max_message: usize) -> Status {
    Status::out_of_range(format!(
        "the request message is too large: the limit is {max_message} bytes"
    ))
}

/// A body that failed to arrive: over the limit, cut short by the server's
/// body bounds (their status), undecodable gRPC-Web text, or the client
/// going away. The Connect layer reads its bodies with the same rules.
pub(crate) fn body_error(
    error: &(dyn std::error::Error + Send + Sync + 'static),
    max_message: usize,
) -> Status {
    if error.is::<http_body_util::LengthLimitError>() {
        return too_large(max_message);
    }
    match status_in_chain(error) {
        // tonic-web reports gRPC-Web text that is not base64 as INTERNAL.
        Some(status) if status.code() == tonic::Code::Internal => malformed(status.message()),
        Some(status) => status.clone(),
        None => Status::cancelled("the request body did not arrive"),
    }
}

/// The status somewhere in an error's source chain: body errors carry the
/// status of whoever failed them (the body bounds, tonic, our adapters).
pub(crate) fn status_in_chain<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> Option<&'a Status> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if let Some(status) = cause.downcast_ref::<Status>() {
            return Some(status);
        }
        source = cause.source();
    }
    None
}

/// `200`, `content-type: application/grpc`, the handler's metadata, one
/// frame and `grpc-status: 0` trailers.
fn reply_response(metadata: HeaderMap, message: Bytes) -> Response<Body> {
    let mut framed = Vec::with_capacity(5 + message.len());
    framed.push(0);
    // Replies are bounded by what we store; far below 4 GiB.
    framed.extend_from_slice(
        &u32::try_from(message.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    framed.extend_from_slice(&message);
    let mut trailers = HeaderMap::with_capacity(1);
    trailers.insert("grpc-status", HeaderValue::from_static("0"));
    let mut response = Response::new(Body::new(UnaryBody {
        data: Some(Bytes::from(framed)),
        trailers: Some(trailers),
    }));
    let headers = response.headers_mut();
    *headers = metadata;
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    response
}

/// One data frame, then the trailers.
struct UnaryBody {
    data: Option<Bytes>,
    trailers: Option<HeaderMap>,
}

impl http_body::Body for UnaryBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if let Some(data) = self.data.take() {
            return Poll::Ready(Some(Ok(Frame::data(data))));
        }
        Poll::Ready(
            self.trailers
                .take()
                .map(|trailers| Ok(Frame::trailers(trailers))),
        )
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none() && self.trailers.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn read(bytes: &'static [u8]) -> Result<Bytes, Status> {
        read_message(Body::from(bytes), None, 10).await
    }

    #[tokio::test]
    async fn one_uncompressed_frame_is_the_message() {
        assert_eq!(
            read(&[0, 0, 0, 0, 2, 8, 1]).await.unwrap().as_ref(),
            &[8, 1]
        );
        assert_eq!(read(&[0, 0, 0, 0, 0]).await.unwrap().as_ref(), &[] as &[u8]);
    }

    #[tokio::test]
    async fn broken_frames_are_the_clients_mistake() {
        for bytes in [
            &[][..],
            &[0, 0, 0],
            &[1, 0, 0, 0, 1, 7],
            &[2, 0, 0, 0, 1, 7],
            &[0, 0, 0, 0, 5, 7],
            &[0, 0, 0, 0, 1, 7, 0, 0, 0, 0, 0],
        ] {
            let status = read_message(Body::from(bytes.to_vec()), None, 10)
                .await
                .unwrap_err();
            assert_eq!(status.code(), tonic::Code::InvalidArgument, "{bytes:?}");
        }
    }

    #[tokio::test]
    async fn oversized_and_compressed_messages_are_refused() {
        let status = read(&[0, 0, 0, 0, 11]).await.unwrap_err();
        assert_eq!(status.code(), tonic::Code::OutOfRange);
        let status = read_message(Body::from(vec![0u8; 40]), None, 10)
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::OutOfRange);
        let gzip = Some(HeaderValue::from_static("gzip"));
        let status = read_message(Body::from(&[0u8, 0, 0, 0, 0][..]), gzip, 10)
            .await
            .unwrap_err();
        assert_eq!(status.code(), tonic::Code::Unimplemented);
    }
}
