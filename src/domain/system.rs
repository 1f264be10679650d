//! Bootstrap: the one-time creation of the ROOT user and its API key.
use super::DomainError;
use super::clock::EpochMillis;
use super::token::RawToken;
use super::user::{Role, User, UserId, UserState};
use crate::store::credentials::{CredentialKind, CredentialRecord};
use crate::store::{Store, credentials, system, users};

/// Identity of the ROOT user that `InitializeSystem` creates.
pub const ROOT_USERNAME: &str = "root";
/// Email of the bootstrap ROOT user; change it with UpdateUser.
pub const ROOT_EMAIL: &str = "root@localhost";

/// What `initialize_system` did.
#[derive(Debug)]
pub enum Initialization {
    /// This call initialized the system.
    Performed {
        /// The new ROOT user.
        root_user_id: UserId,
        /// Its API key; shown once.
        root_api_key: RawToken,
    },
    /// An earlier call (or the first CreateUser) did.
    AlreadyDone,
}

/// Creates the ROOT user and a non-expiring personal access token for it,
/// unless the system is initialized. One transaction claims the system row
/// and writes both records, so concurrent calls on any number of processes
/// sharing the database yield exactly one key.
pub async fn initialize_system(store: &Store) -> Result<Initialization, DomainError> {
    if system::is_initialized(store.reader()).await? {
        return Ok(Initialization::AlreadyDone);
    }
    let now = EpochMillis::now();
    let root_id = UserId::generate();
    // ROOT creates itself: every user has a creator, which GoodMem clients
    // require (`createdById` is not optional in their UserResponse).
    let root = User {
        id: root_id,
        email: ROOT_EMAIL.to_owned(),
        username: ROOT_USERNAME.to_owned(),
        display_name: "Root".to_owned(),
        role: Role::Root,
        state: UserState::Normal,
        avatar_url: String::new(),
        description: String::new(),
        labels: Default::default(),
        version: 1,
        created_at: now,
        updated_at: now,
        deleted_at: None,
        created_by: Some(root_id),
        updated_by: Some(root_id),
        deleted_by: None,
    };
    let root_api_key = RawToken::generate();
    let credential = CredentialRecord {
        id: uuid::Uuid::now_v7(),
        user_id: root.id,
        kind: CredentialKind::PersonalAccessToken,
        token_hash: root_api_key.hash(),
        description: "root key created by InitializeSystem".to_owned(),
        created_at: now,
        expires_at: None,
    };

    let transaction = store.begin_write().await?;
    match system::claim(&transaction, root.id, now).await {
        Ok(()) => {}
        Err(DomainError::AlreadyExists(_)) => {
            transaction.rollback().await?;
            return Ok(Initialization::AlreadyDone);
        }
        Err(other) => return Err(other),
    }
    users::insert(&transaction, &root, None).await?;
    credentials::insert(&transaction, &credential).await?;
    transaction.commit().await?;
    tracing::info!(root_user_id = %root.id, "system initialized");
    Ok(Initialization::Performed {
        root_user_id: root.id,
        root_api_key,
    })
}

/// Whether the system has been initialized.
pub async fn is_initialized(store: &Store) -> Result<bool, DomainError> {
    system::is_initialized(store.reader()).await
}
