//! The JSON rules on real descriptors: the test accounts API and the test library.

use bytes::Bytes;
use prost::Message as _;
use prost_reflect::{DynamicMessage, MapKey, ReflectMessage as _, Value};
use serde_json::json;

use super::JsonCodec;
use super::decode::JsonDecodeError;
use crate::test_pools::{accounts_codec, library_codec};

const USER_UUID: &str = "0192f1a4-7c3e-7b1a-9c1d-2f3e4a5b6c7d";

fn plan(codec: &JsonCodec, name: &str) -> usize {
    codec
        .plan_index_by_name(name)
        .unwrap_or_else(|| panic!("{name} is in the pool"))
}

fn encode(codec: &JsonCodec, message: &DynamicMessage) -> serde_json::Value {
    let index = codec.plan_index(&message.descriptor()).unwrap();
    let mut out = Vec::new();
    codec.encode_message(index, message, &mut out);
    serde_json::from_slice(&out).unwrap_or_else(|error| {
        panic!(
            "encoder wrote invalid JSON ({error}): {}",
            String::from_utf8_lossy(&out)
        )
    })
}

fn decode(
    codec: &JsonCodec,
    name: &str,
    json: serde_json::Value,
) -> Result<DynamicMessage, JsonDecodeError> {
    let index = plan(codec, name);
    let mut message = DynamicMessage::new(codec.message(index).descriptor.clone());
    codec.merge_json(index, &json, &mut message)?;
    Ok(message)
}

fn new_message(codec: &JsonCodec, name: &str) -> DynamicMessage {
    DynamicMessage::new(codec.message(plan(codec, name)).descriptor.clone())
}

fn timestamp(codec: &JsonCodec, seconds: i64, nanos: i32) -> Value {
    let mut message = new_message(codec, "google.protobuf.Timestamp");
    message.set_field_by_name("seconds", Value::I64(seconds));
    message.set_field_by_name("nanos", Value::I32(nanos));
    Value::Message(message)
}

fn uuid_bytes() -> Bytes {
    Bytes::copy_from_slice(uuid::Uuid::parse_str(USER_UUID).unwrap().as_bytes())
}

#[test]
fn input_only_fields_are_never_printed() {
    let codec = accounts_codec();
    let mut user = new_message(&codec, "gatewaytest.v1.User");
    user.set_field_by_name("password", Value::String("hunter22".into()));
    user.set_field_by_name("email", Value::String("ada@example.com".into()));

    let json = encode(&codec, &user);

    assert!(json.get("password").is_none(), "{json}");
    assert_eq!(json["email"], json!("ada@example.com"));
}

#[test]
fn a_user_prints_every_field_with_uuid_text_and_millisecond_timestamps() {
    let codec = accounts_codec();
    let mut user = new_message(&codec, "gatewaytest.v1.User");
    user.set_field_by_name("user_id", Value::Bytes(uuid_bytes()));
    user.set_field_by_name("email", Value::String("ada@example.com".into()));
    user.set_field_by_name("display_name", Value::String("Ada".into()));
    user.set_field_by_name("created_at", timestamp(&codec, 1_732_262_400, 123_456_789));
    user.set_field_by_name("role", Value::EnumNumber(2));
    user.set_field_by_name(
        "labels",
        Value::Map([(MapKey::String("team".into()), Value::String("core".into()))].into()),
    );

    let json = encode(&codec, &user);

    assert_eq!(json["userId"], json!(USER_UUID));
    assert_eq!(json["email"], json!("ada@example.com"));
    assert_eq!(json["displayName"], json!("Ada"));
    assert_eq!(
        json["username"],
        json!(""),
        "unset scalars print their default"
    );
    assert_eq!(
        json["createdAt"],
        json!(1_732_262_400_123_i64),
        "timestamps are integer milliseconds"
    );
    assert_eq!(json["updatedAt"], json!(null), "unset messages print null");
    assert_eq!(json["deletedAt"], json!(null));
    assert_eq!(json["role"], json!("ADMIN"), "enums print by name");
    assert_eq!(json["state"], json!("STATE_UNSPECIFIED"));
    assert_eq!(json["labels"], json!({"team": "core"}));
    assert_eq!(
        json["createdById"],
        json!(null),
        "an empty uuid field is null"
    );
    let user_descriptor = user.descriptor();
    for field in user_descriptor
        .fields()
        .filter(|field| field.name() != "password")
    {
        assert!(
            json.get(field.json_name()).is_some(),
            "{} is missing",
            field.json_name()
        );
    }
    assert_eq!(
        json.as_object().unwrap().len(),
        user_descriptor.fields().len() - 1,
        "every field but the input-only password"
    );
}

