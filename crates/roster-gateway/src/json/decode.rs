//! JSON → protobuf. Unknown fields and values of the wrong type are errors
//! that name the field, using the spelling the client sent.

use std::collections::HashMap;

use bytes::Bytes;
use prost::Message as _;
use prost_reflect::{DynamicMessage, MapKey, Value};
use serde_json::Value as Json;

use super::text::{
    decode_base64, duration_from_text, enum_from_text, integral_f64_to_i64, integral_f64_to_u64,
    parse_f64, parse_i64, parse_u64, set_by_number, timestamp_from_millis, timestamp_from_text,
    to_f32, uuid_from_text,
};
use super::{FieldPlan, JsonCodec, Shape, ValuePlan, WellKnown};
use crate::errors::FieldViolation;

/// A value in a JSON body that does not fit the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JsonDecodeError {
    /// The whole human-readable message, e.g. `unknown field "foo" in user`.
    pub(crate) message: String,
    /// The dotted path of the offending field, e.g. `user.foo`.
    pub(crate) field: String,
    /// What is wrong with it, without the path.
    pub(crate) description: String,
}

impl JsonDecodeError {
    pub(crate) fn violation(&self) -> FieldViolation {
        FieldViolation {
            field: self.field.clone(),
            description: self.description.clone(),
        }
    }
}

/// Where the decoder is, for error messages: a root name (the body field, or
/// empty for a whole-message body) and the members walked below it.
struct JsonPath<'a> {
    root: &'a str,
    steps: Vec<Step<'a>>,
}

enum Step<'a> {
    Field(&'a str),
    Index(usize),
    Key(&'a str),
}

impl JsonPath<'_> {
    fn render(&self) -> String {
        let mut rendered = self.root.to_owned();
        for step in &self.steps {
            match step {
                Step::Field(name) => {
                    if !rendered.is_empty() {
                        rendered.push('.');
                    }
                    rendered.push_str(name);
                }
                Step::Index(index) => {
                    rendered.push('[');
                    rendered.push_str(itoa::Buffer::new().format(*index));
                    rendered.push(']');
                }
                Step::Key(key) => {
                    rendered.push('[');
                    rendered.push_str(&serde_json::Value::String((*key).to_owned()).to_string());
                    rendered.push(']');
                }
            }
        }
        rendered
    }

    fn invalid(&self, description: impl Into<String>) -> JsonDecodeError {
        let description = description.into();
        let field = self.render();
        let message = if field.is_empty() {
            format!("invalid request body: {description}")
        } else {
            format!("invalid value for {field}: {description}")
        };
        JsonDecodeError {
            message,
            field,
            description,
        }
    }

    fn unknown_field(&self, name: &str) -> JsonDecodeError {
        let location = self.render();
        let message = if location.is_empty() {
            format!("unknown field {name:?} in the request body")
        } else {
            format!("unknown field {name:?} in {location}")
        };
        let field = if location.is_empty() {
            name.to_owned()
        } else {
            format!("{location}.{name}")
        };
        JsonDecodeError {
            message,
            field,
            description: "unknown field".to_owned(),
        }
    }
}

type Decoded<T> = Result<T, JsonDecodeError>;

impl JsonCodec {
    /// Merges a JSON object into `message` (a `body: "*"` request).
    pub(crate) fn merge_json(
        &self,
        index: usize,
        json: &Json,
        message: &mut DynamicMessage,
    ) -> Decoded<()> {
        let mut path = JsonPath {
            root: "",
            steps: Vec::new(),
        };
        if self.message(index).well_known.is_some() {
            let decoded = self.decode_message(index, json, &mut path)?;
            *message = decoded;
            return Ok(());
        }
        self.merge_object(index, json, message, &mut path)
    }

    /// Decodes a JSON value as the value of `field` and sets it (a
    /// `body: "field"` request). `root` names the field in errors.
    pub(crate) fn decode_field_json(
        &self,
        field: &FieldPlan,
        json: &Json,
        message: &mut DynamicMessage,
        root: &str,
    ) -> Decoded<()> {
        let mut path = JsonPath {
            root,
            steps: Vec::new(),
        };
        self.decode_field_into(field, json, message, &mut path)
    }

