//! Property tests: any message of the test accounts API or the test library, sent
//! through JSON and back, is the same message.

use std::sync::Arc;

use bytes::Bytes;
use proptest::prelude::*;
use proptest::strategy::BoxedStrategy;
use prost::Message as _;
use prost_reflect::{DynamicMessage, MapKey, ReflectMessage as _, Value};

use super::text::{MAX_DURATION_SECONDS, MAX_TIMESTAMP_SECONDS, MIN_TIMESTAMP_SECONDS};
use super::{JsonCodec, Shape, ValuePlan, WellKnown, field_behavior};
use crate::test_pools::{accounts_codec, library_codec};

/// How deep generated messages nest.
const DEPTH: u32 = 3;

fn message_strategy(
    codec: Arc<JsonCodec>,
    index: usize,
    depth: u32,
) -> BoxedStrategy<DynamicMessage> {
    let plan = codec.message(index);
    let descriptor = plan.descriptor.clone();
    if let Some(well_known) = plan.well_known {
        return well_known_strategy(codec, index, well_known, depth);
    }
    let field_strategies: Vec<BoxedStrategy<Option<(usize, Value)>>> = plan
        .fields
        .iter()
        .enumerate()
        .map(|(field_index, field)| {
            // Input-only fields are never written out, so they cannot come back.
            if field.has_behavior(field_behavior::INPUT_ONLY) {
                return Just(None).boxed();
            }
            let element = value_strategy(Arc::clone(&codec), &field.value, depth);
            let value = match &field.shape {
                Shape::Singular => element,
                Shape::Repeated => proptest::collection::vec(element, 0..3).prop_map(Value::List).boxed(),
                Shape::Map { key, .. } => proptest::collection::hash_map(map_key_strategy(key), element, 0..3)
                    .prop_map(Value::Map)
                    .boxed(),
            };
            let value = value.prop_map(move |value| (field_index, value));
            // An unset google.protobuf.Value prints null, and null reads back
            // as a Value holding null (the proto3 rule), so only set Values
            // can survive the trip unchanged.
            let is_struct_value = matches!(
                (&field.shape, &field.value),
                (Shape::Singular, ValuePlan::Message(index)) if codec.message(*index).well_known == Some(WellKnown::Value)
            );
            if is_struct_value {
                value.prop_map(Some).boxed()
            } else {
                proptest::option::of(value).boxed()
            }
        })
        .collect();
    field_strategies
        .prop_map(move |values| {
            let mut message = DynamicMessage::new(descriptor.clone());
            let fields: Vec<_> = message.descriptor().fields().collect();
            for (field_index, value) in values.into_iter().flatten() {
                message.set_field(&fields[field_index], value);
            }
            message
        })
        .boxed()
}

fn value_strategy(codec: Arc<JsonCodec>, plan: &ValuePlan, depth: u32) -> BoxedStrategy<Value> {
    match plan {
        ValuePlan::Bool => any::<bool>().prop_map(Value::Bool).boxed(),
        ValuePlan::Int32 => any::<i32>().prop_map(Value::I32).boxed(),
        ValuePlan::Int64 => any::<i64>().prop_map(Value::I64).boxed(),
        ValuePlan::Uint32 => any::<u32>().prop_map(Value::U32).boxed(),
        ValuePlan::Uint64 => any::<u64>().prop_map(Value::U64).boxed(),
        ValuePlan::Float => any::<f32>()
            .prop_filter("NaN never equals itself", |number| !number.is_nan())
            .prop_map(Value::F32)
            .boxed(),
        ValuePlan::Double => any::<f64>()
            .prop_filter("NaN never equals itself", |number| !number.is_nan())
            .prop_map(Value::F64)
            .boxed(),
        ValuePlan::String => any::<String>().prop_map(Value::String).boxed(),
        ValuePlan::Bytes => proptest::collection::vec(any::<u8>(), 0..24)
            .prop_map(|bytes| Value::Bytes(Bytes::from(bytes)))
            .boxed(),
        ValuePlan::Uuid => prop_oneof![
            Just(Value::Bytes(Bytes::new())),
            any::<[u8; 16]>().prop_map(|bytes| Value::Bytes(Bytes::copy_from_slice(&bytes))),
        ]
        .boxed(),
        ValuePlan::Enum(enum_descriptor) => {
            let mut numbers: Vec<i32> = enum_descriptor
                .values()
                .map(|value| value.number())
                .collect();
            // Open enums keep numbers their schema does not name.
            numbers.push(1234);
            proptest::sample::select(numbers)
                .prop_map(Value::EnumNumber)
                .boxed()
        }
        ValuePlan::NullValue => Just(Value::EnumNumber(0)).boxed(),
        ValuePlan::Message(index) => {
            let well_known = codec.message(*index).well_known;
            if depth == 0 && well_known.is_none() {
                return Just(Value::Message(DynamicMessage::new(
                    codec.message(*index).descriptor.clone(),
                )))
                .boxed();
            }
            message_strategy(codec, *index, depth.saturating_sub(1))
                .prop_map(Value::Message)
                .boxed()
        }
    }
}

