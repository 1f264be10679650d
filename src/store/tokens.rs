//! Personal access tokens: credentials of kind 1.
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait as _, EntityTrait as _, QueryFilter as _, QueryOrder as _, QuerySelect as _,
};

use super::entity::credential;
use super::{Store, credentials, keyset};
use crate::domain::DomainError;
use crate::domain::clock::EpochMillis;
use crate::domain::credential::{CredentialKind, NewCredential};
use crate::domain::page_token::Position;
use crate::domain::ports::TokenStore;
use crate::domain::tokens::TokenInfo;
use crate::domain::user::UserId;

impl TokenStore for Store {
    async fn list_tokens(
        &self,
        owner: UserId,
        after: Option<Position>,
        limit: u64,
    ) -> Result<Vec<TokenInfo>, DomainError> {
        let mut select = credential::Entity::find()
            .filter(credential::Column::UserId.eq(owner.0))
            .filter(credential::Column::Kind.eq(CredentialKind::PersonalAccessToken.number()))
            .filter(credential::Column::RevokedAt.is_null());
        if let Some(after) = after {
            select = select.filter(keyset::older_than(
                credential::Column::CreatedAt,
                credential::Column::Id,
                after,
            ));
        }
        let rows = select
            .order_by_desc(credential::Column::CreatedAt)
            .order_by_desc(credential::Column::Id)
            .limit(limit)
            .all(self.reader())
            .await?;
        rows.into_iter()
            .map(|row| {
                let scopes = row
                    .scopes
                    .as_deref()
                    .map(|json| credentials::scopes_from_json(row.id, json))
                    .transpose()?;
                Ok(TokenInfo {
                    id: row.id,
                    user_id: UserId(row.user_id),
                    description: row.description,
                    scopes,
                    created_at: EpochMillis(row.created_at),
                    expires_at: row.expires_at.map(EpochMillis),
                    last_used_at: row.last_used_at.map(EpochMillis),
                })
            })
            .collect()
    }

    async fn create_token(&self, token: &NewCredential) -> Result<(), DomainError> {
        credentials::insert(self.writer(), token).await
    }

    async fn revoke_token(
        &self,
        owner: UserId,
        id: uuid::Uuid,
        now: EpochMillis,
    ) -> Result<bool, DomainError> {
        let revoked = credential::Entity::update_many()
            .col_expr(credential::Column::RevokedAt, Expr::value(now.0))
            .filter(credential::Column::Id.eq(id))
            .filter(credential::Column::UserId.eq(owner.0))
            .filter(credential::Column::Kind.eq(CredentialKind::PersonalAccessToken.number()))
            .filter(credential::Column::RevokedAt.is_null())
            .exec(self.writer())
            .await?
            .rows_affected;
        Ok(revoked > 0)
    }
}
