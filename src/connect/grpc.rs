//! Calls to tonic's services (health, reflection, streams) made from a
//! Connect request: the same request, re-dressed as gRPC, sent in process
//! to the routes behind the metrics layer and the gate, so those apply as
//! they do to a native gRPC call.
use axum::body::Body;
use http::{HeaderMap, HeaderValue, Method, Request, Version, header};
use tonic::Status;

use crate::api::grpc_unary::status_in_chain;
use crate::telemetry::metrics::Protocol;

/// Request headers that describe the Connect framing, not the call.
const CONNECT_HEADERS: &[&str] = &[
    "connect-protocol-version",
    "connect-timeout-ms",
    "connect-content-encoding",
    "connect-accept-encoding",
];

/// The gRPC request for a Connect call with `parts`' headers, extensions
/// and path, carrying `body` (gRPC frames).
pub(crate) fn grpc_request(parts: http::request::Parts, body: Body) -> Request<Body> {
    let http::request::Parts {
        uri,
        mut headers,
        mut extensions,
        ..
    } = parts;
    for name in [
        header::CONTENT_TYPE,
        header::CONTENT_LENGTH,
        header::CONTENT_ENCODING,
        header::ACCEPT_ENCODING,
    ] {
        headers.remove(name);
    }
    for name in CONNECT_HEADERS {
        headers.remove(*name);
    }
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/grpc"),
    );
    headers.insert(header::TE, HeaderValue::from_static("trailers"));
    extensions.insert(Protocol::Connect);
    let path_only = http::Uri::builder()
        .path_and_query(uri.path())
        .build()
        .unwrap_or(uri);
    let mut request = Request::new(body);
    *request.method_mut() = Method::POST;
    *request.uri_mut() = path_only;
    *request.version_mut() = Version::HTTP_2;
    *request.headers_mut() = headers;
    *request.extensions_mut() = extensions;
    request
}

/// Response headers worth passing to the Connect client: the call's
/// metadata, without gRPC's framing headers.
pub(crate) fn metadata_headers(headers: &HeaderMap) -> HeaderMap {
    let mut kept = HeaderMap::with_capacity(headers.len());
    for (name, value) in headers {
        let text = name.as_str();
        if text.starts_with("grpc-")
            || name == header::CONTENT_TYPE
            || name == header::CONTENT_LENGTH
            || name == header::TRAILER
        {
            continue;
        }
        kept.append(name.clone(), value.clone());
    }
    kept
}

/// The status a failed body carries somewhere in its error chain, else
/// `CANCELLED` (the client went away or the stream was cut).
pub(crate) fn status_of_error(error: &(dyn std::error::Error + 'static)) -> Status {
    status_in_chain(error)
        .cloned()
        .unwrap_or_else(|| Status::cancelled("the stream was cut short"))
}
