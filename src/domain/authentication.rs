//! A presented token → the principal, or one uniform refusal.
use super::DomainError;
use super::clock::EpochMillis;
use super::ports::CredentialDirectory;
use super::principal::{CredentialInUse, Principal};
use super::token::{TokenHash, looks_like_token};

/// Last-used times are written at most this often per credential.
pub const LAST_USED_RESOLUTION_MILLIS: i64 = 60_000;

/// One answer for every bad token, so a caller cannot tell unknown from
/// revoked from expired from a token of an archived or deleted user.
pub const INVALID_CREDENTIALS: &str = "invalid, expired or revoked credentials";

/// The principal a token stands for: the credential exists, is unrevoked and
/// unexpired, and its owner is live and not archived.
pub async fn authenticate(
    credentials: &impl CredentialDirectory,
    token: &str,
    now: EpochMillis,
) -> Result<Principal, DomainError> {
    if !looks_like_token(token) {
        return Err(DomainError::Unauthenticated(INVALID_CREDENTIALS));
    }
    let presented = credentials
        .find_credential(&TokenHash::of(token))
        .await?
        .ok_or(DomainError::Unauthenticated(INVALID_CREDENTIALS))?;
    let expired = presented.expires_at.is_some_and(|expiry| expiry <= now);
    if presented.revoked_at.is_some() || expired || !presented.owner.can_sign_in() {
        return Err(DomainError::Unauthenticated(INVALID_CREDENTIALS));
    }
    let stale_before = now.minus_millis(LAST_USED_RESOLUTION_MILLIS);
    if presented
        .last_used_at
        .is_none_or(|used| used < stale_before)
    {
        credentials.record_use(presented.id, now, stale_before);
    }
    Ok(Principal {
        user: presented.owner,
        credential: CredentialInUse {
            id: presented.id,
            kind: presented.kind,
        },
        scopes: presented.scopes,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::domain::credential::PresentedCredential;
    use crate::domain::test_support::user_with_role;
    use crate::domain::token::RawToken;
    use crate::domain::user::{Role, UserState};

    /// One credential in memory, and the uses recorded against it.
    struct OneCredential {
        hash: TokenHash,
        credential: PresentedCredential,
        recorded: Mutex<Vec<EpochMillis>>,
    }

    impl CredentialDirectory for OneCredential {
        async fn find_credential(
            &self,
            hash: &TokenHash,
        ) -> Result<Option<PresentedCredential>, DomainError> {
            Ok((*hash == self.hash).then(|| self.credential.clone()))
        }

        fn record_use(&self, _: uuid::Uuid, now: EpochMillis, _: EpochMillis) {
            self.recorded.lock().unwrap().push(now);
        }
    }

    fn directory(token: &RawToken, change: impl FnOnce(&mut PresentedCredential)) -> OneCredential {
        let mut credential = PresentedCredential {
            id: uuid::Uuid::now_v7(),
            kind: crate::domain::credential::CredentialKind::PersonalAccessToken,
            expires_at: None,
            revoked_at: None,
            last_used_at: None,
            scopes: None,
            owner: user_with_role(Role::User),
        };
        change(&mut credential);
        OneCredential {
            hash: token.hash(),
            credential,
            recorded: Mutex::new(Vec::new()),
        }
    }

    const NOW: EpochMillis = EpochMillis(1_800_000_000_000);

    #[tokio::test]
    async fn a_valid_token_yields_its_owner_and_records_a_stale_use() {
        let token = RawToken::generate();
        let credentials = directory(&token, |_| {});

        let principal = authenticate(&credentials, token.expose(), NOW)
            .await
            .unwrap();

        assert_eq!(principal.user.id, credentials.credential.owner.id);
        assert_eq!(*credentials.recorded.lock().unwrap(), vec![NOW]);
    }

    #[tokio::test]
    async fn a_recent_use_is_not_written_again() {
        let token = RawToken::generate();
        let credentials = directory(&token, |credential| {
            credential.last_used_at = Some(NOW.minus_millis(1_000));
        });

        authenticate(&credentials, token.expose(), NOW)
            .await
            .unwrap();

        assert!(credentials.recorded.lock().unwrap().is_empty());
    }

    #[tokio::test]
    async fn every_bad_credential_gets_the_same_answer() {
        let token = RawToken::generate();
        type Spoil = fn(&mut PresentedCredential);
        let cases: [(&str, Spoil); 4] = [
            ("revoked", |c| c.revoked_at = Some(NOW)),
            ("expired", |c| c.expires_at = Some(NOW)),
            ("archived owner", |c| c.owner.state = UserState::Archived),
            ("deleted owner", |c| c.owner.deleted_at = Some(NOW)),
        ];
        for (case, change) in cases {
            let credentials = directory(&token, change);

            let error = authenticate(&credentials, token.expose(), NOW)
                .await
                .unwrap_err();

            assert!(
                matches!(error, DomainError::Unauthenticated(INVALID_CREDENTIALS)),
                "{case}: {error:?}"
            );
        }
        let unknown = directory(&RawToken::generate(), |_| {});
        let error = authenticate(&unknown, token.expose(), NOW)
            .await
            .unwrap_err();
        assert!(matches!(
            error,
            DomainError::Unauthenticated(INVALID_CREDENTIALS)
        ));
        let malformed = authenticate(&unknown, "gm_nope", NOW).await.unwrap_err();
        assert!(matches!(
            malformed,
            DomainError::Unauthenticated(INVALID_CREDENTIALS)
        ));
    }
}
