//! The `roster` command line.
use std::process::Command;

use crate::helpers::{Backend, TestDatabase};

fn roster(database_url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_roster"))
        .args(args)
        .env("ROSTER_DATABASE_URL", database_url)
        .output()
        .expect("run roster")
}

#[tokio::test]
async fn init_prints_the_root_key_once() {
    let database = TestDatabase::create(Backend::Sqlite).await;

    let first = roster(&database.url, &["init"]);
    let second = roster(&database.url, &["init"]);

    let first_text = String::from_utf8_lossy(&first.stdout);
    let second_text = String::from_utf8_lossy(&second.stdout);
    assert!(first.status.success() && second.status.success());
    assert!(first_text.contains("root api key: gm_"), "{first_text}");
    assert!(second_text.contains("already initialized"), "{second_text}");
    assert!(!second_text.contains("gm_"), "{second_text}");
}

#[tokio::test]
async fn migrate_and_version_succeed() {
    let database = TestDatabase::create(Backend::Sqlite).await;

    let migrate = roster(&database.url, &["migrate"]);
    let version = roster(&database.url, &["version"]);

    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    assert!(
        String::from_utf8_lossy(&version.stdout)
            .starts_with(&format!("roster {}", env!("CARGO_PKG_VERSION")))
    );
}

#[tokio::test]
async fn an_unsupported_database_url_is_a_clear_error() {
    let output = roster("oracle://x", &["migrate"]);

    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("unsupported database url scheme"));
}