#[test]
fn a_user_reads_both_spellings_uuid_forms_and_timestamp_forms() {
    let codec = accounts_codec();
    let base64_id =
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, uuid_bytes());
    let user = decode(
        &codec,
        "gatewaytest.v1.User",
        json!({
            "user_id": base64_id,
            "displayName": "Ada",
            "created_at": "2024-11-22T08:00:00.250Z",
            "updatedAt": 1_732_262_400_000_i64,
            "createdById": USER_UUID.to_uppercase(),
            "role": 2,
            "state": "ARCHIVED",
            "labels": {"team": "core"},
            "deletedAt": null,
        }),
    )
    .unwrap();

    assert_eq!(
        user.get_field_by_name("user_id").unwrap().as_bytes(),
        Some(&uuid_bytes())
    );
    assert_eq!(
        user.get_field_by_name("created_by_id").unwrap().as_bytes(),
        Some(&uuid_bytes())
    );
    assert_eq!(
        user.get_field_by_name("display_name").unwrap().as_str(),
        Some("Ada")
    );
    assert_eq!(
        user.get_field_by_name("role").unwrap().as_enum_number(),
        Some(2)
    );
    assert_eq!(
        user.get_field_by_name("state").unwrap().as_enum_number(),
        Some(2)
    );
    let created = user.get_field_by_name("created_at").unwrap();
    let created = created.as_message().unwrap();
    assert_eq!(
        created.get_field_by_name("seconds").unwrap().as_i64(),
        Some(1_732_262_400)
    );
    assert_eq!(
        created.get_field_by_name("nanos").unwrap().as_i32(),
        Some(250_000_000)
    );
    let updated = user.get_field_by_name("updated_at").unwrap();
    assert_eq!(
        updated
            .as_message()
            .unwrap()
            .get_field_by_name("seconds")
            .unwrap()
            .as_i64(),
        Some(1_732_262_400)
    );
    assert!(
        !user.has_field_by_name("deleted_at"),
        "null leaves a field unset"
    );
}

#[test]
fn unknown_fields_are_named_with_their_location() {
    let codec = accounts_codec();
    let error = decode(
        &codec,
        "gatewaytest.v1.User",
        json!({"email": "a@b.c", "foo": 1}),
    )
    .unwrap_err();
    assert_eq!(error.message, "unknown field \"foo\" in the request body");
    assert_eq!(error.field, "foo");

    let user_field = codec
        .message(plan(&codec, "gatewaytest.v1.User"))
        .field_by_name("labels")
        .unwrap()
        .1;
    let mut user = new_message(&codec, "gatewaytest.v1.User");
    let error = codec
        .decode_field_json(user_field, &json!(["not", "a", "map"]), &mut user, "user")
        .unwrap_err();
    assert_eq!(error.message, "invalid value for user: expected an object");

    let library = library_codec();
    let error = decode(
        &library,
        "gatewaytest.v1.Everything",
        json!({"aBook": {"details": {"language": "en", "colour": "red"}}}),
    )
    .unwrap_err();
    assert_eq!(error.message, "unknown field \"colour\" in aBook.details");
    assert_eq!(error.field, "aBook.details.colour");
}

