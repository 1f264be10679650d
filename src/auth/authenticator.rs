//! Resolves `authorization: Bearer <token>` or `x-api-key: <token>` to a
//! principal with one indexed query.
use http::HeaderMap;

use super::principal::Principal;
use crate::domain::DomainError;
use crate::domain::clock::EpochMillis;
use crate::domain::token::{TokenHash, looks_like_token};
use crate::store::{Store, credentials};

/// Last-used times are written at most this often per credential.
const LAST_USED_RESOLUTION_MILLIS: i64 = 60_000;

const MISSING: &str =
    "missing credentials: send 'authorization: Bearer <token>' or 'x-api-key: <token>'";
/// One answer for every bad token, so a caller cannot tell unknown from
/// revoked from expired.
const INVALID: &str = "invalid, expired or revoked credentials";

/// Checks credentials against the store.
#[derive(Clone, Debug)]
pub struct Authenticator {
    store: Store,
}

impl Authenticator {
    /// An authenticator over `store`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }

    /// The principal of a request, or `Unauthenticated`.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Principal, DomainError> {
        let token = presented_token(headers)?;
        if !looks_like_token(token) {
            return Err(DomainError::Unauthenticated(INVALID));
        }
        let hash = TokenHash::of(token);
        let presented = credentials::find_by_hash(&self.store, &hash)
            .await?
            .ok_or(DomainError::Unauthenticated(INVALID))?;
        let now = EpochMillis::now();
        let expired = presented.expires_at.is_some_and(|expiry| expiry <= now);
        if presented.revoked_at.is_some() || expired || !presented.owner.can_sign_in() {
            return Err(DomainError::Unauthenticated(INVALID));
        }
        let stale_before = now.minus_millis(LAST_USED_RESOLUTION_MILLIS);
        if presented
            .last_used_at
            .is_none_or(|used| used < stale_before)
        {
            self.record_use(presented.id, now, stale_before);
        }
        Ok(Principal {
            user: presented.owner,
            credential_id: presented.id,
        })
    }

    /// Writes the last-used time off the request path: a lost update only
    /// makes the time a minute staler.
    fn record_use(&self, id: uuid::Uuid, now: EpochMillis, stale_before: EpochMillis) {
        let store = self.store.clone();
        tokio::spawn(async move {
            if let Err(error) =
                credentials::touch_last_used(store.writer(), id, now, stale_before).await
            {
                tracing::warn!(credential_id = %id, error = %error, "could not record credential use");
            }
        });
    }
}

/// The token from `authorization: Bearer` (scheme case-insensitive) or,
/// failing that, `x-api-key`.
fn presented_token(headers: &HeaderMap) -> Result<&str, DomainError> {
    if let Some(value) = headers.get(http::header::AUTHORIZATION) {
        let text = value
            .to_str()
            .map_err(|_| DomainError::Unauthenticated(INVALID))?;
        let (scheme, token) = text
            .split_once(' ')
            .ok_or(DomainError::Unauthenticated(INVALID))?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(DomainError::Unauthenticated(INVALID));
        }
        return Ok(token.trim());
    }
    if let Some(value) = headers.get("x-api-key") {
        return value
            .to_str()
            .map(str::trim)
            .map_err(|_| DomainError::Unauthenticated(INVALID));
    }
    Err(DomainError::Unauthenticated(MISSING))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn bearer_and_api_key_are_both_read() {
        assert_eq!(
            presented_token(&headers(&[("authorization", "Bearer gm_x")])).unwrap(),
            "gm_x"
        );
        assert_eq!(
            presented_token(&headers(&[("authorization", "bearer gm_x")])).unwrap(),
            "gm_x"
        );
        assert_eq!(
            presented_token(&headers(&[("x-api-key", "gm_y")])).unwrap(),
            "gm_y"
        );
    }

    #[test]
    fn missing_and_foreign_schemes_are_rejected() {
        assert!(matches!(
            presented_token(&headers(&[])),
            Err(DomainError::Unauthenticated(MISSING))
        ));
        assert!(presented_token(&headers(&[("authorization", "Basic abc")])).is_err());
        assert!(presented_token(&headers(&[("authorization", "Bearer")])).is_err());
    }
}
