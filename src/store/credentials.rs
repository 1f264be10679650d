//! Credentials: looked up by token hash on every authenticated call.
use std::collections::HashMap;

use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, Condition, ConnectionTrait, EntityTrait as _,
    QueryFilter as _, sea_query::Expr,
};

use super::Store;
use super::entity::{credential, user};
use super::users::into_domain;
use crate::domain::DomainError;
use crate::domain::clock::EpochMillis;
use crate::domain::credential::{CredentialKind, NewCredential, PresentedCredential};
use crate::domain::permission::Permission;
use crate::domain::ports::CredentialDirectory;
use crate::domain::token::TokenHash;

/// Stores a new credential.
pub async fn insert(
    connection: &impl ConnectionTrait,
    record: &NewCredential,
) -> Result<(), DomainError> {
    let row = credential::ActiveModel {
        id: Set(record.id),
        user_id: Set(record.user_id.0),
        kind: Set(record.kind.number()),
        token_hash: Set(record.token_hash.as_str().to_owned()),
        description: Set(record.description.clone()),
        created_at: Set(record.created_at.0),
        expires_at: Set(record.expires_at.map(|at| at.0)),
        revoked_at: Set(None),
        last_used_at: Set(None),
        scopes: Set(record.scopes.as_ref().map(|scopes| scopes_json(scopes))),
    };
    credential::Entity::insert(row)
        .exec_without_returning(connection)
        .await?;
    Ok(())
}

impl CredentialDirectory for Store {
    /// One query for the credential and its owner (in process on an SQLite
    /// file, see `sqlite_reads`).
    async fn find_credential(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<PresentedCredential>, DomainError> {
        find_by_hash(self, hash).await
    }

    /// A spawned write: a lost update only makes the time a minute staler.
    /// Until it lands, every call on the token still reads a stale time; the
    /// process remembers the uses it wrote, so a burst sends one UPDATE.
    fn record_use(&self, credential_id: uuid::Uuid, now: EpochMillis, stale_before: EpochMillis) {
        if !self.recent_uses.claim(credential_id, now, stale_before) {
            return;
        }
        let writer = self.writer().clone();
        tokio::spawn(async move {
            if let Err(error) = touch_last_used(&writer, credential_id, now, stale_before).await {
                tracing::warn!(%credential_id, %error, "could not record credential use");
            }
        });
    }
}

/// Scopes as stored: a JSON array of permission names.
pub(crate) fn scopes_json(scopes: &[Permission]) -> String {
    let names: Vec<&str> = scopes.iter().map(|scope| scope.name()).collect();
    serde_json::to_string(&names).unwrap_or_else(|_| "[]".to_owned())
}

/// Stored scopes back as permissions; a name this binary does not know is
/// a corrupt row, refused rather than widened or narrowed silently.
pub(crate) fn scopes_from_json(id: uuid::Uuid, json: &str) -> Result<Vec<Permission>, DomainError> {
    let corrupt = || DomainError::internal(anyhow::anyhow!("credential {id} has invalid scopes"));
    let names: Vec<String> = serde_json::from_str(json).map_err(|_| corrupt())?;
    names
        .iter()
        .map(|name| Permission::from_name(name).ok_or_else(corrupt))
        .collect()
}

/// The credential uses this process wrote in the last resolution period.
#[derive(Debug, Default)]
pub struct RecentUses(std::sync::Mutex<HashMap<uuid::Uuid, EpochMillis>>);

/// Beyond this many remembered tokens, expired entries are dropped first.
const REMEMBERED_USES: usize = 10_000;

impl RecentUses {
    /// Whether the caller should write a use of `id` at `now`: `false`
    /// when this process already wrote one after `stale_before`.
    pub fn claim(&self, id: uuid::Uuid, now: EpochMillis, stale_before: EpochMillis) -> bool {
        let mut recent = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if recent.get(&id).is_some_and(|at| *at >= stale_before) {
            return false;
        }
        if recent.len() >= REMEMBERED_USES {
            recent.retain(|_, at| *at >= stale_before);
        }
        recent.insert(id, now);
        true
    }
}

async fn find_by_hash(
    store: &Store,
    hash: &TokenHash,
) -> Result<Option<PresentedCredential>, DomainError> {
    if let Some(reads) = store.sqlite_reads() {
        return reads.presented_credential(hash.as_str(), presented);
    }
    credential::Entity::find()
        .filter(credential::Column::TokenHash.eq(hash.as_str()))
        .find_also_related(user::Entity)
        .one(store.reader())
        .await?
        .and_then(|(credential, owner)| owner.map(|owner| presented(credential, owner)))
        .transpose()
}

/// A stored credential and its owner as the domain sees them.
fn presented(
    credential: credential::Model,
    owner: user::Model,
) -> Result<PresentedCredential, DomainError> {
    let kind = CredentialKind::from_number(credential.kind).ok_or_else(|| {
        DomainError::internal(anyhow::anyhow!(
            "credential {} has an invalid kind",
            credential.id
        ))
    })?;
    let scopes = credential
        .scopes
        .as_deref()
        .map(|json| scopes_from_json(credential.id, json))
        .transpose()?;
    Ok(PresentedCredential {
        id: credential.id,
        kind,
        scopes,
        expires_at: credential.expires_at.map(EpochMillis),
        revoked_at: credential.revoked_at.map(EpochMillis),
        last_used_at: credential.last_used_at.map(EpochMillis),
        owner: into_domain(owner)?,
    })
}

/// Records a use, unless one was recorded after `stale_before` (by this or
/// another process): the hot path writes at most about once a minute.
async fn touch_last_used(
    connection: &impl ConnectionTrait,
    id: uuid::Uuid,
    now: EpochMillis,
    stale_before: EpochMillis,
) -> Result<(), DomainError> {
    credential::Entity::update_many()
        .col_expr(credential::Column::LastUsedAt, Expr::value(now.0))
        .filter(credential::Column::Id.eq(id))
        .filter(
            Condition::any()
                .add(credential::Column::LastUsedAt.is_null())
                .add(credential::Column::LastUsedAt.lt(stale_before.0)),
        )
        .exec(connection)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_on_one_stale_token_writes_once_per_period() {
        let recent = RecentUses::default();
        let token = uuid::Uuid::now_v7();
        let other = uuid::Uuid::now_v7();
        let now = EpochMillis(1_000_000);
        let stale_before = EpochMillis(now.0 - 60_000);

        let first = recent.claim(token, now, stale_before);
        let burst = (0..100)
            .filter(|_| recent.claim(token, now, stale_before))
            .count();
        let another_token = recent.claim(other, now, stale_before);
        let a_minute_later = EpochMillis(now.0 + 60_001);
        let next_period = recent.claim(
            token,
            a_minute_later,
            EpochMillis(a_minute_later.0 - 60_000),
        );

        assert!(first);
        assert_eq!(burst, 0);
        assert!(another_token);
        assert!(next_period);
    }
}
