//! Values written as plain text: path and query parameters, and the string
//! forms that JSON also accepts (64-bit integers, bytes, UUIDs, timestamps,
//! durations, field masks, enum names). Errors are short descriptions that
//! callers prefix with the field they were parsing.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use prost_reflect::{DynamicMessage, EnumDescriptor, ReflectMessage as _, Value};

use super::names::lower_camel_to_snake;
use super::{JsonCodec, ValuePlan, WellKnown};

/// `0001-01-01T00:00:00Z`, the smallest valid `google.protobuf.Timestamp`.
pub(crate) const MIN_TIMESTAMP_SECONDS: i64 = -62_135_596_800;
/// `9999-12-31T23:59:59Z`, the largest valid `google.protobuf.Timestamp`.
pub(crate) const MAX_TIMESTAMP_SECONDS: i64 = 253_402_300_799;
/// ±10,000 years, the range of a valid `google.protobuf.Duration`.
pub(crate) const MAX_DURATION_SECONDS: i64 = 315_576_000_000;

impl JsonCodec {
    /// Parses a path or query parameter into a value of the given type.
    pub(crate) fn parse_text(&self, plan: &ValuePlan, text: &str) -> Result<Value, String> {
        match plan {
            ValuePlan::Bool => parse_bool(text).map(Value::Bool),
            ValuePlan::Int32 => parse_i64(text)
                .and_then(|number| i32::try_from(number).map_err(|_| out_of_range(text, "int32")))
                .map(Value::I32),
            ValuePlan::Int64 => parse_i64(text).map(Value::I64),
            ValuePlan::Uint32 => parse_u64(text)
                .and_then(|number| u32::try_from(number).map_err(|_| out_of_range(text, "uint32")))
                .map(Value::U32),
            ValuePlan::Uint64 => parse_u64(text).map(Value::U64),
            ValuePlan::Float => parse_f64(text).and_then(to_f32).map(Value::F32),
            ValuePlan::Double => parse_f64(text).map(Value::F64),
            ValuePlan::String => Ok(Value::String(text.to_owned())),
            ValuePlan::Bytes => decode_base64(text).map(|bytes| Value::Bytes(Bytes::from(bytes))),
            ValuePlan::Uuid => uuid_from_text(text).map(Value::Bytes),
            ValuePlan::Enum(enum_descriptor) => {
                enum_from_text(enum_descriptor, text).map(Value::EnumNumber)
            }
            ValuePlan::NullValue => match text {
                "NULL_VALUE" | "null" => Ok(Value::EnumNumber(0)),
                _ => Err(format!("expected null, got {text:?}")),
            },
            ValuePlan::Message(index) => self.message_from_text(*index, text).map(Value::Message),
        }
    }

    /// Whether values of this type can be written as text (in a path or a
    /// query string).
    pub(crate) fn is_text_value(&self, plan: &ValuePlan) -> bool {
        match plan {
            ValuePlan::Message(index) => matches!(
                self.message(*index).well_known,
                Some(
                    WellKnown::Timestamp
                        | WellKnown::Duration
                        | WellKnown::FieldMask
                        | WellKnown::Wrapper
                )
            ),
            _ => true,
        }
    }

    fn message_from_text(&self, index: usize, text: &str) -> Result<DynamicMessage, String> {
        let plan = self.message(index);
        match plan.well_known {
            Some(WellKnown::Timestamp) => {
                let (seconds, nanos) = timestamp_from_text(text)?;
                self.seconds_nanos_message(index, seconds, nanos)
            }
            Some(WellKnown::Duration) => {
                let (seconds, nanos) = duration_from_text(text)?;
                self.seconds_nanos_message(index, seconds, nanos)
            }
            Some(WellKnown::FieldMask) => {
                self.field_mask_message(index, text.split(',').filter(|path| !path.is_empty()))
            }
            Some(WellKnown::Wrapper) => {
                let inner = self.parse_text(&plan.fields[0].value, text)?;
                self.wrapper_message(index, inner)
            }
            _ => Err(format!(
                "a {} cannot be written as text",
                plan.descriptor.full_name()
            )),
        }
    }

