//! Streaming Connect calls (`application/connect+proto`, `+json`):
//! envelopes in become gRPC frames for tonic's service, gRPC frames out
//! become envelopes, and the gRPC status with its trailers becomes the
//! end-of-stream message. Errors travel in that message, under HTTP 200,
//! as the protocol requires for streams.
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use axum::body::Body;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Request, Response, header};
use http_body::Frame;
use prost_reflect::MessageDescriptor;
use tonic::Status;
use tower::ServiceExt as _;

use super::envelope::{
    COMPRESS_MIN_BYTES, COMPRESSED, END_STREAM, EnvelopeReader, accepts_gzip, encode, gunzip, gzip,
    is_gzip,
};
use super::error::end_stream;
use super::grpc::{grpc_request, metadata_headers, status_of_error};
use super::schema::Codec;
use super::{Shared, apply_timeout, check_protocol_version};

/// One streaming call.
pub(super) async fn call(
    shared: Arc<Shared>,
    request: Request<Body>,
    codec: Codec,
) -> Response<Body> {
    let (mut parts, body) = request.into_parts();
    let accept_gzip = accepts_gzip(parts.headers.get("connect-accept-encoding"));
    let gzipped = match check_protocol_version(&parts.headers)
        .and_then(|()| apply_timeout(&mut parts.headers))
        .and_then(|()| is_gzip(parts.headers.get("connect-content-encoding")))
    {
        Ok(gzipped) => gzipped,
        Err(status) => {
            return ended(
                codec,
                HeaderMap::new(),
                end_stream(Some(&status), &HeaderMap::new()),
            );
        }
    };
    let schema = shared.schemas.get(parts.uri.path()).cloned();
    if codec == Codec::Json && schema.is_none() {
        let status = Status::unimplemented(format!("unknown method {}", parts.uri.path()));
        return ended(
            codec,
            HeaderMap::new(),
            end_stream(Some(&status), &HeaderMap::new()),
        );
    }
    let requests = EnvelopesToFrames {
        inner: body,
        reader: EnvelopeReader::default(),
        codec,
        message: schema.as_ref().map(|schema| schema.input.clone()),
        gzipped,
        max: shared.max_message,
        done: false,
    };
    let request = grpc_request(parts, Body::new(requests));
    let Ok(response) = shared.services.clone().oneshot(request).await;
    let (response, body) = response.into_parts();
    let headers = metadata_headers(&response.headers);
    // A trailers-only response: the status came with the headers.
    if let Some(status) = Status::from_header_map(&response.headers) {
        let failed = (status.code() != tonic::Code::Ok).then_some(&status);
        return ended(codec, headers, end_stream(failed, &HeaderMap::new()));
    }
    let replies = FramesToEnvelopes {
        inner: body,
        reader: EnvelopeReader::default(),
        codec,
        message: schema.map(|schema| schema.output),
        compress: accept_gzip,
        finished: false,
    };
    streaming_response(codec, headers, Body::new(replies), accept_gzip)
}

fn streaming_response(
    codec: Codec,
    metadata: HeaderMap,
    body: Body,
    compressing: bool,
) -> Response<Body> {
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    *headers = metadata;
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(codec.stream_content_type()),
    );
    if compressing {
        headers.insert("connect-content-encoding", HeaderValue::from_static("gzip"));
    }
    response
}

/// A stream that is over before it began: just its end-of-stream message.
fn ended(codec: Codec, metadata: HeaderMap, end: Bytes) -> Response<Body> {
    streaming_response(codec, metadata, Body::from(end), false)
}

/// The client's envelopes as gRPC frames (uncompressed, binary).
struct EnvelopesToFrames {
    inner: Body,
    reader: EnvelopeReader,
    codec: Codec,
    message: Option<MessageDescriptor>,
    gzipped: bool,
    max: usize,
    done: bool,
}

