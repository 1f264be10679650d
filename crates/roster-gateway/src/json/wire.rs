//! Protobuf wire bytes → JSON, straight from the bytes a service answered
//! with: no `DynamicMessage` is built for the common shapes. A message's
//! fields are scanned once into a list of occurrences, then written in
//! declaration order with the same rules (and the same writers) as
//! [`super::encode`], so the output is byte for byte what encoding the
//! decoded message would give; a proptest holds the two to that.
//!
//! Protobuf semantics kept: the last occurrence of a singular scalar wins,
//! repeated occurrences of a singular message merge (their bytes are
//! concatenated, which is what merging means on the wire), the last member
//! seen of a oneof is its value, packed and unpacked lists are both read,
//! map entries are sorted by key with the last of equal keys kept, unknown
//! fields are skipped. Anything unusual (groups, a wire type that does not
//! fit the field, `Any`/`Struct`/`Value`/`ListValue`) is handed to the
//! `DynamicMessage` path, so rare shapes cost more but never render
//! differently.

use prost_reflect::DynamicMessage;

use super::encode::{
    write_base64, write_f32, write_f64, write_integer, write_quoted_integer, write_uuid,
};
use super::escape::write_json_string;
use super::names::snake_to_lower_camel;
use super::{FieldPlan, JsonCodec, Shape, ValuePlan, WellKnown, WireKind, field_behavior};

/// The bytes are not a valid encoding of the message (or nest too deep).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WireError;

type Wired<T> = Result<T, WireError>;

/// Nesting deeper than this is refused, as prost's decoder refuses it.
const RECURSION_LIMIT: u32 = 100;

/// One field value as it appears on the wire.
#[derive(Clone, Copy, Debug)]
enum Raw<'a> {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    Delimited(&'a [u8]),
}

/// A field of the plan seen in the bytes: its index in the plan's fields.
#[derive(Clone, Copy, Debug)]
struct Occurrence<'a> {
    field: usize,
    raw: Raw<'a>,
}

impl JsonCodec {
    /// Appends the JSON of the message of plan `index` encoded in `bytes`,
    /// or of its field `field` alone (a `response_body` rule). Falls back to
    /// decoding a `DynamicMessage` for shapes the wire walk leaves to it;
    /// fails only when the bytes do not decode at all.
    pub(crate) fn encode_reply(
        &self,
        index: usize,
        field: Option<usize>,
        bytes: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), prost::DecodeError> {
        let start = out.len();
        let walked = match field {
            None => self.write_message(index, bytes, out, 0),
            Some(field) => self.write_one_field(index, field, bytes, out),
        };
        if walked.is_ok() {
            return Ok(());
        }
        out.truncate(start);
        let message = DynamicMessage::decode(self.message(index).descriptor.clone(), bytes)?;
        match field {
            None => self.encode_message(index, &message, out),
            Some(field) => self.encode_field(&self.message(index).fields[field], &message, out),
        }
        Ok(())
    }

    /// The wire walk alone, without the fallback: tests check that it
    /// handles a shape itself.
    #[cfg(test)]
    pub(crate) fn encode_wire_only(&self, index: usize, bytes: &[u8], out: &mut Vec<u8>) -> bool {
        self.write_message(index, bytes, out, 0).is_ok()
    }

    fn write_message(
        &self,
        index: usize,
        bytes: &[u8],
        out: &mut Vec<u8>,
        depth: u32,
    ) -> Wired<()> {
        if depth > RECURSION_LIMIT {
            return Err(WireError);
        }
        let plan = self.message(index);
        if let Some(well_known) = plan.well_known {
            return self.write_well_known(well_known, index, bytes, out, depth);
        }
        let mut found = Vec::with_capacity(plan.fields.len());
        scan(self, index, bytes, &mut found)?;
        out.push(b'{');
        self.write_fields(index, &mut found, out, depth)?;
        out.push(b'}');
        Ok(())
    }

