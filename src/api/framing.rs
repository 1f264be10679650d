//! Requests whose gRPC framing is broken (a bad compression flag, a
//! truncated frame, gRPC-Web text that is not base64, a unary call with no
//! message at all) are the client's
//! mistake, but tonic and tonic-web report them as `INTERNAL` before any
//! handler runs. This layer reclassifies exactly those statuses as
//! `INVALID_ARGUMENT`, so a client sees its own error and no dashboard
//! counts it as a server fault. Our handlers never produce these messages:
//! their internal errors say only "internal error".
use axum::body::Body;
use http::{HeaderValue, Response};

/// Percent-encoded `grpc-message` prefixes of tonic's request-decoding
/// errors (tonic encodes spaces as `%20`).
const REQUEST_DECODING_ERRORS: &[&str] = &[
    "protocol%20error:",
    "Unexpected%20EOF%20decoding%20stream",
    "Error%20decompressing",
    "tonic-web:",
    "Invalid%20header%20bit",
    "Missing%20request%20message",
];

const INTERNAL: &str = "13";
const INVALID_ARGUMENT: HeaderValue = HeaderValue::from_static("3");

/// Rewrites a trailers-only `INTERNAL` that is really a malformed request.
pub fn reclassify_malformed_requests(mut response: Response<Body>) -> Response<Body> {
    let headers = response.headers_mut();
    let is_internal = headers
        .get("grpc-status")
        .is_some_and(|status| status.as_bytes() == INTERNAL.as_bytes());
    if !is_internal {
        return response;
    }
    let Some(message) = headers
        .get("grpc-message")
        .and_then(|message| message.to_str().ok())
    else {
        return response;
    };
    if !REQUEST_DECODING_ERRORS
        .iter()
        .any(|prefix| message.starts_with(prefix))
    {
        return response;
    }
    if let Ok(reworded) = HeaderValue::from_str(&format!("malformed%20request:%20{message}")) {
        headers.insert("grpc-message", reworded);
    }
    headers.insert("grpc-status", INVALID_ARGUMENT);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trailers_only(status: &'static str, message: &'static str) -> Response<Body> {
        Response::builder()
            .header("grpc-status", status)
            .header("grpc-message", message)
            .body(Body::empty())
            .unwrap()
    }

    #[test]
    fn framing_errors_become_invalid_argument() {
        let response = reclassify_malformed_requests(trailers_only(
            "13",
            "protocol%20error:%20received%20message%20with%20invalid%20compression%20flag",
        ));
        assert_eq!(response.headers()["grpc-status"], "3");
        assert!(
            response.headers()["grpc-message"]
                .to_str()
                .unwrap()
                .starts_with("malformed%20request:%20protocol%20error")
        );
    }

    #[test]
    fn genuine_internal_errors_are_left_alone() {
        let response = reclassify_malformed_requests(trailers_only("13", "internal%20error"));
        assert_eq!(response.headers()["grpc-status"], "13");
        let other = reclassify_malformed_requests(trailers_only("5", "protocol%20error:%20x"));
        assert_eq!(other.headers()["grpc-status"], "5");
    }
}
