//! JSON Schemas of messages, fields and parameters, stating the gateway's
//! JSON rules.
//!
//! A message gets one component per direction, because the two differ:
//! in a response every field but an `INPUT_ONLY` one is always written
//! (defaults, `[]`, `{}`, or `null` for an unset message, oneof member or
//! `optional` field — see `json/wire.rs`), so all of them are `required`
//! there and `INPUT_ONLY` ones are absent; in a request nothing is required
//! but what `google.api.field_behavior` marks `REQUIRED`, and not even that
//! where a request need not send it (see [`RequestRules`]). The response component is named by
//! the message's full name (`pkg.User`), the request one adds `-Input`
//! (`pkg.User-Input`; `-` cannot occur in a proto name, so the two never
//! collide). The names depend only on the direction, so a message that
//! starts being used both ways does not rename anything.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use prost_reflect::{EnumDescriptor, FieldDescriptor};
use serde_json::{Map, Value as Json, json};

use super::annotations::Annotations;
use crate::comments::Comments;
use crate::json::{FieldPlan, JsonCodec, Shape, ValuePlan, WellKnown, field_behavior};

pub(super) const STATUS_SCHEMA: &str = "google.rpc.Status";

/// Whether a schema describes what clients send or what they receive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Direction {
    Request,
    Response,
}

/// Where a `REQUIRED` field need not be sent, so a request schema must not
/// require it (a generated client would then insist on it).
#[derive(Debug, Default)]
pub(super) struct RequestRules {
    /// `(message plan, field index)`: a top-level field of a `body: "*"`
    /// request that a path variable binds; the path supplies it.
    pub(super) path_bound: HashSet<(usize, usize)>,
    /// Messages that are the body of an AIP-134 update (PATCH of a field,
    /// with an update mask): such a body carries only the fields it changes.
    pub(super) partial: HashSet<usize>,
}

pub(super) struct Schemas<'a> {
    codec: &'a JsonCodec,
    comments: &'a Comments,
    annotations: &'a Annotations,
    request_rules: RequestRules,
    components: BTreeMap<String, Json>,
    pending_messages: Vec<(usize, Direction)>,
    pending_enums: Vec<EnumDescriptor>,
}

impl<'a> Schemas<'a> {
    pub(super) fn new(
        codec: &'a JsonCodec,
        comments: &'a Comments,
        annotations: &'a Annotations,
        request_rules: RequestRules,
    ) -> Self {
        Schemas {
            codec,
            comments,
            annotations,
            request_rules,
            components: BTreeMap::new(),
            pending_messages: Vec::new(),
            pending_enums: Vec::new(),
        }
    }

    /// Every component referenced so far, with the error body's.
    pub(super) fn finish(mut self) -> BTreeMap<String, Json> {
        self.components
            .insert(STATUS_SCHEMA.to_owned(), status_schema());
        loop {
            if let Some((index, direction)) = self.pending_messages.pop() {
                let schema = self.message_component(index, direction);
                let name =
                    component_name(self.codec.message(index).descriptor.full_name(), direction);
                self.components.insert(name, schema);
            } else if let Some(enum_descriptor) = self.pending_enums.pop() {
                let name = enum_descriptor.full_name().to_owned();
                if !self.components.contains_key(&name) {
                    let schema = self.enum_component(&enum_descriptor);
                    self.components.insert(name, schema);
                }
            } else {
                return self.components;
            }
        }
    }

    pub(super) fn field_comment(&self, field: &FieldDescriptor) -> Option<String> {
        self.comments
            .get(&field.parent_file(), field.path())
            .map(str::to_owned)
    }

    /// The schema of a field, as a property of its message (or a body).
    pub(super) fn field_schema(&mut self, field: &FieldPlan, direction: Direction) -> Json {
        let value = self.element_schema(&field.descriptor, &field.value, direction);
        let mut schema = match &field.shape {
            Shape::Singular if field.has_presence => nullable(value),
            Shape::Singular => value,
            Shape::Repeated => json!({ "type": "array", "items": value }),
            Shape::Map { .. } => json!({ "type": "object", "additionalProperties": value }),
        };
        if let Some(comment) = self.field_comment(&field.descriptor) {
            // Keep the type's own note (such as "milliseconds since the
            // epoch") after the field's comment rather than replacing it.
            let description = match schema.get("description").and_then(Json::as_str) {
                Some(rule) => format!("{comment}\n\n{rule}"),
                None => comment,
            };
            schema["description"] = json!(description);
        }
        if field.has_behavior(field_behavior::OUTPUT_ONLY) {
            schema["readOnly"] = json!(true);
        }
        if field.has_behavior(field_behavior::INPUT_ONLY) {
            schema["writeOnly"] = json!(true);
        }
        schema
    }

