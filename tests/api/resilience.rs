//! A database that misbehaves is reported truthfully: readiness checks the
//! schema, and stuck statements end in `DEADLINE_EXCEEDED`.
use std::time::{Duration, Instant};

use roster::proto::goodmem::v1 as pb;
use sea_orm::{ConnectionTrait as _, TransactionTrait as _};

use crate::helpers::{Backend, TestApp, TestDatabase, bearer};
use crate::on_every_backend;

async fn readyz(app: &TestApp) -> (u16, String) {
    let response = app
        .http()
        .get(format!("{}/readyz", app.base_url()))
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

async fn readiness_fails_when_the_schema_is_not_the_expected_one(app: TestApp) {
    assert_eq!(readyz(&app).await.0, 200);

    app.execute("DROP TABLE seaql_migrations").await;

    let mut last = (0, String::new());
    for _ in 0..100 {
        last = readyz(&app).await;
        if last.0 == 503 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(last.0, 503, "{last:?}");
    assert!(last.1.contains("schema"), "{last:?}");
}
on_every_backend!(readiness_fails_when_the_schema_is_not_the_expected_one);

/// A statement blocked by a lock held elsewhere is cut by the database's
/// statement bound even when the call's own deadline is far away.
async fn a_blocked_statement_times_out(backend: Backend, lock_sql: &str) {
    let database = TestDatabase::create(backend).await;
    let app = TestApp::spawn_configured(database, |config| {
        config.store.statement_timeout = Duration::from_secs(1);
        config.call_timeout = Duration::from_secs(60);
    })
    .await;
    let (root_key, _) = app.initialize().await;
    let holder = app.store.writer().begin().await.unwrap();
    holder.execute_unprepared(lock_sql).await.unwrap();

    let started = Instant::now();
    let status = app
        .users()
        .await
        .get_user(bearer(pb::GetUserRequest::default(), &root_key))
        .await
        .unwrap_err();
    let took = started.elapsed();
    holder.rollback().await.unwrap();

    assert_eq!(status.code(), tonic::Code::DeadlineExceeded, "{status:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
}

#[cfg_attr(
    not(roster_test_postgres),
    ignore = "set ROSTER_TEST_POSTGRES_URL to run"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_statement_times_out_on_postgres() {
    a_blocked_statement_times_out(
        Backend::Postgres,
        "LOCK TABLE users IN ACCESS EXCLUSIVE MODE",
    )
    .await;
}

#[cfg_attr(not(roster_test_mysql), ignore = "set ROSTER_TEST_MYSQL_URL to run")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_statement_times_out_on_mysql() {
    a_blocked_statement_times_out(Backend::MySql, "LOCK TABLES users WRITE, credentials WRITE")
        .await;
}
