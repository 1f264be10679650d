//! The tonic services: thin adapters that convert proto → domain
//! (`TryFrom`), authenticate, call one domain function and convert back.
//! prost types stop here; `domain` and `store` never see them.
pub mod codec;
pub mod convert;
pub mod framing;
pub mod methods;
pub mod status;
pub mod system_service;
pub mod user_service;

use crate::auth::{Authenticator, Principal};
use crate::store::Store;

/// What every service needs: the store and the authenticator over it.
#[derive(Clone, Debug)]
pub struct ApiContext {
    /// The database.
    pub store: Store,
    /// Credential checks.
    pub authenticator: Authenticator,
    /// What `GetSystemInfo` reports this server offers.
    pub capabilities: Vec<String>,
}

impl ApiContext {
    /// A context over `store`.
    pub fn new(store: Store, capabilities: Vec<String>) -> Self {
        Self {
            authenticator: Authenticator::new(store.clone()),
            store,
            capabilities,
        }
    }

    /// The caller of `request`, or `UNAUTHENTICATED`.
    pub async fn caller<T>(&self, request: &tonic::Request<T>) -> Result<Principal, tonic::Status> {
        self.authenticator
            .authenticate(request.metadata().as_ref())
            .await
            .map_err(tonic::Status::from)
    }
}
