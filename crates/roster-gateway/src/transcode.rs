//! One REST request, end to end: route, build the request message (body,
//! path, query), call the gRPC service in process, render the answer.

use bytes::Bytes;
use http::header::{CONTENT_LENGTH, CONTENT_TYPE};
use http::{HeaderValue, Method, StatusCode};
use http_body_util::{BodyExt as _, Limited};
use prost_reflect::{DynamicMessage, Value};
use tonic::Code;

use crate::errors::{FieldViolation, RestError};
use crate::grpc_call::GrpcFailure;
use crate::json::{JsonCodec, Shape, ValuePlan, field_behavior};
use crate::query::{apply_query, set_nested};
use crate::routes::{BodyRule, Route, RouteMatch, RouteTable};
use crate::template::RequestPath;
use crate::{GatewayConfig, UnaryCall, UnaryService};

/// Everything a request needs, shared by all requests.
pub(crate) struct Transcoder {
    pub(crate) routes: RouteTable,
    pub(crate) codec: JsonCodec,
    pub(crate) config: GatewayConfig,
    pub(crate) openapi_bytes: Bytes,
    pub(crate) docs: Option<crate::docs::DocsPage>,
}

type Response = http::Response<axum::body::Body>;

impl Transcoder {
    pub(crate) async fn handle(
        &self,
        request: axum::extract::Request,
        target: &dyn UnaryService,
    ) -> Response {
        match self.transcode(request, target).await {
            Ok(response) => response,
            Err(error) => error.into_response(),
        }
    }

    async fn transcode(
        &self,
        request: axum::extract::Request,
        target: &dyn UnaryService,
    ) -> Result<Response, RestError> {
        let (mut parts, body) = request.into_parts();
        if let Some(openapi) = self.openapi_response(&parts.method, parts.uri.path()) {
            return openapi;
        }
        if let Some(docs) = self
            .docs
            .as_ref()
            .and_then(|docs| docs.response(&parts.method, parts.uri.path()))
        {
            return docs;
        }
        let path = RequestPath::parse(parts.uri.path())
            .ok_or_else(|| RestError::not_found(parts.uri.path()))?;
        let route = match self.routes.find(&parts.method, &path) {
            RouteMatch::Found(route) => route,
            RouteMatch::MethodNotAllowed(allowed) => {
                return Err(RestError::method_not_allowed(&parts.method, &allowed));
            }
            RouteMatch::NotFound => return Err(RestError::not_found(parts.uri.path())),
        };
        let captures = route
            .template
            .capture(&path)
            .map_err(RestError::bad_request)?;
        if let Some(preflight) = &self.config.preflight {
            preflight
                .check(route.grpc_uri.path(), &mut parts)
                .await
                .map_err(|status| self.relay_failure(GrpcFailure::from_status(&status)))?;
        }

        let codec = &self.codec;
        let mut message = DynamicMessage::new(codec.message(route.input_plan).descriptor.clone());
        let body_json = match route.body {
            BodyRule::None => None,
            BodyRule::Whole | BodyRule::Field(_) => {
                let bytes = self.read_body(&parts.headers, body).await?;
                self.decode_body(route, &parts.headers, &bytes, &mut message)?
            }
        };
        for (binding, value) in route.path_bindings.iter().zip(captures) {
            let value = codec
                .parse_text(&binding.value, &value)
                .map_err(|description| {
                    RestError::invalid_field(
                        format!(
                            "invalid path parameter {:?}: {description}",
                            binding.display
                        ),
                        FieldViolation {
                            field: binding.display.clone(),
                            description,
                        },
                    )
                })?;
            set_nested(&mut message, &binding.fields, value).map_err(RestError::internal)?;
        }
        if let Some(query) = parts.uri.query() {
            apply_query(codec, route, query, &mut message)?;
        }
        if let (Some(mask_index), Some(body_json), BodyRule::Field(body_index)) =
            (route.implied_update_mask, &body_json, &route.body)
        {
            self.fill_implied_update_mask(route, *body_index, mask_index, body_json, &mut message)?;
        }

        let mut headers = http::HeaderMap::with_capacity(self.config.forwarded_headers.len());
        for name in &self.config.forwarded_headers {
            for value in parts.headers.get_all(name) {
                headers.append(name.clone(), value.clone());
            }
        }
        let call = UnaryCall {
            uri: route.grpc_uri.clone(),
            headers,
            extensions: std::mem::take(&mut parts.extensions),
            message: Bytes::from(prost::Message::encode_to_vec(&message)),
        };
        match target.call(call).await {
            Ok(payload) => self.render_reply(route, payload),
            Err(status) => Err(self.relay_failure(GrpcFailure::from_status(&status))),
        }
    }