fn map_key_strategy(plan: &ValuePlan) -> BoxedStrategy<MapKey> {
    match plan {
        ValuePlan::Bool => any::<bool>().prop_map(MapKey::Bool).boxed(),
        ValuePlan::Int32 => any::<i32>().prop_map(MapKey::I32).boxed(),
        ValuePlan::Int64 => any::<i64>().prop_map(MapKey::I64).boxed(),
        ValuePlan::Uint32 => any::<u32>().prop_map(MapKey::U32).boxed(),
        ValuePlan::Uint64 => any::<u64>().prop_map(MapKey::U64).boxed(),
        _ => any::<String>().prop_map(MapKey::String).boxed(),
    }
}

fn well_known_strategy(
    codec: Arc<JsonCodec>,
    index: usize,
    well_known: WellKnown,
    depth: u32,
) -> BoxedStrategy<DynamicMessage> {
    let build = {
        let codec = Arc::clone(&codec);
        move |seconds: i64, nanos: i32| {
            codec
                .seconds_nanos_message(index, seconds, nanos)
                .expect("valid")
        }
    };
    match well_known {
        // The REST form has millisecond precision, so only whole
        // milliseconds survive the trip.
        WellKnown::Timestamp => (MIN_TIMESTAMP_SECONDS..=MAX_TIMESTAMP_SECONDS, 0..1000_i32)
            .prop_map(move |(seconds, millis)| build(seconds, millis * 1_000_000))
            .boxed(),
        WellKnown::Duration => (
            -MAX_DURATION_SECONDS..=MAX_DURATION_SECONDS,
            0..1_000_000_000_i32,
        )
            .prop_map(move |(seconds, nanos)| {
                let nanos = if seconds < 0 { -nanos } else { nanos };
                build(seconds, nanos)
            })
            .boxed(),
        WellKnown::FieldMask => proptest::collection::vec(
            "[a-z]{1,5}(_[a-z]{1,5}){0,2}(\\.[a-z]{1,5}(_[a-z]{1,5}){0,1}){0,2}",
            0..3,
        )
        .prop_map(move |paths| {
            codec
                .field_mask_message(index, paths.iter().map(String::as_str))
                .expect("valid")
        })
        .boxed(),
        WellKnown::Empty => {
            Just(DynamicMessage::new(codec.message(index).descriptor.clone())).boxed()
        }
        WellKnown::Value => struct_value_strategy(codec, index, depth),
        WellKnown::Struct | WellKnown::ListValue | WellKnown::Wrapper => {
            let plan = codec.message(index);
            let descriptor = plan.descriptor.clone();
            let field = plan.fields[0].descriptor.clone();
            let element = value_strategy(Arc::clone(&codec), &plan.fields[0].value, depth);
            let value = match well_known {
                WellKnown::Struct => proptest::collection::hash_map(
                    any::<String>().prop_map(MapKey::String),
                    element,
                    0..3,
                )
                .prop_map(Value::Map)
                .boxed(),
                WellKnown::ListValue => proptest::collection::vec(element, 0..3)
                    .prop_map(Value::List)
                    .boxed(),
                _ => element,
            };
            value
                .prop_map(move |value| {
                    let mut message = DynamicMessage::new(descriptor.clone());
                    message.set_field(&field, value);
                    message
                })
                .boxed()
        }
        WellKnown::Any => any_strategy(codec, index),
    }
}

/// A `google.protobuf.Value` without NaN or infinities, which JSON cannot hold.
fn struct_value_strategy(
    codec: Arc<JsonCodec>,
    index: usize,
    depth: u32,
) -> BoxedStrategy<DynamicMessage> {
    let descriptor = codec.message(index).descriptor.clone();
    let leaf = prop_oneof![
        Just((1_u32, Value::EnumNumber(0))),
        any::<f64>()
            .prop_filter("finite", |number| number.is_finite())
            .prop_map(|number| (2, Value::F64(number))),
        any::<String>().prop_map(|text| (3, Value::String(text))),
        any::<bool>().prop_map(|flag| (4, Value::Bool(flag))),
    ];
    let member = if depth == 0 {
        leaf.boxed()
    } else {
        let struct_index = codec
            .plan_index_by_name("google.protobuf.Struct")
            .expect("struct");
        let list_index = codec
            .plan_index_by_name("google.protobuf.ListValue")
            .expect("list");
        prop_oneof![
            3 => leaf,
            1 => message_strategy(Arc::clone(&codec), struct_index, depth - 1).prop_map(|m| (5, Value::Message(m))),
            1 => message_strategy(Arc::clone(&codec), list_index, depth - 1).prop_map(|m| (6, Value::Message(m))),
        ]
        .boxed()
    };
    member
        .prop_map(move |(number, value)| {
            let mut message = DynamicMessage::new(descriptor.clone());
            message.set_field_by_number(number, value);
            message
        })
        .boxed()
}

