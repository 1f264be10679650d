//! Reading and writing users.
use std::collections::BTreeMap;

use sea_orm::{
    ActiveValue::Set,
    ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _, QueryOrder as _,
    sea_query::{Expr, ExprTrait as _},
};

use super::Store;
use super::entity::{user, user_label, user_totals};
use crate::domain::DomainError;
use crate::domain::clock::EpochMillis;
use crate::domain::password::PasswordHash;
use crate::domain::ports::UniqueField;
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
            Some(reads) => reads.user(lookup, include_deleted, into_domain),
            None => find_on(self.reader(), lookup, include_deleted).await,
        }
    }
}

/// A user lookup through sea-orm.
pub(crate) async fn find_on(
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

/// Inserts a new user and its label rows, and counts it in `user_totals`.
/// Run it in a transaction unless arranging test fixtures.
pub async fn insert(
    connection: &impl ConnectionTrait,
    user: &User,
    password_hash: Option<&PasswordHash>,
) -> Result<(), DomainError> {
    let row = new_row(user, password_hash)?;
    user::Entity::insert(row)
        .exec_without_returning(connection)
        .await
        .map_err(unique_user_violation)?;
    insert_labels(connection, user).await?;
    adjust_totals(connection, 1, 1).await
}

/// Inserts many new users (without passwords) with multi-row statements and
/// one count update: how a benchmark or an import loads a large directory
/// quickly. Run it in a transaction; a batch of a few thousand rows keeps
/// every statement under the databases' parameter limits.
pub async fn insert_many(
    connection: &impl ConnectionTrait,
    batch: &[User],
) -> Result<(), DomainError> {
    if batch.is_empty() {
        return Ok(());
    }
    // SQLite allows 32,766 bound parameters per statement: 20 per row.
    for chunk in batch.chunks(1_000) {
        let rows = chunk
            .iter()
            .map(|user| new_row(user, None))
            .collect::<Result<Vec<_>, _>>()?;
        user::Entity::insert_many(rows)
            .exec_without_returning(connection)
            .await
            .map_err(unique_user_violation)?;
        let labels: Vec<_> = chunk
            .iter()
            .flat_map(|user| {
                user.labels
                    .iter()
                    .map(|(key, value)| user_label::ActiveModel {
                        user_id: Set(user.id.0),
                        label_key: Set(key.clone()),
                        label_value: Set(value.clone()),
                    })
            })
            .collect();
        if !labels.is_empty() {
            user_label::Entity::insert_many(labels)
                .exec_without_returning(connection)
                .await?;
        }
    }
    let count = i64::try_from(batch.len()).unwrap_or(i64::MAX);
    adjust_totals(connection, count, count).await
}

/// Writes the label index rows of `user`.
pub(crate) async fn insert_labels(
    connection: &impl ConnectionTrait,
    user: &User,
) -> Result<(), DomainError> {
    if user.labels.is_empty() {
        return Ok(());
    }
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
    Ok(())
}

/// The row of a new, live user.
fn new_row(
    user: &User,
    password_hash: Option<&PasswordHash>,
) -> Result<user::ActiveModel, DomainError> {
    let labels_json = serde_json::to_string(&user.labels).map_err(DomainError::internal)?;
    Ok(user::ActiveModel {
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
        password_hash: Set(password_hash.map(|hash| hash.as_str().to_owned())),
        labels_json: Set(labels_json),
        version: Set(user.version),
        created_at: Set(user.created_at.0),
        updated_at: Set(user.updated_at.0),
        deleted_at: Set(user.deleted_at.map(|at| at.0)),
        created_by: Set(user.created_by.map(|id| id.0)),
        updated_by: Set(user.updated_by.map(|id| id.0)),
        deleted_by: Set(user.deleted_by.map(|id| id.0)),
    })
}

/// Moves the running counts by `live` and `all`.
pub(crate) async fn adjust_totals(
    connection: &impl ConnectionTrait,
    live: i64,
    all: i64,
) -> Result<(), DomainError> {
    user_totals::Entity::update_many()
        .col_expr(
            user_totals::Column::LiveUsers,
            Expr::col(user_totals::Column::LiveUsers).add(live),
        )
        .col_expr(
            user_totals::Column::AllUsers,
            Expr::col(user_totals::Column::AllUsers).add(all),
        )
        .filter(user_totals::Column::Id.eq(1))
        .exec(connection)
        .await?;
    Ok(())
}

/// A unique-constraint violation on `users` as `AlreadyExists` naming the
/// field, read from the constraint the database names (index names on
/// PostgreSQL and MySQL, columns on SQLite).
pub(crate) fn unique_user_violation(error: sea_orm::DbErr) -> DomainError {
    match error.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(detail)) => {
            let field = if detail.contains("email_key") {
                UniqueField::Email
            } else if detail.contains("username_key") {
                UniqueField::Username
            } else {
                UniqueField::Id
            };
            field.already_exists()
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
