//! `TestApp`: a running server with its own database, plus clients.

use std::net::SocketAddr;

use roster::config::ServerConfig;
use roster::domain::clock::EpochMillis;
use roster::domain::credential::{CredentialKind, NewCredential};
use roster::domain::token::RawToken;
use roster::domain::user::{Email, Username};
use roster::domain::user::{Role, User, UserId, UserState};
use roster::proto::goodmem::v1 as pb;
use roster::proto::goodmem::v1::auth_service_client::AuthServiceClient;
use roster::proto::goodmem::v1::system_service_client::SystemServiceClient;
use roster::proto::goodmem::v1::user_service_client::UserServiceClient;
use roster::readiness::ReadinessState;
use roster::server::Application;
use roster::store::{Store, credentials, users};
use sea_orm::ConnectionTrait as _;
use tonic::transport::Channel;

/// The transport of a gRPC-Web client over HTTP/1.1.
pub(crate) type GrpcWebChannel = tonic_web::GrpcWebClientService<
    hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        tonic_web::GrpcWebCall<tonic::body::Body>,
    >,
>;

/// Which database a test runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
    MySql,
}

impl Backend {
    fn admin_url_variable(self) -> Option<&'static str> {
        match self {
            Self::Sqlite => None,
            Self::Postgres => Some("ROSTER_TEST_POSTGRES_URL"),
            Self::MySql => Some("ROSTER_TEST_MYSQL_URL"),
        }
    }
}

/// A fresh, empty database for one test.
pub(crate) struct TestDatabase {
    pub(crate) url: String,
    /// The server database's name; `None` for SQLite.
    pub(crate) name: Option<String>,
    /// Keeps the SQLite file alive for the test.
    _directory: Option<tempfile::TempDir>,
}

impl TestDatabase {
    /// A fresh database. A server backend whose URL is not set fails the
    /// test: tests of such backends are `#[ignore]`d unless the URL (or CI)
    /// is set, so they never pass without running.
    pub(crate) async fn create(backend: Backend) -> Self {
        let Some(variable) = backend.admin_url_variable() else {
            let directory = tempfile::tempdir().expect("temporary directory");
            let url = format!(
                "sqlite://{}?mode=rwc",
                directory.path().join("roster.db").display()
            );
            return Self {
                url,
                name: None,
                _directory: Some(directory),
            };
        };
        let admin_url = match std::env::var(variable) {
            Ok(url) if !url.is_empty() => url,
            _ => panic!("{variable} must be set: {backend:?} tests may not skip"),
        };
        let name = format!("roster_t_{}", uuid::Uuid::new_v4().simple());
        let admin = sea_orm::Database::connect(admin_url.as_str())
            .await
            .unwrap_or_else(|error| panic!("{variable} is set but unreachable: {error}"));
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .expect("create test database");
        admin.close().await.ok();
        Self {
            url: replace_database(&admin_url, &name),
            name: Some(name),
            _directory: None,
        }
    }
}

/// The URL with its path (database name) replaced, query kept.
fn replace_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_end = base
        .find("://")
        .map(|scheme_end| {
            base[scheme_end + 3..]
                .find('/')
                .map_or(base.len(), |slash| scheme_end + 3 + slash)
        })
        .unwrap_or(base.len());
    let mut replaced = format!("{}/{database}", &base[..authority_end]);
    if let Some(query) = query {
        replaced.push('?');
        replaced.push_str(query);
    }
    replaced
}

/// A running server.
pub(crate) struct TestApp {
    pub(crate) address: SocketAddr,
    pub(crate) database: TestDatabase,
    /// A direct store handle, for arranging states no RPC creates yet.
    pub(crate) store: Store,
    /// The server's one-time set-up code.
    pub(crate) setup_code: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

impl TestApp {
    /// Starts a server on a fresh database of `backend`, or `None` when that
    /// backend is not configured (never under CI).
    pub(crate) async fn spawn(backend: Backend) -> Self {
        Self::spawn_on(TestDatabase::create(backend).await).await
    }

    /// Starts a server on `database`.
    pub(crate) async fn spawn_on(database: TestDatabase) -> Self {
        Self::spawn_configured(database, |_| {}).await
    }

