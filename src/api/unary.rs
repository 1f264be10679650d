//! Every unary RPC, callable in process: path → decode the request type,
//! call the service trait's method, encode the reply. `build.rs` generates
//! the registrations from the protos (`unary_methods.rs`), so a new
//! annotated RPC is in the table with no change here.
//!
//! The table is what the protocols share below their framing: native gRPC
//! and gRPC-Web unary calls (`grpc_unary.rs`) and REST (the gateway) all
//! reach the handlers through [`super::calls::UnaryCalls`], which applies
//! the gate and the metrics and then calls this table.
use std::collections::HashMap;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use tonic::Status;
use tonic::metadata::MetadataMap;

/// A unary reply: the handler's response metadata and the encoded message.
pub type UnaryReply = Result<(MetadataMap, Bytes), Status>;

/// The future of one call.
pub type UnaryFuture = Pin<Box<dyn Future<Output = UnaryReply> + Send>>;

type Handler = Box<dyn Fn(MetadataMap, http::Extensions, Bytes) -> UnaryFuture + Send + Sync>;

/// Unary methods by request path (`/package.Service/Method`).
#[derive(Default)]
pub struct UnaryTable {
    by_path: HashMap<&'static str, Handler>,
}

impl std::fmt::Debug for UnaryTable {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("UnaryTable")
            .field("methods", &self.by_path.len())
            .finish()
    }
}

impl UnaryTable {
    /// Registers `call` for `path`; used by the generated registrations.
    pub fn add<S, Req, Resp, F>(&mut self, path: &'static str, service: Arc<S>, call: F)
    where
        S: Send + Sync + 'static,
        Req: prost::Message + Default + Send + 'static,
        Resp: prost::Message + 'static,
        F: Fn(
                Arc<S>,
                tonic::Request<Req>,
            )
                -> Pin<Box<dyn Future<Output = Result<tonic::Response<Resp>, Status>> + Send>>
            + Send
            + Sync
            + 'static,
    {
        let handler = move |metadata: MetadataMap, extensions: http::Extensions, body: Bytes| {
            let message = match Req::decode(body) {
                Ok(message) => message,
                Err(error) => {
                    let status =
                        Status::invalid_argument(format!("malformed protobuf message: {error}"));
                    return Box::pin(std::future::ready(Err(status))) as UnaryFuture;
                }
            };
            let reply = call(
                service.clone(),
                tonic::Request::from_parts(metadata, extensions, message),
            );
            Box::pin(async move {
                let (metadata, message, _) = reply.await?.into_parts();
                Ok((metadata, Bytes::from(message.encode_to_vec())))
            }) as UnaryFuture
        };
        self.by_path.insert(path, Box::new(handler));
    }

    /// Starts the call of `path`; `None` when it is not a unary method of
    /// the table.
    pub fn call(
        &self,
        path: &str,
        metadata: MetadataMap,
        extensions: http::Extensions,
        body: Bytes,
    ) -> Option<UnaryFuture> {
        let handler = self.by_path.get(path)?;
        Some(handler(metadata, extensions, body))
    }

    /// Whether `path` is a unary method of the table.
    pub fn contains(&self, path: &str) -> bool {
        self.by_path.contains_key(path)
    }
}

/// The registrations `build.rs` generated.
pub mod generated {
    include!(concat!(env!("OUT_DIR"), "/unary_methods.rs"));
}
