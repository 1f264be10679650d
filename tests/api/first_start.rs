//! A safe first start: while uninitialized, InitializeSystem is accepted
//! from this machine, or from anywhere with the set-up code the server
//! logs, and never from a browser page of another origin, whatever CORS
//! allows. A lost root key is replaced by an operator command.
use roster::proto::goodmem::v1 as pb;

use crate::helpers::{Backend, TestApp, TestDatabase, bearer};

async fn post_init(
    app: &TestApp,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, serde_json::Value) {
    let mut request = app
        .http()
        .post(format!("{}/v1/system/init", app.base_url()))
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

async fn is_initialized(app: &TestApp) -> bool {
    app.system()
        .await
        .get_system_info(pb::GetSystemInfoRequest {})
        .await
        .unwrap()
        .into_inner()
        .initialized
}

#[tokio::test]
async fn a_web_page_of_another_origin_cannot_take_a_fresh_instance() {
    // Even an origin CORS allows: CORS decides what a page may read, not
    // who may own the instance.
    let database = TestDatabase::create(Backend::Sqlite).await;
    let app = TestApp::spawn_configured(database, |config| {
        config.cors_origins = vec!["https://evil.example".to_owned()];
    })
    .await;
    let attacks: [(&[(&str, &str)], &str); 4] = [
        // Simple requests a page can send without a CORS preflight.
        (
            &[
                ("content-type", "text/plain"),
                ("origin", "https://evil.example"),
            ],
            "",
        ),
        (&[("origin", "https://evil.example")], ""),
        (
            &[
                ("content-type", "application/json"),
                ("origin", "https://evil.example"),
            ],
            "{}",
        ),
        (
            &[
                ("content-type", "application/json"),
                ("sec-fetch-site", "cross-site"),
            ],
            "{}",
        ),
    ];

    for (headers, request_body) in attacks {
        let (status, body) = post_init(&app, headers, request_body).await;

        // 415 where the gateway refuses the content type first.
        assert!(
            status == 403 || status == 415,
            "{headers:?}: {status} {body}"
        );
        assert!(body.get("rootApiKey").is_none(), "{body}");
        if status == 403 {
            assert_eq!(body["code"], 7, "{body}");
        }
    }
    assert!(!is_initialized(&app).await);
    let (status, _) = post_init(&app, attacks[2].0, "{}").await;
    assert_eq!(
        status, 403,
        "a JSON request from a foreign page is refused by the rule"
    );
}

#[tokio::test]
async fn the_servers_own_page_and_local_clients_may_initialize() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let own_origin = app.base_url();

    let (status, body) = post_init(
        &app,
        &[
            ("content-type", "application/json"),
            ("origin", own_origin.as_str()),
        ],
        "",
    )
    .await;

    assert_eq!(status, 200, "{body}");
    assert!(
        body["rootApiKey"].as_str().unwrap().starts_with("gm_"),
        "{body}"
    );
}

#[tokio::test]
async fn another_machine_needs_the_setup_code() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    // A proxy in front, or a name that is not loopback: not this machine.
    let remote: [&[(&str, &str)]; 2] = [
        &[
            ("content-type", "application/json"),
            ("x-forwarded-for", "203.0.113.7"),
        ],
        &[
            ("content-type", "application/json"),
            ("host", "roster.example.com"),
        ],
    ];

    for headers in remote {
        let (without, without_body) = post_init(&app, headers, "{}").await;
        let (wrong, _) = post_init(&app, headers, r#"{"setupCode": "not-the-code"}"#).await;

        assert_eq!(without, 403, "{headers:?}: {without_body}");
        assert!(
            without_body["message"]
                .as_str()
                .unwrap()
                .contains("set-up code"),
            "{without_body}"
        );
        assert_eq!(wrong, 403, "{headers:?}");
    }
    assert!(!is_initialized(&app).await);

    let with_code = format!(r#"{{"setup_code": "{}"}}"#, app.setup_code);
    let (status, body) = post_init(&app, remote[0], &with_code).await;

    assert_eq!(status, 200, "{body}");
    assert!(
        body["rootApiKey"].as_str().unwrap().starts_with("gm_"),
        "{body}"
    );
}

#[tokio::test]
async fn over_grpc_a_proxied_caller_needs_the_setup_code_too() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut users = app.users().await;
    let proxied = |setup_code: &str| {
        let mut request = tonic::Request::new(pb::InitializeSystemRequest {
            setup_code: setup_code.to_owned(),
        });
        request
            .metadata_mut()
            .insert("x-forwarded-for", "203.0.113.7".parse().unwrap());
        request
    };

    let refused = users.initialize_system(proxied("")).await.unwrap_err();
    let accepted = users
        .initialize_system(proxied(&app.setup_code))
        .await
        .unwrap()
        .into_inner();

    assert_eq!(refused.code(), tonic::Code::PermissionDenied);
    assert!(!accepted.already_initialized);
}

