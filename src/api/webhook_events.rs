//! Webhook event bodies: the `goodmem.v1.WebhookEvent` message, encoded
//! with the REST JSON rules by the gateway's codec, so receivers read the
//! same JSON as REST clients.
use prost::Message as _;

use super::convert::timestamp;
use super::memo_service::memo_message;
use crate::domain::events::{EventEncoder, MemoEvent};
use crate::proto::goodmem::v1 as pb;

/// Encodes events through the REST gateway's JSON codec.
#[derive(Clone, Debug)]
pub struct JsonEvents {
    encoder: roster_gateway::JsonEncoder,
}

impl JsonEvents {
    /// Events encoded by `encoder`.
    pub fn new(encoder: roster_gateway::JsonEncoder) -> Self {
        Self { encoder }
    }
}

impl EventEncoder for JsonEvents {
    fn encode(&self, event: &MemoEvent<'_>) -> Vec<u8> {
        let message = pb::WebhookEvent {
            id: event.id.to_string(),
            r#type: event.kind.name().to_owned(),
            create_time: Some(timestamp(event.at)),
            memo: Some(memo_message(event.memo.clone())),
        };
        let protobuf = message.encode_to_vec();
        self.encoder
            .encode("goodmem.v1.WebhookEvent", &protobuf)
            .unwrap_or_else(|| {
                // The type is compiled into this binary's pool: not reachable.
                tracing::error!("goodmem.v1.WebhookEvent is missing from the descriptor pool");
                b"{}".to_vec()
            })
    }
}