    /// A `Timestamp` or `Duration` message; zero fields stay unset so the
    /// message is in its canonical form.
    pub(crate) fn seconds_nanos_message(
        &self,
        index: usize,
        seconds: i64,
        nanos: i32,
    ) -> Result<DynamicMessage, String> {
        let mut message = DynamicMessage::new(self.message(index).descriptor.clone());
        if seconds != 0 {
            set_by_number(&mut message, 1, Value::I64(seconds))?;
        }
        if nanos != 0 {
            set_by_number(&mut message, 2, Value::I32(nanos))?;
        }
        Ok(message)
    }

    /// A `FieldMask` from JSON-style paths (lowerCamelCase or snake_case),
    /// stored in snake_case as protobuf wants them.
    pub(crate) fn field_mask_message<'p>(
        &self,
        index: usize,
        paths: impl Iterator<Item = &'p str>,
    ) -> Result<DynamicMessage, String> {
        let paths: Vec<Value> = paths
            .map(|path| Value::String(lower_camel_to_snake(path.trim())))
            .collect();
        let mut message = DynamicMessage::new(self.message(index).descriptor.clone());
        if !paths.is_empty() {
            set_by_number(&mut message, 1, Value::List(paths))?;
        }
        Ok(message)
    }

    pub(crate) fn wrapper_message(
        &self,
        index: usize,
        inner: Value,
    ) -> Result<DynamicMessage, String> {
        let mut message = DynamicMessage::new(self.message(index).descriptor.clone());
        set_by_number(&mut message, 1, inner)?;
        Ok(message)
    }
}

/// Sets a field of a well-known type. The codec only treats a message as
/// well-known after checking its field numbers and kinds, so this cannot
/// fail in practice; it reports instead of panicking all the same.
pub(crate) fn set_by_number(
    message: &mut DynamicMessage,
    number: u32,
    value: Value,
) -> Result<(), String> {
    message
        .try_set_field_by_number(number, value)
        .map_err(|error| format!("cannot build {}: {error}", message.descriptor().full_name()))
}

pub(crate) fn parse_bool(text: &str) -> Result<bool, String> {
    match text {
        "true" | "True" | "TRUE" | "1" => Ok(true),
        "false" | "False" | "FALSE" | "0" => Ok(false),
        _ => Err(format!("expected true or false, got {text:?}")),
    }
}

fn out_of_range(text: &str, kind: &str) -> String {
    format!("{text:?} is out of range for {kind}")
}

/// A signed integer written in decimal (or as an integral number such as `1e3`).
pub(crate) fn parse_i64(text: &str) -> Result<i64, String> {
    if let Ok(number) = text.parse::<i64>() {
        return Ok(number);
    }
    match text.parse::<f64>() {
        Ok(float) if float.is_finite() && float.fract() == 0.0 => {
            integral_f64_to_i64(float).ok_or_else(|| out_of_range(text, "int64"))
        }
        _ => Err(format!("expected an integer, got {text:?}")),
    }
}

/// An unsigned integer written in decimal (or as an integral number such as `1e3`).
pub(crate) fn parse_u64(text: &str) -> Result<u64, String> {
    if let Ok(number) = text.parse::<u64>() {
        return Ok(number);
    }
    if text.starts_with('-') {
        return Err(format!("expected an unsigned integer, got {text:?}"));
    }
    match text.parse::<f64>() {
        Ok(float) if float.is_finite() && float.fract() == 0.0 => {
            integral_f64_to_u64(float).ok_or_else(|| out_of_range(text, "uint64"))
        }
        _ => Err(format!("expected an unsigned integer, got {text:?}")),
    }
}

pub(crate) fn integral_f64_to_i64(float: f64) -> Option<i64> {
    // 2^63 is exactly representable; every integral f64 below it fits.
    (-9_223_372_036_854_775_808.0..9_223_372_036_854_775_808.0)
        .contains(&float)
        .then_some(float as i64)
}

pub(crate) fn integral_f64_to_u64(float: f64) -> Option<u64> {
    (0.0..18_446_744_073_709_551_616.0)
        .contains(&float)
        .then_some(float as u64)
}