#[test]
fn values_of_the_wrong_type_name_the_field() {
    let codec = library_codec();
    let cases = [
        (
            json!({"aString": 5}),
            "invalid value for aString: expected a string",
        ),
        (
            json!({"anInt32": "x"}),
            "invalid value for anInt32: expected an integer, got \"x\"",
        ),
        (
            json!({"anInt32": 3_000_000_000_i64}),
            "invalid value for anInt32: out of range for int32",
        ),
        (
            json!({"aUuid": "nope"}),
            "invalid value for aUuid: expected a UUID, got \"nope\"",
        ),
        (
            json!({"bookList": [{}, {"pages": true}]}),
            "invalid value for bookList[1].pages: expected an integer",
        ),
        (
            json!({"int32ToBook": {"x": {}}}),
            "invalid value for int32ToBook[\"x\"]: expected an int32 map key, got \"x\"",
        ),
        (
            json!({"aTimestamp": true}),
            "invalid value for aTimestamp: expected milliseconds since the epoch or an RFC 3339 timestamp",
        ),
        (
            json!({"aDuration": "5 minutes"}),
            "invalid value for aDuration: expected a duration such as \"1.5s\", got \"5 minutes\"",
        ),
    ];
    for (input, expected) in cases {
        let error = decode(&codec, "gatewaytest.v1.Everything", input.clone()).unwrap_err();
        assert_eq!(error.message, expected, "for {input}");
    }
    let error = decode(
        &codec,
        "gatewaytest.v1.Everything",
        json!({"aView": "SIDEWAYS"}),
    )
    .unwrap_err();
    assert!(
        error.message.contains("unknown value \"SIDEWAYS\" for enum View; expected one of VIEW_UNSPECIFIED, BASIC, FULL"),
        "{}",
        error.message
    );
}

#[test]
fn one_field_twice_or_two_oneof_members_are_rejected() {
    let codec = library_codec();
    let error = decode(
        &codec,
        "gatewaytest.v1.Everything",
        json!({"aString": "x", "a_string": "y"}),
    )
    .unwrap_err();
    assert!(
        error.message.contains("field given twice"),
        "{}",
        error.message
    );
    let error = decode(
        &codec,
        "gatewaytest.v1.Everything",
        json!({"choiceText": "x", "choiceNumber": "1"}),
    )
    .unwrap_err();
    assert!(
        error.message.contains("members of one oneof"),
        "{}",
        error.message
    );
    let message = decode(
        &codec,
        "gatewaytest.v1.Everything",
        json!({"choiceText": null, "choiceNumber": "1"}),
    )
    .unwrap();
    assert_eq!(
        message.get_field_by_name("choice_number").unwrap().as_i64(),
        Some(1)
    );
}

#[test]
fn scalars_follow_proto3_json() {
    let codec = library_codec();
    let message = decode(
        &codec,
        "gatewaytest.v1.Everything",
        json!({
            "aDouble": "NaN", "aFloat": 1.5, "anInt64": 9_007_199_254_740_993_i64,
            "aUint64": "18446744073709551615", "aSint64": "-5", "aFixed32": 7.0,
            "someBytes": "3q2-7w", "aBool": true, "an_sfixed64": "1e3",
        }),
    )
    .unwrap();
    assert!(
        message
            .get_field_by_name("a_double")
            .unwrap()
            .as_f64()
            .unwrap()
            .is_nan()
    );
    assert_eq!(
        message.get_field_by_name("an_int64").unwrap().as_i64(),
        Some(9_007_199_254_740_993)
    );
    assert_eq!(
        message.get_field_by_name("a_uint64").unwrap().as_u64(),
        Some(u64::MAX)
    );
    assert_eq!(
        message.get_field_by_name("a_fixed32").unwrap().as_u32(),
        Some(7)
    );
    assert_eq!(
        message.get_field_by_name("an_sfixed64").unwrap().as_i64(),
        Some(1000)
    );
    assert_eq!(
        message
            .get_field_by_name("some_bytes")
            .unwrap()
            .as_bytes()
            .unwrap()
            .as_ref(),
        &[0xde, 0xad, 0xbe, 0xef]
    );

    let json = encode(&codec, &message);
    assert_eq!(json["aDouble"], json!("NaN"));
    assert_eq!(json["aFloat"], json!(1.5));
    assert_eq!(
        json["anInt64"],
        json!("9007199254740993"),
        "64-bit integers print as strings"
    );
    assert_eq!(json["aUint64"], json!("18446744073709551615"));
    assert_eq!(
        json["anInt32"],
        json!(0),
        "32-bit integers print as numbers"
    );
    assert_eq!(
        json["someBytes"],
        json!("3q2+7w=="),
        "bytes print as padded standard base64"
    );
    assert_eq!(json["aUuid"], json!(null));
    assert_eq!(json["int64List"], json!([]), "empty lists print []");
    assert_eq!(json["stringToInt64"], json!({}), "empty maps print {{}}");
    assert_eq!(
        json["optionalInt32"],
        json!(null),
        "unset optional fields print null"
    );
    assert_eq!(
        json["choiceText"],
        json!(null),
        "unset oneof members print null"
    );
}

