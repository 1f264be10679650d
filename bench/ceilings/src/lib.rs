//! Shared pieces of the benchmark binaries: the target user as the real
//! server would answer it, and serving a router the bare framework's way
//! (`axum::serve` over a `TcpListener`, HTTP/1.1 and h2c on one port,
//! connect info attached). Roster serves through its own accept loop
//! (`roster::serve`); its cost counts against roster, not the ceilings.
use std::net::SocketAddr;

use anyhow::Context as _;
use axum::Router;
use axum::serve::ListenerExt as _;
use roster::domain::ports::UserDirectory as _;
use roster::domain::user::UserId;
use roster::domain::users::UserLookup;
use roster::proto::goodmem::v1 as pb;
use roster::store::Store;
use tokio::net::TcpListener;

/// Loads user `id` from the database at `database_url` and converts it to
/// the message `GetUser` answers, with roster's own conversion.
pub async fn load_user(database_url: &str, id: uuid::Uuid) -> anyhow::Result<pb::User> {
    // `connect`, not `open`: the benchmark database is already migrated and
    // a ceiling must not write to it.
    let store = Store::connect(database_url).await?;
    let found = store.find_user(&UserLookup::Id(UserId(id)), false).await;
    store.close().await;
    let user = found
        .map_err(|error| anyhow::anyhow!("cannot read user {id}: {error}"))?
        .with_context(|| format!("user {id} is not in the database"))?;
    Ok(pb::User::from(user))
}

/// Binds `listen` (port 0 picks a free port), prints `{"address":"…"}` on
/// stdout once bound, and serves `router` the way `roster serve` does until
/// the process is killed. With `tcp_nodelay` every accepted socket gets
/// `TCP_NODELAY`; plain `axum::serve` leaves Nagle's algorithm on.
pub async fn serve(listen: SocketAddr, router: Router, tcp_nodelay: bool) -> anyhow::Result<()> {
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener.local_addr()?;
    println!("{{\"address\":\"{address}\",\"tcp_nodelay\":{tcp_nodelay}}}");
    let listener = listener.tap_io(move |stream| {
        if tcp_nodelay && let Err(error) = stream.set_nodelay(true) {
            eprintln!("cannot set TCP_NODELAY: {error}");
        }
    });
    let service = router.into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .await
        .context("server failed")
}

/// A gRPC length-prefixed frame (uncompressed) around `message`: the body
/// file h2load sends for gRPC and gRPC-Web calls.
pub fn grpc_frame(message: &impl prost::Message) -> Vec<u8> {
    let payload = message.encode_to_vec();
    let length = u32::try_from(payload.len()).expect("a request message is far below 4 GiB");
    let mut frame = Vec::with_capacity(5 + payload.len());
    frame.push(0);
    frame.extend_from_slice(&length.to_be_bytes());
    frame.extend_from_slice(&payload);
    frame
}

/// An approximation of the REST gateway's JSON for `user` (camelCase,
/// every field, UUIDs as text, timestamps as epoch milliseconds), used by
/// the bare axum ceiling only until the real response can be captured.
pub fn approximate_json(user: &pb::User) -> String {
    fn uuid_text(bytes: &[u8]) -> String {
        uuid::Uuid::from_slice(bytes)
            .map(|id| id.to_string())
            .unwrap_or_default()
    }
    fn millis(at: Option<&prost_types::Timestamp>) -> String {
        at.map_or_else(
            || "null".to_owned(),
            |at| (at.seconds * 1000 + i64::from(at.nanos) / 1_000_000).to_string(),
        )
    }
    fn text(value: &str) -> String {
        let mut out = String::with_capacity(value.len() + 2);
        out.push('"');
        for character in value.chars() {
            match character {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                control if u32::from(control) < 0x20 => {
                    out.push_str(&format!("\\u{:04x}", u32::from(control)));
                }
                other => out.push(other),
            }
        }
        out.push('"');
        out
    }
    let role = pb::user::Role::try_from(user.role).map_or("ROLE_UNSPECIFIED", |r| r.as_str_name());
    let state =
        pb::user::State::try_from(user.state).map_or("STATE_UNSPECIFIED", |s| s.as_str_name());
    let mut labels: Vec<_> = user.labels.iter().collect();
    labels.sort();
    let labels = labels
        .into_iter()
        .map(|(key, value)| format!("{}:{}", text(key), text(value)))
        .collect::<Vec<_>>()
        .join(",");
    format!(
        concat!(
            "{{\"userId\":{},\"email\":{},\"displayName\":{},\"username\":{},",
            "\"createdAt\":{},\"updatedAt\":{},\"name\":{},\"role\":\"{}\",\"state\":\"{}\",",
            "\"avatarUrl\":{},\"description\":{},\"password\":\"\",\"labels\":{{{}}},\"etag\":{},",
            "\"deletedAt\":{},\"createdById\":{},\"updatedById\":{},\"deletedById\":{}}}"
        ),
        text(&uuid_text(&user.user_id)),
        text(&user.email),
        text(&user.display_name),
        text(&user.username),
        millis(user.created_at.as_ref()),
        millis(user.updated_at.as_ref()),
        text(&user.name),
        role,
        state,
        text(&user.avatar_url),
        text(&user.description),
        labels,
        text(&user.etag),
        millis(user.deleted_at.as_ref()),
        text(&uuid_text(&user.created_by_id)),
        text(&uuid_text(&user.updated_by_id)),
        text(&uuid_text(&user.deleted_by_id)),
    )
}
