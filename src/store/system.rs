//! The system-state row that marks the instance as initialized, and the
//! bootstrap transactions around it.
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, Condition, ConnectionTrait, DatabaseTransaction,
    EntityTrait as _, QueryFilter as _, sea_query::Expr,
};

use super::entity::{credential, system_state};
use super::{Store, credentials, users};
use crate::domain::DomainError;
use crate::domain::clock::EpochMillis;
use crate::domain::credential::NewCredential;
use crate::domain::ports::{Claim, SystemStore};
use crate::domain::user::{User, UserId};

/// The one row's key.
const SYSTEM_ROW: i32 = 1;

impl SystemStore for Store {
    async fn is_initialized(&self) -> Result<bool, DomainError> {
        Ok(system_row(self.reader()).await?.is_some())
    }

    /// The primary key of the state row makes exactly one claim succeed
    /// however many run at once, on any number of processes (a concurrent
    /// claimer waits on the key, then fails).
    async fn claim_with_root(
        &self,
        root: &User,
        root_key: &NewCredential,
    ) -> Result<Claim, DomainError> {
        let transaction = self.begin_write().await?;
        if !claim(&transaction, root, Some(root_key.id)).await? {
            transaction.rollback().await?;
            return Ok(Claim::AlreadyClaimed);
        }
        users::insert(&transaction, root, None).await?;
        credentials::insert(&transaction, root_key).await?;
        transaction.commit().await?;
        Ok(Claim::Claimed)
    }

    async fn root_user_id(&self) -> Result<Option<UserId>, DomainError> {
        Ok(system_row(self.reader())
            .await?
            .map(|row| UserId(row.root_user_id)))
    }

    async fn replace_root_key(
        &self,
        new_key: &NewCredential,
        now: EpochMillis,
    ) -> Result<u64, DomainError> {
        let transaction = self.begin_write().await?;
        let old_key = system_row(&transaction)
            .await?
            .and_then(|row| row.root_credential_id);
        let revoked = match old_key {
            Some(old_key) => {
                credential::Entity::update_many()
                    .col_expr(credential::Column::RevokedAt, Expr::value(now.0))
                    .filter(
                        Condition::all()
                            .add(credential::Column::Id.eq(old_key))
                            .add(credential::Column::RevokedAt.is_null()),
                    )
                    .exec(&transaction)
                    .await?
                    .rows_affected
            }
            None => 0,
        };
        credentials::insert(&transaction, new_key).await?;
        system_state::Entity::update_many()
            .col_expr(
                system_state::Column::RootCredentialId,
                Expr::value(new_key.id),
            )
            .filter(system_state::Column::Id.eq(SYSTEM_ROW))
            .exec(&transaction)
            .await?;
        transaction.commit().await?;
        Ok(revoked)
    }
}

/// Inserts the state row claiming the instance for `root`; `false` when
/// another claim got there first. The caller must roll back then (on
/// PostgreSQL the failed insert has aborted the transaction).
pub(crate) async fn claim(
    transaction: &DatabaseTransaction,
    root: &User,
    root_credential_id: Option<uuid::Uuid>,
) -> Result<bool, DomainError> {
    let row = system_state::ActiveModel {
        id: Set(SYSTEM_ROW),
        root_user_id: Set(root.id.0),
        initialized_at: Set(root.created_at.0),
        root_credential_id: Set(root_credential_id),
    };
    match system_state::Entity::insert(row)
        .exec_without_returning(transaction)
        .await
    {
        Ok(_) => Ok(true),
        Err(error) => match error.sql_err() {
            Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => Ok(false),
            _ => Err(error.into()),
        },
    }
}

async fn system_row(
    connection: &impl ConnectionTrait,
) -> Result<Option<system_state::Model>, DomainError> {
    Ok(system_state::Entity::find_by_id(SYSTEM_ROW)
        .one(connection)
        .await?)
}
