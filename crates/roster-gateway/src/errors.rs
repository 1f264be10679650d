//! Errors: the start-up error of [`crate::Gateway::new`], the one gRPC-code →
//! HTTP-status table, and the REST error body every failure is rendered as.

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};
use tonic::Code;

use crate::json::escape::write_json_string;

/// Why a gateway could not be built from a descriptor pool.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    /// A path template does not follow the `google.api.http` grammar.
    #[error("{method}: invalid path template {template:?}: {reason}")]
    InvalidTemplate {
        /// Full name of the RPC carrying the rule.
        method: String,
        /// The template as written.
        template: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A rule names a field that does not exist or cannot be bound that way.
    #[error("{method}: {reason}")]
    InvalidBinding {
        /// Full name of the RPC carrying the rule.
        method: String,
        /// What is wrong with the binding.
        reason: String,
    },
    /// The configured UUID field option is not a bool extension of
    /// `google.protobuf.FieldOptions` in the pool.
    #[error(
        "uuid field option {0:?} is not a bool extension of google.protobuf.FieldOptions in the descriptor pool"
    )]
    UnknownUuidOption(String),
    /// A configured option (format, pattern, public) is not an extension
    /// of the expected kind in the pool.
    #[error("option {name:?} is not {expected} in the descriptor pool")]
    UnknownOption {
        /// The configured full name.
        name: String,
        /// What it should be, such as "a string extension of google.protobuf.FieldOptions".
        expected: String,
    },
    /// `docs_path` is set but `openapi_path` is not: the page renders the document.
    #[error("the docs page needs the OpenAPI document: set openapi_path too")]
    DocsWithoutOpenApi,
}

/// The single gRPC-code → HTTP-status table (the standard `google.rpc`
/// mapping). Every gRPC error the gateway relays goes through it.
pub fn http_status_for(code: Code) -> StatusCode {
    match code {
        Code::Ok => StatusCode::OK,
        // 499 "Client Closed Request" has no constant in `http`.
        Code::Cancelled => StatusCode::from_u16(499).unwrap_or(StatusCode::BAD_REQUEST),
        Code::Unknown => StatusCode::INTERNAL_SERVER_ERROR,
        Code::InvalidArgument => StatusCode::BAD_REQUEST,
        Code::DeadlineExceeded => StatusCode::GATEWAY_TIMEOUT,
        Code::NotFound => StatusCode::NOT_FOUND,
        Code::AlreadyExists => StatusCode::CONFLICT,
        Code::PermissionDenied => StatusCode::FORBIDDEN,
        Code::ResourceExhausted => StatusCode::TOO_MANY_REQUESTS,
        Code::FailedPrecondition => StatusCode::BAD_REQUEST,
        Code::Aborted => StatusCode::CONFLICT,
        Code::OutOfRange => StatusCode::BAD_REQUEST,
        Code::Unimplemented => StatusCode::NOT_IMPLEMENTED,
        Code::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        Code::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        Code::DataLoss => StatusCode::INTERNAL_SERVER_ERROR,
        Code::Unauthenticated => StatusCode::UNAUTHORIZED,
    }
}

/// The gRPC code a non-gRPC HTTP answer of the in-process service stands
/// for, as the gRPC HTTP/2 protocol document maps it.
pub(crate) fn code_for_http_status(status: StatusCode) -> Code {
    match status.as_u16() {
        400 => Code::Internal,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        404 => Code::Unimplemented,
        429 | 502 | 503 | 504 => Code::Unavailable,
        _ => Code::Unknown,
    }
}

/// One field a request got wrong, reported as a `google.rpc.BadRequest`
/// field violation.
#[derive(Debug, Clone)]
pub(crate) struct FieldViolation {
    pub(crate) field: String,
    pub(crate) description: String,
}

/// A failed REST request, rendered as `{"code", "message", "details"}`.
#[derive(Debug)]
pub(crate) struct RestError {
    pub(crate) status: StatusCode,
    pub(crate) code: Code,
    pub(crate) message: String,
    /// Pre-rendered JSON values of the `details` array, comma-separated.
    pub(crate) details_json: Vec<u8>,
    pub(crate) allow: Option<HeaderValue>,
}

impl RestError {
    /// An error whose HTTP status follows from its gRPC code by the table.
    pub(crate) fn from_code(code: Code, message: impl Into<String>) -> RestError {
        RestError::with_status(http_status_for(code), code, message)
    }

    /// An error the gateway makes itself, whose HTTP status is more precise
    /// than the table's (405, 413, 415).
    pub(crate) fn with_status(
        status: StatusCode,
        code: Code,
        message: impl Into<String>,
    ) -> RestError {
        RestError {
            status,
            code,
            message: message.into(),
            details_json: Vec::new(),
            allow: None,
        }
    }

