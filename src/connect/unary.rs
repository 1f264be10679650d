//! Unary Connect calls: POST with `application/proto` or `application/json`,
//! and GET (`?encoding=…&message=…`) for methods free of side effects.
//! Methods of the unary table go through `UnaryCalls`, exactly as gRPC,
//! gRPC-Web and REST calls do; the others (health's Check) through tonic's
//! services as one-message gRPC calls.
use std::sync::Arc;

use axum::body::Body;
use bytes::Bytes;
use futures_util::stream;
use http::{HeaderMap, HeaderName, HeaderValue, Request, Response, StatusCode, header};
use http_body_util::{BodyExt as _, Limited};
use tonic::Status;
use tower::ServiceExt as _;

use super::envelope::{
    COMPRESS_MIN_BYTES, EnvelopeReader, accepts_gzip, encode, gunzip, gzip, is_gzip, too_large,
};
use super::error::{error_value, unary_error};
use super::grpc::{grpc_request, metadata_headers, status_of_error};
use super::schema::{Codec, MethodSchema};
use super::{Shared, apply_timeout, check_protocol_version};
use crate::api::grpc_unary::body_error;
use crate::api::methods::RpcKind;
use crate::telemetry::metrics::Protocol;

/// A unary POST.
pub(super) async fn post(
    shared: Arc<Shared>,
    request: Request<Body>,
    codec: Codec,
) -> Response<Body> {
    let (mut parts, body) = request.into_parts();
    if let Err(status) =
        check_protocol_version(&parts.headers).and_then(|()| apply_timeout(&mut parts.headers))
    {
        return unary_error(&status);
    }
    let gzipped = match is_gzip(parts.headers.get(header::CONTENT_ENCODING)) {
        Ok(gzipped) => gzipped,
        Err(status) => return unary_error(&status),
    };
    let max = shared.max_message;
    // Read only once the gate has admitted the call.
    let message = async move {
        let data = match Limited::new(body, max).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(error) => return Err(body_error(&*error, max)),
        };
        if gzipped {
            gunzip(&data, max)
        } else {
            Ok(data)
        }
    };
    respond(&shared, parts, codec, message).await
}

/// A unary GET: the message, its encoding and compression are query
/// parameters, so the request can be cached and retried like any GET.
pub(super) async fn get(shared: Arc<Shared>, request: Request<Body>) -> Response<Body> {
    let (mut parts, _body) = request.into_parts();
    let query = match GetQuery::parse(parts.uri.query().unwrap_or("")) {
        Ok(query) => query,
        Err(status) => return unary_error(&status),
    };
    if let Some(schema) = shared.schemas.get(parts.uri.path())
        && !schema.no_side_effects
    {
        return not_a_get(parts.uri.path());
    }
    if let Err(status) = apply_timeout(&mut parts.headers) {
        return unary_error(&status);
    }
    let max = shared.max_message;
    let message = async move {
        if query.message.len() > max {
            return Err(too_large(max));
        }
        if query.gzip {
            gunzip(&query.message, max)
        } else {
            Ok(Bytes::from(query.message))
        }
    };
    respond(&shared, parts, query.codec, message).await
}

/// Calls the method and writes the unary response.
async fn respond<M>(
    shared: &Shared,
    parts: http::request::Parts,
    codec: Codec,
    message: M,
) -> Response<Body>
where
    M: Future<Output = Result<Bytes, Status>> + Send + 'static,
{
    let path = parts.uri.path().to_owned();
    let schema: Option<MethodSchema> = shared.schemas.get(&path).cloned();
    if let Some(schema) = &schema
        && schema.kind != RpcKind::Unary
    {
        return unary_error(&Status::invalid_argument(format!(
            "{path} streams: call it with application/connect+proto or application/connect+json"
        )));
    }
    let accept_gzip = accepts_gzip(parts.headers.get(header::ACCEPT_ENCODING));
    let input = schema.as_ref().map(|schema| schema.input.clone());
    let message = async move { codec.decode(input.as_ref(), message.await?) };
    let reply = if shared.calls.serves(&path) {
        let http::request::Parts {
            uri,
            headers,
            extensions,
            ..
        } = parts;
        shared
            .calls
            .call(Protocol::Connect, &uri, headers, extensions, message)
            .await
            .map(|(metadata, body)| (metadata.into_headers(), HeaderMap::new(), body))
    } else {
        over_grpc(shared, parts, message).await
    };
    let output = schema.as_ref().map(|schema| &schema.output);
    match reply
        .and_then(|(headers, trailers, body)| Ok((headers, trailers, codec.encode(output, body)?)))
    {
        Ok((headers, trailers, body)) => success(codec, &headers, &trailers, body, accept_gzip),
        Err(status) => unary_error(&status),
    }
}

