//! Protobuf → JSON, written straight into a byte buffer (no intermediate
//! JSON tree). Encoding cannot fail: a value that has no JSON form (a UUID
//! field holding other than 16 bytes, an `Any` of an unknown type) falls back
//! to the closest faithful form instead of dropping the response.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use prost_reflect::{DynamicMessage, MapKey, Value};

use super::escape::write_json_string;
use super::names::snake_to_lower_camel;
use super::{FieldPlan, JsonCodec, Shape, ValuePlan, WellKnown, field_behavior};

impl JsonCodec {
    /// Appends the JSON of `message`, whose type has plan `index`.
    pub(crate) fn encode_message(&self, index: usize, message: &DynamicMessage, out: &mut Vec<u8>) {
        let plan = self.message(index);
        if let Some(well_known) = plan.well_known {
            self.encode_well_known(well_known, index, message, out);
            return;
        }
        out.push(b'{');
        self.encode_fields(index, message, out, false);
        out.push(b'}');
    }

    /// Appends every field as `"name":value`, comma-separated; a leading
    /// comma when `after_other_members` (used after `"@type"` in an `Any`).
    /// Fields marked `INPUT_ONLY` (such as a password) are never written.
    fn encode_fields(
        &self,
        index: usize,
        message: &DynamicMessage,
        out: &mut Vec<u8>,
        after_other_members: bool,
    ) {
        let mut needs_comma = after_other_members;
        for field in &self.message(index).fields {
            if field.has_behavior(field_behavior::INPUT_ONLY) {
                continue;
            }
            if needs_comma {
                out.push(b',');
            }
            needs_comma = true;
            out.extend_from_slice(&field.json_key);
            self.encode_field(field, message, out);
        }
    }

    /// Appends the JSON value of one field of `message` (without its name).
    pub(crate) fn encode_field(
        &self,
        field: &FieldPlan,
        message: &DynamicMessage,
        out: &mut Vec<u8>,
    ) {
        match &field.shape {
            Shape::Singular => {
                if field.has_presence && !message.has_field(&field.descriptor) {
                    out.extend_from_slice(b"null");
                } else {
                    self.encode_value(&field.value, &message.get_field(&field.descriptor), out);
                }
            }
            Shape::Repeated => {
                let value = message.get_field(&field.descriptor);
                self.encode_list(&field.value, value.as_list().unwrap_or_default(), out);
            }
            Shape::Map { .. } => {
                let value = message.get_field(&field.descriptor);
                out.push(b'{');
                if let Some(map) = value.as_map() {
                    // Sorted keys keep the output deterministic (stable
                    // etags, caches and diffs) whatever the hash order.
                    let mut entries: Vec<(&MapKey, &Value)> = map.iter().collect();
                    entries.sort_unstable_by(|left, right| left.0.cmp(right.0));
                    for (position, (key, value)) in entries.into_iter().enumerate() {
                        if position > 0 {
                            out.push(b',');
                        }
                        write_map_key(out, key);
                        out.push(b':');
                        self.encode_value(&field.value, value, out);
                    }
                }
                out.push(b'}');
            }
        }
    }

    fn encode_list(&self, plan: &ValuePlan, values: &[Value], out: &mut Vec<u8>) {
        out.push(b'[');
        for (position, value) in values.iter().enumerate() {
            if position > 0 {
                out.push(b',');
            }
            self.encode_value(plan, value, out);
        }
        out.push(b']');
    }

