//! Webhooks, per owner, oldest first.
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, EntityTrait as _, PaginatorTrait as _, QueryFilter as _,
    QueryOrder as _, QuerySelect as _,
};

use super::entity::{user, user_webhook};
use super::{Store, keyset};
use crate::domain::DomainError;
use crate::domain::clock::EpochMillis;
use crate::domain::page_token::Position;
use crate::domain::ports::WebhookStore;
use crate::domain::user::UserId;
use crate::domain::webhook_target::WebhookUrl;
use crate::domain::webhooks::{SigningSecret, Webhook};

fn into_domain(row: user_webhook::Model) -> Webhook {
    Webhook {
        id: row.id,
        owner: UserId(row.user_id),
        url: WebhookUrl::from_storage(row.url),
        display_name: row.display_name,
        created_at: EpochMillis(row.created_at),
        updated_at: EpochMillis(row.updated_at),
    }
}

impl WebhookStore for Store {
    async fn list_webhooks(
        &self,
        owner: UserId,
        after: Option<Position>,
        limit: u64,
    ) -> Result<Vec<Webhook>, DomainError> {
        use user_webhook::Column;
        let mut select = user_webhook::Entity::find().filter(Column::UserId.eq(owner.0));
        if let Some(after) = after {
            select = select.filter(keyset::newer_than(Column::CreatedAt, Column::Id, after));
        }
        let rows = select
            .order_by_asc(Column::CreatedAt)
            .order_by_asc(Column::Id)
            .limit(limit)
            .all(self.reader())
            .await?;
        Ok(rows.into_iter().map(into_domain).collect())
    }

    async fn create_webhook(
        &self,
        webhook: &Webhook,
        secret: &SigningSecret,
        max_per_owner: u64,
    ) -> Result<(), DomainError> {
        let transaction = self.begin_write().await?;
        // The owner's row lock serializes its creates (and a concurrent
        // DeleteUser), so the count below cannot be raced past the limit.
        // SQLite has no row locks; its writers are serialized already.
        let owner = user::Entity::find_by_id(webhook.owner.0)
            .filter(user::Column::DeletedAt.is_null())
            .lock_exclusive()
            .one(&transaction)
            .await?;
        if owner.is_none() {
            transaction.rollback().await?;
            return Err(DomainError::NotFound("user not found".to_owned()));
        }
        let held = user_webhook::Entity::find()
            .filter(user_webhook::Column::UserId.eq(webhook.owner.0))
            .count(&transaction)
            .await?;
        if held >= max_per_owner {
            transaction.rollback().await?;
            return Err(DomainError::FailedPrecondition(format!(
                "a user may have at most {max_per_owner} webhooks; delete one first"
            )));
        }
        user_webhook::Entity::insert(user_webhook::ActiveModel {
            id: Set(webhook.id),
            user_id: Set(webhook.owner.0),
            url: Set(webhook.url.as_str().to_owned()),
            display_name: Set(webhook.display_name.clone()),
            signing_secret: Set(secret.expose().to_owned()),
            created_at: Set(webhook.created_at.0),
            updated_at: Set(webhook.updated_at.0),
        })
        .exec_without_returning(&transaction)
        .await?;
        transaction.commit().await?;
        Ok(())
    }

    async fn find_webhook(
        &self,
        owner: UserId,
        id: uuid::Uuid,
    ) -> Result<Option<Webhook>, DomainError> {
        Ok(user_webhook::Entity::find_by_id(id)
            .filter(user_webhook::Column::UserId.eq(owner.0))
            .one(self.writer())
            .await?
            .map(into_domain))
    }

    async fn update_webhook(&self, webhook: &Webhook) -> Result<bool, DomainError> {
        use user_webhook::Column;
        let updated = user_webhook::Entity::update_many()
            .col_expr(Column::Url, Expr::value(webhook.url.as_str()))
            .col_expr(
                Column::DisplayName,
                Expr::value(webhook.display_name.as_str()),
            )
            .col_expr(Column::UpdatedAt, Expr::value(webhook.updated_at.0))
            .filter(Column::Id.eq(webhook.id))
            .filter(Column::UserId.eq(webhook.owner.0))
            .exec(self.writer())
            .await?
            .rows_affected;
        Ok(updated > 0)
    }

    async fn delete_webhook(&self, owner: UserId, id: uuid::Uuid) -> Result<bool, DomainError> {
        let deleted = user_webhook::Entity::delete_many()
            .filter(user_webhook::Column::Id.eq(id))
            .filter(user_webhook::Column::UserId.eq(owner.0))
            .exec(self.writer())
            .await?
            .rows_affected;
        Ok(deleted > 0)
    }
}
