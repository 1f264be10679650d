//! Black-box tests: HTTP requests through the gateway's router, in front of
//! a generic in-test gRPC service (and tonic's real health server), for an
//! API the gateway has never seen (`gatewaytest.v1`).

mod docs;
mod errors;
mod openapi;
mod requests;
mod routing;
mod startup;
mod support;
mod tonic_server;