/// An `Any` holding a regular message or a well-known type, both of which
/// must exist in the pool; types without maps keep the packed bytes
/// deterministic so the comparison is exact.
fn any_strategy(codec: Arc<JsonCodec>, index: usize) -> BoxedStrategy<DynamicMessage> {
    let descriptor = codec.message(index).descriptor.clone();
    let candidates: Vec<usize> = [
        "google.protobuf.Duration",
        "google.rpc.BadRequest",
        "gatewaytest.v1.BookRef",
    ]
    .iter()
    .filter_map(|name| codec.plan_index_by_name(name))
    .collect();
    proptest::sample::select(candidates)
        .prop_flat_map(move |inner| {
            let name = codec.message(inner).descriptor.full_name().to_owned();
            message_strategy(Arc::clone(&codec), inner, 1)
                .prop_map(move |message| (name.clone(), message))
        })
        .prop_map(move |(name, inner)| {
            let mut message = DynamicMessage::new(descriptor.clone());
            message.set_field_by_number(1, Value::String(format!("type.googleapis.com/{name}")));
            message.set_field_by_number(2, Value::Bytes(Bytes::from(inner.encode_to_vec())));
            message
        })
        .boxed()
}

/// The message as protobuf would carry it: default-valued fields without
/// presence dropped, as the JSON decoder leaves them.
fn canonical(message: &DynamicMessage) -> DynamicMessage {
    DynamicMessage::decode(message.descriptor(), message.encode_to_vec().as_slice())
        .expect("re-decodes")
}

fn round_trip(
    codec: &JsonCodec,
    index: usize,
    message: &DynamicMessage,
) -> Result<(), TestCaseError> {
    // Start from what protobuf would deliver (a -0.0 default is not sent).
    let message = &canonical(message);
    let mut json = Vec::new();
    codec.encode_message(index, message, &mut json);
    // Replies are rendered from their wire bytes: the same JSON, byte for
    // byte, as from the decoded message.
    let mut from_wire = Vec::new();
    prop_assert!(
        codec.encode_wire_only(index, &message.encode_to_vec(), &mut from_wire),
        "the wire walk fell back"
    );
    prop_assert_eq!(
        String::from_utf8_lossy(&from_wire),
        String::from_utf8_lossy(&json)
    );
    let parsed: serde_json::Value = serde_json::from_slice(&json).map_err(|error| {
        TestCaseError::fail(format!(
            "invalid JSON {error}: {}",
            String::from_utf8_lossy(&json)
        ))
    })?;
    let mut decoded = DynamicMessage::new(message.descriptor());
    codec
        .merge_json(index, &parsed, &mut decoded)
        .map_err(|error| TestCaseError::fail(format!("{} in {parsed}", error.message)))?;
    // Compared without Debug output: a descriptor's Debug form is pages long.
    prop_assert!(
        canonical(&decoded) == canonical(message),
        "changed on the way through {}",
        parsed
    );
    let mut again = Vec::new();
    codec.encode_message(index, &decoded, &mut again);
    prop_assert_eq!(
        String::from_utf8_lossy(&again),
        String::from_utf8_lossy(&json)
    );
    Ok(())
}

fn messages_of_package(codec: &JsonCodec, package: &str) -> Vec<usize> {
    codec
        .messages
        .iter()
        .enumerate()
        .filter(|(_, plan)| {
            plan.descriptor.package_name() == package && !plan.descriptor.is_map_entry()
        })
        .map(|(index, _)| index)
        .collect()
}

fn any_message_of(codec: Arc<JsonCodec>, package: &str) -> BoxedStrategy<(usize, DynamicMessage)> {
    let indexes = messages_of_package(&codec, package);
    assert!(!indexes.is_empty(), "{package} has messages");
    proptest::sample::select(indexes)
        .prop_flat_map(move |index| {
            message_strategy(Arc::clone(&codec), index, DEPTH).prop_map(move |m| (index, m))
        })
        .boxed()
}

proptest! {
    // No failure files: a shrunk DynamicMessage prints its whole descriptor
    // (tens of kilobytes); cases found are kept as unit tests in tests.rs.
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn accounts_messages_survive_json(case in any_message_of(accounts_codec(), "gatewaytest.v1")) {
        let codec = accounts_codec();
        round_trip(&codec, case.0, &case.1)?;
    }

    #[test]
    fn library_messages_survive_json(case in any_message_of(library_codec(), "gatewaytest.v1")) {
        let codec = library_codec();
        round_trip(&codec, case.0, &case.1)?;
    }
}