    /// Starts a server on `database` with settings changed by `configure`.
    pub(crate) async fn spawn_configured(
        database: TestDatabase,
        configure: impl FnOnce(&mut ServerConfig),
    ) -> Self {
        let listen: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let mut config = ServerConfig::new(listen, database.url.clone());
        config.health_probe_interval = std::time::Duration::from_millis(100);
        configure(&mut config);
        let application = Application::build(config).await.expect("server starts");
        let address = application.local_addr().unwrap();
        let readiness = application.readiness();
        let setup_code = application.setup_code().to_owned();
        let (shutdown, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(application.run_until(async {
            let _ = stopped.await;
        }));
        tokio::time::timeout(
            std::time::Duration::from_secs(30),
            readiness.wait_for(ReadinessState::Ready),
        )
        .await
        .expect("server becomes ready");
        let store = Store::connect(&database.url).await.expect("test store");
        Self {
            address,
            database,
            store,
            setup_code,
            shutdown: Some(shutdown),
            server: Some(server),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// `127.0.0.1:PORT`, as grpcurl and buf take it.
    pub(crate) fn authority(&self) -> String {
        self.address.to_string()
    }

    pub(crate) async fn users(&self) -> UserServiceClient<Channel> {
        UserServiceClient::connect(self.base_url())
            .await
            .expect("grpc connect")
    }

    /// A UserService client speaking gRPC-Web over HTTP/1.1, as a browser
    /// would.
    pub(crate) fn grpc_web_users(&self) -> UserServiceClient<GrpcWebChannel> {
        let http1 =
            hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
                .build_http::<tonic_web::GrpcWebCall<tonic::body::Body>>();
        let service = tower::ServiceBuilder::new()
            .layer(tonic_web::GrpcWebClientLayer::new())
            .service(http1);
        UserServiceClient::with_origin(service, self.base_url().parse().unwrap())
    }

    pub(crate) async fn auth(&self) -> AuthServiceClient<Channel> {
        AuthServiceClient::connect(self.base_url())
            .await
            .expect("grpc connect")
    }

    /// Another server process (in this test process) on the same database.
    pub(crate) async fn second_server(&self) -> TestApp {
        TestApp::spawn_on(TestDatabase {
            url: self.database.url.clone(),
            name: None,
            _directory: None,
        })
        .await
    }

    /// Creates a user through the API as `token`'s owner; returns it.
    pub(crate) async fn create_user(&self, token: &str, user: pb::User) -> pb::User {
        self.users()
            .await
            .create_user(bearer(
                pb::CreateUserRequest {
                    user: Some(user),
                    ..Default::default()
                },
                token,
            ))
            .await
            .expect("create user")
            .into_inner()
    }

    /// Signs in with a password; returns the session token.
    pub(crate) async fn sign_in(&self, username: &str, password: &str) -> String {
        self.auth()
            .await
            .sign_in(pb::SignInRequest {
                username: username.to_owned(),
                password: password.to_owned(),
                ..Default::default()
            })
            .await
            .expect("sign in")
            .into_inner()
            .access_token
    }

    /// Inserts `count` users (`bulk0000`, …) with one bulk store call.
    pub(crate) async fn insert_many_users(&self, count: usize) -> Vec<User> {
        let base = EpochMillis::now();
        let users: Vec<User> = (0..count)
            .map(|index| {
                let id = UserId::generate();
                let name = format!("bulk{index:05}");
                User {
                    id,
                    email: Email::parse("email", &format!("{name}@example.com")).unwrap(),
                    username: Some(Username::parse("username", &name).unwrap()),
                    display_name: format!("Bulk {index}"),
                    role: Role::User,
                    state: UserState::Normal,
                    avatar_url: String::new(),
                    description: String::new(),
                    labels: [("parity".to_owned(), (index % 2).to_string())].into(),
                    version: 1,
                    // Several users share each millisecond, so pagination
                    // must break ties by id.
                    created_at: EpochMillis(base.0 + (index / 3) as i64),
                    updated_at: base,
                    deleted_at: None,
                    created_by: Some(id),
                    updated_by: Some(id),
                    deleted_by: None,
                }
            })
            .collect();
        let transaction = self.store.begin_write().await.unwrap();
        users::insert_many(&transaction, &users).await.unwrap();
        transaction.commit().await.unwrap();
        users
    }

    pub(crate) async fn system(&self) -> SystemServiceClient<Channel> {
        SystemServiceClient::connect(self.base_url())
            .await
            .expect("grpc connect")
    }

    pub(crate) fn http(&self) -> reqwest::Client {
        reqwest::Client::new()
    }

    /// The `/metrics` exposition text.
    pub(crate) async fn metrics_text(&self) -> String {
        self.http()
            .get(format!("{}/metrics", self.base_url()))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text")
    }

    /// Runs InitializeSystem; returns the root key and id.
    pub(crate) async fn initialize(&self) -> (String, UserId) {
        let response = self
            .users()
            .await
            .initialize_system(pb::InitializeSystemRequest::default())
            .await
            .expect("initialize")
            .into_inner();
        assert!(!response.already_initialized);
        let id = UserId::from_bytes("user_id", &response.user_id).unwrap();
        (response.root_api_key, id)
    }

    /// Inserts a user with a personal access token directly into the store.
    pub(crate) async fn insert_user(&self, role: Role, username: &str) -> (User, String) {
        self.insert_user_with_token(role, username, None).await
    }

    pub(crate) async fn insert_user_with_token(
        &self,
        role: Role,
        username: &str,
        expires_at: Option<EpochMillis>,
    ) -> (User, String) {
        let email = format!("{username}@example.com");
        self.insert_user_full(role, username, &email, expires_at)
            .await
    }

    pub(crate) async fn insert_user_full(
        &self,
        role: Role,
        username: &str,
        email: &str,
        expires_at: Option<EpochMillis>,
    ) -> (User, String) {
        let now = EpochMillis::now();
        let id = UserId::generate();
        let user = User {
            id,
            email: Email::parse("email", email).unwrap(),
            username: Some(Username::parse("username", username).unwrap()),
            display_name: username.to_uppercase(),
            role,
            state: UserState::Normal,
            avatar_url: String::new(),
            description: String::new(),
            labels: [("team".to_owned(), "core".to_owned())].into(),
            version: 1,
            created_at: now,
            updated_at: now,
            deleted_at: None,
            created_by: Some(id),
            updated_by: Some(id),
            deleted_by: None,
        };
        users::insert(self.store.writer(), &user, None)
            .await
            .unwrap();
        let token = RawToken::generate();
        let record = NewCredential {
            id: uuid::Uuid::now_v7(),
            user_id: user.id,
            kind: CredentialKind::PersonalAccessToken,
            token_hash: token.hash(),
            description: "test".to_owned(),
            created_at: now,
            expires_at,
            scopes: None,
        };
        credentials::insert(self.store.writer(), &record)
            .await
            .unwrap();
        (user, token.expose().to_owned())
    }

    /// Runs raw SQL against the test database (arranging states only).
    pub(crate) async fn execute(&self, sql: &str) {
        self.store.writer().execute_unprepared(sql).await.unwrap();
    }

    /// Deletes a user (and its credentials) through the API.
    pub(crate) async fn delete_user(&self, root_key: &str, id: UserId) {
        self.users()
            .await
            .delete_user(bearer(
                pb::DeleteUserRequest {
                    user_id: id.0.as_bytes().to_vec(),
                    force: true,
                    ..Default::default()
                },
                root_key,
            ))
            .await
            .expect("delete user");
    }

    /// Archives a user through the API.
    pub(crate) async fn archive_user(&self, root_key: &str, id: UserId) {
        self.users()
            .await
            .update_user(bearer(
                pb::UpdateUserRequest {
                    user: Some(pb::User {
                        name: id.resource_name(),
                        state: pb::user::State::Archived as i32,
                        ..Default::default()
                    }),
                    update_mask: Some(prost_types::FieldMask {
                        paths: vec!["state".into()],
                    }),
                    allow_missing: true,
                },
                root_key,
            ))
            .await
            .expect("archive user");
    }

    /// Revokes the credential of `token` through the store.
    pub(crate) async fn revoke_token(&self, token: &str) {
        use roster::domain::ports::{CredentialDirectory as _, SessionStore as _};
        let credential = self
            .store
            .find_credential(&roster::domain::token::TokenHash::of(token))
            .await
            .unwrap()
            .expect("a stored credential");
        self.store
            .revoke_credential(credential.id, EpochMillis::now())
            .await
            .unwrap();
    }

    /// Stops this server and starts another on the same database with
    /// settings changed by `configure`: a restart.
    pub(crate) async fn restart_configured(
        mut self,
        configure: impl FnOnce(&mut ServerConfig),
    ) -> TestApp {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("server stops");
        }
        let database = std::mem::replace(
            &mut self.database,
            TestDatabase {
                url: String::new(),
                name: None,
                _directory: None,
            },
        );
        TestApp::spawn_configured(database, configure).await
    }

    /// Another server process on the same database, with settings changed
    /// by `configure`.
    pub(crate) async fn second_server_configured(
        &self,
        configure: impl FnOnce(&mut ServerConfig),
    ) -> TestApp {
        TestApp::spawn_configured(
            TestDatabase {
                url: self.database.url.clone(),
                name: None,
                _directory: None,
            },
            configure,
        )
        .await
    }

    /// Stops the server gracefully and waits for it.
    pub(crate) async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        match self.server.take() {
            Some(server) => server.await.expect("server task"),
            None => Ok(()),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

/// A user message with the given username and email `<username>@example.com`.
pub(crate) fn new_user(username: &str) -> pb::User {
    pb::User {
        username: username.to_owned(),
        email: format!("{username}@example.com"),
        display_name: username.to_uppercase(),
        ..Default::default()
    }
}

/// The field paths of the `google.rpc.BadRequest` in a status.
pub(crate) fn violated_fields(status: &tonic::Status) -> Vec<String> {
    use prost::Message as _;
    use roster::proto::google::rpc;
    let details = rpc::Status::decode(status.details()).expect("status details");
    details
        .details
        .iter()
        .filter(|any| any.type_url.ends_with("google.rpc.BadRequest"))
        .flat_map(|any| {
            rpc::BadRequest::decode(any.value.as_slice())
                .expect("bad request")
                .field_violations
        })
        .map(|violation| violation.field)
        .collect()
}

/// A request carrying `authorization: Bearer <token>`.
pub(crate) fn bearer<T>(message: T, token: &str) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    request
}

/// Path of an external client binary, or `None` (a skip, announced) outside
/// CI when it is not installed. Under `CI=true` a missing binary fails.
pub(crate) fn external_tool(name: &str) -> Option<std::path::PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|directory| directory.join(name))
            .find(|candidate| candidate.is_file())
    });
    if found.is_none() {
        if std::env::var("CI").is_ok_and(|value| value == "true") {
            panic!("{name} must be installed in CI (.ci/run installs it)");
        }
        eprintln!("skipping: {name} is not installed");
    }
    found
}

