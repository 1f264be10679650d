//! Sign-in sessions (credentials of kind 2) and the failed sign-in
//! counters that throttle SignIn.
use sea_orm::sea_query::{Expr, ExprTrait as _};
use sea_orm::{ActiveValue::Set, ColumnTrait as _, EntityTrait as _, QueryFilter as _};

use super::entity::{credential, sign_in_failure};
use super::{Store, credentials};
use crate::domain::DomainError;
use crate::domain::clock::EpochMillis;
use crate::domain::credential::NewCredential;
use crate::domain::ports::{FailureWindow, SessionStore, ThrottleStore};

impl SessionStore for Store {
    async fn create_session(&self, session: &NewCredential) -> Result<(), DomainError> {
        credentials::insert(self.writer(), session).await
    }

    async fn revoke_credential(
        &self,
        credential_id: uuid::Uuid,
        now: EpochMillis,
    ) -> Result<(), DomainError> {
        credential::Entity::update_many()
            .col_expr(credential::Column::RevokedAt, Expr::value(now.0))
            .filter(credential::Column::Id.eq(credential_id))
            .filter(credential::Column::RevokedAt.is_null())
            .exec(self.writer())
            .await?;
        Ok(())
    }
}

impl ThrottleStore for Store {
    async fn failures(&self, key: &str) -> Result<Option<FailureWindow>, DomainError> {
        let row = sign_in_failure::Entity::find_by_id(key.to_owned())
            .one(self.reader())
            .await?;
        Ok(row.map(|row| FailureWindow {
            started_at: EpochMillis(row.window_started_at),
            failures: row.failures,
        }))
    }

    /// One atomic UPDATE counts the failure (restarting an expired window),
    /// so concurrent failures on several processes all count; the first
    /// failure of a key inserts its row.
    async fn record_failure(
        &self,
        key: &str,
        now: EpochMillis,
        window_cutoff: EpochMillis,
    ) -> Result<(), DomainError> {
        for _attempt in 0..2 {
            if self.count_failure(key, now, window_cutoff).await? {
                return Ok(());
            }
            let row = sign_in_failure::ActiveModel {
                throttle_key: Set(key.to_owned()),
                window_started_at: Set(now.0),
                failures: Set(1),
            };
            match sign_in_failure::Entity::insert(row)
                .exec_without_returning(self.writer())
                .await
            {
                Ok(_) => return Ok(()),
                // Another process inserted it first: count on its row.
                Err(error)
                    if matches!(
                        error.sql_err(),
                        Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
                    ) => {}
                Err(error) => return Err(error.into()),
            }
        }
        Ok(())
    }

    async fn clear_failures(&self, key: &str) -> Result<(), DomainError> {
        sign_in_failure::Entity::delete_by_id(key.to_owned())
            .exec(self.writer())
            .await?;
        Ok(())
    }
}

impl Store {
    /// Counts a failure on an existing row; `false` when there is none.
    /// `failures` is assigned before `window_started_at` because MySQL
    /// evaluates SET assignments left to right on the updated row.
    async fn count_failure(
        &self,
        key: &str,
        now: EpochMillis,
        window_cutoff: EpochMillis,
    ) -> Result<bool, DomainError> {
        let expired = Expr::col(sign_in_failure::Column::WindowStartedAt).lte(window_cutoff.0);
        let failures = Expr::case(expired.clone(), Expr::value(1i64))
            .finally(Expr::col(sign_in_failure::Column::Failures).add(1i64));
        let started = Expr::case(expired, Expr::value(now.0))
            .finally(Expr::col(sign_in_failure::Column::WindowStartedAt));
        let counted = sign_in_failure::Entity::update_many()
            .col_expr(sign_in_failure::Column::Failures, failures.into())
            .col_expr(sign_in_failure::Column::WindowStartedAt, started.into())
            .filter(sign_in_failure::Column::ThrottleKey.eq(key))
            .exec(self.writer())
            .await?
            .rows_affected;
        Ok(counted > 0)
    }
}