#[test]
fn well_known_types_use_their_json_forms() {
    let codec = library_codec();
    let input = json!({
        "aTimestamp": "1970-01-01T00:00:01.5Z",
        "aDuration": "-1.5s",
        "aFieldMask": "displayName,user.avatar_url",
        "anEmpty": {},
        "aStruct": {"b": [1, "two", null, {"c": false}], "a": 2.5},
        "aValue": "text",
        "aListValue": [true, null],
        "anAny": {"@type": "type.googleapis.com/gatewaytest.v1.BookRef", "id": "b1"},
        "anInt64Wrapper": "42",
        "aStringWrapper": "",
        "aBoolWrapper": false,
        "aBytesWrapper": "AQI=",
        "aDoubleWrapper": 0.25,
        "timestampList": [0, "2024-11-22T08:00:00Z"],
        "uuidList": [USER_UUID],
        "int32ToBook": {"-3": {"title": "t"}},
        "boolToString": {"true": "yes"},
        "uint64ToView": {"18446744073709551615": "FULL"},
    });
    let message = decode(&codec, "gatewaytest.v1.Everything", input).unwrap();
    let mask = message.get_field_by_name("a_field_mask").unwrap();
    let paths = mask
        .as_message()
        .unwrap()
        .get_field_by_name("paths")
        .unwrap();
    assert_eq!(
        paths.as_list().unwrap(),
        &[
            Value::String("display_name".into()),
            Value::String("user.avatar_url".into())
        ],
        "field masks are stored in snake_case"
    );

    let json = encode(&codec, &message);
    assert_eq!(json["aTimestamp"], json!(1500));
    assert_eq!(json["aDuration"], json!("-1.500s"));
    assert_eq!(json["aFieldMask"], json!("displayName,user.avatarUrl"));
    assert_eq!(json["anEmpty"], json!({}));
    assert_eq!(
        json["aStruct"],
        json!({"a": 2.5, "b": [1.0, "two", null, {"c": false}]})
    );
    assert_eq!(json["aValue"], json!("text"));
    assert_eq!(json["aListValue"], json!([true, null]));
    assert_eq!(
        json["anAny"],
        json!({"@type": "type.googleapis.com/gatewaytest.v1.BookRef", "id": "b1"})
    );
    assert_eq!(json["anInt64Wrapper"], json!("42"));
    assert_eq!(
        json["aStringWrapper"],
        json!(""),
        "a set wrapper prints its value even when default"
    );
    assert_eq!(json["aBoolWrapper"], json!(false));
    assert_eq!(json["aBytesWrapper"], json!("AQI="));
    assert_eq!(json["aDoubleWrapper"], json!(0.25));
    assert_eq!(
        json["aUint32Wrapper"],
        json!(null),
        "an unset wrapper prints null"
    );
    assert_eq!(json["timestampList"], json!([0, 1_732_262_400_000_i64]));
    assert_eq!(json["uuidList"], json!([USER_UUID]));
    assert_eq!(json["int32ToBook"]["-3"]["title"], json!("t"));
    assert_eq!(json["boolToString"], json!({"true": "yes"}));
    assert_eq!(
        json["uint64ToView"],
        json!({"18446744073709551615": "FULL"})
    );
}

