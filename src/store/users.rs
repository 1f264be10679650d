//! Reading and writing users.
use std::collections::BTreeMap;

use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _,
    QueryOrder as _,
};

use super::Store;
use super::entity::{user, user_label};
use crate::domain::DomainError;
use crate::domain::clock::EpochMillis;
use crate::domain::user::{Role, User, UserId, UserState};

/// How a user is looked up; emails and usernames by their lowercase key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserLookup {
    /// By id.
    Id(UserId),
    /// By lowercase email.
    EmailKey(String),
    /// By lowercase username.
    UsernameKey(String),
}

/// Finds one user. Deleted users are returned only with `include_deleted`;
/// where a live user and tombstones share an email or username, the live
/// one wins, then the most recently deleted. On an SQLite file this runs in
/// process (see `sqlite_reads`).
pub async fn find(
    store: &Store,
    lookup: &UserLookup,
    include_deleted: bool,
) -> Result<Option<User>, DomainError> {
    match store.sqlite_reads() {
        Some(reads) => reads
            .user(lookup, include_deleted)?
            .map(into_domain)
            .transpose(),
        None => find_on(store.reader(), lookup, include_deleted).await,
    }
}

/// [`find`] through sea-orm.
async fn find_on(
    connection: &impl ConnectionTrait,
    lookup: &UserLookup,
    include_deleted: bool,
) -> Result<Option<User>, DomainError> {
    let mut query = user::Entity::find();
    query = match lookup {
        UserLookup::Id(id) => query.filter(user::Column::Id.eq(id.0)),
        UserLookup::EmailKey(key) => query.filter(user::Column::EmailKey.eq(key.as_str())),
        UserLookup::UsernameKey(key) => query.filter(user::Column::UsernameKey.eq(key.as_str())),
    };
    if !include_deleted {
        query = query.filter(user::Column::DeletedAt.is_null());
    }
    let row = query
        .order_by_asc(user::Column::Tombstone)
        .order_by_desc(user::Column::DeletedAt)
        .one(connection)
        .await?;
    row.map(into_domain).transpose()
}

/// Inserts a new user and its label rows.
pub async fn insert(
    connection: &impl ConnectionTrait,
    user: &User,
    password_hash: Option<String>,
) -> Result<(), DomainError> {
    let labels_json = serde_json::to_string(&user.labels)
        .map_err(|error| DomainError::Internal(anyhow::Error::new(error)))?;
    let row = user::ActiveModel {
        id: Set(user.id.0),
        email: Set(user.email.clone()),
        email_key: Set(user.email.to_ascii_lowercase()),
        username: Set(non_empty(&user.username)),
        username_key: Set(non_empty(&user.username).map(|name| name.to_ascii_lowercase())),
        tombstone: Set(String::new()),
        display_name: Set(user.display_name.clone()),
        role: Set(user.role.number()),
        state: Set(user.state.number()),
        avatar_url: Set(user.avatar_url.clone()),
        description: Set(user.description.clone()),
        password_hash: Set(password_hash),
        labels_json: Set(labels_json),
        version: Set(user.version),
        created_at: Set(user.created_at.0),
        updated_at: Set(user.updated_at.0),
        deleted_at: Set(user.deleted_at.map(|at| at.0)),
        created_by: Set(user.created_by.map(|id| id.0)),
        updated_by: Set(user.updated_by.map(|id| id.0)),
        deleted_by: Set(user.deleted_by.map(|id| id.0)),
    };
    user::Entity::insert(row)
        .exec_without_returning(connection)
        .await
        .map_err(unique_violation_as(
            "a user with this email or username already exists",
        ))?;
    if !user.labels.is_empty() {
        let label_rows = user
            .labels
            .iter()
            .map(|(key, value)| user_label::ActiveModel {
                user_id: Set(user.id.0),
                label_key: Set(key.clone()),
                label_value: Set(value.clone()),
            });
        user_label::Entity::insert_many(label_rows)
            .exec_without_returning(connection)
            .await?;
    }
    Ok(())
}

/// Maps a unique-constraint violation to `AlreadyExists` with `message`.
pub(crate) fn unique_violation_as(
    message: &'static str,
) -> impl FnOnce(sea_orm::DbErr) -> DomainError {
    move |error| match error.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => {
            DomainError::AlreadyExists(message.to_owned())
        }
        _ => DomainError::from(error),
    }
}

fn non_empty(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

/// A stored row as a domain user.
pub(crate) fn into_domain(row: user::Model) -> Result<User, DomainError> {
    let corrupt = |what: &str| {
        DomainError::Internal(anyhow::anyhow!("user {} has an invalid {what}", row.id))
    };
    let role = Role::from_number(row.role).ok_or_else(|| corrupt("role"))?;
    let state = UserState::from_number(row.state).ok_or_else(|| corrupt("state"))?;
    let labels: BTreeMap<String, String> =
        serde_json::from_str(&row.labels_json).map_err(|_| corrupt("labels"))?;
    Ok(User {
        id: UserId(row.id),
        email: row.email,
        username: row.username.unwrap_or_default(),
        display_name: row.display_name,
        role,
        state,
        avatar_url: row.avatar_url,
        description: row.description,
        labels,
        version: row.version,
        created_at: EpochMillis(row.created_at),
        updated_at: EpochMillis(row.updated_at),
        deleted_at: row.deleted_at.map(EpochMillis),
        created_by: row.created_by.map(UserId),
        updated_by: row.updated_by.map(UserId),
        deleted_by: row.deleted_by.map(UserId),
    })
}
