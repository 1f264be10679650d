//! The rules of the service, free of transport and storage: prost messages
//! never reach this module and it never names the store. What it needs from
//! storage it asks through the traits in `ports`.
pub mod authentication;
pub mod cel_filter;
pub mod clock;
pub mod create_user;
pub mod credential;
pub mod delete_user;
pub mod error;
pub mod events;
pub mod field_mask;
pub mod instance;
pub mod list_users;
pub mod memo_facts;
pub mod memos;
pub mod notification_filter;
pub mod notifications;
pub mod ownership;
pub mod page_token;
pub mod password;
pub mod permission;
pub mod ports;
pub mod principal;
pub mod profile;
pub mod sign_in;
pub mod stats;
pub mod system;
#[cfg(test)]
mod test_support;
pub mod token;
pub mod tokens;
pub mod update_user;
pub mod user;
pub mod user_filter;
pub mod user_settings;
pub mod users;
pub mod visibility;
pub mod webhook_target;
pub mod webhooks;

pub use error::{DomainError, FieldViolation, FieldViolations, Validation};
