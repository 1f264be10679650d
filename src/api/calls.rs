//! The one path of every unary call, whatever its protocol: metered, then
//! the gate (a deadline, then authentication unless the method is public),
//! then the request message, then the handler from the unary table. Native
//! gRPC and gRPC-Web (`grpc_unary.rs`) and REST (the gateway, through
//! [`roster_gateway::UnaryService`]) differ only in how they frame the
//! message; none of them builds an HTTP request to reach a handler.
//!
//! Streaming methods, health and reflection stay on tonic's HTTP/2
//! services behind [`super::gate::GateLayer`] and the metrics layer, which
//! apply the same rules from the same [`GateRules`] and [`Metrics`].
use std::sync::Arc;

use bytes::Bytes;
use tonic::Status;
use tonic::metadata::MetadataMap;

use super::gate::{CallDeadline, GateRules};
use super::methods::MethodTable;
use super::unary::{UnaryReply, UnaryTable};
use crate::store::call_view::within_one_look;
use crate::telemetry::metrics::{Metrics, Protocol};

/// What a unary call needs, shared by every call.
#[derive(Debug)]
pub struct UnaryCalls {
    rules: Arc<GateRules>,
    metrics: Arc<Metrics>,
    methods: Arc<MethodTable>,
    table: UnaryTable,
}

impl UnaryCalls {
    /// Calls through `table`, gated by `rules` and metered into `metrics`.
    pub fn new(
        rules: Arc<GateRules>,
        metrics: Arc<Metrics>,
        methods: Arc<MethodTable>,
        table: UnaryTable,
    ) -> Self {
        Self {
            rules,
            metrics,
            methods,
            table,
        }
    }

    /// Whether `path` is a unary method served here.
    pub fn serves(&self, path: &str) -> bool {
        self.table.contains(path)
    }

    /// One call of the unary method at `uri`'s path. `message` yields the
    /// encoded request; it is awaited only once the gate has admitted the
    /// call, so a refused caller never makes the server read a body. The
    /// deadline covers the gate, the message and the handler; a deadline
    /// already in the extensions (the REST preflight's) is kept.
    pub async fn call<M>(
        &self,
        protocol: Protocol,
        uri: &http::Uri,
        headers: http::HeaderMap,
        mut extensions: http::Extensions,
        message: M,
    ) -> UnaryReply
    where
        M: Future<Output = Result<Bytes, Status>>,
    {
        let path = uri.path();
        let method = self.methods.get(path);
        let meter = self
            .metrics
            .start_call(method, protocol, &headers, &extensions, path);
        let deadline = match extensions.get::<CallDeadline>() {
            Some(deadline) => *deadline,
            None => self.rules.deadline_for(&headers),
        };
        // The gate's credential read and the handler's reads share one
        // look at the database (see `store::call_view`).
        let work = within_one_look(async {
            self.rules
                .admit(path, &headers, uri, &mut extensions)
                .await?;
            let body = message.await?;
            let call = self
                .table
                .call(path, MetadataMap::from_headers(headers), extensions, body)
                .ok_or_else(|| Status::unimplemented(format!("unknown method {path}")))?;
            call.await
        });
        let reply = match tokio::time::timeout_at(deadline.instant(), work).await {
            Ok(reply) => reply,
            Err(_elapsed) => Err(deadline.exceeded()),
        };
        meter.finish(match &reply {
            Ok(_) => tonic::Code::Ok,
            Err(status) => status.code(),
        });
        reply
    }
}

/// REST's way in: the gateway's in-process calls.
#[derive(Debug)]
pub struct RestCalls(pub Arc<UnaryCalls>);

impl roster_gateway::UnaryService for RestCalls {
    fn call(&self, call: roster_gateway::UnaryCall) -> roster_gateway::UnaryFuture {
        let calls = self.0.clone();
        Box::pin(async move {
            let roster_gateway::UnaryCall {
                uri,
                headers,
                extensions,
                message,
            } = call;
            let reply = calls
                .call(Protocol::Rest, &uri, headers, extensions, async {
                    Ok(message)
                })
                .await;
            reply.map(|(_metadata, body)| body)
        })
    }
}