    pub(crate) fn encode_value(&self, plan: &ValuePlan, value: &Value, out: &mut Vec<u8>) {
        match (plan, value) {
            (ValuePlan::Bool, Value::Bool(flag)) => {
                out.extend_from_slice(if *flag { b"true" } else { b"false" });
            }
            (ValuePlan::Int32, Value::I32(number)) => write_integer(out, *number),
            (ValuePlan::Uint32, Value::U32(number)) => write_integer(out, *number),
            (ValuePlan::Int64, Value::I64(number)) => write_quoted_integer(out, *number),
            (ValuePlan::Uint64, Value::U64(number)) => write_quoted_integer(out, *number),
            (ValuePlan::Float, Value::F32(number)) => write_f32(out, *number),
            (ValuePlan::Double, Value::F64(number)) => write_f64(out, *number),
            (ValuePlan::String, Value::String(text)) => write_json_string(out, text),
            (ValuePlan::Bytes, Value::Bytes(bytes)) => write_base64(out, bytes),
            (ValuePlan::Uuid, Value::Bytes(bytes)) => write_uuid(out, bytes),
            (ValuePlan::Enum(enum_descriptor), Value::EnumNumber(number)) => {
                match enum_descriptor.get_value(*number) {
                    Some(enum_value) => write_json_string(out, enum_value.name()),
                    // An open enum may carry a number this schema does not name.
                    None => write_integer(out, *number),
                }
            }
            (ValuePlan::NullValue, _) => out.extend_from_slice(b"null"),
            (ValuePlan::Message(index), Value::Message(message)) => {
                self.encode_message(*index, message, out);
            }
            // A DynamicMessage only holds values of its field's type, so this
            // arm is unreachable for messages built by prost-reflect.
            _ => out.extend_from_slice(b"null"),
        }
    }

    fn encode_well_known(
        &self,
        well_known: WellKnown,
        index: usize,
        message: &DynamicMessage,
        out: &mut Vec<u8>,
    ) {
        match well_known {
            WellKnown::Timestamp => {
                let seconds = field_i64(message, 1);
                let nanos = i64::from(field_i32(message, 2));
                let millis = seconds
                    .saturating_mul(1000)
                    .saturating_add(nanos.div_euclid(1_000_000));
                write_integer(out, millis);
            }
            WellKnown::Duration => {
                let duration = prost_types::Duration {
                    seconds: field_i64(message, 1),
                    nanos: field_i32(message, 2),
                };
                write_json_string(out, &duration.to_string());
            }
            WellKnown::FieldMask => {
                let paths = message.get_field_by_number(1);
                let mut joined = String::new();
                if let Some(paths) = paths.as_deref().and_then(Value::as_list) {
                    for (position, path) in paths.iter().filter_map(Value::as_str).enumerate() {
                        if position > 0 {
                            joined.push(',');
                        }
                        joined.push_str(&snake_to_lower_camel(path));
                    }
                }
                write_json_string(out, &joined);
            }
            WellKnown::Empty => out.extend_from_slice(b"{}"),
            WellKnown::Wrapper => {
                let plan = &self.message(index).fields[0];
                self.encode_value(&plan.value, &message.get_field(&plan.descriptor), out);
            }
            WellKnown::Struct => self.encode_field(&self.message(index).fields[0], message, out),
            WellKnown::ListValue => self.encode_field(&self.message(index).fields[0], message, out),
            WellKnown::Value => self.encode_struct_value(index, message, out),
            WellKnown::Any => self.encode_any(message, out),
        }
    }

    /// `google.protobuf.Value`: whichever member of its `kind` oneof is set.
    fn encode_struct_value(&self, index: usize, message: &DynamicMessage, out: &mut Vec<u8>) {
        let plan = self.message(index);
        let set_member = plan
            .fields
            .iter()
            .find(|field| message.has_field(&field.descriptor));
        match set_member {
            Some(field) if field.descriptor.number() == 2 => {
                // JSON has no NaN or infinity; proto3 JSON forbids them in a Value.
                match message.get_field(&field.descriptor).as_f64() {
                    Some(number) if number.is_finite() => write_f64(out, number),
                    _ => out.extend_from_slice(b"null"),
                }
            }
            Some(field) => {
                self.encode_value(&field.value, &message.get_field(&field.descriptor), out)
            }
            None => out.extend_from_slice(b"null"),
        }
    }

    /// `google.protobuf.Any`: `{"@type": url, ...fields}`, or `"value"` for a
    /// well-known type. A type missing from the pool keeps its raw bytes as
    /// base64 under `"value"` so nothing is silently lost.
    pub(crate) fn encode_any(&self, message: &DynamicMessage, out: &mut Vec<u8>) {
        let type_url = message
            .get_field_by_number(1)
            .and_then(|value| value.as_str().map(str::to_owned))
            .unwrap_or_default();
        let payload = message
            .get_field_by_number(2)
            .and_then(|value| value.as_bytes().cloned())
            .unwrap_or_default();
        self.encode_any_parts(&type_url, &payload, out);
    }