    fn write_one_field(
        &self,
        index: usize,
        field: usize,
        bytes: &[u8],
        out: &mut Vec<u8>,
    ) -> Wired<()> {
        let plan = self.message(index);
        if plan.well_known.is_some() {
            return Err(WireError);
        }
        let mut found = Vec::with_capacity(plan.fields.len());
        scan(self, index, bytes, &mut found)?;
        let winners = oneof_winners(self, index, &found);
        found.retain(|occurrence| occurrence.field == field);
        let occurrences = match plan.fields[field].oneof {
            Some(oneof) if winners[oneof] != Some(field) => &[][..],
            _ => &found[..],
        };
        self.write_field(&plan.fields[field], occurrences, out, 0)
    }

    /// Every field in declaration order as `"name":value`, comma-separated,
    /// skipping `INPUT_ONLY` ones (as [`Self::encode_message`] does).
    fn write_fields(
        &self,
        index: usize,
        found: &mut [Occurrence<'_>],
        out: &mut Vec<u8>,
        depth: u32,
    ) -> Wired<()> {
        let plan = self.message(index);
        let winners = oneof_winners(self, index, found);
        // Stable: occurrences of one field keep their order on the wire.
        found.sort_by_key(|occurrence| occurrence.field);
        let mut cursor = 0;
        let mut needs_comma = false;
        for (field_index, field) in plan.fields.iter().enumerate() {
            let start = cursor;
            while cursor < found.len() && found[cursor].field == field_index {
                cursor += 1;
            }
            if field.has_behavior(field_behavior::INPUT_ONLY) {
                continue;
            }
            let occurrences = match field.oneof {
                Some(oneof) if winners[oneof] != Some(field_index) => &[][..],
                _ => &found[start..cursor],
            };
            if needs_comma {
                out.push(b',');
            }
            needs_comma = true;
            out.extend_from_slice(&field.json_key);
            self.write_field(field, occurrences, out, depth)?;
        }
        Ok(())
    }

    fn write_field(
        &self,
        field: &FieldPlan,
        occurrences: &[Occurrence<'_>],
        out: &mut Vec<u8>,
        depth: u32,
    ) -> Wired<()> {
        match &field.shape {
            Shape::Singular => match (occurrences.last(), &field.value) {
                (None, _) if field.has_presence => out.extend_from_slice(b"null"),
                (None, plan) => self.write_default(plan, out, depth)?,
                (Some(_), ValuePlan::Message(index)) => {
                    if let [only] = occurrences {
                        self.write_message(*index, delimited(only.raw)?, out, depth + 1)?;
                    } else {
                        // Occurrences of one message merge: parsing their
                        // concatenation is the merge.
                        let mut merged = Vec::new();
                        for occurrence in occurrences {
                            merged.extend_from_slice(delimited(occurrence.raw)?);
                        }
                        self.write_message(*index, &merged, out, depth + 1)?;
                    }
                }
                (Some(last), plan) => write_scalar(plan, field.wire, last.raw, out)?,
            },
            Shape::Repeated => {
                out.push(b'[');
                let mut first = true;
                for occurrence in occurrences {
                    match (&field.value, occurrence.raw) {
                        (ValuePlan::Message(index), raw) => {
                            comma(&mut first, out);
                            self.write_message(*index, delimited(raw)?, out, depth + 1)?;
                        }
                        (plan, Raw::Delimited(mut packed)) if field.wire != WireKind::Delimited => {
                            while !packed.is_empty() {
                                comma(&mut first, out);
                                let raw = read_packed(field.wire, &mut packed)?;
                                write_scalar(plan, field.wire, raw, out)?;
                            }
                        }
                        (plan, raw) => {
                            comma(&mut first, out);
                            write_scalar(plan, field.wire, raw, out)?;
                        }
                    }
                }
                out.push(b']');
            }
            Shape::Map {
                key,
                key_wire,
                value_wire,
            } => self.write_map(field, key, *key_wire, *value_wire, occurrences, out, depth)?,
        }
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    fn write_map(
        &self,
        field: &FieldPlan,
        key_plan: &ValuePlan,
        key_wire: WireKind,
        value_wire: WireKind,
        occurrences: &[Occurrence<'_>],
        out: &mut Vec<u8>,
        depth: u32,
    ) -> Wired<()> {
        let mut entries: Vec<(MapKey<'_>, Option<Raw<'_>>)> = Vec::with_capacity(occurrences.len());
        for occurrence in occurrences {
            let mut bytes = delimited(occurrence.raw)?;
            let (mut key, mut value) = (None, None);
            while !bytes.is_empty() {
                let (number, raw) = read_field(&mut bytes)?;
                match number {
                    1 => key = Some(raw),
                    2 => value = Some(raw),
                    _ => {}
                }
            }
            entries.push((map_key(key_plan, key_wire, key)?, value));
        }
        // Stable, so of equal keys the last on the wire is last in its run.
        entries.sort_by(|left, right| left.0.cmp(&right.0));
        out.push(b'{');
        let mut first = true;
        for (position, (key, value)) in entries.iter().enumerate() {
            if entries
                .get(position + 1)
                .is_some_and(|(next, _)| next == key)
            {
                continue;
            }
            comma(&mut first, out);
            key.write(out);
            out.push(b':');
            match (value, &field.value) {
                (None, plan) => self.write_default(plan, out, depth)?,
                (Some(raw), ValuePlan::Message(index)) => {
                    self.write_message(*index, delimited(*raw)?, out, depth + 1)?;
                }
                (Some(raw), plan) => write_scalar(plan, value_wire, *raw, out)?,
            }
        }
        out.push(b'}');
        Ok(())
    }

    /// What an absent value prints as (fields without presence, and map
    /// entries without a value).
    fn write_default(&self, plan: &ValuePlan, out: &mut Vec<u8>, depth: u32) -> Wired<()> {
        match plan {
            ValuePlan::Bool => out.extend_from_slice(b"false"),
            ValuePlan::Int32 | ValuePlan::Uint32 => out.push(b'0'),
            ValuePlan::Int64 | ValuePlan::Uint64 => out.extend_from_slice(b"\"0\""),
            ValuePlan::Float => write_f32(out, 0.0),
            ValuePlan::Double => write_f64(out, 0.0),
            ValuePlan::String | ValuePlan::Bytes => out.extend_from_slice(b"\"\""),
            ValuePlan::Uuid | ValuePlan::NullValue => out.extend_from_slice(b"null"),
            ValuePlan::Enum(descriptor) => {
                write_enum(descriptor, descriptor.default_value().number(), out)
            }
            ValuePlan::Message(index) => self.write_message(*index, &[], out, depth + 1)?,
        }
        Ok(())
    }

    fn write_well_known(
        &self,
        well_known: WellKnown,
        index: usize,
        bytes: &[u8],
        out: &mut Vec<u8>,
        depth: u32,
    ) -> Wired<()> {
        match well_known {
            WellKnown::Timestamp => {
                let (seconds, nanos) = seconds_and_nanos(bytes)?;
                let millis = seconds
                    .saturating_mul(1000)
                    .saturating_add(i64::from(nanos).div_euclid(1_000_000));
                write_integer(out, millis);
            }
            WellKnown::Duration => {
                let (seconds, nanos) = seconds_and_nanos(bytes)?;
                let duration = prost_types::Duration { seconds, nanos };
                write_json_string(out, &duration.to_string());
            }
            WellKnown::FieldMask => {
                let mut joined = String::new();
                let mut rest = bytes;
                while !rest.is_empty() {
                    let (number, raw) = read_field(&mut rest)?;
                    if number != 1 {
                        continue;
                    }
                    let path = std::str::from_utf8(delimited(raw)?).map_err(|_| WireError)?;
                    if !joined.is_empty() {
                        joined.push(',');
                    }
                    joined.push_str(&snake_to_lower_camel(path));
                }
                write_json_string(out, &joined);
            }
            WellKnown::Empty => {
                check_fields(bytes)?;
                out.extend_from_slice(b"{}");
            }
            WellKnown::Wrapper => {
                let plan = &self.message(index).fields[0];
                let mut last = None;
                let mut rest = bytes;
                while !rest.is_empty() {
                    let (number, raw) = read_field(&mut rest)?;
                    if number == plan.number {
                        last = Some(raw);
                    }
                }
                match last {
                    Some(raw) => write_scalar(&plan.value, plan.wire, raw, out)?,
                    None => self.write_default(&plan.value, out, depth)?,
                }
            }
            WellKnown::Struct | WellKnown::Value | WellKnown::ListValue | WellKnown::Any => {
                let message = DynamicMessage::decode(self.message(index).descriptor.clone(), bytes)
                    .map_err(|_| WireError)?;
                self.encode_message(index, &message, out);
            }
        }
        Ok(())
    }
}

/// Reads every field of `bytes`, keeping those the plan knows.
fn scan<'a>(
    codec: &JsonCodec,
    index: usize,
    mut bytes: &'a [u8],
    found: &mut Vec<Occurrence<'a>>,
) -> Wired<()> {
    let plan = codec.message(index);
    while !bytes.is_empty() {
        let (number, raw) = read_field(&mut bytes)?;
        if let Some(field) = plan.field_by_number(number) {
            found.push(Occurrence { field, raw });
        }
    }
    Ok(())
}

/// For each real oneof of the message, the member that appeared last.
fn oneof_winners(codec: &JsonCodec, index: usize, found: &[Occurrence<'_>]) -> Vec<Option<usize>> {
    let plan = codec.message(index);
    let mut winners = vec![None; plan.oneof_members.len()];
    if winners.is_empty() {
        return winners;
    }
    for occurrence in found {
        if let Some(oneof) = plan.fields[occurrence.field].oneof {
            winners[oneof] = Some(occurrence.field);
        }
    }
    winners
}

fn comma(first: &mut bool, out: &mut Vec<u8>) {
    if !*first {
        out.push(b',');
    }
    *first = false;
}

fn read_varint(bytes: &mut &[u8]) -> Wired<u64> {
    let mut value = 0u64;
    for shift in 0..10 {
        let (&byte, rest) = bytes.split_first().ok_or(WireError)?;
        *bytes = rest;
        value |= u64::from(byte & 0x7f) << (shift * 7);
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(WireError)
}

fn take<'a>(bytes: &mut &'a [u8], length: usize) -> Wired<&'a [u8]> {
    if bytes.len() < length {
        return Err(WireError);
    }
    let (taken, rest) = bytes.split_at(length);
    *bytes = rest;
    Ok(taken)
}

/// One field: its number and value. Groups (wire types 3 and 4) are left
/// to the `DynamicMessage` path.
fn read_field<'a>(bytes: &mut &'a [u8]) -> Wired<(u32, Raw<'a>)> {
    let key = read_varint(bytes)?;
    let number = u32::try_from(key >> 3).map_err(|_| WireError)?;
    if number == 0 {
        return Err(WireError);
    }
    let raw = match key & 7 {
        0 => Raw::Varint(read_varint(bytes)?),
        1 => Raw::Fixed64(u64::from_le_bytes(
            take(bytes, 8)?.try_into().map_err(|_| WireError)?,
        )),
        2 => {
            let length = usize::try_from(read_varint(bytes)?).map_err(|_| WireError)?;
            Raw::Delimited(take(bytes, length)?)
        }
        5 => Raw::Fixed32(u32::from_le_bytes(
            take(bytes, 4)?.try_into().map_err(|_| WireError)?,
        )),
        _ => return Err(WireError),
    };
    Ok((number, raw))
}

/// Checks that `bytes` is a sequence of well-formed fields.
fn check_fields(mut bytes: &[u8]) -> Wired<()> {
    while !bytes.is_empty() {
        read_field(&mut bytes)?;
    }
    Ok(())
}

fn read_packed<'a>(wire: WireKind, bytes: &mut &'a [u8]) -> Wired<Raw<'a>> {
    Ok(match wire {
        WireKind::Varint | WireKind::ZigzagVarint => Raw::Varint(read_varint(bytes)?),
        WireKind::Fixed32 => Raw::Fixed32(u32::from_le_bytes(
            take(bytes, 4)?.try_into().map_err(|_| WireError)?,
        )),
        WireKind::Fixed64 => Raw::Fixed64(u64::from_le_bytes(
            take(bytes, 8)?.try_into().map_err(|_| WireError)?,
        )),
        WireKind::Delimited => return Err(WireError),
    })
}