/// A float: a number, or `NaN`, `Infinity`, `-Infinity` as proto3 JSON writes them.
pub(crate) fn parse_f64(text: &str) -> Result<f64, String> {
    match text {
        "NaN" => return Ok(f64::NAN),
        "Infinity" => return Ok(f64::INFINITY),
        "-Infinity" => return Ok(f64::NEG_INFINITY),
        _ => {}
    }
    match text.parse::<f64>() {
        // Rust also reads `inf` and `nan`, and overflows to infinity; only
        // the proto3 spellings above stand for the special values.
        Ok(float) if float.is_finite() => Ok(float),
        _ => Err(format!("expected a number, got {text:?}")),
    }
}

pub(crate) fn to_f32(float: f64) -> Result<f32, String> {
    if float.is_finite() && float.abs() > f64::from(f32::MAX) {
        return Err(format!("{float} is out of range for float"));
    }
    Ok(float as f32)
}

/// Base64 in the standard or URL-safe alphabet, padded or not, as the
/// proto3 JSON mapping accepts.
pub(crate) fn decode_base64(text: &str) -> Result<Vec<u8>, String> {
    let unpadded = text.trim_end_matches('=');
    let decoded = if unpadded.contains(['-', '_']) {
        URL_SAFE_NO_PAD.decode(unpadded)
    } else {
        STANDARD_NO_PAD.decode(unpadded)
    };
    decoded.map_err(|_| "expected base64".to_owned())
}

/// A UUID field: UUID text (any standard spelling), or the base64 of its 16
/// bytes; the empty string is the unset value.
pub(crate) fn uuid_from_text(text: &str) -> Result<Bytes, String> {
    if text.is_empty() {
        return Ok(Bytes::new());
    }
    if let Ok(uuid) = uuid::Uuid::parse_str(text) {
        return Ok(Bytes::copy_from_slice(uuid.as_bytes()));
    }
    match decode_base64(text) {
        Ok(bytes) if bytes.len() == 16 => Ok(Bytes::from(bytes)),
        _ => Err(format!("expected a UUID, got {text:?}")),
    }
}

/// An enum value by name, or by number (open enums keep unknown numbers).
pub(crate) fn enum_from_text(enum_descriptor: &EnumDescriptor, text: &str) -> Result<i32, String> {
    if let Some(value) = enum_descriptor.get_value_by_name(text) {
        return Ok(value.number());
    }
    if let Ok(number) = text.parse::<i32>() {
        return Ok(number);
    }
    let names: Vec<String> = enum_descriptor
        .values()
        .map(|value| value.name().to_owned())
        .collect();
    Err(format!(
        "unknown value {text:?} for enum {}; expected one of {}",
        enum_descriptor.name(),
        names.join(", ")
    ))
}

/// Milliseconds since the epoch → (seconds, nanos), range-checked.
pub(crate) fn timestamp_from_millis(millis: i64) -> Result<(i64, i32), String> {
    let seconds = millis.div_euclid(1000);
    let nanos = (millis.rem_euclid(1000) * 1_000_000) as i32;
    check_timestamp(seconds, nanos)
}

fn check_timestamp(seconds: i64, nanos: i32) -> Result<(i64, i32), String> {
    if (MIN_TIMESTAMP_SECONDS..=MAX_TIMESTAMP_SECONDS).contains(&seconds) {
        Ok((seconds, nanos))
    } else {
        Err("timestamp is outside 0001-01-01 to 9999-12-31".to_owned())
    }
}

/// A timestamp as integer milliseconds since the epoch or RFC 3339 text.
pub(crate) fn timestamp_from_text(text: &str) -> Result<(i64, i32), String> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit()) {
        let millis = text
            .parse::<i64>()
            .map_err(|_| format!("{text:?} is out of range for a timestamp"))?;
        return timestamp_from_millis(millis);
    }
    let timestamp = text.parse::<prost_types::Timestamp>().map_err(|_| {
        format!("expected milliseconds since the epoch or an RFC 3339 timestamp, got {text:?}")
    })?;
    check_timestamp(timestamp.seconds, timestamp.nanos)
}

