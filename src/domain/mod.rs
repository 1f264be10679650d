//! The rules of the service, free of transport and storage types: prost
//! messages never reach this module, and SQL never leaves `store`.
pub mod clock;
pub mod error;
pub mod system;
pub mod token;
pub mod user;
pub mod users;

pub use error::{DomainError, FieldViolation};