    fn openapi_response(&self, method: &Method, path: &str) -> Option<Result<Response, RestError>> {
        let openapi_path = self.config.openapi_path.as_deref()?;
        if path != openapi_path {
            return None;
        }
        Some(
            read_only_body(method, self.openapi_bytes.clone())
                .map(|body| json_response(StatusCode::OK, body)),
        )
    }

    /// Reads the whole body, refusing more than `max_body_bytes`: up front
    /// from Content-Length, and while reading for chunked bodies.
    async fn read_body(
        &self,
        headers: &http::HeaderMap,
        body: axum::body::Body,
    ) -> Result<Bytes, RestError> {
        let limit = self.config.max_body_bytes;
        let declared = headers
            .get(CONTENT_LENGTH)
            .and_then(|value| value.to_str().ok())
            .and_then(|text| text.parse::<u64>().ok());
        if declared.is_some_and(|length| length > limit as u64) {
            return Err(RestError::payload_too_large(limit));
        }
        match Limited::new(body, limit).collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(error)
                if error
                    .downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                Err(RestError::payload_too_large(limit))
            }
            // The server's body limits (byte budget, read timeout, client
            // abort) fail the body with a `tonic::Status`; answer with its
            // code so a busy server says 429, not "bad request".
            Err(error) => {
                let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&*error);
                while let Some(cause) = source {
                    if let Some(status) = cause.downcast_ref::<tonic::Status>() {
                        return Err(RestError::from_code(status.code(), status.message()));
                    }
                    source = cause.source();
                }
                Err(RestError::bad_request(format!(
                    "cannot read the request body: {error}"
                )))
            }
        }
    }

    /// Decodes a JSON body into the request; returns the parsed JSON (for
    /// the implied update mask), or `None` for an empty body, which is an
    /// empty message whatever the content type.
    fn decode_body(
        &self,
        route: &Route,
        headers: &http::HeaderMap,
        bytes: &[u8],
        message: &mut DynamicMessage,
    ) -> Result<Option<serde_json::Value>, RestError> {
        if bytes.is_empty() {
            return Ok(None);
        }
        let content_type = headers
            .get(CONTENT_TYPE)
            .map(|value| value.to_str().unwrap_or("<not text>"));
        if !content_type.is_some_and(is_json_content_type) {
            return Err(RestError::unsupported_media_type(content_type));
        }
        let json: serde_json::Value = serde_json::from_slice(bytes).map_err(|error| {
            RestError::bad_request(format!("request body is not valid JSON: {error}"))
        })?;
        let codec = &self.codec;
        let decoded = match route.body {
            BodyRule::Whole => codec.merge_json(route.input_plan, &json, message),
            BodyRule::Field(index) => {
                let field = &codec.message(route.input_plan).fields[index];
                codec.decode_field_json(field, &json, message, field.descriptor.name())
            }
            BodyRule::None => Ok(()),
        };
        decoded
            .map_err(|error| RestError::invalid_field(error.message.clone(), error.violation()))?;
        Ok(Some(json))
    }

    /// AIP-134: a PATCH whose mask is absent or empty updates the fields
    /// present in the body. Identifier and output-only fields there (such as
    /// `name` and `etag`) address and guard the resource; they are never
    /// part of the mask.
    fn fill_implied_update_mask(
        &self,
        route: &Route,
        body_index: usize,
        mask_index: usize,
        body_json: &serde_json::Value,
        message: &mut DynamicMessage,
    ) -> Result<(), RestError> {
        let codec = &self.codec;
        let input = codec.message(route.input_plan);
        let mask_field = &input.fields[mask_index];
        let mask_is_empty = message
            .get_field(&mask_field.descriptor)
            .as_message()
            .and_then(|mask| mask.get_field_by_number(1))
            .is_none_or(|paths| paths.as_list().is_none_or(<[Value]>::is_empty));
        if !mask_is_empty {
            return Ok(());
        }
        let ValuePlan::Message(body_plan) = input.fields[body_index].value else {
            return Ok(());
        };
        let ValuePlan::Message(mask_plan) = mask_field.value else {
            return Ok(());
        };
        let mut paths = Vec::new();
        collect_present_paths(codec, body_plan, body_json, "", &mut paths);
        // Sorted, so the mask does not depend on the JSON map's key order.
        paths.sort_unstable();
        paths.dedup();
        let mask = codec
            .field_mask_message(mask_plan, paths.iter().map(String::as_str))
            .map_err(RestError::internal)?;
        message.set_field(&mask_field.descriptor, Value::Message(mask));
        Ok(())
    }

    fn render_reply(&self, route: &Route, payload: Bytes) -> Result<Response, RestError> {
        let mut body = Vec::with_capacity(256 + payload.len() * 2);
        self.codec
            .encode_reply(route.output_plan, route.response_body, &payload, &mut body)
            .map_err(|error| {
                tracing::error!(method = %route.method.full_name(), %error, "undecodable gRPC response");
                RestError::internal("internal error")
            })?;
        Ok(json_response(StatusCode::OK, Bytes::from(body)))
    }

    fn relay_failure(&self, failure: GrpcFailure) -> RestError {
        let mut error = RestError::from_code(failure.code, failure.message);
        if let Some(status) = failure.details {
            for (position, detail) in status.details.iter().enumerate() {
                if position > 0 {
                    error.details_json.push(b',');
                }
                self.codec.encode_any_parts(
                    &detail.type_url,
                    &detail.value,
                    &mut error.details_json,
                );
            }
        }
        if error.code == Code::Ok {
            // A status of OK is not an error; never render it as one.
            error.code = Code::Unknown;
            error.status = StatusCode::INTERNAL_SERVER_ERROR;
        }
        error
    }
}