impl EnvelopesToFrames {
    fn frame(&self, flags: u8, data: Bytes) -> Result<Bytes, Status> {
        if flags & END_STREAM != 0 {
            return Err(Status::invalid_argument(
                "a client does not send end-of-stream envelopes",
            ));
        }
        let data = if flags & COMPRESSED != 0 {
            if !self.gzipped {
                return Err(Status::invalid_argument(
                    "a compressed envelope without connect-content-encoding",
                ));
            }
            gunzip(&data, self.max)?
        } else {
            data
        };
        let wire = self.codec.decode(self.message.as_ref(), data)?;
        Ok(encode(0, &wire))
    }
}

impl http_body::Body for EnvelopesToFrames {
    type Data = Bytes;
    type Error = Status;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Status>>> {
        loop {
            let max = self.max;
            match self.reader.next(max) {
                Err(status) => return Poll::Ready(Some(Err(status))),
                Ok(Some(envelope)) => {
                    let frame = self.frame(envelope.flags, envelope.data);
                    return Poll::Ready(Some(frame.map(Frame::data)));
                }
                Ok(None) => {}
            }
            if self.done {
                if !self.reader.is_empty() {
                    return Poll::Ready(Some(Err(Status::invalid_argument(
                        "malformed request: a truncated envelope",
                    ))));
                }
                return Poll::Ready(None);
            }
            match ready!(Pin::new(&mut self.inner).poll_frame(context)) {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.reader.push(&data);
                    }
                }
                Some(Err(error)) => return Poll::Ready(Some(Err(status_of_error(&error)))),
                None => self.done = true,
            }
        }
    }
}

/// tonic's gRPC frames and trailers as Connect envelopes, ending with the
/// end-of-stream message.
struct FramesToEnvelopes {
    inner: Body,
    reader: EnvelopeReader,
    codec: Codec,
    message: Option<MessageDescriptor>,
    compress: bool,
    finished: bool,
}

impl FramesToEnvelopes {
    fn envelope(&self, data: Bytes) -> Result<Bytes, Status> {
        let data = self.codec.encode(self.message.as_ref(), data)?;
        if self.compress && data.len() >= COMPRESS_MIN_BYTES {
            return Ok(encode(COMPRESSED, &gzip(&data)));
        }
        Ok(encode(0, &data))
    }

    fn finish(&mut self, status: Option<&Status>, trailers: &HeaderMap) -> Frame<Bytes> {
        self.finished = true;
        Frame::data(end_stream(status, trailers))
    }
}

impl http_body::Body for FramesToEnvelopes {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        context: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if self.finished {
            return Poll::Ready(None);
        }
        loop {
            match self.reader.next(usize::MAX) {
                Ok(Some(frame)) => {
                    return Poll::Ready(Some(Ok(match self.envelope(frame.data) {
                        Ok(envelope) => Frame::data(envelope),
                        Err(status) => self.finish(Some(&status), &HeaderMap::new()),
                    })));
                }
                Ok(None) => {}
                Err(status) => {
                    return Poll::Ready(Some(Ok(self.finish(Some(&status), &HeaderMap::new()))));
                }
            }
            let frame = match ready!(Pin::new(&mut self.inner).poll_frame(context)) {
                Some(Ok(frame)) => frame,
                Some(Err(error)) => {
                    let status = status_of_error(&error);
                    return Poll::Ready(Some(Ok(self.finish(Some(&status), &HeaderMap::new()))));
                }
                None => {
                    let status = Status::unknown("the stream ended without a status");
                    return Poll::Ready(Some(Ok(self.finish(Some(&status), &HeaderMap::new()))));
                }
            };
            match frame.into_data() {
                Ok(data) => self.reader.push(&data),
                Err(frame) => {
                    let trailers = frame.into_trailers().unwrap_or_default();
                    let status = Status::from_header_map(&trailers)
                        .unwrap_or_else(|| Status::unknown("the stream ended without a status"));
                    let metadata = metadata_headers(&trailers);
                    return Poll::Ready(Some(Ok(self.finish(Some(&status), &metadata))));
                }
            }
        }
    }
}