    /// The schema of a path or query parameter bound to `field`: never
    /// `null` (a parameter is present or absent), with the field's format
    /// and pattern, so a generator types it plainly and a fuzzer sends
    /// values the server accepts.
    pub(super) fn parameter_schema(
        &mut self,
        field: &FieldDescriptor,
        value: &ValuePlan,
        repeated: bool,
    ) -> Json {
        let schema = non_null(self.element_schema(field, value, Direction::Request));
        if repeated {
            json!({ "type": "array", "items": schema })
        } else {
            schema
        }
    }

    /// One value of `field` (the element of a list, the value of a map),
    /// with the field's `format` and `pattern` options on strings.
    fn element_schema(
        &mut self,
        field: &FieldDescriptor,
        value: &ValuePlan,
        direction: Direction,
    ) -> Json {
        let mut schema = self.value_schema(value, direction);
        if matches!(value, ValuePlan::String) {
            if let Some(format) = self.annotations.format(field) {
                schema["format"] = json!(format);
            }
            if let Some(pattern) = self.annotations.pattern(field) {
                schema["pattern"] = json!(pattern);
            }
        }
        schema
    }

    fn value_schema(&mut self, plan: &ValuePlan, direction: Direction) -> Json {
        match plan {
            ValuePlan::Bool => json!({ "type": "boolean" }),
            ValuePlan::Int32 => json!({ "type": "integer", "format": "int32" }),
            ValuePlan::Uint32 => json!({ "type": "integer", "format": "uint32", "minimum": 0 }),
            ValuePlan::Int64 => json!({
                "type": "string", "format": "int64", "pattern": "^-?[0-9]+$",
                "description": "A 64-bit integer as a decimal string (a JSON number is accepted on input).",
            }),
            ValuePlan::Uint64 => json!({
                "type": "string", "format": "uint64", "pattern": "^[0-9]+$",
                "description": "A 64-bit unsigned integer as a decimal string (a JSON number is accepted on input).",
            }),
            ValuePlan::Float => json!({ "type": "number", "format": "float" }),
            ValuePlan::Double => json!({ "type": "number", "format": "double" }),
            ValuePlan::String => json!({ "type": "string" }),
            ValuePlan::Bytes => {
                json!({ "type": "string", "format": "byte", "contentEncoding": "base64" })
            }
            ValuePlan::Uuid => json!({
                "type": ["string", "null"], "format": "uuid",
                "description": "Canonical lowercase UUID text; null when empty (input also accepts the base64 of the 16 bytes).",
            }),
            ValuePlan::Enum(enum_descriptor) => {
                self.pending_enums.push(enum_descriptor.clone());
                json!({ "$ref": component_ref(enum_descriptor.full_name()) })
            }
            ValuePlan::NullValue => json!({ "type": "null" }),
            ValuePlan::Message(index) => self.message_ref(*index, direction),
        }
    }

    /// A `$ref` to a message's component schema for `direction`, or the
    /// inline schema of a well-known type.
    pub(super) fn message_ref(&mut self, index: usize, direction: Direction) -> Json {
        let plan = self.codec.message(index);
        match plan.well_known {
            Some(WellKnown::Timestamp) => json!({
                "type": "integer", "format": "int64",
                "description": "Milliseconds since the Unix epoch (input also accepts RFC 3339 text).",
            }),
            Some(WellKnown::Duration) => json!({
                "type": "string", "pattern": "^-?[0-9]+(\\.[0-9]{1,9})?s$",
                "description": "A duration in seconds with an `s` suffix, such as `1.5s`.",
            }),
            Some(WellKnown::FieldMask) => json!({
                "type": "string",
                "description": "Comma-separated field paths, lowerCamelCase or snake_case.",
            }),
            Some(WellKnown::Empty) => json!({ "type": "object" }),
            Some(WellKnown::Struct) => json!({ "type": "object", "additionalProperties": true }),
            Some(WellKnown::Value) => json!({}),
            Some(WellKnown::ListValue) => json!({ "type": "array", "items": {} }),
            Some(WellKnown::Any) => any_schema(),
            Some(WellKnown::Wrapper) => {
                let inner = plan.fields[0].value.clone();
                nullable(self.value_schema(&inner, direction))
            }
            None => {
                let name = component_name(plan.descriptor.full_name(), direction);
                if !self.components.contains_key(&name) {
                    // Reserve the name now so recursive types terminate.
                    self.components.insert(name.clone(), Json::Null);
                    self.pending_messages.push((index, direction));
                }
                json!({ "$ref": component_ref(&name) })
            }
        }
    }