/// A duration such as `1.5s` or `-0.001s`.
pub(crate) fn duration_from_text(text: &str) -> Result<(i64, i32), String> {
    let duration = text
        .parse::<prost_types::Duration>()
        .map_err(|_| format!("expected a duration such as \"1.5s\", got {text:?}"))?;
    if duration.seconds.abs() > MAX_DURATION_SECONDS {
        return Err("duration is out of range".to_owned());
    }
    Ok((duration.seconds, duration.nanos))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_accept_decimal_and_integral_exponents() {
        assert_eq!(parse_i64("-42"), Ok(-42));
        assert_eq!(parse_i64("1e3"), Ok(1000));
        assert!(parse_i64("1.5").is_err());
        assert!(parse_i64("abc").is_err());
        assert!(parse_i64("1e19").is_err());
        assert_eq!(parse_u64("18446744073709551615"), Ok(u64::MAX));
        assert!(parse_u64("-1").is_err());
    }

    #[test]
    fn floats_accept_only_the_proto3_special_spellings() {
        assert_eq!(parse_f64("1.5"), Ok(1.5));
        assert!(parse_f64("NaN").unwrap().is_nan());
        assert_eq!(parse_f64("-Infinity"), Ok(f64::NEG_INFINITY));
        assert!(parse_f64("inf").is_err());
        assert!(parse_f64("1e400").is_err());
        assert!(to_f32(1e39).is_err());
        assert_eq!(to_f32(0.5), Ok(0.5));
    }

    #[test]
    fn base64_accepts_both_alphabets_with_or_without_padding() {
        assert_eq!(decode_base64("+/8=").unwrap(), vec![0xfb, 0xff]);
        assert_eq!(decode_base64("+/8").unwrap(), vec![0xfb, 0xff]);
        assert_eq!(decode_base64("-_8").unwrap(), vec![0xfb, 0xff]);
        assert!(decode_base64("not base64!").is_err());
    }

    #[test]
    fn uuids_accept_text_or_base64_of_sixteen_bytes() {
        let expected = uuid::Uuid::parse_str("0192f1a4-7c3e-7b1a-9c1d-2f3e4a5b6c7d").unwrap();
        let from_text = uuid_from_text("0192F1A4-7C3E-7B1A-9C1D-2F3E4A5B6C7D").unwrap();
        assert_eq!(from_text.as_ref(), expected.as_bytes());
        let base64 = base64::engine::general_purpose::STANDARD.encode(expected.as_bytes());
        assert_eq!(
            uuid_from_text(&base64).unwrap().as_ref(),
            expected.as_bytes()
        );
        assert!(
            uuid_from_text("AAEC").is_err(),
            "three bytes are not a UUID"
        );
        assert!(uuid_from_text("not-a-uuid").is_err());
        assert!(uuid_from_text("").unwrap().is_empty());
    }

    #[test]
    fn timestamps_accept_millis_or_rfc3339() {
        assert_eq!(timestamp_from_text("1732262400000"), Ok((1_732_262_400, 0)));
        assert_eq!(timestamp_from_text("-1"), Ok((-1, 999_000_000)));
        assert_eq!(
            timestamp_from_text("2024-11-22T08:00:00.250Z"),
            Ok((1_732_262_400, 250_000_000))
        );
        assert_eq!(
            timestamp_from_text("2024-11-22T09:00:00+01:00"),
            Ok((1_732_262_400, 0))
        );
        assert!(timestamp_from_text("yesterday").is_err());
        assert!(timestamp_from_text("99999999999999999").is_err());
    }

    #[test]
    fn durations_use_the_seconds_suffix_form() {
        assert_eq!(duration_from_text("1.5s"), Ok((1, 500_000_000)));
        assert_eq!(duration_from_text("-0.001s"), Ok((0, -1_000_000)));
        assert!(duration_from_text("1.5").is_err());
        assert!(duration_from_text("315576000001s").is_err());
    }

    #[test]
    fn booleans_accept_words_and_digits() {
        assert_eq!(parse_bool("true"), Ok(true));
        assert_eq!(parse_bool("0"), Ok(false));
        assert!(parse_bool("yes").is_err());
    }
}
