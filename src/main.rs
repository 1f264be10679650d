//! The `roster` command: `serve` (the default), `migrate`, `init`, `version`.
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use roster::config::{LogFormat, ServerConfig};
use roster::domain::system::{
    BootstrapCaller, Initialization, initialize_system, replace_root_key,
};
use roster::serve::Settings;
use roster::server::Application;
use roster::store::{Store, StoreSettings};

/// Roster: users, roles and credentials over gRPC, gRPC-Web and REST on one port.
#[derive(Debug, Parser)]
#[command(name = "roster", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Address to serve on.
    #[arg(long, env = "ROSTER_LISTEN", default_value = ServerConfig::DEFAULT_LISTEN, global = true)]
    listen: SocketAddr,
    /// Database URL: sqlite://FILE?mode=rwc, postgres://… or mysql://…
    /// [default: $DATABASE_URL if set, else sqlite://roster.db?mode=rwc]
    #[arg(long, env = "ROSTER_DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Origin allowed by CORS (repeatable); none allows any origin.
    #[arg(
        long = "cors-origin",
        env = "ROSTER_CORS_ORIGINS",
        value_delimiter = ',',
        global = true
    )]
    cors_origins: Vec<String>,
    /// Log line format.
    #[arg(long, env = "ROSTER_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,
    /// Longest time a call may take, in seconds; a client's shorter
    /// grpc-timeout wins.
    #[arg(long, env = "ROSTER_CALL_TIMEOUT_SECS", default_value_t = ServerConfig::DEFAULT_CALL_TIMEOUT.as_secs(), global = true)]
    call_timeout_secs: u64,
    /// Seconds one database statement may run or wait for a lock.
    #[arg(long, env = "ROSTER_STATEMENT_TIMEOUT_SECS", default_value_t = StoreSettings::default().statement_timeout.as_secs(), global = true)]
    statement_timeout_secs: u64,
    /// Open client connections at most; more are closed at once, with a log line.
    #[arg(long, env = "ROSTER_MAX_CONNECTIONS", default_value_t = Settings::default().max_connections, global = true)]
    max_connections: usize,
    /// Seconds an HTTP/1.1 client has to send its request headers.
    #[arg(long, env = "ROSTER_HEADER_READ_TIMEOUT_SECS", default_value_t = Settings::default().header_read_timeout.as_secs(), global = true)]
    header_read_timeout_secs: u64,
    /// Seconds a client has to send a whole request body.
    #[arg(long, env = "ROSTER_BODY_READ_TIMEOUT_SECS", default_value_t = Settings::default().body_read_timeout.as_secs(), global = true)]
    body_read_timeout_secs: u64,
    /// Seconds a connection may stay open with no call in flight.
    #[arg(long, env = "ROSTER_IDLE_TIMEOUT_SECS", default_value_t = Settings::default().idle_timeout.as_secs(), global = true)]
    idle_timeout_secs: u64,
    /// Seconds between HTTP/2 keep-alive pings; an unanswered ping closes the connection.
    #[arg(long, env = "ROSTER_KEEP_ALIVE_INTERVAL_SECS", default_value_t = Settings::default().keep_alive_interval.as_secs(), global = true)]
    keep_alive_interval_secs: u64,
    /// Seconds in-flight calls may take to finish after SIGTERM before the process exits anyway.
    #[arg(long, env = "ROSTER_DRAIN_TIMEOUT_SECS", default_value_t = Settings::default().drain_timeout.as_secs(), global = true)]
    drain_timeout_secs: u64,
    /// Largest request message or body, in bytes, on every service.
    #[arg(long, env = "ROSTER_MAX_REQUEST_BYTES", default_value_t = ServerConfig::DEFAULT_MAX_REQUEST_BYTES, global = true)]
    max_request_bytes: usize,
    /// Request-body bytes in flight across all connections, in MiB; beyond
    /// it calls are RESOURCE_EXHAUSTED.
    #[arg(long, env = "ROSTER_REQUEST_BUDGET_MIB", default_value_t = Settings::default().request_bytes_budget / (1024 * 1024), global = true)]
    request_budget_mib: usize,
    /// Let webhooks target loopback, private, link-local and unique-local
    /// addresses (turns the SSRF guard off): for receivers on the same
    /// host or network.
    #[arg(long, env = "ROSTER_ALLOW_PRIVATE_WEBHOOKS", global = true)]
    allow_private_webhooks: bool,
}

