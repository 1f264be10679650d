//! REST over any gRPC tower service ([`OverHttp`]): frame the request,
//! call the service with `oneshot`, read the whole response including
//! trailers, and pick out the message or the status. Also the status a
//! service answered, in the form the error renderer reads.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use bytes::{Buf, Bytes};
use http::header::{CONTENT_TYPE, TE};
use http::{HeaderMap, HeaderValue, Method, Version};
use http_body_util::BodyExt as _;
use percent_encoding::percent_decode_str;
use tonic::Code;
use tower::ServiceExt as _;

use crate::errors::code_for_http_status;
use crate::{BoxError, UnaryCall, UnaryFuture, UnaryService};

const GRPC_STATUS: &str = "grpc-status";
const GRPC_MESSAGE: &str = "grpc-message";
const GRPC_STATUS_DETAILS: &str = "grpc-status-details-bin";

/// The gRPC status the service answered with, other than OK.
#[derive(Debug)]
pub(crate) struct GrpcFailure {
    pub(crate) code: Code,
    pub(crate) message: String,
    /// The `google.rpc.Status` from `grpc-status-details-bin`, if any.
    pub(crate) details: Option<RpcStatus>,
}

impl GrpcFailure {
    /// The status this failure reads as, details re-encoded.
    fn into_status(self) -> tonic::Status {
        use prost::Message as _;
        match self.details {
            Some(details) => tonic::Status::with_details(
                self.code,
                self.message,
                Bytes::from(details.encode_to_vec()),
            ),
            None => tonic::Status::new(self.code, self.message),
        }
    }

    /// The failure a status stands for, with its `google.rpc.Status` details.
    pub(crate) fn from_status(status: &tonic::Status) -> Self {
        use prost::Message as _;
        Self {
            code: status.code(),
            message: status.message().to_owned(),
            details: (!status.details().is_empty())
                .then(|| RpcStatus::decode(status.details()).ok())
                .flatten(),
        }
    }
}

/// `google.rpc.Status`, decoded with prost so details work even when the
/// pool lacks `google/rpc/status.proto`.
#[derive(Clone, PartialEq, prost::Message)]
pub(crate) struct RpcStatus {
    #[prost(int32, tag = "1")]
    pub(crate) code: i32,
    #[prost(string, tag = "2")]
    pub(crate) message: String,
    #[prost(message, repeated, tag = "3")]
    pub(crate) details: Vec<prost_types::Any>,
}

/// A [`UnaryService`] that makes each call an HTTP/2 request to a gRPC
/// tower service.
pub(crate) struct OverHttp<S> {
    grpc: S,
}

impl<S> OverHttp<S> {
    pub(crate) fn new(grpc: S) -> Self {
        Self { grpc }
    }
}

impl<S, B> UnaryService for OverHttp<S>
where
    S: tower::Service<http::Request<axum::body::Body>, Response = http::Response<B>>
        + Clone
        + Send
        + Sync
        + 'static,
    S::Error: Into<BoxError>,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    fn call(&self, call: UnaryCall) -> UnaryFuture {
        let grpc = self.grpc.clone();
        Box::pin(async move {
            let method = call.uri.path().to_owned();
            let request = build_request(call);
            match self::call(grpc, request).await {
                Ok(Ok(payload)) => Ok(payload),
                Ok(Err(failure)) => Err(failure.into_status()),
                Err(reason) => {
                    tracing::error!(%method, %reason, "in-process gRPC call failed");
                    Err(tonic::Status::internal("internal error"))
                }
            }
        })
    }
}

