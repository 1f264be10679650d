//! Webhook delivery: memo events go from the outbox to a receiver in the
//! test, signed with Standard Webhooks headers, retried with backoff,
//! surviving a restart, and delivered once by two processes.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hmac::{Hmac, Mac as _};
use roster::config::ServerConfig;
use roster::domain::user::Role;
use roster::proto::goodmem::v1 as pb;
use roster::proto::goodmem::v1::memo_service_client::MemoServiceClient;
use serde_json::Value;
use sha2::Sha256;

use crate::helpers::{Backend, TestApp, TestDatabase, bearer};

/// One POST the receiver got.
#[derive(Clone, Debug)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: Vec<u8>,
}

/// An HTTP receiver on 127.0.0.1 that records every POST and answers 500
/// to the first `failures` of them.
#[derive(Clone)]
struct Receiver {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(failures: usize) -> Self {
        let received: Arc<Mutex<Vec<Received>>> = Arc::default();
        let log = received.clone();
        let app = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: http::HeaderMap, body: axum::body::Bytes| {
                let log = log.clone();
                async move {
                    let header = |name: &str| {
                        headers
                            .get(name)
                            .and_then(|value| value.to_str().ok())
                            .unwrap_or_default()
                            .to_owned()
                    };
                    let mut log = log.lock().unwrap();
                    log.push(Received {
                        id: header("webhook-id"),
                        timestamp: header("webhook-timestamp"),
                        signature: header("webhook-signature"),
                        body: body.to_vec(),
                    });
                    if log.len() <= failures {
                        http::StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        http::StatusCode::NO_CONTENT
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, received }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Waits up to 20 s until `count` requests have arrived.
    async fn wait_for(&self, count: usize) -> Vec<Received> {
        for _ in 0..400 {
            if self.received.lock().unwrap().len() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.received()
    }
}

/// Private targets allowed (the receiver is on loopback), fast retries.
fn delivering(config: &mut ServerConfig) {
    config.allow_private_webhooks = true;
    config.webhook_dispatch.poll_interval = Duration::from_millis(50);
    config.webhook_dispatch.retry_base = Duration::from_millis(100);
}

fn not_delivering(config: &mut ServerConfig) {
    delivering(config);
    config.webhook_dispatch.enabled = false;
}

async fn memos(app: &TestApp) -> MemoServiceClient<tonic::transport::Channel> {
    MemoServiceClient::connect(app.base_url()).await.unwrap()
}

/// A user with a webhook to `receiver`; returns its token and secret.
async fn subscriber(app: &TestApp, receiver: &Receiver, username: &str) -> (String, String) {
    let (user, key) = app.insert_user(Role::User, username).await;
    let webhook = app
        .users()
        .await
        .create_user_webhook(bearer(
            pb::CreateUserWebhookRequest {
                parent: user.id.resource_name(),
                webhook: Some(pb::UserWebhook {
                    url: receiver.url.clone(),
                    ..Default::default()
                }),
            },
            &key,
        ))
        .await
        .unwrap()
        .into_inner();
    (key, webhook.signing_secret)
}

async fn write(app: &TestApp, key: &str, content: &str) -> pb::Memo {
    memos(app)
        .await
        .create_memo(bearer(
            pb::CreateMemoRequest {
                memo: Some(pb::Memo {
                    content: content.to_owned(),
                    visibility: pb::Visibility::Protected as i32,
                    ..Default::default()
                }),
            },
            key,
        ))
        .await
        .unwrap()
        .into_inner()
}

/// `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`, as a receiver checks it.
fn expected_signature(secret: &str, received: &Received) -> String {
    let key = data_encoding::BASE64
        .decode(secret.strip_prefix("whsec_").unwrap().as_bytes())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.", received.id, received.timestamp).as_bytes());
    mac.update(&received.body);
    format!(
        "v1,{}",
        data_encoding::BASE64.encode(&mac.finalize().into_bytes())
    )
}

async fn every_memo_event_arrives_signed(app: TestApp) {
    app.initialize().await;
    let receiver = Receiver::start(0).await;
    let (key, secret) = subscriber(&app, &receiver, "alice").await;
    let (bob_key, _) = subscriber(&app, &Receiver::start(0).await, "bob").await;
    let mut client = memos(&app).await;

    let memo = write(&app, &key, "first #draft").await;
    let first = receiver.wait_for(1).await;
    client
        .update_memo(bearer(
            pb::UpdateMemoRequest {
                memo: Some(pb::Memo {
                    name: memo.name.clone(),
                    content: "second".into(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["content".into()],
                }),
            },
            &key,
        ))
        .await
        .unwrap();
    receiver.wait_for(2).await;
    client
        .create_memo_comment(bearer(
            pb::CreateMemoCommentRequest {
                name: memo.name.clone(),
                comment: Some(pb::Memo {
                    content: "from bob".into(),
                    ..Default::default()
                }),
            },
            &bob_key,
        ))
        .await
        .unwrap();
    receiver.wait_for(3).await;
    client
        .delete_memo(bearer(
            pb::DeleteMemoRequest {
                name: memo.name.clone(),
            },
            &key,
        ))
        .await
        .unwrap();
    let all = receiver.wait_for(4).await;

    let created: Value = serde_json::from_slice(&first[0].body).unwrap();
    assert_eq!(created["id"], Value::String(first[0].id.clone()));
    assert_eq!(created["type"], "memos.memo.created");
    assert_eq!(created["memo"]["name"], Value::String(memo.name.clone()));
    assert_eq!(created["memo"]["tags"], serde_json::json!(["draft"]));
    assert!(created["createTime"].is_i64(), "REST JSON rules: {created}");
    let now = roster::domain::clock::EpochMillis::now().0 / 1000;
    let sent: i64 = first[0].timestamp.parse().unwrap();
    assert!((now - sent).abs() < 60, "webhook-timestamp is in seconds");
    let types: Vec<String> = all
        .iter()
        .map(|received| {
            assert_eq!(received.signature, expected_signature(&secret, received));
            let body: Value = serde_json::from_slice(&received.body).unwrap();
            body["type"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(
        types,
        vec![
            "memos.memo.created",
            "memos.memo.updated",
            "memos.memo.comment.created",
            "memos.memo.deleted",
        ]
    );
}

async fn a_receiver_that_fails_twice_gets_the_event_once(app: TestApp) {
    app.initialize().await;
    let receiver = Receiver::start(2).await;
    let (key, _) = subscriber(&app, &receiver, "carol").await;

    write(&app, &key, "retry me").await;
    let attempts = receiver.wait_for(3).await;
    tokio::time::sleep(Duration::from_millis(800)).await;
    let after_success = receiver.received();
    let metrics = app.metrics_text().await;

    assert_eq!(attempts.len(), 3);
    assert!(attempts.iter().all(|attempt| attempt.id == attempts[0].id));
    assert!(
        attempts
            .iter()
            .all(|attempt| attempt.body == attempts[0].body)
    );
    assert_eq!(after_success.len(), 3, "nothing more once delivered");
    assert!(
        metrics.contains("roster_webhook_delivery_attempts_total{outcome=\"retried\"} 2"),
        "{metrics}"
    );
    assert!(metrics.contains("roster_webhook_delivery_attempts_total{outcome=\"delivered\"} 1"));
}

async fn two_processes_deliver_each_event_once(app: TestApp) {
    app.initialize().await;
    let other = app.second_server_configured(delivering).await;
    let receiver = Receiver::start(0).await;
    let (key, _) = subscriber(&app, &receiver, "dana").await;

    for index in 0..20 {
        let server = if index % 2 == 0 { &app } else { &other };
        write(server, &key, &format!("memo {index}")).await;
    }
    let received = receiver.wait_for(20).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut ids: Vec<String> = receiver.received().into_iter().map(|r| r.id).collect();
    ids.sort();
    ids.dedup();

    assert_eq!(received.len(), 20);
    assert_eq!(ids.len(), 20, "each event once");
    assert_eq!(receiver.received().len(), 20, "and nothing twice");
    other.stop().await.unwrap();
}

async fn delivery_checks_the_target_again(app: TestApp) {
    app.initialize().await;
    let receiver = Receiver::start(0).await;
    let by_name = Receiver {
        url: receiver.url.replace("127.0.0.1", "localhost"),
        received: receiver.received.clone(),
    };
    let (key, _) = subscriber(&app, &receiver, "frank").await;
    let (grace_key, _) = subscriber(&app, &by_name, "grace").await;
    // The operator turns the guard back on: the saved loopback targets
    // must not be called, by address or by a name resolving to one.
    let app = app
        .restart_configured(|config| {
            delivering(config);
            config.allow_private_webhooks = false;
        })
        .await;

    write(&app, &key, "to a loopback address").await;
    write(&app, &grace_key, "to a name for one").await;
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let metrics = app.metrics_text().await;

    assert!(receiver.received().is_empty(), "{:?}", receiver.received());
    assert!(
        metrics.contains("roster_webhook_delivery_attempts_total{outcome=\"failed\"} 1"),
        "the literal address is given up at once: {metrics}"
    );
    assert!(
        metrics.contains("roster_webhook_delivery_attempts_total{outcome=\"retried\"}"),
        "the name is refused by the resolver and retried later: {metrics}"
    );
    app.stop().await.unwrap();
}

/// Configured servers: the macro starts them with defaults, so these
/// tests start their own.
macro_rules! on_every_backend_delivering {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                use super::*;

                async fn app(backend: Backend) -> TestApp {
                    TestApp::spawn_configured(TestDatabase::create(backend).await, delivering).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name(app(Backend::Sqlite).await).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(not(roster_test_postgres), ignore = "set ROSTER_TEST_POSTGRES_URL to run")]
                async fn postgres() {
                    super::$name(app(Backend::Postgres).await).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                #[cfg_attr(not(roster_test_mysql), ignore = "set ROSTER_TEST_MYSQL_URL to run")]
                async fn mysql() {
                    super::$name(app(Backend::MySql).await).await;
                }
            }
        )*
    };
}

on_every_backend_delivering!(
    every_memo_event_arrives_signed,
    a_receiver_that_fails_twice_gets_the_event_once,
    two_processes_deliver_each_event_once,
    a_restart_between_write_and_delivery_still_delivers,
    delivery_checks_the_target_again,
);

async fn a_restart_between_write_and_delivery_still_delivers(app: TestApp) {
    app.initialize().await;
    let receiver = Receiver::start(0).await;
    let (key, _) = subscriber(&app, &receiver, "erin").await;
    let app = app.restart_configured(not_delivering).await;

    write(&app, &key, "written while nobody delivers").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before_restart = receiver.received().len();
    let app = app.restart_configured(delivering).await;
    let after_restart = receiver.wait_for(1).await;

    assert_eq!(before_restart, 0);
    assert_eq!(after_restart.len(), 1);
    let body: Value = serde_json::from_slice(&after_restart[0].body).unwrap();
    assert_eq!(body["memo"]["content"], "written while nobody delivers");
    app.stop().await.unwrap();
}
