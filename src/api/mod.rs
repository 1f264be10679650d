//! The tonic services: thin adapters that convert proto → domain
//! (`TryFrom`), take the caller the gate authenticated, call one domain
//! function and convert back. prost types stop here; `domain` and `store`
//! never see them.
pub mod auth_service;
pub mod call_origin;
pub mod calls;
pub mod codec;
pub mod convert;
pub mod framing;
pub mod gate;
pub mod grpc_unary;
pub mod health;
pub mod memo_service;
pub mod methods;
pub mod status;
pub mod system_service;
pub mod unary;
pub mod user_resources;
pub mod user_service;
pub mod webhook_events;

use crate::domain::password::PasswordHasher;
use crate::domain::principal::Principal;
use crate::domain::system::SetupCode;
use crate::domain::webhook_target::TargetPolicy;
use crate::store::Store;

/// What every service needs.
#[derive(Clone, Debug)]
pub struct ApiContext {
    /// The database.
    pub store: Store,
    /// What `GetSystemInfo` reports this server offers.
    pub capabilities: Vec<String>,
    /// This process's one-time set-up code (see `InitializeSystem`).
    pub setup_code: SetupCode,
    /// Password hashing, off the async workers and bounded.
    pub hasher: PasswordHasher,
    /// Whether webhooks may target private addresses.
    pub webhook_policy: TargetPolicy,
    /// How memo events become webhook bodies.
    pub events: webhook_events::JsonEvents,
}

/// The caller the gate authenticated. A handler of a non-public method
/// always finds one; its absence means the gate was bypassed, which is
/// refused rather than trusted.
pub fn caller<T>(request: &mut tonic::Request<T>) -> Result<Principal, tonic::Status> {
    request
        .extensions_mut()
        .remove::<Principal>()
        .ok_or_else(|| tonic::Status::unauthenticated("missing credentials"))
}