/// Prefixes an encoded message with the 5-byte gRPC frame header
/// (uncompressed flag, big-endian length). Request bodies are bounded far
/// below 4 GiB, so the length always fits.
fn frame(message: &[u8]) -> Bytes {
    let mut framed = Vec::with_capacity(5 + message.len());
    framed.push(0);
    framed.extend_from_slice(
        &u32::try_from(message.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    framed.extend_from_slice(message);
    Bytes::from(framed)
}

/// Builds the request: `POST /package.Service/Method` over HTTP/2
/// (gRPC-Web layers pass only HTTP/2 requests through untouched) with the
/// call's headers, its framed message and every extension.
fn build_request(call: UnaryCall) -> http::Request<axum::body::Body> {
    let UnaryCall {
        uri,
        headers,
        extensions,
        message,
    } = call;
    let mut request = http::Request::new(axum::body::Body::from(frame(&message)));
    *request.method_mut() = Method::POST;
    *request.uri_mut() = uri;
    *request.version_mut() = Version::HTTP_2;
    *request.extensions_mut() = extensions;
    *request.headers_mut() = headers;
    let headers = request.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/grpc"));
    headers.insert(TE, HeaderValue::from_static("trailers"));
    request
}

/// Calls the service and returns the response message bytes, or the status.
pub(crate) async fn call<S, B>(
    grpc: S,
    request: http::Request<axum::body::Body>,
) -> Result<Result<Bytes, GrpcFailure>, String>
where
    S: tower::Service<http::Request<axum::body::Body>, Response = http::Response<B>>,
    S::Error: Into<BoxError>,
    B: http_body::Body<Data = Bytes>,
    B::Error: Into<BoxError>,
{
    let response = grpc
        .oneshot(request)
        .await
        .map_err(|error| format!("gRPC service failed: {}", error.into()))?;
    let (parts, body) = response.into_parts();
    let collected = body
        .collect()
        .await
        .map_err(|error| format!("reading the gRPC response failed: {}", error.into()))?;
    let trailers = collected.trailers().cloned();
    let data = collected.to_bytes();

    // Trailers carry the status; a trailers-only response (an error before
    // any message) carries it in the headers instead.
    let status_headers = trailers
        .as_ref()
        .filter(|trailers| trailers.contains_key(GRPC_STATUS))
        .unwrap_or(&parts.headers);
    let Some(code) = status_headers
        .get(GRPC_STATUS)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| text.parse::<i32>().ok())
    else {
        let code = if parts.status.is_success() {
            Code::Internal
        } else {
            code_for_http_status(parts.status)
        };
        return Ok(Err(GrpcFailure {
            code,
            message: format!(
                "the gRPC service answered HTTP {} without a grpc-status",
                parts.status
            ),
            details: None,
        }));
    };
    let code = Code::from_i32(code);
    if code != Code::Ok {
        return Ok(Err(failure_from_headers(code, status_headers)));
    }
    unframe(data).map(Ok)
}

fn failure_from_headers(code: Code, headers: &HeaderMap) -> GrpcFailure {
    let message = headers
        .get(GRPC_MESSAGE)
        .map(|value| {
            percent_decode_str(value.to_str().unwrap_or_default())
                .decode_utf8_lossy()
                .into_owned()
        })
        .unwrap_or_default();
    let details = headers
        .get(GRPC_STATUS_DETAILS)
        .and_then(|value| {
            let text = value.as_bytes();
            STANDARD_NO_PAD
                .decode(
                    text.strip_suffix(b"==")
                        .or(text.strip_suffix(b"="))
                        .unwrap_or(text),
                )
                .or_else(|_| STANDARD.decode(text))
                .ok()
        })
        .and_then(|bytes| <RpcStatus as prost::Message>::decode(bytes.as_slice()).ok());
    let message = match (&details, message.is_empty()) {
        (Some(status), true) => status.message.clone(),
        _ => message,
    };
    GrpcFailure {
        code,
        message,
        details,
    }
}

/// The message of a unary response: exactly one uncompressed frame.
fn unframe(mut data: Bytes) -> Result<Bytes, String> {
    if data.len() < 5 {
        return Err("the gRPC service returned OK without a response message".to_owned());
    }
    let compressed = data.get_u8();
    let length = data.get_u32() as usize;
    if compressed != 0 {
        return Err(
            "the gRPC service returned a compressed message that was not asked for".to_owned(),
        );
    }
    if data.len() != length {
        return Err(format!(
            "the gRPC response frame says {length} bytes but carries {}",
            data.len()
        ));
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_have_a_flag_and_a_big_endian_length() {
        let message = prost_types::Duration {
            seconds: 1,
            nanos: 0,
        };
        let framed = frame(&prost::Message::encode_to_vec(&message));
        assert_eq!(&framed[..5], &[0, 0, 0, 0, 2]);
        assert_eq!(unframe(framed).unwrap().as_ref(), &[8, 1]);
    }

    #[test]
    fn rejects_short_compressed_or_mislabelled_frames() {
        assert!(unframe(Bytes::from_static(&[0, 0, 0])).is_err());
        assert!(unframe(Bytes::from_static(&[1, 0, 0, 0, 1, 7])).is_err());
        assert!(unframe(Bytes::from_static(&[0, 0, 0, 0, 5, 7])).is_err());
    }

    #[test]
    fn reads_status_message_and_details_from_headers() {
        let status = RpcStatus {
            code: 3,
            message: "bad email".to_owned(),
            details: vec![prost_types::Any {
                type_url: "type.googleapis.com/google.rpc.BadRequest".to_owned(),
                value: vec![1, 2, 3],
            }],
        };
        let mut headers = HeaderMap::new();
        headers.insert(GRPC_MESSAGE, HeaderValue::from_static("email%20is%20taken"));
        headers.insert(
            GRPC_STATUS_DETAILS,
            HeaderValue::from_str(&STANDARD_NO_PAD.encode(prost::Message::encode_to_vec(&status)))
                .unwrap(),
        );
        let failure = failure_from_headers(Code::InvalidArgument, &headers);
        assert_eq!(failure.message, "email is taken");
        assert_eq!(failure.details, Some(status));
    }
}