fn delimited(raw: Raw<'_>) -> Wired<&[u8]> {
    match raw {
        Raw::Delimited(bytes) => Ok(bytes),
        _ => Err(WireError),
    }
}

fn zigzag(value: u64) -> i64 {
    ((value >> 1) as i64) ^ -((value & 1) as i64)
}

/// A 64-bit integer as its kind encodes it.
fn signed(wire: WireKind, raw: Raw<'_>) -> Wired<i64> {
    match (wire, raw) {
        (WireKind::Varint, Raw::Varint(value)) => Ok(value as i64),
        (WireKind::ZigzagVarint, Raw::Varint(value)) => Ok(zigzag(value)),
        (WireKind::Fixed64, Raw::Fixed64(value)) => Ok(value as i64),
        // sfixed32: sign-extend the 4 bytes.
        (WireKind::Fixed32, Raw::Fixed32(value)) => Ok(i64::from(value as i32)),
        _ => Err(WireError),
    }
}

fn unsigned(wire: WireKind, raw: Raw<'_>) -> Wired<u64> {
    match (wire, raw) {
        (WireKind::Varint, Raw::Varint(value)) | (WireKind::Fixed64, Raw::Fixed64(value)) => {
            Ok(value)
        }
        (WireKind::Fixed32, Raw::Fixed32(value)) => Ok(u64::from(value)),
        _ => Err(WireError),
    }
}

