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

#[tokio::test]
async fn database_url_is_honoured_when_roster_database_url_is_absent() {
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("from-database-url.db");

    let output = Command::new(env!("CARGO_BIN_EXE_roster"))
        .arg("migrate")
        .env_remove("ROSTER_DATABASE_URL")
        .env(
            "DATABASE_URL",
            format!("sqlite://{}?mode=rwc", file.display()),
        )
        .current_dir(directory.path())
        .output()
        .expect("run roster");

    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(file.exists(), "DATABASE_URL was ignored");
    assert!(!directory.path().join("roster.db").exists());
}

#[tokio::test]
async fn logs_have_no_colour_codes_off_a_terminal() {
    let database = TestDatabase::create(Backend::Sqlite).await;

    // stderr is a pipe here; the migration logs at least one line.
    let output = Command::new(env!("CARGO_BIN_EXE_roster"))
        .arg("reset-root-key")
        .env("ROSTER_DATABASE_URL", &database.url)
        .env("RUST_LOG", "debug")
        .output()
        .expect("run roster");

    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.is_empty());
    assert!(!stderr.contains('\u{1b}'), "{stderr}");
}

/// `version` names the commit the checkout is at, not the one of an older
/// build (build.rs reruns when the branch's ref moves).
#[test]
fn version_reports_the_current_commit() {
    let head = Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("git runs");
    let head = String::from_utf8_lossy(&head.stdout).trim().to_owned();
    assert!(!head.is_empty(), "not a git checkout");

    let version = roster("sqlite::memory:", &["version"]);

    let printed = String::from_utf8_lossy(&version.stdout);
    assert!(
        printed.contains(&format!("commit {head}")),
        "{printed} vs {head}"
    );
}
