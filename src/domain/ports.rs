//! What the domain asks of storage, as small capability traits (after
//! lldap's handlers). `store::Store` implements them for the real
//! databases; unit tests implement them with a few lines of memory, so the
//! rules can be tested without a server or a database.
use super::DomainError;
use super::clock::EpochMillis;
use super::credential::{NewCredential, PresentedCredential};
use super::instance::InstanceSettings;
use super::password::PasswordHash;
use super::token::TokenHash;
use super::user::{User, UserId};
use super::user_filter::UserFilter;
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

/// What listing users asks of storage.
#[derive(Clone, Debug)]
pub struct UserListQuery {
    /// Only users matching this.
    pub filter: Option<UserFilter>,
    /// Tombstones too.
    pub show_deleted: bool,
    /// Only users after this position in (created_at, id) order.
    pub after: Option<ListPosition>,
    /// At most this many users.
    pub limit: u64,
}

/// A position in the (created_at, id) order users are listed in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListPosition {
    /// Creation time of the last user seen.
    pub created_at: EpochMillis,
    /// Its id, which breaks ties.
    pub id: UserId,
}

/// Reading users in bulk and for sign-in.
pub trait UserCatalog: Send + Sync {
    /// One page of users in (created_at, id) order.
    fn list_users(
        &self,
        query: &UserListQuery,
    ) -> impl Future<Output = Result<Vec<User>, DomainError>> + Send;

    /// How many users there are (tombstones too with `show_deleted`):
    /// exact, and cheap at any size.
    fn count_users(
        &self,
        show_deleted: bool,
    ) -> impl Future<Output = Result<u64, DomainError>> + Send;

    /// About how many users `filter` matches, at a cost that does not grow
    /// with the table: exact on small tables, estimated from a sample
    /// spread over the list on large ones.
    fn estimate_matches(
        &self,
        filter: &UserFilter,
        show_deleted: bool,
    ) -> impl Future<Output = Result<u64, DomainError>> + Send;

    /// The live user with this login, and its password hash.
    fn find_for_sign_in(
        &self,
        lookup: &UserLookup,
    ) -> impl Future<Output = Result<Option<(User, Option<PasswordHash>)>, DomainError>> + Send;

    /// Which of these unique values live users (or anyone, for the id)
    /// already hold.
    fn taken(
        &self,
        candidate: &User,
    ) -> impl Future<Output = Result<Option<UniqueField>, DomainError>> + Send;
}

/// A value that must be unique.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UniqueField {
    /// The user id (tombstones keep theirs).
    Id,
    /// The email, among live users.
    Email,
    /// The username, among live users.
    Username,
}

impl UniqueField {
    /// The `AlreadyExists` error for this field.
    pub fn already_exists(self) -> DomainError {
        DomainError::AlreadyExists(
            match self {
                Self::Id => "a user with this user_id already exists",
                Self::Email => "email already in use",
                Self::Username => "username already in use",
            }
            .to_owned(),
        )
    }
}

/// A request id and the fingerprint of the request it was first used with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// The client's request id.
    pub request_id: uuid::Uuid,
    /// SHA-256 (hex) of the request and its caller.
    pub fingerprint: String,
}

/// What storing a new user did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Creation {
    /// The user was stored.
    Created,
    /// The request id was used before with the same request: that user.
    Replayed(UserId),
    /// The request id was used before with another request.
    RequestIdReused,
    /// The user was to claim the instance, but it is already claimed.
    InstanceAlreadyClaimed,
}

/// A change to a stored user, guarded by the version it was read at.
#[derive(Debug)]
pub struct UserUpdate<'a> {
    /// The new record; its `version` is the read one plus one.
    pub user: &'a User,
    /// The version the change was computed from.
    pub expected_version: i64,
    /// A new password hash, when the password changes.
    pub password_hash: Option<&'a PasswordHash>,
    /// Whether the labels changed (their index rows are rewritten).
    pub labels_changed: bool,
    /// Revoke the user's sign-in sessions (archiving).
    pub revoke_sessions: bool,
}

/// Writing users. Every method is one transaction.
pub trait UserRegistry: Send + Sync {
    /// Stores `user` with its password hash. With `idempotency`, records
    /// the request id in the same transaction (a repeat is answered from
    /// the record). With `claim_instance`, the user also claims the
    /// uninitialized instance as its ROOT.
    fn create_user(
        &self,
        user: &User,
        password_hash: Option<&PasswordHash>,
        idempotency: Option<&IdempotencyKey>,
        claim_instance: bool,
    ) -> impl Future<Output = Result<Creation, DomainError>> + Send;