fn write_scalar(plan: &ValuePlan, wire: WireKind, raw: Raw<'_>, out: &mut Vec<u8>) -> Wired<()> {
    match plan {
        ValuePlan::Bool => match raw {
            Raw::Varint(value) => {
                out.extend_from_slice(if value != 0 { b"true" } else { b"false" })
            }
            _ => return Err(WireError),
        },
        // 32-bit values keep their low 32 bits, as prost truncates them.
        ValuePlan::Int32 => write_integer(out, signed(wire, raw)? as i32),
        ValuePlan::Uint32 => write_integer(out, unsigned(wire, raw)? as u32),
        ValuePlan::Int64 => write_quoted_integer(out, signed(wire, raw)?),
        ValuePlan::Uint64 => write_quoted_integer(out, unsigned(wire, raw)?),
        ValuePlan::Float => match raw {
            Raw::Fixed32(bits) => write_f32(out, f32::from_bits(bits)),
            _ => return Err(WireError),
        },
        ValuePlan::Double => match raw {
            Raw::Fixed64(bits) => write_f64(out, f64::from_bits(bits)),
            _ => return Err(WireError),
        },
        ValuePlan::String => {
            let text = std::str::from_utf8(delimited(raw)?).map_err(|_| WireError)?;
            write_json_string(out, text);
        }
        ValuePlan::Bytes => write_base64(out, delimited(raw)?),
        ValuePlan::Uuid => write_uuid(out, delimited(raw)?),
        ValuePlan::Enum(descriptor) => match raw {
            Raw::Varint(value) => write_enum(descriptor, value as i32, out),
            _ => return Err(WireError),
        },
        ValuePlan::NullValue => match raw {
            Raw::Varint(_) => out.extend_from_slice(b"null"),
            _ => return Err(WireError),
        },
        ValuePlan::Message(_) => return Err(WireError),
    }
    Ok(())
}

