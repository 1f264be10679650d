//! Ceiling for JSON REST: a bare axum handler for `GET /v1/users/{id}` that
//! answers the target user's JSON from memory (no auth, no database, no
//! transcoding), served on one port the way `roster` serves.
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context as _;
use axum::Router;
use axum::extract::Path;
use axum::routing::get;
use bytes::Bytes;
use clap::Parser;

/// Serves the user's JSON from memory.
#[derive(Debug, Parser)]
struct Args {
    /// Address to serve on (port 0 picks one; printed on stdout).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Leave Nagle's algorithm on, as plain `axum::serve` does.
    #[arg(long)]
    no_tcp_nodelay: bool,
    /// The exact bytes to answer, captured from the real server's REST
    /// response.
    #[arg(long, conflicts_with_all = ["database_url", "user_id"])]
    json_file: Option<PathBuf>,
    /// Without `--json-file`: the seeded database, to build an
    /// approximation of the gateway's JSON for `--user-id`.
    #[arg(long, requires = "user_id")]
    database_url: Option<String>,
    /// Without `--json-file`: the user whose record is answered.
    #[arg(long, requires = "database_url")]
    user_id: Option<uuid::Uuid>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let body = match (&args.json_file, &args.database_url, args.user_id) {
        (Some(path), _, _) => {
            std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?
        }
        (None, Some(url), Some(id)) => {
            roster_bench::approximate_json(&roster_bench::load_user(url, id).await?).into_bytes()
        }
        _ => anyhow::bail!("give --json-file, or --database-url and --user-id"),
    };
    let body = Bytes::from(body);
    let router = Router::new().route(
        "/v1/users/{id}",
        get(move |Path(_id): Path<String>| {
            let body = body.clone();
            async move { ([(http::header::CONTENT_TYPE, "application/json")], body) }
        }),
    );
    roster_bench::serve(args.listen, router, !args.no_tcp_nodelay).await
}
