//! The REST JSON rules, both directions, driven by a plan computed once per
//! message type at start-up.
//!
//! proto3 JSON mapping (lowerCamelCase names out, both spellings in, enums by
//! name, 64-bit integers as strings, bytes as base64, well-known types in
//! their JSON forms) with every field emitted on output, plus two project
//! rules: `google.protobuf.Timestamp` is integer milliseconds since the
//! epoch, and bytes fields carrying the configured UUID option are canonical
//! UUID text.

pub(crate) mod decode;
pub(crate) mod encode;
pub(crate) mod escape;
pub(crate) mod names;
pub(crate) mod text;
pub(crate) mod wire;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::collections::HashMap;

use prost_reflect::{
    Cardinality, DescriptorPool, EnumDescriptor, ExtensionDescriptor, FieldDescriptor, Kind,
    MessageDescriptor,
};

use crate::errors::GatewayError;

/// `google.api.FieldBehavior` values the gateway acts on.
pub(crate) mod field_behavior {
    pub(crate) const REQUIRED: i32 = 2;
    pub(crate) const OUTPUT_ONLY: i32 = 3;
    pub(crate) const INPUT_ONLY: i32 = 4;
    pub(crate) const IDENTIFIER: i32 = 8;
}

/// Well-known types with their own JSON form.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WellKnown {
    Timestamp,
    Duration,
    FieldMask,
    Empty,
    Struct,
    Value,
    ListValue,
    Any,
    /// `google.protobuf.*Value` wrappers: the JSON of their `value` field.
    Wrapper,
}

/// How one value (a singular field, a list element or a map value) looks in JSON.
#[derive(Clone, Debug)]
pub(crate) enum ValuePlan {
    Bool,
    Int32,
    Int64,
    Uint32,
    Uint64,
    Float,
    Double,
    String,
    Bytes,
    /// Bytes carrying the UUID option: UUID text.
    Uuid,
    Enum(EnumDescriptor),
    /// `google.protobuf.NullValue`: JSON `null`.
    NullValue,
    /// Index of the message's plan in [`JsonCodec::messages`].
    Message(usize),
}

/// Whether a field holds one value, a list or a map.
#[derive(Clone, Debug)]
pub(crate) enum Shape {
    Singular,
    Repeated,
    /// A map; `key` is the key type (the value type is the field's `value`).
    Map {
        key: ValuePlan,
        /// How the entry's key (field 1) and value (field 2) are encoded.
        key_wire: WireKind,
        value_wire: WireKind,
    },
}

/// How a value is laid out in protobuf wire format: what the JSON plan
/// merges (int32, sint32 and sfixed32 are all `Int32` in JSON) is told apart
/// here, so replies can be rendered from their bytes without decoding them
/// into a message first.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum WireKind {
    /// Plain varint: int32, int64, uint32, uint64, bool, enum.
    Varint,
    /// Zigzag varint: sint32, sint64.
    ZigzagVarint,
    /// 4 bytes: fixed32, sfixed32, float.
    Fixed32,
    /// 8 bytes: fixed64, sfixed64, double.
    Fixed64,
    /// Length-delimited: string, bytes, messages.
    Delimited,
}

impl WireKind {
    fn of(kind: &Kind) -> Self {
        match kind {
            Kind::Int32
            | Kind::Int64
            | Kind::Uint32
            | Kind::Uint64
            | Kind::Bool
            | Kind::Enum(_) => Self::Varint,
            Kind::Sint32 | Kind::Sint64 => Self::ZigzagVarint,
            Kind::Fixed32 | Kind::Sfixed32 | Kind::Float => Self::Fixed32,
            Kind::Fixed64 | Kind::Sfixed64 | Kind::Double => Self::Fixed64,
            Kind::String | Kind::Bytes | Kind::Message(_) => Self::Delimited,
        }
    }
}

/// Everything the codec needs about one field, computed once.
#[derive(Debug)]
pub(crate) struct FieldPlan {
    pub(crate) descriptor: FieldDescriptor,
    pub(crate) json_name: String,
    /// `"jsonName":`, ready to copy into the output.
    pub(crate) json_key: Vec<u8>,
    pub(crate) shape: Shape,
    /// The element type for lists and the value type for maps.
    pub(crate) value: ValuePlan,
    /// The field's number on the wire.
    pub(crate) number: u32,
    /// How a singular value or a list element is encoded (map entries are
    /// messages; their parts are in [`Shape::Map`]).
    pub(crate) wire: WireKind,
    /// Fields with presence (messages, oneof members, `optional`) print
    /// `null` when unset; the others print their default.
    pub(crate) has_presence: bool,
    /// Index of the containing real (non-synthetic) oneof, for conflict checks.
    pub(crate) oneof: Option<usize>,
    /// `google.api.field_behavior` values, when the pool knows that option.
    pub(crate) behaviors: Vec<i32>,
}