fn write_enum(descriptor: &prost_reflect::EnumDescriptor, number: i32, out: &mut Vec<u8>) {
    match descriptor.get_value(number) {
        Some(value) => write_json_string(out, value.name()),
        // An open enum may carry a number this schema does not name.
        None => write_integer(out, number),
    }
}

/// `google.protobuf.Timestamp` and `Duration`: fields 1 and 2, last wins.
fn seconds_and_nanos(mut bytes: &[u8]) -> Wired<(i64, i32)> {
    let (mut seconds, mut nanos) = (0i64, 0i32);
    while !bytes.is_empty() {
        match read_field(&mut bytes)? {
            (1, Raw::Varint(value)) => seconds = value as i64,
            (2, Raw::Varint(value)) => nanos = value as i64 as i32,
            (1 | 2, _) => return Err(WireError),
            _ => {}
        }
    }
    Ok((seconds, nanos))
}

/// A map key, ordered as prost-reflect's `MapKey` orders keys of one type.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum MapKey<'a> {
    Bool(bool),
    Signed(i64),
    Unsigned(u64),
    Text(&'a str),
}

impl MapKey<'_> {
    /// Keys are JSON strings whatever their type.
    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Self::Bool(flag) => {
                out.extend_from_slice(if *flag { b"\"true\"" } else { b"\"false\"" })
            }
            Self::Signed(number) => write_quoted_integer(out, *number),
            Self::Unsigned(number) => write_quoted_integer(out, *number),
            Self::Text(text) => write_json_string(out, text),
        }
    }
}

