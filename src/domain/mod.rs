//! The rules of the service, free of transport and storage: prost messages
//! never reach this module and it never names the store. What it needs from
//! storage it asks through the traits in `ports`.
pub mod authentication;
pub mod clock;
pub mod credential;
pub mod error;
pub mod permission;
pub mod ports;
pub mod principal;
pub mod system;
#[cfg(test)]
mod test_support;
pub mod token;
pub mod user;
pub mod users;

pub use error::{DomainError, FieldViolation};