    /// The JSON of an `Any` given its type URL and serialized payload.
    pub(crate) fn encode_any_parts(&self, type_url: &str, payload: &[u8], out: &mut Vec<u8>) {
        if type_url.is_empty() && payload.is_empty() {
            out.extend_from_slice(b"{}");
            return;
        }
        out.extend_from_slice(b"{\"@type\":");
        write_json_string(out, type_url);
        let decoded = self.plan_for_type_url(type_url).and_then(|index| {
            let descriptor = self.message(index).descriptor.clone();
            DynamicMessage::decode(descriptor, payload)
                .ok()
                .map(|inner| (index, inner))
        });
        match decoded {
            Some((index, inner)) if self.message(index).well_known.is_some() => {
                out.extend_from_slice(b",\"value\":");
                self.encode_message(index, &inner, out);
            }
            Some((index, inner)) => self.encode_fields(index, &inner, out, true),
            None => {
                out.extend_from_slice(b",\"value\":");
                write_base64(out, payload);
            }
        }
        out.push(b'}');
    }
}

fn field_i64(message: &DynamicMessage, number: u32) -> i64 {
    message
        .get_field_by_number(number)
        .and_then(|value| value.as_i64())
        .unwrap_or(0)
}

fn field_i32(message: &DynamicMessage, number: u32) -> i32 {
    message
        .get_field_by_number(number)
        .and_then(|value| value.as_i32())
        .unwrap_or(0)
}

pub(crate) fn write_integer(out: &mut Vec<u8>, number: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(number).as_bytes());
}

/// 64-bit integers are strings in proto3 JSON: JavaScript numbers lose
/// precision above 2^53.
pub(crate) fn write_quoted_integer(out: &mut Vec<u8>, number: impl itoa::Integer) {
    out.push(b'"');
    write_integer(out, number);
    out.push(b'"');
}

pub(crate) fn write_f64(out: &mut Vec<u8>, number: f64) {
    if number.is_finite() {
        out.extend_from_slice(ryu::Buffer::new().format_finite(number).as_bytes());
    } else {
        write_non_finite(out, number.is_nan(), number.is_sign_negative());
    }
}

pub(crate) fn write_f32(out: &mut Vec<u8>, number: f32) {
    if number.is_finite() {
        // The f32 formatter prints the shortest text that reads back as the
        // same f32 (0.1, not 0.10000000149011612).
        out.extend_from_slice(ryu::Buffer::new().format_finite(number).as_bytes());
    } else {
        write_non_finite(out, number.is_nan(), number.is_sign_negative());
    }
}

fn write_non_finite(out: &mut Vec<u8>, is_nan: bool, is_negative: bool) {
    out.extend_from_slice(match (is_nan, is_negative) {
        (true, _) => b"\"NaN\"",
        (false, false) => b"\"Infinity\"",
        (false, true) => b"\"-Infinity\"",
    });
}

pub(crate) fn write_base64(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    let start = out.len();
    let encoded_len = bytes.len().div_ceil(3) * 4;
    out.resize(start + encoded_len, 0);
    let written = STANDARD.encode_slice(bytes, &mut out[start..]).unwrap_or(0);
    out.truncate(start + written);
    out.push(b'"');
}

/// Canonical lowercase UUID text; an empty field is `null` (no id), and a
/// value that is not 16 bytes long keeps its bytes as base64.
pub(crate) fn write_uuid(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.is_empty() {
        out.extend_from_slice(b"null");
        return;
    }
    match uuid::Uuid::from_slice(bytes) {
        Ok(uuid) => {
            let mut buffer = uuid::Uuid::encode_buffer();
            out.push(b'"');
            out.extend_from_slice(uuid.hyphenated().encode_lower(&mut buffer).as_bytes());
            out.push(b'"');
        }
        Err(_) => write_base64(out, bytes),
    }
}

fn write_map_key(out: &mut Vec<u8>, key: &MapKey) {
    match key {
        MapKey::String(text) => write_json_string(out, text),
        MapKey::Bool(flag) => out.extend_from_slice(if *flag { b"\"true\"" } else { b"\"false\"" }),
        MapKey::I32(number) => write_quoted_integer(out, *number),
        MapKey::I64(number) => write_quoted_integer(out, *number),
        MapKey::U32(number) => write_quoted_integer(out, *number),
        MapKey::U64(number) => write_quoted_integer(out, *number),
    }
}