fn map_key<'a>(plan: &ValuePlan, wire: WireKind, raw: Option<Raw<'a>>) -> Wired<MapKey<'a>> {
    Ok(match (plan, raw) {
        (ValuePlan::String, None) => MapKey::Text(""),
        (ValuePlan::String, Some(raw)) => {
            MapKey::Text(std::str::from_utf8(delimited(raw)?).map_err(|_| WireError)?)
        }
        (ValuePlan::Bool, None) => MapKey::Bool(false),
        (ValuePlan::Bool, Some(Raw::Varint(value))) => MapKey::Bool(value != 0),
        (ValuePlan::Int32, None) | (ValuePlan::Int64, None) => MapKey::Signed(0),
        (ValuePlan::Int32, Some(raw)) => MapKey::Signed(i64::from(signed(wire, raw)? as i32)),
        (ValuePlan::Int64, Some(raw)) => MapKey::Signed(signed(wire, raw)?),
        (ValuePlan::Uint32, None) | (ValuePlan::Uint64, None) => MapKey::Unsigned(0),
        (ValuePlan::Uint32, Some(raw)) => MapKey::Unsigned(u64::from(unsigned(wire, raw)? as u32)),
        (ValuePlan::Uint64, Some(raw)) => MapKey::Unsigned(unsigned(wire, raw)?),
        _ => return Err(WireError),
    })
}

#[cfg(test)]
mod tests {
    use prost::encoding::{WireType, encode_key, encode_varint};

    use super::*;
    use crate::test_pools::library_codec;

    fn varint_field(out: &mut Vec<u8>, number: u32, value: u64) {
        encode_key(number, WireType::Varint, out);
        encode_varint(value, out);
    }

    fn bytes_field(out: &mut Vec<u8>, number: u32, value: &[u8]) {
        encode_key(number, WireType::LengthDelimited, out);
        encode_varint(value.len() as u64, out);
        out.extend_from_slice(value);
    }

    /// The wire walk handles `bytes` itself and renders them exactly as the
    /// decoded message renders.
    fn assert_same_as_decoded(bytes: &[u8]) -> String {
        let codec = library_codec();
        let index = codec
            .plan_index_by_name("gatewaytest.v1.Everything")
            .unwrap();
        let mut walked = Vec::new();
        assert!(
            codec.encode_wire_only(index, bytes, &mut walked),
            "the walk fell back"
        );
        let message =
            DynamicMessage::decode(codec.message(index).descriptor.clone(), bytes).unwrap();
        let mut decoded = Vec::new();
        codec.encode_message(index, &message, &mut decoded);
        let walked = String::from_utf8(walked).unwrap();
        assert_eq!(walked, String::from_utf8(decoded).unwrap());
        walked
    }

    #[test]
    fn the_last_scalar_wins_and_repeated_messages_merge() {
        let mut bytes = Vec::new();
        varint_field(&mut bytes, 3, 5);
        varint_field(&mut bytes, 3, 7);
        let mut first_book = Vec::new();
        bytes_field(&mut first_book, 1, b"shelves/1/books/1");
        let mut second_book = Vec::new();
        bytes_field(&mut second_book, 2, b"Dune");
        bytes_field(&mut bytes, 18, &first_book);
        bytes_field(&mut bytes, 18, &second_book);
        let json = assert_same_as_decoded(&bytes);
        assert!(json.contains("\"anInt32\":7"), "{json}");
        assert!(
            json.contains("shelves/1/books/1") && json.contains("Dune"),
            "{json}"
        );
    }

    #[test]
    fn the_last_oneof_member_is_its_value() {
        let mut bytes = Vec::new();
        bytes_field(&mut bytes, 43, b"text");
        varint_field(&mut bytes, 44, 9);
        let json = assert_same_as_decoded(&bytes);
        assert!(json.contains("\"choiceText\":null"), "{json}");
        assert!(json.contains("\"choiceNumber\":\"9\""), "{json}");
    }