impl FieldPlan {
    pub(crate) fn has_behavior(&self, behavior: i32) -> bool {
        self.behaviors.contains(&behavior)
    }
}

/// Everything the codec needs about one message type.
#[derive(Debug)]
pub(crate) struct MessagePlan {
    pub(crate) descriptor: MessageDescriptor,
    pub(crate) well_known: Option<WellKnown>,
    pub(crate) fields: Vec<FieldPlan>,
    /// JSON name and proto name → index in `fields`.
    names: HashMap<String, usize>,
    /// Field number → index in `fields` + 1 (0: no such field), for the
    /// numbers up to [`DENSE_NUMBERS`]; larger ones are looked up in `fields`.
    by_number: Vec<u16>,
    /// Field indices of each real oneof, by the oneof's position.
    pub(crate) oneof_members: Vec<Vec<usize>>,
}

/// Field numbers up to this get a direct slot in [`MessagePlan::by_number`].
const DENSE_NUMBERS: u32 = 256;

impl MessagePlan {
    /// The field spelled `name` in JSON, a query string or a path template
    /// (lowerCamelCase or the original proto name).
    pub(crate) fn field_by_name(&self, name: &str) -> Option<(usize, &FieldPlan)> {
        let index = *self.names.get(name)?;
        Some((index, &self.fields[index]))
    }

    /// The index in `fields` of the field numbered `number`.
    pub(crate) fn field_by_number(&self, number: u32) -> Option<usize> {
        if number < DENSE_NUMBERS {
            let slot = *self.by_number.get(number as usize)?;
            return (slot != 0).then(|| usize::from(slot - 1));
        }
        self.fields.iter().position(|field| field.number == number)
    }
}

/// The JSON plans of every message in a descriptor pool.
#[derive(Debug)]
pub(crate) struct JsonCodec {
    pub(crate) messages: Vec<MessagePlan>,
    by_full_name: HashMap<String, usize>,
}

impl JsonCodec {
    pub(crate) fn new(
        pool: &DescriptorPool,
        uuid_option: Option<&str>,
    ) -> Result<JsonCodec, GatewayError> {
        let uuid_extension = match uuid_option {
            Some(name) => Some(
                pool.get_extension_by_name(name)
                    .filter(|extension| {
                        extension.containing_message().full_name() == "google.protobuf.FieldOptions"
                            && extension.kind() == Kind::Bool
                            && !extension.is_list()
                    })
                    .ok_or_else(|| GatewayError::UnknownUuidOption(name.to_owned()))?,
            ),
            None => None,
        };
        let behavior_extension = pool
            .get_extension_by_name("google.api.field_behavior")
            .filter(|extension| {
                extension.containing_message().full_name() == "google.protobuf.FieldOptions"
                    && matches!(extension.kind(), Kind::Enum(_))
            });
        let descriptors: Vec<MessageDescriptor> = pool.all_messages().collect();
        let by_full_name: HashMap<String, usize> = descriptors
            .iter()
            .enumerate()
            .map(|(index, descriptor)| (descriptor.full_name().to_owned(), index))
            .collect();
        let options = PlanOptions {
            by_full_name: &by_full_name,
            uuid_extension: uuid_extension.as_ref(),
            behavior_extension: behavior_extension.as_ref(),
        };
        let messages = descriptors
            .into_iter()
            .map(|descriptor| options.message_plan(descriptor))
            .collect();
        Ok(JsonCodec {
            messages,
            by_full_name,
        })
    }

    /// The plan index of a message type of this pool.
    pub(crate) fn plan_index(&self, descriptor: &MessageDescriptor) -> Option<usize> {
        self.by_full_name.get(descriptor.full_name()).copied()
    }

    pub(crate) fn plan_index_by_name(&self, full_name: &str) -> Option<usize> {
        self.by_full_name.get(full_name).copied()
    }

    pub(crate) fn message(&self, index: usize) -> &MessagePlan {
        &self.messages[index]
    }