impl Cli {
    /// `--database-url`, else `ROSTER_DATABASE_URL`, else the conventional
    /// `DATABASE_URL`, else the embedded SQLite file.
    fn database_url(&self) -> String {
        self.database_url
            .clone()
            .or_else(|| {
                std::env::var("DATABASE_URL")
                    .ok()
                    .filter(|url| !url.is_empty())
            })
            .unwrap_or_else(|| ServerConfig::DEFAULT_DATABASE_URL.to_owned())
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve gRPC, gRPC-Web and REST (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Initialize the system and print the root API key (shown only once).
    Init,
    /// Issue a new root API key and revoke the old one, for when the root
    /// key was lost. Run it on the server's machine against its database.
    ResetRootKey,
    /// Print the version and build facts.
    Version,
}

/// jemalloc, with a background thread that returns freed pages to the
/// system: after a burst of large requests glibc's malloc kept most of the
/// peak resident (bench/memory.py).
#[cfg(all(unix, not(target_env = "msvc")))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let _flush_logs_at_exit = roster::telemetry::logging::init(cli.log_format);
    #[cfg(all(unix, not(target_env = "msvc")))]
    if let Err(error) = tikv_jemalloc_ctl::background_thread::write(true) {
        tracing::debug!(%error, "jemalloc background purging unavailable");
    }
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let database_url = cli.database_url();
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => {
            let mut config = ServerConfig::new(cli.listen, database_url);
            config.cors_origins = cli.cors_origins;
            config.call_timeout = Duration::from_secs(cli.call_timeout_secs);
            config.max_request_bytes = cli.max_request_bytes;
            config.allow_private_webhooks = cli.allow_private_webhooks;
            config.store.statement_timeout = Duration::from_secs(cli.statement_timeout_secs);
            config.connections = Settings {
                max_connections: cli.max_connections,
                header_read_timeout: Duration::from_secs(cli.header_read_timeout_secs),
                body_read_timeout: Duration::from_secs(cli.body_read_timeout_secs),
                idle_timeout: Duration::from_secs(cli.idle_timeout_secs),
                keep_alive_interval: Duration::from_secs(cli.keep_alive_interval_secs),
                drain_timeout: Duration::from_secs(cli.drain_timeout_secs),
                request_bytes_budget: cli.request_budget_mib.saturating_mul(1024 * 1024),
                ..Settings::default()
            };
            let application = Application::build(config).await?;
            tracing::info!(address = %application.local_addr()?, "roster serving gRPC, gRPC-Web and REST");
            application.run_until(shutdown_signal()).await?;
            tracing::info!("roster stopped");
        }
        Command::Migrate => {
            Store::open(&database_url).await?.close().await;
            println!("migrations applied");
        }
        Command::Init => {
            let store = Store::open(&database_url).await?;
            // Whoever can run this against the database owns the instance.
            let operator = BootstrapCaller {
                on_this_machine: true,
                ..BootstrapCaller::default()
            };
            let outcome = initialize_system(&store, operator).await;
            store.close().await;
            match outcome? {
                Initialization::Performed {
                    root_user_id,
                    root_api_key,
                } => {
                    println!("system initialized");
                    println!("root user id: {root_user_id}");
                    println!("root api key: {} (shown only once)", root_api_key.expose());
                }
                Initialization::AlreadyDone => println!("system already initialized"),
            }
        }
        Command::ResetRootKey => {
            let store = Store::open(&database_url).await?;
            let outcome = replace_root_key(&store).await;
            store.close().await;
            let replacement = outcome?;
            println!(
                "root key replaced; {} old key(s) revoked",
                replacement.revoked
            );
            println!("root user id: {}", replacement.root_user_id);
            println!(
                "root api key: {} (shown only once)",
                replacement.root_api_key.expose()
            );
        }
        Command::Version => {
            println!(
                "roster {} (commit {}, built {})",
                env!("CARGO_PKG_VERSION"),
                roster::api::system_service::GIT_COMMIT,
                roster::api::system_service::BUILD_TIME
            );
        }
    }
    Ok(())
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown requested: finishing in-flight calls");
}