fn json_response(status: StatusCode, body: Bytes) -> Response {
    let mut response = http::Response::new(axum::body::Body::from(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// `application/json`, with or without parameters such as `charset`.
fn is_json_content_type(content_type: &str) -> bool {
    content_type
        .split(';')
        .next()
        .is_some_and(|media_type| media_type.trim().eq_ignore_ascii_case("application/json"))
}

/// The snake_case paths of the fields present in a JSON object, descending
/// into plain nested messages so `{"settings": {"theme": "x"}}` updates
/// `settings.theme` only. Maps, lists and well-known types are leaves.
fn collect_present_paths(
    codec: &JsonCodec,
    plan_index: usize,
    json: &serde_json::Value,
    prefix: &str,
    paths: &mut Vec<String>,
) {
    let Some(object) = json.as_object() else {
        return;
    };
    let plan = codec.message(plan_index);
    for (name, value) in object {
        let Some((_, field)) = plan.field_by_name(name) else {
            continue;
        };
        if field.has_behavior(field_behavior::IDENTIFIER)
            || field.has_behavior(field_behavior::OUTPUT_ONLY)
        {
            continue;
        }
        let path = if prefix.is_empty() {
            field.descriptor.name().to_owned()
        } else {
            format!("{prefix}.{}", field.descriptor.name())
        };
        let nested = match (&field.shape, &field.value) {
            (Shape::Singular, ValuePlan::Message(index))
                if codec.message(*index).well_known.is_none() =>
            {
                Some(*index)
            }
            _ => None,
        };
        match nested {
            Some(index) if value.as_object().is_some_and(|object| !object.is_empty()) => {
                collect_present_paths(codec, index, value, &path, paths);
            }
            _ => paths.push(path),
        }
    }
}

/// The body a document served read-only answers `method` with: itself for
/// GET, nothing for HEAD, `405` naming both for anything else.
pub(crate) fn read_only_body(method: &Method, body: Bytes) -> Result<Bytes, RestError> {
    if method == Method::GET {
        Ok(body)
    } else if method == Method::HEAD {
        Ok(Bytes::new())
    } else {
        Err(RestError::method_not_allowed(
            method,
            &[Method::GET, Method::HEAD],
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types_allow_parameters_and_any_case() {
        assert!(is_json_content_type("application/json"));
        assert!(is_json_content_type("Application/JSON; charset=utf-8"));
        assert!(!is_json_content_type("text/plain"));
        assert!(!is_json_content_type("application/json-patch+json"));
        assert!(!is_json_content_type("application/x-www-form-urlencoded"));
    }
}