    #[test]
    fn packed_and_unpacked_lists_read_alike() {
        let mut bytes = Vec::new();
        let mut packed = Vec::new();
        encode_varint(1, &mut packed);
        encode_varint(300, &mut packed);
        bytes_field(&mut bytes, 19, &packed);
        varint_field(&mut bytes, 19, 2);
        // sint32 -3 is zigzag 5; sfixed32 -1 is four 0xff bytes.
        varint_field(&mut bytes, 7, 5);
        encode_key(11, WireType::ThirtyTwoBit, &mut bytes);
        bytes.extend_from_slice(&[0xff; 4]);
        let json = assert_same_as_decoded(&bytes);
        assert!(
            json.contains("\"int64List\":[\"1\",\"300\",\"2\"]"),
            "{json}"
        );
        assert!(
            json.contains("\"aSint32\":-3") && json.contains("\"anSfixed32\":-1"),
            "{json}"
        );
    }

    #[test]
    fn map_keys_are_sorted_and_the_last_of_equal_keys_wins() {
        let mut bytes = Vec::new();
        for (key, value) in [("b", 1), ("a", 2), ("b", 3)] {
            let mut entry = Vec::new();
            bytes_field(&mut entry, 1, key.as_bytes());
            varint_field(&mut entry, 2, value);
            bytes_field(&mut bytes, 24, &entry);
        }
        // An entry without a key has the default key.
        let mut keyless = Vec::new();
        bytes_field(&mut keyless, 2, b"no key");
        bytes_field(&mut bytes, 26, &keyless);
        let json = assert_same_as_decoded(&bytes);
        assert!(
            json.contains("\"stringToInt64\":{\"a\":\"2\",\"b\":\"3\"}"),
            "{json}"
        );
        assert!(
            json.contains("\"boolToString\":{\"false\":\"no key\"}"),
            "{json}"
        );
    }

    #[test]
    fn unknown_fields_are_skipped_and_groups_fall_back() {
        let mut bytes = Vec::new();
        varint_field(&mut bytes, 999, 1);
        bytes_field(&mut bytes, 14, b"kept");
        let json = assert_same_as_decoded(&bytes);
        assert!(json.contains("\"aString\":\"kept\""), "{json}");

        let codec = library_codec();
        let index = codec
            .plan_index_by_name("gatewaytest.v1.Everything")
            .unwrap();
        // An empty group (start and end of field 999) is valid protobuf the
        // walk leaves to the decoder; the answer is the same.
        let grouped = [0xbb, 0x3e, 0xbc, 0x3e];
        assert!(!codec.encode_wire_only(index, &grouped, &mut Vec::new()));
        let mut rendered = Vec::new();
        codec
            .encode_reply(index, None, &grouped, &mut rendered)
            .unwrap();
        let mut expected = Vec::new();
        codec.encode_reply(index, None, &[], &mut expected).unwrap();
        assert_eq!(rendered, expected);
        // Bytes that are not protobuf fail either way.
        assert!(
            codec
                .encode_reply(index, None, &[0x0a, 0x05], &mut Vec::new())
                .is_err()
        );
    }

    #[test]
    fn varints_zigzag_and_truncation() {
        let mut bytes: &[u8] = &[0x96, 0x01];
        assert_eq!(read_varint(&mut bytes), Ok(150));
        assert!(bytes.is_empty());
        assert_eq!(zigzag(1), -1);
        assert_eq!(zigzag(4), 2);
        let mut overlong: &[u8] = &[0xff; 11];
        assert_eq!(read_varint(&mut overlong), Err(WireError));
        let mut truncated: &[u8] = &[0x80];
        assert_eq!(read_varint(&mut truncated), Err(WireError));
    }

    #[test]
    fn fields_need_a_number_and_enough_bytes() {
        let mut zero: &[u8] = &[0x00, 0x01];
        assert_eq!(read_field(&mut zero).unwrap_err(), WireError);
        let mut short: &[u8] = &[0x0a, 0x05, b'a'];
        assert_eq!(read_field(&mut short).unwrap_err(), WireError);
        let mut group: &[u8] = &[0x0b];
        assert_eq!(read_field(&mut group).unwrap_err(), WireError);
        let mut fine: &[u8] = &[0x0a, 0x01, b'a'];
        assert!(matches!(
            read_field(&mut fine),
            Ok((1, Raw::Delimited(b"a")))
        ));
    }
}
