//! Black-box tests: each starts the real server in-process on 127.0.0.1:0
//! with a fresh database and talks to it over the wire with gRPC, gRPC-Web,
//! HTTP, and real third-party clients (grpcurl, buf).
//!
//! Storage-touching tests run on SQLite always, and on PostgreSQL and
//! MySQL/MariaDB when `ROSTER_TEST_POSTGRES_URL` / `ROSTER_TEST_MYSQL_URL`
//! are set. Under `CI=true` an unset URL fails the run instead of skipping.
mod helpers;

mod authorization_matrix;
mod bootstrap;
mod cli;
mod conformance;
mod connect;
mod connect_clients;
mod console;
mod create_user;
mod deadlines;
mod deny_by_default;
mod first_start;
mod fresh_reads;
mod get_user;
mod hostile_input;
mod lifecycle;
mod list_users;
mod memos;
mod notifications;
mod observability;
mod one_call_path;
mod openapi_clients;
mod personal_access_tokens;
mod protocols;
mod resilience;
mod rest;
mod sign_in;
mod update_delete_user;
mod user_settings;
mod webhook_delivery;
mod webhooks;
