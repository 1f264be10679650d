//! Reads the bearer token of a request (`authorization: Bearer <token>` or
//! `x-api-key: <token>`, the same headers on every protocol) and resolves it
//! to a principal with the domain's rules.
use http::HeaderMap;

use crate::domain::DomainError;
use crate::domain::authentication::{INVALID_CREDENTIALS, authenticate};
use crate::domain::clock::EpochMillis;
use crate::domain::principal::Principal;
use crate::store::Store;

const MISSING: &str =
    "missing credentials: send 'authorization: Bearer <token>' or 'x-api-key: <token>'";
const INVALID: &str = INVALID_CREDENTIALS;

/// Checks the credentials of requests against the store.
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
        authenticate(&self.store, token, EpochMillis::now()).await
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
