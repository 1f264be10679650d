//! Connect's error shape: `{"code", "message", "details"}` with its HTTP
//! status table for unary calls, and the end-of-stream message that closes
//! a stream. Details are the same `google.rpc` messages gRPC carries in
//! `grpc-status-details-bin`, as `{"type", "value"}` (unpadded base64).
use axum::body::Body;
use http::{HeaderMap, HeaderValue, Response, StatusCode};
use prost::Message as _;
use serde_json::{Map, Value, json};
use tonic::{Code, Status};

use super::envelope::{END_STREAM, encode};
use crate::proto::google::rpc;

/// Connect's name for a code.
pub(crate) fn code_name(code: Code) -> &'static str {
    match code {
        Code::Cancelled => "canceled",
        Code::Unknown | Code::Ok => "unknown",
        Code::InvalidArgument => "invalid_argument",
        Code::DeadlineExceeded => "deadline_exceeded",
        Code::NotFound => "not_found",
        Code::AlreadyExists => "already_exists",
        Code::PermissionDenied => "permission_denied",
        Code::ResourceExhausted => "resource_exhausted",
        Code::FailedPrecondition => "failed_precondition",
        Code::Aborted => "aborted",
        Code::OutOfRange => "out_of_range",
        Code::Unimplemented => "unimplemented",
        Code::Internal => "internal",
        Code::Unavailable => "unavailable",
        Code::DataLoss => "data_loss",
        Code::Unauthenticated => "unauthenticated",
    }
}

/// The HTTP status of a unary error, from the protocol's table.
pub(crate) fn http_status(code: Code) -> StatusCode {
    match code {
        Code::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        Code::InvalidArgument | Code::FailedPrecondition | Code::OutOfRange => {
            StatusCode::BAD_REQUEST
        }
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists | Code::Aborted => StatusCode::CONFLICT,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        Code::Ok | Code::Unknown | Code::Internal | Code::DataLoss => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
    }
}

/// The error object.
pub(crate) fn error_value(status: &Status) -> Value {
    let mut error = Map::new();
    error.insert("code".into(), Value::from(code_name(status.code())));
    if !status.message().is_empty() {
        error.insert("message".into(), Value::from(status.message()));
    }
    let details = rpc::Status::decode(status.details())
        .map(|decoded| decoded.details)
        .unwrap_or_default();
    if !details.is_empty() {
        let details = details
            .iter()
            .map(|any| {
                let name = any.type_url.rsplit('/').next().unwrap_or(&any.type_url);
                json!({
                    "type": name,
                    "value": data_encoding::BASE64_NOPAD.encode(&any.value),
                })
            })
            .collect();
        error.insert("details".into(), Value::Array(details));
    }
    Value::Object(error)
}

/// A unary call's error response: the table's status, the JSON error, and
/// the status's metadata as headers.
pub(crate) fn unary_error(status: &Status) -> Response<Body> {
    let body = serde_json::to_vec(&error_value(status)).unwrap_or_default();
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = http_status(status.code());
    let headers = response.headers_mut();
    for (name, value) in status.metadata().clone().into_headers().iter() {
        if !name.as_str().starts_with("grpc-") {
            headers.append(name.clone(), value.clone());
        }
    }
    headers.insert(
        http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if status.code() == Code::Unimplemented && status.message().starts_with("content encoding") {
        headers.insert(
            http::header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip"),
        );
    }
    response
}

/// The end-of-stream envelope: the error, if the call failed, and the
/// trailers as metadata.
pub(crate) fn end_stream(status: Option<&Status>, trailers: &HeaderMap) -> bytes::Bytes {
    let mut message = Map::new();
    if let Some(status) = status.filter(|status| status.code() != Code::Ok) {
        message.insert("error".into(), error_value(status));
    }
    let mut metadata = Map::new();
    for (name, value) in trailers {
        let name = name.as_str();
        if name.starts_with("grpc-") {
            continue;
        }
        let Ok(value) = value.to_str() else { continue };
        let values = metadata
            .entry(name.to_owned())
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Value::Array(values) = values {
            values.push(Value::from(value));
        }
    }
    if !metadata.is_empty() {
        message.insert("metadata".into(), Value::Object(metadata));
    }
    encode(
        END_STREAM,
        &serde_json::to_vec(&Value::Object(message)).unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_its_table_status() {
        assert_eq!(http_status(Code::Unauthenticated), StatusCode::UNAUTHORIZED);
        assert_eq!(http_status(Code::NotFound), StatusCode::NOT_FOUND);
        assert_eq!(http_status(Code::Cancelled).as_u16(), 499);
        assert_eq!(
            http_status(Code::DeadlineExceeded),
            StatusCode::GATEWAY_TIMEOUT
        );
        assert_eq!(code_name(Code::Cancelled), "canceled");
    }

    #[test]
    fn details_travel_as_type_and_unpadded_base64() {
        let detail = prost_types::Any {
            type_url: "type.googleapis.com/google.rpc.BadRequest".into(),
            value: vec![1, 2, 3, 4],
        };
        let encoded = rpc::Status {
            code: 3,
            message: "bad".into(),
            details: vec![detail],
        }
        .encode_to_vec();
        let status = Status::with_details(Code::InvalidArgument, "bad", encoded.into());
        assert_eq!(
            error_value(&status),
            json!({
                "code": "invalid_argument",
                "message": "bad",
                "details": [{"type": "google.rpc.BadRequest", "value": "AQIDBA"}],
            })
        );
    }

    #[test]
    fn end_stream_carries_the_error_and_metadata() {
        let mut trailers = HeaderMap::new();
        trailers.insert("grpc-status", HeaderValue::from_static("5"));
        trailers.insert("x-trace", HeaderValue::from_static("t1"));
        let envelope = end_stream(Some(&Status::not_found("no such user")), &trailers);
        assert_eq!(envelope[0], END_STREAM);
        let message: Value = serde_json::from_slice(&envelope[5..]).unwrap();
        assert_eq!(
            message,
            json!({
                "error": {"code": "not_found", "message": "no such user"},
                "metadata": {"x-trace": ["t1"]},
            })
        );
        let ok = end_stream(None, &HeaderMap::new());
        assert_eq!(&ok[5..], b"{}");
    }
}
