//! Writing users: create (with bootstrap claims and idempotency records),
//! guarded updates and soft deletes. Each is one transaction.
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, Condition, DatabaseTransaction, EntityTrait as _,
    PaginatorTrait as _, QueryFilter as _, QuerySelect as _,
};

use super::entity::{
    credential, idempotency_record, memo, user, user_general_setting, user_label,
    user_notification, user_webhook,
};
use super::users::{adjust_totals, insert, insert_labels, unique_user_violation};
use super::{Store, system};
use crate::domain::DomainError;
use crate::domain::clock::EpochMillis;
use crate::domain::credential::CredentialKind;
use crate::domain::password::PasswordHash;
use crate::domain::ports::{Creation, IdempotencyKey, UserRegistry, UserUpdate};
use crate::domain::user::{User, UserId, Username};

impl UserRegistry for Store {
    async fn create_user(
        &self,
        user: &User,
        password_hash: Option<&PasswordHash>,
        idempotency: Option<&IdempotencyKey>,
        claim_instance: bool,
    ) -> Result<Creation, DomainError> {
        let transaction = self.begin_write().await?;
        if let Some(key) = idempotency {
            let record = idempotency_record::ActiveModel {
                request_id: Set(key.request_id),
                fingerprint: Set(key.fingerprint.clone()),
                user_id: Set(user.id.0),
                created_at: Set(user.created_at.0),
            };
            // A concurrent attempt with the same id holds the key until it
            // commits; then this insert fails and the record answers.
            if let Err(error) = idempotency_record::Entity::insert(record)
                .exec_without_returning(&transaction)
                .await
            {
                if !is_unique_violation(&error) {
                    return Err(error.into());
                }
                transaction.rollback().await?;
                return self.replay(key).await;
            }
        }
        if claim_instance {
            let claimed = system::claim(&transaction, user, None).await?;
            if !claimed {
                transaction.rollback().await?;
                return Ok(Creation::InstanceAlreadyClaimed);
            }
        }
        insert(&transaction, user, password_hash).await?;
        transaction.commit().await?;
        Ok(Creation::Created)
    }

    async fn update_user(&self, update: &UserUpdate<'_>) -> Result<(), DomainError> {
        let user = update.user;
        let transaction = self.begin_write().await?;
        let mut row = user::ActiveModel {
            email: Set(user.email.as_str().to_owned()),
            email_key: Set(user.email.key()),
            username: Set(user.username.as_ref().map(|name| name.as_str().to_owned())),
            username_key: Set(user.username.as_ref().map(Username::key)),
            display_name: Set(user.display_name.clone()),
            role: Set(user.role.number()),
            state: Set(user.state.number()),
            avatar_url: Set(user.avatar_url.clone()),
            description: Set(user.description.clone()),
            labels_json: Set(serde_json::to_string(&user.labels).map_err(DomainError::internal)?),
            version: Set(user.version),
            updated_at: Set(user.updated_at.0),
            updated_by: Set(user.updated_by.map(|id| id.0)),
            ..Default::default()
        };
        if let Some(hash) = update.password_hash {
            row.password_hash = Set(Some(hash.as_str().to_owned()));
        }
        let changed = user::Entity::update_many()
            .set(row)
            .filter(user::Column::Id.eq(user.id.0))
            .filter(user::Column::Version.eq(update.expected_version))
            .filter(user::Column::DeletedAt.is_null())
            .exec(&transaction)
            .await
            .map_err(unique_user_violation)?
            .rows_affected;
        if changed == 0 {
            transaction.rollback().await?;
            return Err(DomainError::Aborted(
                "the user changed since it was read; read it again and retry".to_owned(),
            ));
        }
        if update.labels_changed {
            user_label::Entity::delete_many()
                .filter(user_label::Column::UserId.eq(user.id.0))
                .exec(&transaction)
                .await?;
            insert_labels(&transaction, user).await?;
        }
        if update.revoke_sessions {
            revoke_sessions(&transaction, user.id, user.updated_at).await?;
        }
        transaction.commit().await?;
        Ok(())
    }