    fn decode_message<'j>(
        &self,
        index: usize,
        json: &'j Json,
        path: &mut JsonPath<'j>,
    ) -> Decoded<DynamicMessage> {
        let plan = self.message(index);
        let Some(well_known) = plan.well_known else {
            let mut message = DynamicMessage::new(plan.descriptor.clone());
            self.merge_object(index, json, &mut message, path)?;
            return Ok(message);
        };
        let built = match well_known {
            WellKnown::Timestamp => {
                let (seconds, nanos) = match json {
                    Json::Number(number) => {
                        let millis = number
                            .as_i64()
                            .or_else(|| {
                                number
                                    .as_f64()
                                    .filter(|f| f.fract() == 0.0)
                                    .and_then(integral_f64_to_i64)
                            })
                            .ok_or_else(|| {
                                path.invalid("expected integer milliseconds since the epoch")
                            })?;
                        timestamp_from_millis(millis).map_err(|reason| path.invalid(reason))?
                    }
                    Json::String(text) => {
                        timestamp_from_text(text).map_err(|reason| path.invalid(reason))?
                    }
                    _ => {
                        return Err(path.invalid(
                            "expected milliseconds since the epoch or an RFC 3339 timestamp",
                        ));
                    }
                };
                self.seconds_nanos_message(index, seconds, nanos)
            }
            WellKnown::Duration => {
                let text = json
                    .as_str()
                    .ok_or_else(|| path.invalid("expected a duration string such as \"1.5s\""))?;
                let (seconds, nanos) =
                    duration_from_text(text).map_err(|reason| path.invalid(reason))?;
                self.seconds_nanos_message(index, seconds, nanos)
            }
            WellKnown::FieldMask => {
                let text = json
                    .as_str()
                    .ok_or_else(|| path.invalid("expected a comma-separated field mask string"))?;
                self.field_mask_message(index, text.split(',').filter(|p| !p.is_empty()))
            }
            WellKnown::Empty => {
                let object = json
                    .as_object()
                    .ok_or_else(|| path.invalid("expected an object"))?;
                if let Some(name) = object.keys().next() {
                    return Err(path.unknown_field(name));
                }
                Ok(DynamicMessage::new(plan.descriptor.clone()))
            }
            WellKnown::Wrapper => {
                let inner = self.decode_value(&plan.fields[0].value, json, path)?;
                self.wrapper_message(index, inner)
            }
            WellKnown::Struct => {
                if !json.is_object() {
                    return Err(path.invalid("expected an object"));
                }
                let mut message = DynamicMessage::new(plan.descriptor.clone());
                self.decode_field_into(&plan.fields[0], json, &mut message, path)?;
                Ok(message)
            }
            WellKnown::ListValue => {
                if !json.is_array() {
                    return Err(path.invalid("expected an array"));
                }
                let mut message = DynamicMessage::new(plan.descriptor.clone());
                self.decode_field_into(&plan.fields[0], json, &mut message, path)?;
                Ok(message)
            }
            WellKnown::Value => return self.decode_struct_value(index, json, path),
            WellKnown::Any => return self.decode_any(index, json, path),
        };
        built.map_err(|reason| path.invalid(reason))
    }

    fn merge_object<'j>(
        &self,
        index: usize,
        json: &'j Json,
        message: &mut DynamicMessage,
        path: &mut JsonPath<'j>,
    ) -> Decoded<()> {
        let plan = self.message(index);
        let object = json
            .as_object()
            .ok_or_else(|| path.invalid("expected an object"))?;
        // Which field each member set, to reject one field given under both
        // of its names and two members of one oneof.
        let mut seen: Vec<Option<&str>> = vec![None; plan.fields.len()];
        let mut oneofs_seen: HashMap<usize, &str> = HashMap::new();
        for (name, value) in object {
            let Some((field_index, field)) = plan.field_by_name(name) else {
                return Err(path.unknown_field(name));
            };
            if let Some(previous) = seen[field_index] {
                path.steps.push(Step::Field(name));
                let error =
                    path.invalid(format!("field given twice, as {previous:?} and {name:?}"));
                path.steps.pop();
                return Err(error);
            }
            seen[field_index] = Some(name);
            if value.is_null() && !accepts_null(self, field) {
                continue;
            }
            if let Some(oneof) = field.oneof
                && let Some(other) = oneofs_seen.insert(oneof, name)
            {
                path.steps.push(Step::Field(name));
                let error = path.invalid(format!(
                    "{other:?} and {name:?} are members of one oneof; set at most one"
                ));
                path.steps.pop();
                return Err(error);
            }
            path.steps.push(Step::Field(name));
            self.decode_field_into(field, value, message, path)?;
            path.steps.pop();
        }
        Ok(())
    }

    fn decode_field_into<'j>(
        &self,
        field: &FieldPlan,
        json: &'j Json,
        message: &mut DynamicMessage,
        path: &mut JsonPath<'j>,
    ) -> Decoded<()> {
        let value = match &field.shape {
            Shape::Singular => {
                if json.is_null() && !accepts_null(self, field) {
                    message.clear_field(&field.descriptor);
                    return Ok(());
                }
                self.decode_value(&field.value, json, path)?
            }
            Shape::Repeated => {
                let elements = match json {
                    Json::Array(elements) => elements,
                    Json::Null => return Ok(()),
                    _ => return Err(path.invalid("expected an array")),
                };
                let mut list = Vec::with_capacity(elements.len());
                for (position, element) in elements.iter().enumerate() {
                    path.steps.push(Step::Index(position));
                    if element.is_null() && !self.value_accepts_null(&field.value) {
                        return Err(path.invalid("null is not allowed in a list"));
                    }
                    list.push(self.decode_value(&field.value, element, path)?);
                    path.steps.pop();
                }
                Value::List(list)
            }
            Shape::Map { key, .. } => {
                let entries = match json {
                    Json::Object(entries) => entries,
                    Json::Null => return Ok(()),
                    _ => return Err(path.invalid("expected an object")),
                };
                let mut map = HashMap::with_capacity(entries.len());
                for (key_text, element) in entries {
                    path.steps.push(Step::Key(key_text));
                    let map_key =
                        map_key_from_text(key, key_text).map_err(|reason| path.invalid(reason))?;
                    if element.is_null() && !self.value_accepts_null(&field.value) {
                        return Err(path.invalid("null is not allowed as a map value"));
                    }
                    let map_value = self.decode_value(&field.value, element, path)?;
                    map.insert(map_key, map_value);
                    path.steps.pop();
                }
                Value::Map(map)
            }
        };
        if is_unset_default(field, &value) {
            // Keep messages canonical: a proto3 field without presence that
            // holds its default is the same as an absent one.
            message.clear_field(&field.descriptor);
            return Ok(());
        }
        message
            .try_set_field(&field.descriptor, value)
            .map_err(|error| path.invalid(error.to_string()))
    }

    fn value_accepts_null(&self, plan: &ValuePlan) -> bool {
        match plan {
            // An empty UUID prints as null, also inside lists and maps.
            ValuePlan::NullValue | ValuePlan::Uuid => true,
            ValuePlan::Message(index) => self.message(*index).well_known == Some(WellKnown::Value),
            _ => false,
        }
    }

    fn decode_value<'j>(
        &self,
        plan: &ValuePlan,
        json: &'j Json,
        path: &mut JsonPath<'j>,
    ) -> Decoded<Value> {
        let value = match plan {
            ValuePlan::Bool => match json {
                Json::Bool(flag) => Value::Bool(*flag),
                Json::String(text) if text == "true" || text == "false" => {
                    Value::Bool(text == "true")
                }
                _ => return Err(path.invalid("expected true or false")),
            },
            ValuePlan::Int32 => {
                let number = json_i64(json).map_err(|reason| path.invalid(reason))?;
                Value::I32(
                    i32::try_from(number).map_err(|_| path.invalid("out of range for int32"))?,
                )
            }
            ValuePlan::Int64 => Value::I64(json_i64(json).map_err(|reason| path.invalid(reason))?),
            ValuePlan::Uint32 => {
                let number = json_u64(json).map_err(|reason| path.invalid(reason))?;
                Value::U32(
                    u32::try_from(number).map_err(|_| path.invalid("out of range for uint32"))?,
                )
            }
            ValuePlan::Uint64 => Value::U64(json_u64(json).map_err(|reason| path.invalid(reason))?),
            ValuePlan::Float => {
                let number = json_f64(json).map_err(|reason| path.invalid(reason))?;
                Value::F32(to_f32(number).map_err(|reason| path.invalid(reason))?)
            }
            ValuePlan::Double => Value::F64(json_f64(json).map_err(|reason| path.invalid(reason))?),
            ValuePlan::String => match json {
                Json::String(text) => Value::String(text.clone()),
                _ => return Err(path.invalid("expected a string")),
            },
            ValuePlan::Bytes => {
                let text = json
                    .as_str()
                    .ok_or_else(|| path.invalid("expected a base64 string"))?;
                Value::Bytes(Bytes::from(
                    decode_base64(text).map_err(|reason| path.invalid(reason))?,
                ))
            }
            ValuePlan::Uuid => match json {
                Json::Null => Value::Bytes(Bytes::new()),
                Json::String(text) => {
                    Value::Bytes(uuid_from_text(text).map_err(|reason| path.invalid(reason))?)
                }
                _ => return Err(path.invalid("expected a UUID string")),
            },
            ValuePlan::Enum(enum_descriptor) => match json {
                Json::String(text) => Value::EnumNumber(
                    enum_from_text(enum_descriptor, text).map_err(|reason| path.invalid(reason))?,
                ),
                Json::Number(number) => Value::EnumNumber(
                    number
                        .as_i64()
                        .and_then(|n| i32::try_from(n).ok())
                        .ok_or_else(|| path.invalid("expected an enum name or a 32-bit number"))?,
                ),
                _ => return Err(path.invalid("expected an enum name")),
            },
            ValuePlan::NullValue => match json {
                Json::Null => Value::EnumNumber(0),
                Json::String(text) if text == "NULL_VALUE" => Value::EnumNumber(0),
                _ => return Err(path.invalid("expected null")),
            },
            ValuePlan::Message(index) => Value::Message(self.decode_message(*index, json, path)?),
        };
        Ok(value)
    }

    /// `google.protobuf.Value`: any JSON.
    fn decode_struct_value<'j>(
        &self,
        index: usize,
        json: &'j Json,
        path: &mut JsonPath<'j>,
    ) -> Decoded<DynamicMessage> {
        let plan = self.message(index);
        let mut message = DynamicMessage::new(plan.descriptor.clone());
        let (number, value) = match json {
            Json::Null => (1, Value::EnumNumber(0)),
            Json::Number(number) => (2, Value::F64(number.as_f64().unwrap_or(f64::NAN))),
            Json::String(text) => (3, Value::String(text.clone())),
            Json::Bool(flag) => (4, Value::Bool(*flag)),
            Json::Object(_) | Json::Array(_) => {
                let member_number = if json.is_object() { 5 } else { 6 };
                let Some(member) = plan
                    .fields
                    .iter()
                    .find(|f| f.descriptor.number() == member_number)
                else {
                    return Err(path.invalid("google.protobuf.Value has no such member"));
                };
                let ValuePlan::Message(member_index) = member.value else {
                    return Err(path.invalid("google.protobuf.Value has no such member"));
                };
                (
                    member_number,
                    Value::Message(self.decode_message(member_index, json, path)?),
                )
            }
        };
        set_by_number(&mut message, number, value).map_err(|reason| path.invalid(reason))?;
        Ok(message)
    }

    /// `google.protobuf.Any`: `{"@type": url, ...}`; a well-known type
    /// carries its JSON under `"value"`.
    fn decode_any<'j>(
        &self,
        index: usize,
        json: &'j Json,
        path: &mut JsonPath<'j>,
    ) -> Decoded<DynamicMessage> {
        let object = json
            .as_object()
            .ok_or_else(|| path.invalid("expected an object with \"@type\""))?;
        let mut message = DynamicMessage::new(self.message(index).descriptor.clone());
        if object.is_empty() {
            return Ok(message);
        }
        let type_url = object
            .get("@type")
            .and_then(Json::as_str)
            .ok_or_else(|| path.invalid("expected an object with \"@type\""))?;
        let inner_index = self
            .plan_for_type_url(type_url)
            .ok_or_else(|| path.invalid(format!("unknown type {type_url:?}")))?;
        let inner = if self.message(inner_index).well_known.is_some() {
            if let Some(name) = object.keys().find(|key| *key != "@type" && *key != "value") {
                return Err(path.unknown_field(name));
            }
            let value = object.get("value").unwrap_or(&Json::Null);
            self.decode_message(inner_index, value, path)?
        } else {
            let mut without_type = object.clone();
            without_type.remove("@type");
            let without_type = Json::Object(without_type);
            // The copy does not live as long as the path's borrowed names,
            // so decode it against a fresh path rooted where we are.
            let rendered = path.render();
            let mut inner_path = JsonPath {
                root: &rendered,
                steps: Vec::new(),
            };
            let mut inner = DynamicMessage::new(self.message(inner_index).descriptor.clone());
            self.merge_object(inner_index, &without_type, &mut inner, &mut inner_path)?;
            inner
        };
        set_by_number(&mut message, 1, Value::String(type_url.to_owned()))
            .map_err(|reason| path.invalid(reason))?;
        set_by_number(
            &mut message,
            2,
            Value::Bytes(Bytes::from(inner.encode_to_vec())),
        )
        .map_err(|reason| path.invalid(reason))?;
        Ok(message)
    }
}

