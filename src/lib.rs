//! Roster: a user-management service. One port serves native gRPC, gRPC-Web
//! and JSON REST (transcoded from the protos' `google.api.http` rules).
//!
//! Layers, outermost first: [`server`] assembles the port; [`api`] holds the
//! tonic services (proto in, proto out); [`auth`] turns headers into a
//! principal; [`domain`] holds the rules; [`store`] the database.
pub mod api;
pub mod auth;
pub mod config;
pub mod connect;
pub mod console;
pub mod domain;
pub mod proto;
pub mod readiness;
pub mod serve;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod webhook;
