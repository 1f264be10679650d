//! Schema migrations, one per file, applied in order at start-up and by
//! `roster migrate`. Column types are chosen to behave the same on SQLite,
//! PostgreSQL and MySQL/MariaDB: times are BIGINT epoch milliseconds, case
//! folding is done by the service into `*_key` columns rather than left to
//! collations.
use sea_orm_migration::prelude::*;

mod m20261123_000001_create_users;
mod m20261123_000002_create_user_labels;
mod m20261123_000003_create_credentials;
mod m20261123_000004_create_system_state;
mod m20261123_000005_add_root_credential;
mod m20261124_000006_create_user_totals;
mod m20261124_000007_create_idempotency_records;
mod m20261124_000008_create_sign_in_failures;
mod m20261124_000009_create_instance_settings;
mod m20261124_000010_add_credential_scopes;
mod m20261201_000011_create_user_general_settings;
mod m20261201_000012_create_user_webhooks;
mod m20261201_000013_create_user_notifications;
mod m20261201_000014_create_memos;
mod m20261201_000015_create_memo_tags;
mod m20261201_000016_create_webhook_deliveries;

/// The ordered list of migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261123_000001_create_users::Migration),
            Box::new(m20261123_000002_create_user_labels::Migration),
            Box::new(m20261123_000003_create_credentials::Migration),
            Box::new(m20261123_000004_create_system_state::Migration),
            Box::new(m20261123_000005_add_root_credential::Migration),
            Box::new(m20261124_000006_create_user_totals::Migration),
            Box::new(m20261124_000007_create_idempotency_records::Migration),
            Box::new(m20261124_000008_create_sign_in_failures::Migration),
            Box::new(m20261124_000009_create_instance_settings::Migration),
            Box::new(m20261124_000010_add_credential_scopes::Migration),
            Box::new(m20261201_000011_create_user_general_settings::Migration),
            Box::new(m20261201_000012_create_user_webhooks::Migration),
            Box::new(m20261201_000013_create_user_notifications::Migration),
            Box::new(m20261201_000014_create_memos::Migration),
            Box::new(m20261201_000015_create_memo_tags::Migration),
            Box::new(m20261201_000016_create_webhook_deliveries::Migration),
        ]
    }
}