/// The new root key that `roster reset-root-key` printed on `stdout`.
pub(crate) fn printed_root_key(stdout: &str) -> String {
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("root api key: "))
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the new key is printed")
        .to_owned()
}

/// Declares, for each named `async fn name(app: TestApp)`, one test per
/// backend: `name::sqlite`, `name::postgres`, `name::mysql`. The functions
/// are ordinary items, so rustfmt formats them. A backend whose URL is not
/// configured is `#[ignore]`d (see `build.rs`), so a local run reports what it
/// did not run; under CI it runs, and fails if its URL is missing.
#[macro_export]
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                use $crate::helpers::{Backend, TestApp};

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(TestApp::spawn(Backend::Sqlite).await).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(not(roster_test_postgres), ignore = "set ROSTER_TEST_POSTGRES_URL to run")]
                async fn postgres() {
                    super::$name(TestApp::spawn(Backend::Postgres).await).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(not(roster_test_mysql), ignore = "set ROSTER_TEST_MYSQL_URL to run")]
                async fn mysql() {
                    super::$name(TestApp::spawn(Backend::MySql).await).await;
                }
            }
        )*
    };
}

#[test]
fn database_urls_are_rewritten_keeping_the_query() {
    assert_eq!(
        replace_database(
            "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
            "x"
        ),
        "postgres://postgres@127.0.0.1:5432/x?sslmode=disable"
    );
    assert_eq!(
        replace_database("mysql://root@127.0.0.1:3306", "x"),
        "mysql://root@127.0.0.1:3306/x"
    );
}