    /// Stores an update unless the user changed since `expected_version`
    /// (`Aborted`). A taken email or username is `AlreadyExists`.
    fn update_user(
        &self,
        update: &UserUpdate<'_>,
    ) -> impl Future<Output = Result<(), DomainError>> + Send;

    /// Marks the user deleted (freeing its email and username) and removes
    /// all its credentials, webhooks, notifications and settings. Without
    /// `force`, a user owning personal access tokens or webhooks is
    /// `FailedPrecondition` naming them, decided in the same transaction.
    fn delete_user(
        &self,
        user: &User,
        deleted_by: UserId,
        now: EpochMillis,
        force: bool,
    ) -> impl Future<Output = Result<(), DomainError>> + Send;
}

/// Sign-in sessions.
pub trait SessionStore: Send + Sync {
    /// Stores a new session credential.
    fn create_session(
        &self,
        session: &NewCredential,
    ) -> impl Future<Output = Result<(), DomainError>> + Send;

    /// Revokes one credential at `now`.
    fn revoke_credential(
        &self,
        credential_id: uuid::Uuid,
        now: EpochMillis,
    ) -> impl Future<Output = Result<(), DomainError>> + Send;
}

/// Failed sign-in counters, shared by every process through the database.
pub trait ThrottleStore: Send + Sync {
    /// The counter under `key`, if any.
    fn failures(
        &self,
        key: &str,
    ) -> impl Future<Output = Result<Option<FailureWindow>, DomainError>> + Send;

    /// Counts one failure under `key` at `now`: a window that started at
    /// or before `window_cutoff` restarts at `now` with one failure.
    fn record_failure(
        &self,
        key: &str,
        now: EpochMillis,
        window_cutoff: EpochMillis,
    ) -> impl Future<Output = Result<(), DomainError>> + Send;

    /// Forgets the counter under `key`.
    fn clear_failures(&self, key: &str) -> impl Future<Output = Result<(), DomainError>> + Send;
}

/// Failures counted in one window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FailureWindow {
    /// When the window started.
    pub started_at: EpochMillis,
    /// Failures since.
    pub failures: i64,
}

/// The instance settings row.
pub trait InstanceSettingsStore: Send + Sync {
    /// The stored settings; `None` while they are the defaults.
    fn instance_settings(
        &self,
    ) -> impl Future<Output = Result<Option<InstanceSettings>, DomainError>> + Send;

    /// Stores the settings.
    fn save_instance_settings(
        &self,
        settings: &InstanceSettings,
    ) -> impl Future<Output = Result<(), DomainError>> + Send;
}

/// Personal access tokens.
pub trait TokenStore: Send + Sync {
    /// The owner's unrevoked tokens, newest first, after `after`.
    fn list_tokens(
        &self,
        owner: UserId,
        after: Option<super::page_token::Position>,
        limit: u64,
    ) -> impl Future<Output = Result<Vec<super::tokens::TokenInfo>, DomainError>> + Send;

    /// Stores a new token.
    fn create_token(
        &self,
        token: &NewCredential,
    ) -> impl Future<Output = Result<(), DomainError>> + Send;

    /// Revokes the owner's unrevoked token `id`; `false` if there is none.
    fn revoke_token(
        &self,
        owner: UserId,
        id: uuid::Uuid,
        now: EpochMillis,
    ) -> impl Future<Output = Result<bool, DomainError>> + Send;
}

/// The GENERAL setting rows.
pub trait UserSettingStore: Send + Sync {
    /// The stored GENERAL setting; `None` until first written.
    fn general_setting(
        &self,
        owner: UserId,
    ) -> impl Future<Output = Result<Option<super::user_settings::GeneralSetting>, DomainError>> + Send;

    /// Writes the changed fields in one statement (the others keep their
    /// stored values, or the defaults on a first write) and returns the
    /// setting as stored.
    fn update_general_setting(
        &self,
        owner: UserId,
        change: &super::user_settings::GeneralSettingChange,
        now: EpochMillis,
    ) -> impl Future<Output = Result<super::user_settings::GeneralSetting, DomainError>> + Send;
}

/// Webhooks.
pub trait WebhookStore: Send + Sync {
    /// The owner's webhooks, oldest first, after `after`.
    fn list_webhooks(
        &self,
        owner: UserId,
        after: Option<super::page_token::Position>,
        limit: u64,
    ) -> impl Future<Output = Result<Vec<super::webhooks::Webhook>, DomainError>> + Send;

