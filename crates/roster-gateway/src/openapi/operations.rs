//! One OpenAPI operation per documented binding: its id, texts, security,
//! parameters, body and responses.

use prost_reflect::FieldDescriptor;
use serde_json::{Map, Value as Json, json};

use super::annotations::Annotations;
use super::paths::{OpenApiPath, bindings_per_parameter};
use super::schemas::{Direction, STATUS_SCHEMA, Schemas, component_ref};
use super::security::{self, SecurityScheme};
use crate::comments::Comments;
use crate::json::{JsonCodec, Shape, ValuePlan, field_behavior};
use crate::routes::{BodyRule, Route};

/// How deep query parameters descend into nested request messages.
const MAX_QUERY_DEPTH: usize = 4;

pub(super) struct Operations<'a> {
    pub(super) schemas: Schemas<'a>,
    pub(super) codec: &'a JsonCodec,
    pub(super) comments: &'a Comments,
    pub(super) annotations: &'a Annotations,
    pub(super) security: &'a [SecurityScheme],
}

impl Operations<'_> {
    pub(super) fn operation(
        &mut self,
        route: &Route,
        path: &OpenApiPath,
        tag: &str,
        operation_id: String,
    ) -> Json {
        let method = &route.method;
        let mut operation = Map::new();
        operation.insert("operationId".into(), json!(operation_id));
        operation.insert("tags".into(), json!([tag]));
        if let Some(comment) = self.comments.get(&method.parent_file(), method.path()) {
            operation.insert("summary".into(), json!(summary(comment)));
            operation.insert("description".into(), json!(comment));
        }
        if !self.security.is_empty() {
            let security = if self.annotations.is_public(method) {
                security::public()
            } else {
                security::required(self.security)
            };
            operation.insert("security".into(), security);
        }

        let mut parameters = self.path_parameters(route, path);
        if !matches!(route.body, BodyRule::Whole) {
            let mut stack = vec![route.input_plan];
            self.query_parameters(
                route,
                route.input_plan,
                "",
                &mut Vec::new(),
                &mut stack,
                &mut parameters,
            );
        }
        if !parameters.is_empty() {
            operation.insert("parameters".into(), Json::Array(parameters));
        }
        if let Some(body) = self.request_body(route) {
            operation.insert("requestBody".into(), body);
        }

        let output = self.codec.message(route.output_plan);
        let response_schema = match route.response_body {
            Some(index) => self
                .schemas
                .field_schema(&output.fields[index], Direction::Response),
            None => self
                .schemas
                .message_ref(route.output_plan, Direction::Response),
        };
        operation.insert(
            "responses".into(),
            json!({
                "200": {
                    "description": "OK",
                    "content": { "application/json": { "schema": response_schema } },
                },
                "default": {
                    "description": "An error: the HTTP status follows from the gRPC code by the google.rpc mapping.",
                    "content": { "application/json": { "schema": { "$ref": component_ref(STATUS_SCHEMA) } } },
                },
            }),
        );
        Json::Object(operation)
    }

    /// Every path parameter is required and never null; one that is a whole
    /// field takes the field's schema (with its format) and comment.
    fn path_parameters(&mut self, route: &Route, path: &OpenApiPath) -> Vec<Json> {
        let mut parameters = Vec::new();
        for (parameter, binding) in path.parameters.iter().zip(bindings_per_parameter(route)) {
            let mut description = parameter.description.clone();
            let schema = match binding {
                Some(binding) if parameter.whole_field => {
                    let field = binding.fields.last().cloned();
                    match field {
                        Some(field) => {
                            if let Some(comment) = self.schemas.field_comment(&field) {
                                description = format!("{description} {comment}");
                            }
                            self.schemas.parameter_schema(&field, &binding.value, false)
                        }
                        None => json!({ "type": "string" }),
                    }
                }
                _ => json!({ "type": "string" }),
            };
            parameters.push(json!({
                "name": parameter.name,
                "in": "path",
                "required": true,
                "description": description,
                "schema": schema,
            }));
        }
        parameters
    }

    fn request_body(&mut self, route: &Route) -> Option<Json> {
        let input = self.codec.message(route.input_plan);
        let (schema, description) = match route.body {
            BodyRule::None => return None,
            BodyRule::Whole => (
                self.schemas
                    .message_ref(route.input_plan, Direction::Request),
                "The request message. An empty body is an empty request.".to_owned(),
            ),
            BodyRule::Field(index) => {
                let field = &input.fields[index];
                // The body is the field's value: a message body is that
                // message, not "the message or null".
                let schema = match (&field.shape, &field.value) {
                    (Shape::Singular, ValuePlan::Message(plan))
                        if self.codec.message(*plan).well_known.is_none() =>
                    {
                        self.schemas.message_ref(*plan, Direction::Request)
                    }
                    _ => self.schemas.field_schema(field, Direction::Request),
                };
                let comment = self
                    .schemas
                    .field_comment(&field.descriptor)
                    .unwrap_or_default();
                (
                    schema,
                    format!("The request field `{}`. {comment}", field.descriptor.name())
                        .trim_end()
                        .to_owned(),
                )
            }
        };
        Some(json!({
            "required": false,
            "description": description,
            "content": { "application/json": { "schema": schema } },
        }))
    }

    /// The request fields the query string may set: singular and repeated
    /// text values not bound by the path or the body, descending into plain
    /// nested messages.
    fn query_parameters(
        &mut self,
        route: &Route,
        plan_index: usize,
        prefix: &str,
        field_path: &mut Vec<FieldDescriptor>,
        stack: &mut Vec<usize>,
        out: &mut Vec<Json>,
    ) {
        let codec = self.codec;
        for (index, field) in codec.message(plan_index).fields.iter().enumerate() {
            if field_path.is_empty() && matches!(route.body, BodyRule::Field(body) if body == index)
            {
                continue;
            }
            if field.has_behavior(field_behavior::OUTPUT_ONLY) {
                continue;
            }
            field_path.push(field.descriptor.clone());
            let bound = route.path_bindings.iter().any(|binding| {
                let common = binding.fields.len().min(field_path.len());
                binding.fields[..common] == field_path[..common]
            });
            let name = if prefix.is_empty() {
                field.json_name.clone()
            } else {
                format!("{prefix}.{}", field.json_name)
            };
            let nested = match (&field.shape, &field.value) {
                (Shape::Singular, ValuePlan::Message(next))
                    if codec.message(*next).well_known.is_none() =>
                {
                    Some(*next)
                }
                _ => None,
            };
            match nested {
                Some(next) if field_path.len() < MAX_QUERY_DEPTH && !stack.contains(&next) => {
                    stack.push(next);
                    self.query_parameters(route, next, &name, field_path, stack, out);
                    stack.pop();
                }
                Some(_) => {}
                None if !bound
                    && codec.is_text_value(&field.value)
                    && !matches!(field.shape, Shape::Map { .. }) =>
                {
                    let repeated = matches!(field.shape, Shape::Repeated);
                    let schema =
                        self.schemas
                            .parameter_schema(&field.descriptor, &field.value, repeated);
                    let mut parameter = json!({
                        "name": name,
                        "in": "query",
                        "required": false,
                        "schema": schema,
                    });
                    if let Some(comment) = self.schemas.field_comment(&field.descriptor) {
                        parameter["description"] = json!(comment);
                    }
                    out.push(parameter);
                }
                None => {}
            }
            field_path.pop();
        }
    }
}

/// The first sentence of a comment's first paragraph, on one line.
fn summary(comment: &str) -> String {
    let paragraph = comment.split("\n\n").next().unwrap_or_default();
    let joined = paragraph.split_whitespace().collect::<Vec<_>>().join(" ");
    match joined.find(". ") {
        Some(end) => joined[..=end].to_owned(),
        None => joined,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summaries_are_the_first_sentence() {
        assert_eq!(
            summary("Retrieves one user. Lookup priority: `user_id`, then\n`email`."),
            "Retrieves one user."
        );
        assert_eq!(
            summary("Reads a book\nby id\n\nMore."),
            "Reads a book by id"
        );
    }
}
