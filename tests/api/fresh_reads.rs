//! Reads are never staler than the database, on any process.
//!
//! On an SQLite file the token → principal and user reads are answered
//! from an in-process cache (see `store/sqlite_reads.rs`). SPEC requires a
//! deleted token, a deleted user or an archived user to stop working at
//! once, and every read to show the last write. These tests make changes
//! through one server and read them, right after, through another that has
//! the old values cached: two servers in this test process on every
//! backend, and two real `roster` processes (plus the CLI as a third
//! writer) on SQLite and PostgreSQL. On SQLite they also prove that the
//! reads were cached, from the server's own hit counters, so a cache that
//! was bypassed would not pass them vacuously.
use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use roster::domain::ports::{UserDirectory as _, UserRegistry as _, UserUpdate};
use roster::domain::user::Role;
use roster::domain::users::UserLookup;
use roster::proto::goodmem::v1 as pb;
use roster::store::call_view::within_one_look;
use serde_json::{Value, json};
use tonic::Code;

use crate::helpers::{Backend, TestApp, TestDatabase, bearer};

/// `roster_read_cache_lookups_total{cache="…",result="hit"}` in `metrics`.
fn cache_hits(metrics: &str, cache: &str) -> Option<u64> {
    let prefix = format!(r#"roster_read_cache_lookups_total{{cache="{cache}",result="hit"}} "#);
    metrics
        .lines()
        .find_map(|line| line.strip_prefix(prefix.as_str()))
        .map(|value| value.trim().parse().expect("a counter value"))
}

/// Asserts that the server behind `metrics` answered from its caches on
/// SQLite (at least `at_least` credential hits and some user hits), and
/// that other backends have no cache.
fn assert_cached_on_sqlite(sqlite: bool, metrics: &str, at_least: u64) {
    if sqlite {
        let credentials = cache_hits(metrics, "credentials").unwrap_or(0);
        let users = cache_hits(metrics, "users").unwrap_or(0);
        assert!(
            credentials >= at_least,
            "credential hits {credentials}\n{metrics}"
        );
        assert!(users > 0, "user hits {users}\n{metrics}");
    } else {
        assert!(
            !metrics.contains("roster_read_cache_lookups_total{"),
            "{metrics}"
        );
    }
}

fn get_by_id(id: &roster::domain::user::UserId, token: &str) -> tonic::Request<pb::GetUserRequest> {
    bearer(
        pb::GetUserRequest {
            user_id: id.0.as_bytes().to_vec(),
            ..Default::default()
        },
        token,
    )
}

async fn changes_through_one_server_are_seen_at_once_by_another(app: TestApp) {
    let sqlite = matches!(app.store.backend(), roster::store::Backend::Sqlite);
    let (root_key, _) = app.initialize().await;
    let (erin, erin_key) = app.insert_user(Role::User, "erin").await;
    let (frank, frank_key) = app.insert_user(Role::User, "frank").await;
    let (gina, gina_key) = app.insert_user(Role::User, "gina").await;
    let (_, hal_key) = app.insert_user(Role::Admin, "hal").await;
    let other = app.second_server().await;
    let mut there = other.users().await;
    // Every token and user read twice on the other server: the second
    // reads come from its caches on SQLite.
    for round in 0..3 {
        if round == 1 {
            // First uses write `last_used` (a commit that empties the
            // caches): let those land before the reads that should hit.
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        for key in [&erin_key, &frank_key, &gina_key, &hal_key] {
            there
                .get_user(bearer(pb::GetUserRequest::default(), key))
                .await
                .expect("self");
        }
        for id in [&erin.id, &frank.id, &gina.id] {
            there
                .get_user(get_by_id(id, &hal_key))
                .await
                .expect("admin read");
        }
    }
    let mut here = app.users().await;

    // A profile change: the next read shows it.
    here.update_user(bearer(
        pb::UpdateUserRequest {
            user: Some(pb::User {
                name: erin.id.resource_name(),
                display_name: "Erin Two".into(),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["display_name".into()],
            }),
            allow_missing: false,
        },
        &root_key,
    ))
    .await
    .expect("rename");
    let renamed = there
        .get_user(get_by_id(&erin.id, &hal_key))
        .await
        .expect("read after rename")
        .into_inner();
    // An archived user's token, a deleted user's token and a revoked token.
    app.archive_user(&root_key, frank.id).await;
    let archived = there
        .get_user(bearer(pb::GetUserRequest::default(), &frank_key))
        .await
        .unwrap_err();
    app.delete_user(&root_key, gina.id).await;
    let deleted_token = there
        .get_user(bearer(pb::GetUserRequest::default(), &gina_key))
        .await
        .unwrap_err();
    let deleted_user = there
        .get_user(get_by_id(&gina.id, &hal_key))
        .await
        .unwrap_err();
    app.revoke_token(&erin_key).await;
    let revoked = there
        .get_user(bearer(pb::GetUserRequest::default(), &erin_key))
        .await
        .unwrap_err();
    // A demotion: hal loses the right to read others at once.
    app.execute("UPDATE users SET role = 3 WHERE username_key = 'hal'")
        .await;
    let demoted = there
        .get_user(get_by_id(&frank.id, &hal_key))
        .await
        .unwrap_err();
    let metrics = other.metrics_text().await;

    assert_eq!(renamed.display_name, "Erin Two");
    assert_eq!(archived.code(), Code::Unauthenticated);
    assert_eq!(deleted_token.code(), Code::Unauthenticated);
    assert_eq!(deleted_user.code(), Code::NotFound);
    assert_eq!(revoked.code(), Code::Unauthenticated);
    assert_eq!(demoted.code(), Code::PermissionDenied, "{demoted:?}");
    assert_cached_on_sqlite(sqlite, &metrics, 4);
    other.stop().await.unwrap();
}

crate::on_every_backend!(changes_through_one_server_are_seen_at_once_by_another);

/// A unary call reads the cache at one instant (`store/call_view.rs`), but
/// what the call itself writes, it reads back.
async fn a_call_reads_back_what_it_wrote(app: TestApp) {
    let (user, _) = app.insert_user(Role::User, "writer").await;
    let lookup = UserLookup::Id(user.id);
    within_one_look(async {
        let before = app.store.find_user(&lookup, false).await.unwrap().unwrap();
        let again = app.store.find_user(&lookup, false).await.unwrap().unwrap();
        assert_eq!(again, before);
        let mut renamed = before.clone();
        renamed.display_name = "Renamed In The Call".to_owned();
        renamed.version += 1;
        app.store
            .update_user(&UserUpdate {
                user: &renamed,
                expected_version: before.version,
                password_hash: None,
                labels_changed: false,
                revoke_sessions: false,
            })
            .await
            .unwrap();
        let after = app.store.find_user(&lookup, false).await.unwrap().unwrap();
        assert_eq!(after.display_name, "Renamed In The Call");
        assert_eq!(after.version, before.version + 1);
    })
    .await;
    if matches!(app.store.backend(), roster::store::Backend::Sqlite) {
        let users = app.store.read_cache_stats();
        let users = users.iter().find(|stats| stats.cache == "users").unwrap();
        assert!(users.hits >= 1, "the second read was a hit: {users:?}");
    }
}

crate::on_every_backend!(a_call_reads_back_what_it_wrote);

/// A `roster serve` process on `database_url`, killed when dropped.
struct Server {
    child: Child,
    base_url: String,
}

impl Server {
    async fn start(database_url: &str) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_roster"))
            .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
            .env("ROSTER_DATABASE_URL", database_url)
            .env_remove("DATABASE_URL")
            .stderr(Stdio::piped())
            .spawn()
            .expect("start roster");
        let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let address = loop {
            let line = lines.next().expect("roster exited early").unwrap();
            if let Ok(event) = serde_json::from_str::<Value>(&line)
                && let Some(address) = event["address"].as_str()
            {
                break address.to_owned();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        let server = Self {
            child,
            base_url: format!("http://{address}"),
        };
        for _ in 0..200 {
            let ready = reqwest::get(format!("{}/readyz", server.base_url))
                .await
                .is_ok_and(|response| response.status() == 200);
            if ready {
                return server;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("roster at {} never became ready", server.base_url);
    }

    /// A REST call with `token`: the status and the JSON body.
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request =
            reqwest::Client::new().request(method, format!("{}{path}", self.base_url));
        // Public methods check credentials when sent: send none for them.
        if !token.is_empty() {
            request = request.header("x-api-key", token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("REST call");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.call(reqwest::Method::GET, path, token, None).await
    }

    async fn metrics(&self) -> String {
        reqwest::get(format!("{}/metrics", self.base_url))
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn two_binaries_see_each_others_changes_at_once(backend: Backend) {
    let database = TestDatabase::create(backend).await;
    let a = Server::start(&database.url).await;
    let b = Server::start(&database.url).await;
    let (status, init) = a
        .call(
            reqwest::Method::POST,
            "/v1/system/init",
            "",
            Some(json!({})),
        )
        .await;
    assert_eq!(status, 200, "{init}");
    let root_key = init["rootApiKey"].as_str().unwrap().to_owned();
    let (status, ivy) = a
        .call(
            reqwest::Method::POST,
            "/v1/users",
            &root_key,
            Some(json!({"user": {
                "username": "ivy",
                "email": "ivy@example.com",
                "displayName": "Ivy",
                "password": "correct horse battery staple"
            }})),
        )
        .await;
    assert_eq!(status, 200, "{ivy}");
    let ivy_path = format!("/v1/users/{}", ivy["userId"].as_str().unwrap());
    let (status, signed_in) = a
        .call(
            reqwest::Method::POST,
            "/v1/auth/signin",
            "",
            Some(json!({"username": "ivy", "password": "correct horse battery staple"})),
        )
        .await;
    assert_eq!(status, 200, "{signed_in}");
    let ivy_token = signed_in["accessToken"].as_str().unwrap().to_owned();
    for round in 0..4 {
        assert_eq!(b.get("/v1/users/me", &ivy_token).await.0, 200);
        assert_eq!(b.get(&ivy_path, &root_key).await.0, 200);
        if round == 0 {
            // First uses write `last_used` (a commit that empties the
            // caches): let those land before the reads that should hit.
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    let (status, _) = a
        .call(
            reqwest::Method::PATCH,
            &ivy_path,
            &root_key,
            Some(json!({"displayName": "Ivy Two"})),
        )
        .await;
    assert_eq!(status, 200);
    let renamed = b.get(&ivy_path, &root_key).await;
    let (status, body) = a
        .call(
            reqwest::Method::PATCH,
            &format!("{ivy_path}?allowMissing=true"),
            &root_key,
            Some(json!({"state": "ARCHIVED"})),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let archived = b.get("/v1/users/me", &ivy_token).await;
    // A third process, the CLI, replaces the root key.
    let reset = Command::new(env!("CARGO_BIN_EXE_roster"))
        .arg("reset-root-key")
        .env("ROSTER_DATABASE_URL", &database.url)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run roster reset-root-key");
    let stdout = String::from_utf8_lossy(&reset.stdout);
    assert!(reset.status.success(), "{stdout}");
    let new_root_key = crate::helpers::printed_root_key(&stdout);
    let old_root = b.get("/v1/users/me", &root_key).await;
    let new_root = b.get("/v1/users/me", &new_root_key).await;
    let metrics = b.metrics().await;

    assert_eq!(renamed.0, 200);
    assert_eq!(renamed.1["displayName"], "Ivy Two", "{}", renamed.1);
    assert_eq!(archived.0, 401, "{}", archived.1);
    assert_eq!(old_root.0, 401, "{}", old_root.1);
    assert_eq!(new_root.0, 200, "{}", new_root.1);
    assert_cached_on_sqlite(matches!(backend, Backend::Sqlite), &metrics, 3);
}

#[tokio::test]
async fn two_binaries_on_one_sqlite_file_see_each_others_changes_at_once() {
    two_binaries_see_each_others_changes_at_once(Backend::Sqlite).await;
}

#[cfg_attr(
    not(roster_test_postgres),
    ignore = "set ROSTER_TEST_POSTGRES_URL to run"
)]
#[tokio::test]
async fn two_binaries_on_one_postgres_database_see_each_others_changes_at_once() {
    two_binaries_see_each_others_changes_at_once(Backend::Postgres).await;
}
