//! What the Connect layer needs to know of each method: its request and
//! response message types (to translate Connect's JSON, the canonical
//! proto3 mapping, to and from the wire), its streaming kind, and whether
//! it declares `idempotency_level = NO_SIDE_EFFECTS` (only those may be
//! called with GET). Read once from the descriptor sets, like the method
//! table; nothing here names a method.
use std::collections::HashMap;

use anyhow::Context as _;
use bytes::Bytes;
use prost::Message as _;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, SerializeOptions};
use tonic::Status;

use crate::api::methods::RpcKind;

/// `google.protobuf.MethodOptions.IdempotencyLevel.NO_SIDE_EFFECTS`.
const NO_SIDE_EFFECTS: i32 = 1;

/// One method.
#[derive(Clone, Debug)]
pub(crate) struct MethodSchema {
    pub(crate) input: MessageDescriptor,
    pub(crate) output: MessageDescriptor,
    pub(crate) kind: RpcKind,
    pub(crate) no_side_effects: bool,
}

/// Every method of the descriptor sets, by request path.
#[derive(Debug, Default)]
pub struct ConnectSchemas {
    by_path: HashMap<String, MethodSchema>,
}

impl ConnectSchemas {
    /// Reads every service of the encoded `FileDescriptorSet`s.
    pub fn from_descriptor_sets(encoded_sets: &[&[u8]]) -> anyhow::Result<Self> {
        let mut by_path = HashMap::new();
        for encoded in encoded_sets {
            let pool = DescriptorPool::decode(*encoded).context("cannot read a descriptor set")?;
            for service in pool.services() {
                for method in service.methods() {
                    let no_side_effects = method
                        .method_descriptor_proto()
                        .options
                        .as_ref()
                        .and_then(|options| options.idempotency_level)
                        == Some(NO_SIDE_EFFECTS);
                    by_path.insert(
                        format!("/{}/{}", service.full_name(), method.name()),
                        MethodSchema {
                            input: method.input(),
                            output: method.output(),
                            kind: RpcKind::of(&method),
                            no_side_effects,
                        },
                    );
                }
            }
        }
        Ok(Self { by_path })
    }

    pub(crate) fn get(&self, path: &str) -> Option<&MethodSchema> {
        self.by_path.get(path)
    }
}

/// How a Connect request carries its messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Codec {
    /// Protobuf binary: the wire bytes, unchanged.
    Proto,
    /// The canonical proto3 JSON mapping.
    Json,
}

impl Codec {
    pub(crate) fn unary_content_type(self) -> &'static str {
        match self {
            Self::Proto => "application/proto",
            Self::Json => "application/json",
        }
    }

    pub(crate) fn stream_content_type(self) -> &'static str {
        match self {
            Self::Proto => "application/connect+proto",
            Self::Json => "application/connect+json",
        }
    }

    /// A request message in this codec → wire bytes.
    pub(crate) fn decode(
        self,
        message: Option<&MessageDescriptor>,
        data: Bytes,
    ) -> Result<Bytes, Status> {
        self.convert(message, data, json_to_wire)
    }

    /// Wire bytes of a reply → this codec.
    pub(crate) fn encode(
        self,
        message: Option<&MessageDescriptor>,
        data: Bytes,
    ) -> Result<Bytes, Status> {
        self.convert(message, data, wire_to_json)
    }

    /// Binary passes unchanged; JSON is converted by `json`, which needs
    /// the message type.
    fn convert(
        self,
        message: Option<&MessageDescriptor>,
        data: Bytes,
        json: fn(&MessageDescriptor, &[u8]) -> Result<Vec<u8>, Status>,
    ) -> Result<Bytes, Status> {
        match (self, message) {
            (Self::Proto, _) => Ok(data),
            (Self::Json, Some(message)) => json(message, &data).map(Bytes::from),
            (Self::Json, None) => Err(Status::unimplemented("unknown method")),
        }
    }
}

/// Canonical proto3 JSON → wire bytes. Unknown fields are refused, as on
/// every other protocol; an empty body is the empty message.
fn json_to_wire(message: &MessageDescriptor, json: &[u8]) -> Result<Vec<u8>, Status> {
    if json.iter().all(u8::is_ascii_whitespace) {
        return Ok(Vec::new());
    }
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let decoded = DynamicMessage::deserialize(message.clone(), &mut deserializer)
        .and_then(|decoded| deserializer.end().map(|()| decoded))
        .map_err(|error| {
            Status::invalid_argument(format!("invalid JSON for {}: {error}", message.full_name()))
        })?;
    Ok(decoded.encode_to_vec())
}

/// Wire bytes → canonical proto3 JSON (lowerCamelCase names, 64-bit
/// integers as strings, enums by name, defaults omitted), what generated
/// Connect clients decode.
fn wire_to_json(message: &MessageDescriptor, wire: &[u8]) -> Result<Vec<u8>, Status> {
    let decoded = DynamicMessage::decode(message.clone(), wire).map_err(|error| {
        tracing::error!(%error, message = message.full_name(), "a reply does not decode");
        Status::internal("internal error")
    })?;
    let mut json = Vec::with_capacity(wire.len() * 2 + 2);
    let mut serializer = serde_json::Serializer::new(&mut json);
    decoded
        .serialize_with_options(&mut serializer, &SerializeOptions::new())
        .map_err(|error| {
            tracing::error!(%error, message = message.full_name(), "a reply does not encode as JSON");
            Status::internal("internal error")
        })?;
    Ok(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schemas() -> ConnectSchemas {
        ConnectSchemas::from_descriptor_sets(&[
            crate::proto::FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
        ])
        .unwrap()
    }

    #[test]
    fn reads_are_marked_free_of_side_effects() {
        let schemas = schemas();
        let get_user = schemas.get("/goodmem.v1.UserService/GetUser").unwrap();
        assert!(get_user.no_side_effects);
        assert_eq!(get_user.kind, RpcKind::Unary);
        let create = schemas.get("/goodmem.v1.UserService/CreateUser").unwrap();
        assert!(!create.no_side_effects);
        let watch = schemas.get("/grpc.health.v1.Health/Watch").unwrap();
        assert_eq!(watch.kind, RpcKind::ServerStreaming);
    }

    #[test]
    fn json_is_the_canonical_mapping_both_ways() {
        let schemas = schemas();
        let get_user = schemas.get("/goodmem.v1.UserService/GetUser").unwrap();
        let id = uuid::Uuid::now_v7();
        let json = format!(
            "{{\"userId\": \"{}\"}}",
            data_encoding::BASE64.encode(id.as_bytes())
        );
        let wire = Codec::Json
            .decode(Some(&get_user.input), Bytes::from(json))
            .unwrap();
        let back = Codec::Json.encode(Some(&get_user.input), wire).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&back).unwrap();
        assert_eq!(
            value["userId"].as_str().unwrap(),
            data_encoding::BASE64.encode(id.as_bytes())
        );
        let empty = Codec::Json
            .decode(Some(&get_user.input), Bytes::from_static(b" "))
            .unwrap();
        assert!(empty.is_empty());
    }

    #[test]
    fn bad_json_and_unknown_fields_are_invalid_arguments() {
        let schemas = schemas();
        let input = &schemas
            .get("/goodmem.v1.UserService/GetUser")
            .unwrap()
            .input;
        for body in [&b"{"[..], b"{\"nope\": 1}", b"[]", b"{} x"] {
            let status = Codec::Json
                .decode(Some(input), Bytes::copy_from_slice(body))
                .unwrap_err();
            assert_eq!(status.code(), tonic::Code::InvalidArgument, "{body:?}");
        }
    }
}