    async fn delete_user(
        &self,
        user: &User,
        deleted_by: UserId,
        now: EpochMillis,
        force: bool,
    ) -> Result<(), DomainError> {
        let transaction = self.begin_write().await?;
        // Held until commit: a webhook created concurrently either commits
        // first (and is counted below) or finds the user deleted.
        user::Entity::find_by_id(user.id.0)
            .lock_exclusive()
            .one(&transaction)
            .await?;
        if !force {
            let tokens = credential::Entity::find()
                .filter(credential::Column::UserId.eq(user.id.0))
                .filter(credential::Column::Kind.eq(CredentialKind::PersonalAccessToken.number()))
                .filter(credential::Column::RevokedAt.is_null())
                .count(&transaction)
                .await?;
            let webhooks = user_webhook::Entity::find()
                .filter(user_webhook::Column::UserId.eq(user.id.0))
                .count(&transaction)
                .await?;
            let memos = memo::Entity::find()
                .filter(memo::Column::CreatorId.eq(user.id.0))
                .filter(memo::Column::DeletedAt.is_null())
                .count(&transaction)
                .await?;
            let mut owned = Vec::new();
            if memos > 0 {
                owned.push(format!("{memos} memo(s) or comment(s)"));
            }
            if tokens > 0 {
                owned.push(format!("{tokens} personal access token(s)"));
            }
            if webhooks > 0 {
                owned.push(format!("{webhooks} webhook(s)"));
            }
            if !owned.is_empty() {
                transaction.rollback().await?;
                return Err(DomainError::FailedPrecondition(format!(
                    "the user still owns {}; delete them first or pass force=true",
                    owned.join(" and ")
                )));
            }
        }
        let tombstoned = user::Entity::update_many()
            .col_expr(user::Column::DeletedAt, Expr::value(now.0))
            .col_expr(user::Column::DeletedBy, Expr::value(deleted_by.0))
            .col_expr(user::Column::Tombstone, Expr::value(user.id.0.to_string()))
            .col_expr(user::Column::UpdatedAt, Expr::value(now.0))
            .col_expr(user::Column::UpdatedBy, Expr::value(deleted_by.0))
            .col_expr(
                user::Column::Version,
                Expr::col(user::Column::Version).add(1),
            )
            .filter(user::Column::Id.eq(user.id.0))
            .filter(user::Column::DeletedAt.is_null())
            .exec(&transaction)
            .await?
            .rows_affected;
        if tombstoned == 0 {
            // A concurrent delete won; deleting twice is not an error.
            transaction.rollback().await?;
            return Ok(());
        }
        // Every credential stops working at once: they are gone, and so is
        // what only the user could see or use.
        credential::Entity::delete_many()
            .filter(credential::Column::UserId.eq(user.id.0))
            .exec(&transaction)
            .await?;
        user_webhook::Entity::delete_many()
            .filter(user_webhook::Column::UserId.eq(user.id.0))
            .exec(&transaction)
            .await?;
        memo::Entity::update_many()
            .col_expr(memo::Column::DeletedAt, Expr::value(now.0))
            .filter(memo::Column::CreatorId.eq(user.id.0))
            .filter(memo::Column::DeletedAt.is_null())
            .exec(&transaction)
            .await?;
        user_notification::Entity::delete_many()
            .filter(user_notification::Column::UserId.eq(user.id.0))
            .exec(&transaction)
            .await?;
        user_general_setting::Entity::delete_many()
            .filter(user_general_setting::Column::UserId.eq(user.id.0))
            .exec(&transaction)
            .await?;
        adjust_totals(&transaction, -1, 0).await?;
        transaction.commit().await?;
        Ok(())
    }
}

impl Store {
    /// The answer to a repeated request id.
    async fn replay(&self, key: &IdempotencyKey) -> Result<Creation, DomainError> {
        let record = idempotency_record::Entity::find_by_id(key.request_id)
            .one(self.writer())
            .await?
            .ok_or_else(|| {
                DomainError::Aborted("a concurrent request with this request_id failed".to_owned())
            })?;
        if record.fingerprint == key.fingerprint {
            Ok(Creation::Replayed(UserId(record.user_id)))
        } else {
            Ok(Creation::RequestIdReused)
        }
    }
}

/// Revokes the user's unrevoked sign-in sessions.
pub(crate) async fn revoke_sessions(
    transaction: &DatabaseTransaction,
    user_id: UserId,
    now: EpochMillis,
) -> Result<(), DomainError> {
    credential::Entity::update_many()
        .col_expr(credential::Column::RevokedAt, Expr::value(now.0))
        .filter(
            Condition::all()
                .add(credential::Column::UserId.eq(user_id.0))
                .add(credential::Column::Kind.eq(CredentialKind::Session.number()))
                .add(credential::Column::RevokedAt.is_null()),
        )
        .exec(transaction)
        .await?;
    Ok(())
}

fn is_unique_violation(error: &sea_orm::DbErr) -> bool {
    matches!(
        error.sql_err(),
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
    )
}
