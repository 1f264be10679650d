//! InitializeSystem: once, atomically, whatever the concurrency.
use roster::proto::goodmem::v1 as pb;

use crate::helpers::{TestApp, bearer};
use crate::on_every_backend;

async fn first_call_creates_root_and_later_calls_report_it(app: TestApp) {
    let mut users = app.users().await;

    let first = users
        .initialize_system(pb::InitializeSystemRequest::default())
        .await
        .unwrap()
        .into_inner();
    let second = users
        .initialize_system(pb::InitializeSystemRequest::default())
        .await
        .unwrap()
        .into_inner();

    assert!(!first.already_initialized);
    assert!(
        first.root_api_key.starts_with("gm_"),
        "{}",
        first.root_api_key
    );
    assert_eq!(first.user_id.len(), 16);
    assert!(!first.message.is_empty());
    assert!(second.already_initialized);
    assert!(second.root_api_key.is_empty());
    assert!(second.user_id.is_empty());
    let root = users
        .get_user(bearer(pb::GetUserRequest::default(), &first.root_api_key))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(root.user_id, first.user_id);
    assert_eq!(root.role, pb::user::Role::Root as i32);
    assert_eq!(
        root.created_by_id, first.user_id,
        "ROOT records itself as its creator"
    );
    assert_eq!(root.updated_by_id, first.user_id);
    assert!(root.deleted_by_id.is_empty());
}

/// `calls` InitializeSystem calls at once, spread over `base_urls`; the root
/// keys the initializing calls returned.
async fn initialize_concurrently(base_urls: &[String], calls: usize) -> Vec<String> {
    let calls = (0..calls).map(|index| {
        let base_url = base_urls[index % base_urls.len()].clone();
        tokio::spawn(async move {
            let mut client = pb::user_service_client::UserServiceClient::connect(base_url)
                .await
                .unwrap();
            client
                .initialize_system(pb::InitializeSystemRequest::default())
                .await
                .unwrap()
                .into_inner()
        })
    });
    let mut keys = Vec::new();
    for call in calls.collect::<Vec<_>>() {
        let response = call.await.unwrap();
        if !response.already_initialized {
            keys.push(response.root_api_key);
        }
    }
    keys
}

async fn concurrent_calls_yield_exactly_one_key(app: TestApp) {
    let keys = initialize_concurrently(&[app.base_url()], 16).await;

    assert_eq!(keys.len(), 1, "exactly one call initializes");
    let info = app
        .system()
        .await
        .get_system_info(pb::GetSystemInfoRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(info.initialized);
}

async fn system_info_reports_version_backend_and_capabilities(app: TestApp) {
    let mut system = app.system().await;

    let before = system
        .get_system_info(pb::GetSystemInfoRequest {})
        .await
        .unwrap()
        .into_inner();
    app.initialize().await;
    let after = system
        .get_system_info(pb::GetSystemInfoRequest {})
        .await
        .unwrap()
        .into_inner();

    assert_eq!(before.version, env!("CARGO_PKG_VERSION"));
    assert!(!before.initialized);
    assert!(after.initialized);
    assert!(!before.git_commit.is_empty());
    assert!(before.build_time.ends_with('Z'), "{}", before.build_time);
    assert_eq!(before.database_backend, app.store.backend().name());
    for capability in ["grpc", "grpc-web", "grpc-health"] {
        assert!(
            before
                .capabilities
                .iter()
                .any(|offered| offered == capability),
            "{capability}"
        );
    }
}
on_every_backend!(
    first_call_creates_root_and_later_calls_report_it,
    concurrent_calls_yield_exactly_one_key,
    system_info_reports_version_backend_and_capabilities
);

/// Two server processes sharing one PostgreSQL database, each receiving
/// concurrent InitializeSystem calls: one key in total.
#[cfg_attr(
    not(roster_test_postgres),
    ignore = "set ROSTER_TEST_POSTGRES_URL to run"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_postgres_yield_exactly_one_key() {
    let database = crate::helpers::TestDatabase::create(crate::helpers::Backend::Postgres).await;
    // Migrate first so the two processes race on bootstrap, not on DDL.
    roster::store::Store::open(&database.url)
        .await
        .unwrap()
        .close()
        .await;
    let first = ServerProcess::start(&database.url);
    let second = ServerProcess::start(&database.url);
    let addresses = [first.address.clone(), second.address.clone()];
    for address in &addresses {
        wait_until_ready(address).await;
    }

    let base_urls = addresses.map(|address| format!("http://{address}"));
    let keys = initialize_concurrently(&base_urls, 20).await;

    assert_eq!(keys.len(), 1, "exactly one key across both processes");
    let store = roster::store::Store::connect(&database.url).await.unwrap();
    use sea_orm::{EntityTrait as _, PaginatorTrait as _};
    let credentials = roster::store::entity::credential::Entity::find()
        .count(store.reader())
        .await
        .unwrap();
    let users = roster::store::entity::user::Entity::find()
        .count(store.reader())
        .await
        .unwrap();
    assert_eq!((credentials, users), (1, 1));
}

/// Polls `/readyz`: the port answers before the database is connected.
async fn wait_until_ready(address: &str) {
    for _ in 0..200 {
        let ready = reqwest::get(format!("http://{address}/readyz"))
            .await
            .is_ok_and(|response| response.status() == 200);
        if ready {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{address} never became ready");
}

/// The real `roster` binary, serving on a port it picked itself.
struct ServerProcess {
    child: std::process::Child,
    address: String,
}

impl ServerProcess {
    fn start(database_url: &str) -> Self {
        use std::io::BufRead as _;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
            .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
            .env("ROSTER_DATABASE_URL", database_url)
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("start roster");
        let stderr = child.stderr.take().unwrap();
        let mut lines = std::io::BufReader::new(stderr).lines();
        let address = loop {
            let line = lines.next().expect("roster exited before serving").unwrap();
            let event: serde_json::Value = match serde_json::from_str(&line) {
                Ok(event) => event,
                Err(_) => continue,
            };
            if let Some(address) = event.get("address").and_then(|value| value.as_str()) {
                break address.to_owned();
            }
        };
        // Keep draining the log so the child never blocks on a full pipe.
        std::thread::spawn(move || for _ in lines {});
        Self { child, address }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
