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
use crate::domain::ports::UserDirectory;
use crate::domain::user::{Email, Role, User, UserId, UserState, Username};
use crate::domain::users::UserLookup;

impl UserDirectory for Store {
    /// On an SQLite file this runs in process (see `sqlite_reads`).
    async fn find_user(
        &self,
        lookup: &UserLookup,
        include_deleted: bool,
    ) -> Result<Option<User>, DomainError> {
        match self.sqlite_reads() {
            Some(reads) => reads
                .user(lookup, include_deleted)?
                .map(into_domain)
                .transpose(),
            None => find_on(self.reader(), lookup, include_deleted).await,
        }
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
        email: Set(user.email.as_str().to_owned()),
        email_key: Set(user.email.key()),
        username: Set(user.username.as_ref().map(|name| name.as_str().to_owned())),
        username_key: Set(user.username.as_ref().map(Username::key)),
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
        email: Email::from_storage(row.email),
        username: row.username.map(Username::from_storage),
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
