//! What the domain asks of storage, as small capability traits (after
//! lldap's handlers). `store::Store` implements them for the real
//! databases; unit tests implement them with a few lines of memory, so the
//! rules can be tested without a server or a database.
use super::DomainError;
use super::clock::EpochMillis;
use super::credential::{NewCredential, PresentedCredential};
use super::token::TokenHash;
use super::user::{User, UserId};
use super::users::UserLookup;

/// Reading users.
pub trait UserDirectory: Send + Sync {
    /// One user. Deleted users only with `include_deleted`; where a live
    /// user and tombstones share an email or username, the live one wins,
    /// then the most recently deleted.
    fn find_user(
        &self,
        lookup: &UserLookup,
        include_deleted: bool,
    ) -> impl Future<Output = Result<Option<User>, DomainError>> + Send;
}

/// Resolving bearer tokens.
pub trait CredentialDirectory: Send + Sync {
    /// The credential with this hash and its owner, whatever their state.
    fn find_credential(
        &self,
        hash: &TokenHash,
    ) -> impl Future<Output = Result<Option<PresentedCredential>, DomainError>> + Send;

    /// Records that the credential was used at `now`, unless a use after
    /// `stale_before` is already recorded. It may happen after the call
    /// returns: the request path never waits for this write.
    fn record_use(&self, credential_id: uuid::Uuid, now: EpochMillis, stale_before: EpochMillis);
}

/// What claiming the instance did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// This call created ROOT and its key.
    Claimed,
    /// Someone else got there first; nothing was written.
    AlreadyClaimed,
}

/// The one-time bootstrap and its recovery.
pub trait SystemStore: Send + Sync {
    /// Whether the instance has been claimed.
    fn is_initialized(&self) -> impl Future<Output = Result<bool, DomainError>> + Send;

    /// In one transaction: claims the instance for `root`, stores `root`
    /// and its `root_key`. Exactly one claim succeeds however many run at
    /// once, on any number of processes sharing the database.
    fn claim_with_root(
        &self,
        root: &User,
        root_key: &NewCredential,
    ) -> impl Future<Output = Result<Claim, DomainError>> + Send;

    /// The ROOT user's id; `None` while uninitialized.
    fn root_user_id(&self) -> impl Future<Output = Result<Option<UserId>, DomainError>> + Send;

    /// In one transaction: stores `new_key` as the root key and revokes the
    /// one it replaces at `now`. Returns how many keys were revoked.
    fn replace_root_key(
        &self,
        new_key: &NewCredential,
        now: EpochMillis,
    ) -> impl Future<Output = Result<u64, DomainError>> + Send;
}