    /// The message type an `Any` type URL names, if it is in the pool.
    pub(crate) fn plan_for_type_url(&self, type_url: &str) -> Option<usize> {
        let name = type_url.rsplit('/').next().unwrap_or(type_url);
        self.plan_index_by_name(name)
    }
}

struct PlanOptions<'a> {
    by_full_name: &'a HashMap<String, usize>,
    uuid_extension: Option<&'a ExtensionDescriptor>,
    behavior_extension: Option<&'a ExtensionDescriptor>,
}

impl PlanOptions<'_> {
    fn message_plan(&self, descriptor: MessageDescriptor) -> MessagePlan {
        let oneofs: Vec<String> = descriptor
            .oneofs()
            .filter(|oneof| !oneof.is_synthetic())
            .map(|oneof| oneof.name().to_owned())
            .collect();
        let fields: Vec<FieldPlan> = descriptor
            .fields()
            .map(|field| self.field_plan(field, &oneofs))
            .collect();
        let mut names = HashMap::with_capacity(fields.len() * 2);
        for (index, field) in fields.iter().enumerate() {
            names.insert(field.descriptor.name().to_owned(), index);
            names.insert(field.json_name.clone(), index);
        }
        let dense_len = fields
            .iter()
            .map(|field| field.number)
            .filter(|number| *number < DENSE_NUMBERS)
            .max()
            .map_or(0, |largest| largest as usize + 1);
        let mut by_number = vec![0u16; dense_len];
        for (index, field) in fields.iter().enumerate() {
            if field.number < DENSE_NUMBERS {
                // A message has fewer than 65,535 fields in practice; one
                // beyond that is found by the linear lookup instead.
                by_number[field.number as usize] = u16::try_from(index + 1).unwrap_or(0);
            }
        }
        let mut oneof_members = vec![Vec::new(); oneofs.len()];
        for (index, field) in fields.iter().enumerate() {
            if let Some(oneof) = field.oneof {
                oneof_members[oneof].push(index);
            }
        }
        MessagePlan {
            well_known: classify_well_known(&descriptor),
            descriptor,
            fields,
            names,
            by_number,
            oneof_members,
        }
    }

    fn field_plan(&self, field: FieldDescriptor, oneofs: &[String]) -> FieldPlan {
        let json_name = field.json_name().to_owned();
        let mut json_key = Vec::with_capacity(json_name.len() + 3);
        escape::write_json_string(&mut json_key, &json_name);
        json_key.push(b':');
        let is_uuid = self.uuid_extension.is_some_and(|extension| {
            field
                .options()
                .get_extension(extension)
                .as_bool()
                .unwrap_or(false)
        });
        let behaviors = self
            .behavior_extension
            .map(|extension| {
                field
                    .options()
                    .get_extension(extension)
                    .as_list()
                    .map(|values| values.iter().filter_map(|v| v.as_enum_number()).collect())
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        let (shape, value) = if field.is_map() {
            let entry = field.kind();
            let entry = entry.as_message().cloned();
            match entry {
                Some(entry) => {
                    let key_field = entry.map_entry_key_field();
                    let value_field = entry.map_entry_value_field();
                    let key = self.value_plan(&key_field.kind(), false);
                    let value = self.value_plan(&value_field.kind(), false);
                    let shape = Shape::Map {
                        key,
                        key_wire: WireKind::of(&key_field.kind()),
                        value_wire: WireKind::of(&value_field.kind()),
                    };
                    (shape, value)
                }
                None => (Shape::Repeated, ValuePlan::Bytes),
            }
        } else if field.cardinality() == Cardinality::Repeated {
            (Shape::Repeated, self.value_plan(&field.kind(), is_uuid))
        } else {
            (Shape::Singular, self.value_plan(&field.kind(), is_uuid))
        };
        let oneof = field
            .containing_oneof()
            .filter(|oneof| !oneof.is_synthetic())
            .and_then(|oneof| oneofs.iter().position(|name| name == oneof.name()));
        FieldPlan {
            has_presence: matches!(shape, Shape::Singular) && field.supports_presence(),
            number: field.number(),
            wire: WireKind::of(&field.kind()),
            descriptor: field,
            json_name,
            json_key,
            shape,
            value,
            oneof,
            behaviors,
        }
    }

    fn value_plan(&self, kind: &Kind, is_uuid: bool) -> ValuePlan {
        match kind {
            Kind::Double => ValuePlan::Double,
            Kind::Float => ValuePlan::Float,
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => ValuePlan::Int32,
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => ValuePlan::Int64,
            Kind::Uint32 | Kind::Fixed32 => ValuePlan::Uint32,
            Kind::Uint64 | Kind::Fixed64 => ValuePlan::Uint64,
            Kind::Bool => ValuePlan::Bool,
            Kind::String => ValuePlan::String,
            Kind::Bytes if is_uuid => ValuePlan::Uuid,
            Kind::Bytes => ValuePlan::Bytes,
            Kind::Enum(enum_descriptor)
                if enum_descriptor.full_name() == "google.protobuf.NullValue" =>
            {
                ValuePlan::NullValue
            }
            Kind::Enum(enum_descriptor) => ValuePlan::Enum(enum_descriptor.clone()),
            Kind::Message(message) => match self.by_full_name.get(message.full_name()) {
                Some(index) => ValuePlan::Message(*index),
                // Every message of the pool has a plan; this arm only keeps
                // the function total.
                None => ValuePlan::Bytes,
            },
        }
    }
}

/// Recognises a well-known type by name, and only if its fields have the
/// standard numbers and kinds, so a look-alike message can never make the
/// codec set a field to a value of the wrong type.
fn classify_well_known(descriptor: &MessageDescriptor) -> Option<WellKnown> {
    let field_kind = |number: u32| {
        descriptor
            .get_field(number)
            .map(|field| (field.kind(), field.cardinality()))
    };
    let is = |number: u32, expected: Kind| matches!(field_kind(number), Some((kind, Cardinality::Optional | Cardinality::Required)) if kind == expected);
    let is_list = |number: u32, expected: Kind| matches!(field_kind(number), Some((kind, Cardinality::Repeated)) if kind == expected);
    let message_named = |number: u32, name: &str| {
        descriptor
            .get_field(number)
            .and_then(|field| field.kind().as_message().map(|m| m.full_name() == name))
            .unwrap_or(false)
    };
    let wrapper = |kind: Kind| is(1, kind).then_some(WellKnown::Wrapper);
    match descriptor.full_name() {
        "google.protobuf.Timestamp" | "google.protobuf.Duration" => (is(1, Kind::Int64)
            && is(2, Kind::Int32))
        .then_some(if descriptor.full_name() == "google.protobuf.Timestamp" {
            WellKnown::Timestamp
        } else {
            WellKnown::Duration
        }),
        "google.protobuf.FieldMask" => is_list(1, Kind::String).then_some(WellKnown::FieldMask),
        "google.protobuf.Empty" => (descriptor.fields().len() == 0).then_some(WellKnown::Empty),
        "google.protobuf.Struct" => descriptor
            .get_field(1)
            .filter(|field| field.is_map())
            .and_then(|field| {
                let entry = field.kind().as_message()?.clone();
                (entry.map_entry_key_field().kind() == Kind::String
                    && entry
                        .map_entry_value_field()
                        .kind()
                        .as_message()
                        .is_some_and(|value| value.full_name() == "google.protobuf.Value"))
                .then_some(WellKnown::Struct)
            }),
        "google.protobuf.Value" => (matches!(field_kind(1), Some((Kind::Enum(_), _)))
            && is(2, Kind::Double)
            && is(3, Kind::String)
            && is(4, Kind::Bool)
            && message_named(5, "google.protobuf.Struct")
            && message_named(6, "google.protobuf.ListValue"))
        .then_some(WellKnown::Value),
        "google.protobuf.ListValue" => (message_named(1, "google.protobuf.Value")
            && matches!(field_kind(1), Some((_, Cardinality::Repeated))))
        .then_some(WellKnown::ListValue),
        "google.protobuf.Any" => {
            (is(1, Kind::String) && is(2, Kind::Bytes)).then_some(WellKnown::Any)
        }
        "google.protobuf.DoubleValue" => wrapper(Kind::Double),
        "google.protobuf.FloatValue" => wrapper(Kind::Float),
        "google.protobuf.Int64Value" => wrapper(Kind::Int64),
        "google.protobuf.UInt64Value" => wrapper(Kind::Uint64),
        "google.protobuf.Int32Value" => wrapper(Kind::Int32),
        "google.protobuf.UInt32Value" => wrapper(Kind::Uint32),
        "google.protobuf.BoolValue" => wrapper(Kind::Bool),
        "google.protobuf.StringValue" => wrapper(Kind::String),
        "google.protobuf.BytesValue" => wrapper(Kind::Bytes),
        _ => None,
    }
}