/// Whether JSON `null` is a value for this field rather than "unset".
fn accepts_null(codec: &JsonCodec, field: &FieldPlan) -> bool {
    matches!(field.shape, Shape::Singular) && codec.value_accepts_null(&field.value)
}

fn is_unset_default(field: &FieldPlan, value: &Value) -> bool {
    match field.shape {
        Shape::Singular => !field.has_presence && value.is_default_for_field(&field.descriptor),
        Shape::Repeated => value.as_list().is_some_and(<[Value]>::is_empty),
        Shape::Map { .. } => value.as_map().is_some_and(HashMap::is_empty),
    }
}

fn json_i64(json: &Json) -> Result<i64, String> {
    match json {
        Json::Number(number) => number
            .as_i64()
            .or_else(|| {
                number
                    .as_f64()
                    .filter(|float| float.fract() == 0.0)
                    .and_then(integral_f64_to_i64)
            })
            .ok_or_else(|| format!("expected an integer, got {number}")),
        Json::String(text) => parse_i64(text),
        _ => Err("expected an integer".to_owned()),
    }
}

fn json_u64(json: &Json) -> Result<u64, String> {
    match json {
        Json::Number(number) => number
            .as_u64()
            .or_else(|| {
                number
                    .as_f64()
                    .filter(|float| float.fract() == 0.0)
                    .and_then(integral_f64_to_u64)
            })
            .ok_or_else(|| format!("expected an unsigned integer, got {number}")),
        Json::String(text) => parse_u64(text),
        _ => Err("expected an unsigned integer".to_owned()),
    }
}