    fn message_component(&mut self, index: usize, direction: Direction) -> Json {
        let codec = self.codec;
        let plan = codec.message(index);
        let mut properties = Map::new();
        let mut required = BTreeSet::new();
        for (field_index, field) in plan.fields.iter().enumerate() {
            let input_only = field.has_behavior(field_behavior::INPUT_ONLY);
            if direction == Direction::Response && input_only {
                continue;
            }
            properties.insert(field.json_name.clone(), self.field_schema(field, direction));
            let is_required = match direction {
                Direction::Response => true,
                Direction::Request => {
                    field.has_behavior(field_behavior::REQUIRED)
                        && !self.request_rules.partial.contains(&index)
                        && !self
                            .request_rules
                            .path_bound
                            .contains(&(index, field_index))
                }
            };
            if is_required {
                required.insert(field.json_name.clone());
            }
        }
        let mut schema = json!({
            "type": "object",
            "properties": properties,
            "additionalProperties": false,
        });
        if !required.is_empty() {
            schema["required"] = json!(required);
        }
        let descriptor = &plan.descriptor;
        if let Some(comment) = self
            .comments
            .get(&descriptor.parent_file(), descriptor.path())
        {
            schema["description"] = json!(comment);
        }
        schema
    }

    fn enum_component(&self, enum_descriptor: &EnumDescriptor) -> Json {
        let names: Vec<String> = enum_descriptor
            .values()
            .map(|value| value.name().to_owned())
            .collect();
        let mut description = self
            .comments
            .get(&enum_descriptor.parent_file(), enum_descriptor.path())
            .map(|text| format!("{text}\n\n"))
            .unwrap_or_default();
        for value in enum_descriptor.values() {
            description.push_str(&format!("- `{}`", value.name()));
            if let Some(comment) = self.comments.get(&value.parent_file(), value.path()) {
                description.push_str(": ");
                description.push_str(&comment.replace('\n', " "));
            }
            description.push('\n');
        }
        json!({
            "type": "string",
            "enum": names,
            "description": description.trim_end(),
        })
    }
}

/// The component a message's schema is stored under for `direction`.
pub(super) fn component_name(full_name: &str, direction: Direction) -> String {
    match direction {
        Direction::Response => full_name.to_owned(),
        Direction::Request => format!("{full_name}-Input"),
    }
}

pub(super) fn component_ref(name: &str) -> String {
    format!("#/components/schemas/{name}")
}

/// Allows `null` besides the schema: unset fields with presence print null.
fn nullable(schema: Json) -> Json {
    if schema.get("$ref").is_some() {
        return json!({ "anyOf": [schema, { "type": "null" }] });
    }
    let mut schema = schema;
    match schema.get("type").cloned() {
        Some(Json::String(kind)) => {
            schema["type"] = json!([kind, "null"]);
            schema
        }
        Some(Json::Array(mut kinds)) => {
            if !kinds.contains(&json!("null")) {
                kinds.push(json!("null"));
            }
            schema["type"] = Json::Array(kinds);
            schema
        }
        _ => schema,
    }
}

/// Takes `null` out of a schema [`nullable`] (or the UUID rule) allowed.
fn non_null(schema: Json) -> Json {
    let mut schema = schema;
    if let Some(Json::Array(kinds)) = schema.get("type").cloned() {
        let kept: Vec<Json> = kinds.into_iter().filter(|kind| kind != "null").collect();
        schema["type"] = match kept.as_slice() {
            [only] => only.clone(),
            _ => Json::Array(kept),
        };
    }
    if let Some(Json::String(description)) = schema.get("description").cloned() {
        // The UUID rule's "null when empty" is about bodies.
        schema["description"] = json!(description.replace("; null when empty", ""));
    }
    schema
}

fn any_schema() -> Json {
    json!({
        "type": "object",
        "properties": { "@type": { "type": "string", "description": "The type URL of the message, such as `type.googleapis.com/google.rpc.BadRequest`." } },
        "required": ["@type"],
        "additionalProperties": true,
        "description": "A message of any type: its fields beside `@type`, or its JSON under `value` for a well-known type.",
    })
}

fn status_schema() -> Json {
    json!({
        "type": "object",
        "description": "The error body of every failed request: google.rpc.Status as JSON.",
        "properties": {
            "code": { "type": "integer", "format": "int32", "description": "The gRPC status code, such as 3 for INVALID_ARGUMENT." },
            "message": { "type": "string", "description": "A lowercase, specific description of the error." },
            "details": { "type": "array", "items": any_schema(), "description": "Machine-readable details, such as google.rpc.BadRequest." },
        },
        "required": ["code", "message", "details"],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_never_null() {
        assert_eq!(
            non_null(json!({"type": ["string", "null"], "format": "uuid",
                "description": "Canonical lowercase UUID text; null when empty (input also accepts the base64 of the 16 bytes)."})),
            json!({"type": "string", "format": "uuid",
                "description": "Canonical lowercase UUID text (input also accepts the base64 of the 16 bytes)."})
        );
        assert_eq!(
            non_null(nullable(json!({"type": "integer"}))),
            json!({"type": "integer"})
        );
    }

    #[test]
    fn request_and_response_components_have_their_own_names() {
        assert_eq!(component_name("pkg.User", Direction::Response), "pkg.User");
        assert_eq!(
            component_name("pkg.User", Direction::Request),
            "pkg.User-Input"
        );
    }
}