#[test]
fn any_holding_a_well_known_type_uses_value() {
    let codec = library_codec();
    let input =
        json!({"anAny": {"@type": "type.googleapis.com/google.protobuf.Duration", "value": "2s"}});
    let message = decode(&codec, "gatewaytest.v1.Everything", input.clone()).unwrap();
    assert_eq!(encode(&codec, &message)["anAny"], input["anAny"]);

    let error = decode(
        &codec,
        "gatewaytest.v1.Everything",
        json!({"anAny": {"@type": "type.googleapis.com/nowhere.Thing"}}),
    )
    .unwrap_err();
    assert_eq!(
        error.message,
        "invalid value for anAny: unknown type \"type.googleapis.com/nowhere.Thing\""
    );
}

#[test]
fn any_of_a_type_missing_from_the_pool_keeps_its_bytes() {
    let codec = library_codec();
    let mut out = Vec::new();
    codec.encode_any_parts("type.googleapis.com/nowhere.Thing", &[1, 2, 3], &mut out);
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        json,
        json!({"@type": "type.googleapis.com/nowhere.Thing", "value": "AQID"})
    );
}

#[test]
fn error_details_render_as_typed_json() {
    let codec = accounts_codec();
    let bad_request = codec
        .message(plan(&codec, "google.rpc.BadRequest"))
        .descriptor
        .clone();
    let violation_descriptor = codec
        .message(plan(&codec, "google.rpc.BadRequest.FieldViolation"))
        .descriptor
        .clone();
    let mut violation = DynamicMessage::new(violation_descriptor);
    violation.set_field_by_name("field", Value::String("user.email".into()));
    violation.set_field_by_name("description", Value::String("email is invalid".into()));
    let mut detail = DynamicMessage::new(bad_request);
    detail.set_field_by_name(
        "field_violations",
        Value::List(vec![Value::Message(violation)]),
    );

    let mut out = Vec::new();
    codec.encode_any_parts(
        "type.googleapis.com/google.rpc.BadRequest",
        &detail.encode_to_vec(),
        &mut out,
    );
    let json: serde_json::Value = serde_json::from_slice(&out).unwrap();

    assert_eq!(
        json["@type"],
        json!("type.googleapis.com/google.rpc.BadRequest")
    );
    assert_eq!(json["fieldViolations"][0]["field"], json!("user.email"));
    assert_eq!(
        json["fieldViolations"][0]["description"],
        json!("email is invalid")
    );
}

#[test]
fn uuid_fields_holding_other_than_sixteen_bytes_print_base64() {
    let codec = accounts_codec();
    let mut user = new_message(&codec, "gatewaytest.v1.User");
    user.set_field_by_name("user_id", Value::Bytes(Bytes::from_static(&[1, 2, 3])));
    assert_eq!(encode(&codec, &user)["userId"], json!("AQID"));
}

#[test]
fn a_whole_body_of_a_well_known_type_is_decoded_as_that_type() {
    let codec = library_codec();
    let message = decode(&codec, "google.protobuf.Timestamp", json!(1500)).unwrap();
    assert_eq!(
        message.get_field_by_name("seconds").unwrap().as_i64(),
        Some(1)
    );
    assert!(decode(&codec, "google.protobuf.Empty", json!({"x": 1})).is_err());
}

#[test]
fn empty_uuids_in_lists_print_null_and_read_back() {
    let codec = library_codec();
    let message = decode(
        &codec,
        "gatewaytest.v1.Everything",
        json!({"uuidList": [null, USER_UUID]}),
    )
    .unwrap();
    let list = message.get_field_by_name("uuid_list").unwrap();
    assert_eq!(list.as_list().unwrap()[0], Value::Bytes(Bytes::new()));
    assert_eq!(
        encode(&codec, &message)["uuidList"],
        json!([null, USER_UUID])
    );
}

#[test]
fn negative_zero_is_the_default_and_is_not_kept() {
    let codec = library_codec();
    let message = decode(&codec, "gatewaytest.v1.Everything", json!({"aFloat": -0.0})).unwrap();
    assert!(!message.has_field_by_name("a_float"));
}