#[tokio::test]
async fn once_initialized_anyone_learns_only_that() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    app.initialize().await;

    let (status, body) = post_init(
        &app,
        &[
            ("content-type", "application/json"),
            ("origin", "https://evil.example"),
        ],
        "{}",
    )
    .await;

    // Nothing to take: the answer is the documented "already initialized",
    // with no key, to any caller.
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["alreadyInitialized"], true);
    assert_eq!(body["rootApiKey"], "");
}

fn roster_cli(database_url: &str, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(args)
        .env("ROSTER_DATABASE_URL", database_url)
        .env_remove("DATABASE_URL")
        .output()
        .expect("run roster")
}

async fn reset_root_key_replaces_a_lost_key(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (lost_key, root_id) = app.initialize().await;

    let output = roster_cli(&app.database.url, &["reset-root-key"]);

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("1 old key(s) revoked"), "{stdout}");
    let new_key = crate::helpers::printed_root_key(&stdout);
    let mut users = app.users().await;
    let with_new = users
        .get_user(bearer(pb::GetUserRequest::default(), &new_key))
        .await
        .unwrap()
        .into_inner();
    let with_lost = users
        .get_user(bearer(pb::GetUserRequest::default(), &lost_key))
        .await
        .unwrap_err();
    assert_eq!(with_new.user_id, root_id.0.as_bytes().to_vec());
    assert_eq!(with_lost.code(), tonic::Code::Unauthenticated);

    let again = roster_cli(&app.database.url, &["reset-root-key"]);
    assert!(String::from_utf8_lossy(&again.stdout).contains("1 old key(s) revoked"));
}

#[tokio::test]
async fn reset_root_key_replaces_a_lost_key_on_sqlite() {
    reset_root_key_replaces_a_lost_key(Backend::Sqlite).await;
}

#[cfg_attr(
    not(roster_test_postgres),
    ignore = "set ROSTER_TEST_POSTGRES_URL to run"
)]
#[tokio::test]
async fn reset_root_key_replaces_a_lost_key_on_postgres() {
    reset_root_key_replaces_a_lost_key(Backend::Postgres).await;
}

#[tokio::test]
async fn reset_root_key_on_a_fresh_database_says_to_initialize() {
    let database = TestDatabase::create(Backend::Sqlite).await;

    let output = roster_cli(&database.url, &["reset-root-key"]);

    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("not initialized"));
}

/// The real binary prints its set-up code in its log while uninitialized,
/// and that code lets a remote caller initialize.
#[tokio::test]
async fn the_setup_code_is_printed_in_the_log_at_start() {
    use std::io::BufRead as _;
    let database = TestDatabase::create(Backend::Sqlite).await;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(["serve", "--listen", "127.0.0.1:0", "--log-format", "json"])
        .env("ROSTER_DATABASE_URL", &database.url)
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start roster");
    let mut lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let (mut address, mut setup_code) = (None, None);
    while address.is_none() || setup_code.is_none() {
        let line = lines.next().expect("roster exited early").unwrap();
        let Ok(event) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if let Some(found) = event["address"].as_str() {
            address = Some(found.to_owned());
        }
        if let Some(found) = event["setup_code"].as_str() {
            setup_code = Some(found.to_owned());
        }
    }
    std::thread::spawn(move || for _ in lines {});

    let response = reqwest::Client::new()
        .post(format!("http://{}/v1/system/init", address.unwrap()))
        .header("content-type", "application/json")
        .header("x-forwarded-for", "203.0.113.7")
        .body(format!(r#"{{"setupCode": "{}"}}"#, setup_code.unwrap()))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap();
    let _ = child.kill();
    let _ = child.wait();

    assert_eq!(status, 200, "{body}");
    assert!(body["rootApiKey"].as_str().unwrap().starts_with("gm_"));
}

#[tokio::test]
async fn the_first_create_user_follows_the_same_trust_rule() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let url = format!("{}/v1/users", app.base_url());
    let body = serde_json::json!({"user": {"username": "owner", "email": "owner@example.com"}});

    let from_foreign_page = app
        .http()
        .post(&url)
        .header("origin", "https://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    let refused_status = from_foreign_page.status();
    let forwarded = app
        .http()
        .post(&url)
        .header("x-forwarded-for", "203.0.113.9")
        .json(&body)
        .send()
        .await
        .unwrap()
        .status();
    let initialized_after_refusals = is_initialized(&app).await;
    let with_code = app
        .http()
        .post(&url)
        .header("x-forwarded-for", "203.0.113.9")
        .json(&serde_json::json!({
            "user": {"username": "owner", "email": "owner@example.com"},
            "setupCode": app.setup_code,
        }))
        .send()
        .await
        .unwrap();
    let created_status = with_code.status();
    let created: serde_json::Value = with_code.json().await.unwrap();

    assert_eq!(refused_status, 403);
    assert_eq!(forwarded, 403, "a proxied caller needs the set-up code");
    assert!(!initialized_after_refusals);
    assert_eq!(created_status, 200, "{created}");
    assert_eq!(created["role"], "ROOT");
    assert!(is_initialized(&app).await);
}