/// A one-message call to tonic's services: its headers, trailers and reply.
async fn over_grpc<M>(
    shared: &Shared,
    parts: http::request::Parts,
    message: M,
) -> Result<(HeaderMap, HeaderMap, Bytes), Status>
where
    M: Future<Output = Result<Bytes, Status>> + Send + 'static,
{
    // The body is produced when tonic reads it, after the gate.
    let frames = stream::once(async move { message.await.map(|data| encode(0, &data)) });
    let request = grpc_request(parts, Body::from_stream(frames));
    let Ok(response) = shared.services.clone().oneshot(request).await;
    let (parts, body) = response.into_parts();
    if let Some(status) = Status::from_header_map(&parts.headers)
        && status.code() != tonic::Code::Ok
    {
        return Err(status);
    }
    let collected = body
        .collect()
        .await
        .map_err(|error| status_of_error(&error))?;
    let trailers = collected.trailers().cloned().unwrap_or_default();
    match Status::from_header_map(&trailers) {
        Some(status) if status.code() == tonic::Code::Ok => {}
        Some(status) => return Err(status),
        None => return Err(Status::internal("the call ended without a status")),
    }
    let mut reader = EnvelopeReader::default();
    reader.push(&collected.to_bytes());
    let reply = reader
        .next(usize::MAX)?
        .ok_or_else(|| Status::internal("the call ended without a reply"))?;
    Ok((
        metadata_headers(&parts.headers),
        metadata_headers(&trailers),
        reply.data,
    ))
}

/// `200` with the reply in the request's codec, gzipped when the client
/// accepts it and it is worth it; trailers become `trailer-` headers.
fn success(
    codec: Codec,
    headers: &HeaderMap,
    trailers: &HeaderMap,
    body: Bytes,
    accept_gzip: bool,
) -> Response<Body> {
    let compress = accept_gzip && body.len() >= COMPRESS_MIN_BYTES;
    let body = if compress {
        Bytes::from(gzip(&body))
    } else {
        body
    };
    let mut response = Response::new(Body::from(body));
    let out = response.headers_mut();
    for (name, value) in metadata_headers(headers).iter() {
        out.append(name.clone(), value.clone());
    }
    for (name, value) in trailers {
        if let Ok(name) = HeaderName::try_from(format!("trailer-{name}")) {
            out.append(name, value.clone());
        }
    }
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(codec.unary_content_type()),
    );
    if compress {
        out.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

/// `405` for a GET of a method that changes things.
fn not_a_get(path: &str) -> Response<Body> {
    let status = Status::unimplemented(format!(
        "{path} has side effects: call it with POST (only methods marked \
         idempotency_level = NO_SIDE_EFFECTS answer GET)"
    ));
    let mut response = Response::new(Body::from(
        serde_json::to_vec(&error_value(&status)).unwrap_or_default(),
    ));
    *response.status_mut() = StatusCode::METHOD_NOT_ALLOWED;
    let headers = response.headers_mut();
    headers.insert(header::ALLOW, HeaderValue::from_static("POST"));
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The query of a Connect GET.
#[derive(Debug)]
struct GetQuery {
    codec: Codec,
    message: Vec<u8>,
    gzip: bool,
}

impl GetQuery {
    fn parse(query: &str) -> Result<Self, Status> {
        let (mut encoding, mut message, mut base64, mut compression, mut version) =
            (None, Vec::new(), false, None, None);
        for pair in query.split('&').filter(|pair| !pair.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = decode_component(value);
            match name {
                "encoding" => encoding = Some(value),
                "message" => message = value,
                "base64" => base64 = value == b"1",
                "compression" => compression = Some(value),
                "connect" => version = Some(value),
                _ => {}
            }
        }
        if version.as_deref().is_some_and(|version| version != b"v1") {
            return Err(Status::invalid_argument(
                "connect protocol version must be v1",
            ));
        }
        let codec = match encoding.as_deref() {
            Some(b"json") => Codec::Json,
            Some(b"proto") => Codec::Proto,
            _ => {
                return Err(Status::invalid_argument(
                    "a Connect GET needs encoding=json or encoding=proto",
                ));
            }
        };
        if base64 {
            let text: Vec<u8> = message.into_iter().filter(|byte| *byte != b'=').collect();
            message = data_encoding::BASE64URL_NOPAD
                .decode(&text)
                .map_err(|_| Status::invalid_argument("message is not URL-safe base64"))?;
        }
        let value = compression
            .as_ref()
            .map(|name| HeaderValue::from_bytes(name));
        let gzip = match value {
            None => false,
            Some(Ok(value)) => is_gzip(Some(&value))?,
            Some(Err(_)) => return Err(Status::unimplemented("unknown compression")),
        };
        Ok(Self {
            codec,
            message,
            gzip,
        })
    }
}

/// A query component, percent-decoded (`+` is a space).
fn decode_component(value: &str) -> Vec<u8> {
    let spaced = value.replace('+', " ");
    percent_encoding::percent_decode_str(&spaced).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_queries_are_read() {
        let query = GetQuery::parse("connect=v1&encoding=json&message=%7B%22a%22%3A1%7D").unwrap();
        assert_eq!(
            (query.codec, query.message.as_slice()),
            (Codec::Json, &b"{\"a\":1}"[..])
        );
        let query = GetQuery::parse("encoding=proto&base64=1&message=CAE").unwrap();
        assert_eq!(
            (query.codec, query.message.as_slice()),
            (Codec::Proto, &[8u8, 1][..])
        );
        assert!(GetQuery::parse("encoding=xml").is_err());
        assert!(GetQuery::parse("message=e30").is_err());
        assert!(GetQuery::parse("encoding=json&connect=v2").is_err());
        assert!(GetQuery::parse("encoding=proto&base64=1&message=!!").is_err());
        assert_eq!(
            GetQuery::parse("encoding=json&compression=br")
                .unwrap_err()
                .code(),
            tonic::Code::Unimplemented
        );
    }
}
