//! Run-time settings, filled from the command line or `ROSTER_*` variables.
use std::net::SocketAddr;

/// How log lines are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Everything the server needs to start.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// Address to bind; port 0 picks a free port (tests use it).
    pub listen: SocketAddr,
    /// sea-orm database URL: `sqlite://…`, `postgres://…` or `mysql://…`.
    pub database_url: String,
    /// Origins allowed by CORS; empty allows any origin (without credentials).
    pub cors_origins: Vec<String>,
    /// Largest accepted request body or gRPC message, in bytes.
    pub max_request_bytes: usize,
    /// How often the health service probes the database.
    pub health_probe_interval: std::time::Duration,
    /// Database statement bounds.
    pub store: crate::store::StoreSettings,
    /// Connection and request-body bounds of the accept loop.
    pub connections: crate::serve::Settings,
    /// The longest any call may take; a client's shorter `grpc-timeout`
    /// wins. Past it the call is `DEADLINE_EXCEEDED`.
    pub call_timeout: std::time::Duration,
    /// Let webhooks target loopback and private addresses (the SSRF guard
    /// is off): for receivers on the same host or network.
    pub allow_private_webhooks: bool,
    /// How this process delivers webhooks (its `allow_private` follows
    /// `allow_private_webhooks`).
    pub webhook_dispatch: crate::webhook::dispatcher::DispatchSettings,
}

impl ServerConfig {
    /// The default SQLite file in the working directory; `mode=rwc` creates it.
    pub const DEFAULT_DATABASE_URL: &'static str = "sqlite://roster.db?mode=rwc";
    /// The default listen address.
    pub const DEFAULT_LISTEN: &'static str = "0.0.0.0:8080";
    /// 1 MiB: far above any legitimate user-management request.
    pub const DEFAULT_MAX_REQUEST_BYTES: usize = 1024 * 1024;
    /// Far above any healthy call, short enough that a stuck one is freed.
    pub const DEFAULT_CALL_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

    /// Settings for `database_url` with every other value at its default.
    pub fn new(listen: SocketAddr, database_url: impl Into<String>) -> Self {
        Self {
            listen,
            database_url: database_url.into(),
            cors_origins: Vec::new(),
            max_request_bytes: Self::DEFAULT_MAX_REQUEST_BYTES,
            health_probe_interval: std::time::Duration::from_secs(2),
            call_timeout: Self::DEFAULT_CALL_TIMEOUT,
            connections: crate::serve::Settings::default(),
            store: crate::store::StoreSettings::default(),
            allow_private_webhooks: false,
            webhook_dispatch: crate::webhook::dispatcher::DispatchSettings::default(),
        }
    }
}