fn json_f64(json: &Json) -> Result<f64, String> {
    match json {
        Json::Number(number) => number
            .as_f64()
            .ok_or_else(|| "expected a number".to_owned()),
        Json::String(text) => parse_f64(text),
        _ => Err("expected a number".to_owned()),
    }
}

fn map_key_from_text(plan: &ValuePlan, text: &str) -> Result<MapKey, String> {
    let key = match plan {
        ValuePlan::String => MapKey::String(text.to_owned()),
        ValuePlan::Bool => match text {
            "true" => MapKey::Bool(true),
            "false" => MapKey::Bool(false),
            _ => return Err(format!("expected a true or false map key, got {text:?}")),
        },
        ValuePlan::Int32 => MapKey::I32(
            text.parse()
                .map_err(|_| format!("expected an int32 map key, got {text:?}"))?,
        ),
        ValuePlan::Int64 => MapKey::I64(
            text.parse()
                .map_err(|_| format!("expected an int64 map key, got {text:?}"))?,
        ),
        ValuePlan::Uint32 => MapKey::U32(
            text.parse()
                .map_err(|_| format!("expected a uint32 map key, got {text:?}"))?,
        ),
        ValuePlan::Uint64 => MapKey::U64(
            text.parse()
                .map_err(|_| format!("expected a uint64 map key, got {text:?}"))?,
        ),
        _ => return Err("unsupported map key type".to_owned()),
    };
    Ok(key)
}