    pub(crate) fn not_found(path: &str) -> RestError {
        RestError::from_code(Code::NotFound, format!("no route for path {path:?}"))
    }

    pub(crate) fn method_not_allowed(method: &http::Method, allowed: &[http::Method]) -> RestError {
        let allow = allowed
            .iter()
            .map(http::Method::as_str)
            .collect::<Vec<_>>()
            .join(", ");
        let mut error = RestError::with_status(
            StatusCode::METHOD_NOT_ALLOWED,
            Code::Unimplemented,
            format!("method {method} is not allowed on this path; allowed: {allow}"),
        );
        error.allow = HeaderValue::from_str(&allow).ok();
        error
    }

    pub(crate) fn unsupported_media_type(content_type: Option<&str>) -> RestError {
        let message = match content_type {
            Some(content_type) => {
                format!("unsupported content type {content_type:?}; send application/json")
            }
            None => "missing content type; send application/json".to_owned(),
        };
        RestError::with_status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::InvalidArgument,
            message,
        )
    }

    pub(crate) fn payload_too_large(limit: usize) -> RestError {
        RestError::with_status(
            StatusCode::PAYLOAD_TOO_LARGE,
            Code::ResourceExhausted,
            format!("request body is larger than {limit} bytes"),
        )
    }

    pub(crate) fn bad_request(message: impl Into<String>) -> RestError {
        RestError::from_code(Code::InvalidArgument, message)
    }

    /// A 400 naming the field at fault, with a `google.rpc.BadRequest` detail
    /// so clients can point at it the way they do for server-side checks.
    pub(crate) fn invalid_field(
        message: impl Into<String>,
        violation: FieldViolation,
    ) -> RestError {
        let mut error = RestError::bad_request(message);
        let details = &mut error.details_json;
        details.extend_from_slice(
            br#"{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"#,
        );
        write_json_string(details, &violation.field);
        details.extend_from_slice(br#","description":"#);
        write_json_string(details, &violation.description);
        details.extend_from_slice(b"}]}");
        error
    }

    pub(crate) fn internal(message: impl Into<String>) -> RestError {
        RestError::from_code(Code::Internal, message)
    }

    /// The JSON body: `{"code": <int>, "message": "...", "details": [...]}`.
    pub(crate) fn body(&self) -> Vec<u8> {
        let mut body = Vec::with_capacity(64 + self.message.len() + self.details_json.len());
        body.extend_from_slice(b"{\"code\":");
        body.extend_from_slice(itoa::Buffer::new().format(self.code as i32).as_bytes());
        body.extend_from_slice(b",\"message\":");
        write_json_string(&mut body, &self.message);
        body.extend_from_slice(b",\"details\":[");
        body.extend_from_slice(&self.details_json);
        body.extend_from_slice(b"]}");
        body
    }

    pub(crate) fn into_response(self) -> http::Response<axum::body::Body> {
        let body = self.body();
        let mut response = http::Response::new(axum::body::Body::from(Bytes::from(body)));
        *response.status_mut() = self.status;
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Some(allow) = self.allow {
            response.headers_mut().insert(header::ALLOW, allow);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_maps_to_the_google_rpc_status() {
        let expected = [
            (Code::Ok, 200),
            (Code::Cancelled, 499),
            (Code::Unknown, 500),
            (Code::InvalidArgument, 400),
            (Code::DeadlineExceeded, 504),
            (Code::NotFound, 404),
            (Code::AlreadyExists, 409),
            (Code::PermissionDenied, 403),
            (Code::ResourceExhausted, 429),
            (Code::FailedPrecondition, 400),
            (Code::Aborted, 409),
            (Code::OutOfRange, 400),
            (Code::Unimplemented, 501),
            (Code::Internal, 500),
            (Code::Unavailable, 503),
            (Code::DataLoss, 500),
            (Code::Unauthenticated, 401),
        ];
        for (code, status) in expected {
            assert_eq!(http_status_for(code).as_u16(), status, "{code:?}");
        }
    }

    #[test]
    fn error_body_has_code_message_and_details() {
        let error = RestError::invalid_field(
            "unknown field \"foo\" in user",
            FieldViolation {
                field: "user.foo".to_owned(),
                description: "unknown field".to_owned(),
            },
        );
        let body: serde_json::Value = serde_json::from_slice(&error.body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "code": 3,
                "message": "unknown field \"foo\" in user",
                "details": [{
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": [{"field": "user.foo", "description": "unknown field"}]
                }]
            })
        );
    }

    #[test]
    fn method_not_allowed_lists_the_allowed_methods() {
        let error = RestError::method_not_allowed(
            &http::Method::PUT,
            &[http::Method::GET, http::Method::DELETE],
        );
        assert_eq!(error.status, StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(error.code, Code::Unimplemented);
        assert_eq!(error.allow.unwrap(), "GET, DELETE");
    }
}