    /// Stores a webhook with its secret, unless its owner already has
    /// `max_per_owner` (`FailedPrecondition`), decided in the same
    /// transaction.
    fn create_webhook(
        &self,
        webhook: &super::webhooks::Webhook,
        secret: &super::webhooks::SigningSecret,
        max_per_owner: u64,
    ) -> impl Future<Output = Result<(), DomainError>> + Send;

    /// The owner's webhook `id`.
    fn find_webhook(
        &self,
        owner: UserId,
        id: uuid::Uuid,
    ) -> impl Future<Output = Result<Option<super::webhooks::Webhook>, DomainError>> + Send;

    /// Stores a changed webhook's url, display name and update time;
    /// `false` if it is gone.
    fn update_webhook(
        &self,
        webhook: &super::webhooks::Webhook,
    ) -> impl Future<Output = Result<bool, DomainError>> + Send;

    /// Deletes the owner's webhook `id`; `false` if there is none.
    fn delete_webhook(
        &self,
        owner: UserId,
        id: uuid::Uuid,
    ) -> impl Future<Output = Result<bool, DomainError>> + Send;
}

/// Notifications.
pub trait NotificationStore: Send + Sync {
    /// The recipient's notifications matching `filter`, newest first,
    /// after `after`.
    fn list_notifications(
        &self,
        recipient: UserId,
        filter: Option<&super::notification_filter::NotificationFilter>,
        after: Option<super::page_token::Position>,
        limit: u64,
    ) -> impl Future<Output = Result<Vec<super::notifications::Notification>, DomainError>> + Send;

    /// Sets the status of the recipient's notification `id`; the
    /// notification as stored, or `None` if there is none.
    fn set_notification_status(
        &self,
        recipient: UserId,
        id: uuid::Uuid,
        status: super::notifications::NotificationStatus,
        now: EpochMillis,
    ) -> impl Future<Output = Result<Option<super::notifications::Notification>, DomainError>> + Send;

    /// Deletes the recipient's notification `id`; `false` if there is none.
    fn delete_notification(
        &self,
        recipient: UserId,
        id: uuid::Uuid,
    ) -> impl Future<Output = Result<bool, DomainError>> + Send;
}

/// Memos and comments.
pub trait MemoStore: Send + Sync {
    /// In one transaction: stores the memo (or comment) with its tags, the
    /// notification it causes when given, and its event for each webhook
    /// of the event's owner.
    fn create_memo(
        &self,
        memo: &super::memos::Memo,
        notification: Option<&super::notifications::Notification>,
        event: &super::events::OutboxEvent,
    ) -> impl Future<Output = Result<(), DomainError>> + Send;

    /// The live (undeleted) memo or comment `id`.
    fn find_memo(
        &self,
        id: uuid::Uuid,
    ) -> impl Future<Output = Result<Option<super::memos::Memo>, DomainError>> + Send;

    /// The creator's live memos (not comments), newest first, after
    /// `after`; PRIVATE ones only with `include_private`.
    fn list_memos(
        &self,
        creator: UserId,
        include_private: bool,
        after: Option<super::page_token::Position>,
        limit: u64,
    ) -> impl Future<Output = Result<Vec<super::memos::Memo>, DomainError>> + Send;

    /// The live comments on `parent`, oldest first, after `after`.
    fn list_comments(
        &self,
        parent: uuid::Uuid,
        after: Option<super::page_token::Position>,
        limit: u64,
    ) -> impl Future<Output = Result<Vec<super::memos::Memo>, DomainError>> + Send;

    /// In one transaction: stores the changed memo and its tags (and a
    /// memo's visibility on its comments) and its event; `false` if it is
    /// gone.
    fn update_memo(
        &self,
        memo: &super::memos::Memo,
        event: &super::events::OutboxEvent,
    ) -> impl Future<Output = Result<bool, DomainError>> + Send;

    /// In one transaction: marks the memo and its comments deleted and
    /// writes its event; `false` if it is gone.
    fn delete_memo(
        &self,
        id: uuid::Uuid,
        now: EpochMillis,
        event: &super::events::OutboxEvent,
    ) -> impl Future<Output = Result<bool, DomainError>> + Send;
}

/// Memo statistics, by SQL aggregates.
pub trait StatsStore: Send + Sync {
    /// The statistics of each of `users`, in their order, over their live
    /// memos (not comments): all of them for `viewer`'s own, PUBLIC and
    /// PROTECTED for the others.
    fn user_stats(
        &self,
        users: &[UserId],
        viewer: UserId,
    ) -> impl Future<Output = Result<Vec<super::stats::UserStats>, DomainError>> + Send;
}
