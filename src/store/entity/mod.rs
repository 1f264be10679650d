//! sea-orm entities: one file per table. Rows never leave `store`; the
//! repositories turn them into domain types.
pub mod credential;
pub mod idempotency_record;
pub mod instance_settings;
pub mod memo;
pub mod memo_tag;
pub mod sign_in_failure;
pub mod system_state;
pub mod user;
pub mod user_general_setting;
pub mod user_label;
pub mod user_notification;
pub mod user_totals;
pub mod user_webhook;
pub mod webhook_delivery;
