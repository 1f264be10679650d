//! Every call has a deadline: the client's `grpc-timeout` when it sends one,
//! never more than the server's call timeout. A call stuck behind a lock is
//! answered `DEADLINE_EXCEEDED` instead of hanging.
use std::time::{Duration, Instant};

use roster::proto::goodmem::v1 as pb;
use sea_orm::{ConnectionTrait as _, TransactionTrait as _};

use crate::helpers::{Backend, TestApp, TestDatabase, bearer};

/// Holds an exclusive lock on `users` until dropped.
async fn lock_users(app: &TestApp) -> sea_orm::DatabaseTransaction {
    let transaction = app.store.writer().begin().await.unwrap();
    transaction
        .execute_unprepared("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    transaction
}

#[cfg_attr(
    not(roster_test_postgres),
    ignore = "set ROSTER_TEST_POSTGRES_URL to run"
)]
#[tokio::test]
async fn a_client_deadline_cuts_a_call_stuck_behind_a_lock() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let (root_key, _) = app.initialize().await;
    let _lock = lock_users(&app).await;
    // A raw HTTP/2 call: tonic's client enforces grpc-timeout itself and
    // would report its own CANCELLED before the server's answer arrives.
    let http2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();

    let started = Instant::now();
    let response = http2
        .post(format!("{}/goodmem.v1.UserService/GetUser", app.base_url()))
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .header("grpc-timeout", "300m")
        .header("x-api-key", &root_key)
        .body(vec![0u8, 0, 0, 0, 0])
        .send()
        .await
        .unwrap();
    let took = started.elapsed();

    assert_eq!(response.headers()["grpc-status"], "4", "{response:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
}

#[cfg_attr(
    not(roster_test_postgres),
    ignore = "set ROSTER_TEST_POSTGRES_URL to run"
)]
#[tokio::test]
async fn the_server_call_timeout_bounds_calls_without_a_client_deadline() {
    let database = TestDatabase::create(Backend::Postgres).await;
    let app = TestApp::spawn_configured(database, |config| {
        config.call_timeout = Duration::from_millis(500);
    })
    .await;
    let (root_key, _) = app.initialize().await;
    let _lock = lock_users(&app).await;

    let started = Instant::now();
    let over_grpc = app
        .users()
        .await
        .get_user(bearer(pb::GetUserRequest::default(), &root_key))
        .await
        .unwrap_err();
    let over_rest = app
        .http()
        .get(format!("{}/v1/users/me", app.base_url()))
        .header("x-api-key", &root_key)
        .send()
        .await
        .unwrap();

    assert_eq!(
        over_grpc.code(),
        tonic::Code::DeadlineExceeded,
        "{over_grpc:?}"
    );
    assert_eq!(over_rest.status(), 504);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
