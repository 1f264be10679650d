//! SignIn and SignOut: passwords for session tokens, with failures
//! throttled per account and per client address through counters in the
//! database (so every process sees the same counts).
use std::net::IpAddr;
use std::time::Duration;

use super::DomainError;
use super::clock::EpochMillis;
use super::credential::{CredentialKind, NewCredential};
use super::instance::current_settings;
use super::password::{MAX_PASSWORD_BYTES, PasswordHasher};
use super::ports::{InstanceSettingsStore, SessionStore, ThrottleStore, UserCatalog};
use super::principal::Principal;
use super::token::RawToken;
use super::user::{Email, User, Username};
use super::users::UserLookup;

/// The one answer to a wrong login or a wrong password.
pub const BAD_SIGN_IN: &str = "invalid username, email or password";

/// How long failures are counted before the count starts again.
pub const FAILURE_WINDOW_MILLIS: i64 = 15 * 60 * 1000;
/// Failed attempts on one account within a window before it is refused.
pub const ACCOUNT_FAILURE_LIMIT: i64 = 5;
/// Failed attempts from one client address within a window.
pub const ADDRESS_FAILURE_LIMIT: i64 = 50;

/// A SignIn request, unchecked.
#[derive(Clone, Debug, Default)]
pub struct SignInInput {
    /// Login name; preferred over `email`.
    pub username: String,
    /// Email address.
    pub email: String,
    /// Password.
    pub password: String,
    /// The client's address, when known.
    pub client_address: Option<IpAddr>,
}

/// A new session.
#[derive(Debug)]
pub struct SignedIn {
    /// The user.
    pub user: User,
    /// The session token; shown once.
    pub token: RawToken,
    /// When it expires.
    pub expires_at: EpochMillis,
}

/// Everything SignIn needs from storage.
pub trait SignInStore: UserCatalog + InstanceSettingsStore + SessionStore + ThrottleStore {}

impl<T> SignInStore for T where T: UserCatalog + InstanceSettingsStore + SessionStore + ThrottleStore
{}

/// SignIn. Exactly one password verification runs whatever the outcome
/// (against a decoy hash when the user is unknown), so a wrong login and a
/// wrong password take the same time and get the same answer.
pub async fn sign_in(
    store: &impl SignInStore,
    hasher: &PasswordHasher,
    input: SignInInput,
) -> Result<SignedIn, DomainError> {
    let (lookup, account_key) = login_of(&input)?;
    if input.password.is_empty() || input.password.len() > MAX_PASSWORD_BYTES {
        return Err(DomainError::invalid(
            "password",
            format!("must be 1 to {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    let now = EpochMillis::now();
    let address_key = input
        .client_address
        .map(|address| format!("address:{address}"));
    refuse_if_throttled(store, &account_key, ACCOUNT_FAILURE_LIMIT, now).await?;
    if let Some(address_key) = &address_key {
        refuse_if_throttled(store, address_key, ADDRESS_FAILURE_LIMIT, now).await?;
    }

    let found = store.find_for_sign_in(&lookup).await?;
    let (user, stored_hash) = match found {
        Some((user, hash)) if user.can_sign_in() => (Some(user), hash),
        _ => (None, None),
    };
    let verified = hasher.verify(&input.password, stored_hash.as_ref()).await?;
    let Some(user) = user.filter(|_| verified) else {
        let cutoff = now.minus_millis(FAILURE_WINDOW_MILLIS);
        store.record_failure(&account_key, now, cutoff).await?;
        if let Some(address_key) = &address_key {
            store.record_failure(address_key, now, cutoff).await?;
        }
        return Err(DomainError::Unauthenticated(BAD_SIGN_IN));
    };
    store.clear_failures(&account_key).await?;

    let settings = current_settings(store).await?;
    let expires_at = EpochMillis(
        now.0
            .saturating_add(settings.session_lifetime_seconds * 1000),
    );
    let token = RawToken::generate();
    store
        .create_session(&NewCredential {
            id: uuid::Uuid::now_v7(),
            user_id: user.id,
            kind: CredentialKind::Session,
            token_hash: token.hash(),
            description: "sign-in session".to_owned(),
            created_at: now,
            expires_at: Some(expires_at),
            scopes: None,
        })
        .await?;
    tracing::info!(user_id = %user.id, "signed in");
    Ok(SignedIn {
        user,
        token,
        expires_at,
    })
}

/// SignOut: revokes the session the call was made with.
pub async fn sign_out(store: &impl SessionStore, caller: &Principal) -> Result<(), DomainError> {
    if caller.credential.kind != CredentialKind::Session {
        return Err(DomainError::FailedPrecondition(
            "sign-out ends sign-in sessions; this call used a personal access token, \
             which is revoked by deleting it"
                .to_owned(),
        ));
    }
    store
        .revoke_credential(caller.credential.id, EpochMillis::now())
        .await
}

/// The lookup and the throttle key of the login named by the request.
fn login_of(input: &SignInInput) -> Result<(UserLookup, String), DomainError> {
    if !input.username.is_empty() {
        let username = Username::parse("username", &input.username)?;
        let key = username.key();
        return Ok((
            UserLookup::UsernameKey(key.clone()),
            format!("username:{key}"),
        ));
    }
    if !input.email.is_empty() {
        let email = Email::parse("email", &input.email)?;
        let key = email.key();
        return Ok((UserLookup::EmailKey(key.clone()), format!("email:{key}")));
    }
    Err(DomainError::invalid("username", "set username or email"))
}

async fn refuse_if_throttled(
    store: &impl ThrottleStore,
    key: &str,
    limit: i64,
    now: EpochMillis,
) -> Result<(), DomainError> {
    let Some(window) = store.failures(key).await? else {
        return Ok(());
    };
    match retry_after(window.started_at, window.failures, limit, now) {
        Some(wait) => Err(DomainError::ResourceExhausted {
            message: "too many failed sign-in attempts; try again later".to_owned(),
            retry_after: wait,
        }),
        None => Ok(()),
    }
}

/// How long to wait when `failures` since `started_at` reached `limit`
/// and the window is still open.
fn retry_after(
    started_at: EpochMillis,
    failures: i64,
    limit: i64,
    now: EpochMillis,
) -> Option<Duration> {
    let window_ends = started_at.0.saturating_add(FAILURE_WINDOW_MILLIS);
    (failures >= limit && now.0 < window_ends)
        .then(|| Duration::from_millis(u64::try_from(window_ends - now.0).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_is_refused_at_the_limit_until_its_window_ends() {
        let start = EpochMillis(1_000_000);
        let soon = EpochMillis(start.0 + 1_000);
        assert_eq!(retry_after(start, 4, 5, soon), None);
        assert_eq!(
            retry_after(start, 5, 5, soon),
            Some(Duration::from_millis(
                (FAILURE_WINDOW_MILLIS - 1_000) as u64
            ))
        );
        let later = EpochMillis(start.0 + FAILURE_WINDOW_MILLIS);
        assert_eq!(retry_after(start, 50, 5, later), None);
    }

    #[test]
    fn logins_fold_case_and_prefer_the_username() {
        let (lookup, key) = login_of(&SignInInput {
            username: "Alice".into(),
            email: "x@y.z".into(),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(lookup, UserLookup::UsernameKey("alice".into()));
        assert_eq!(key, "username:alice");
        assert!(login_of(&SignInInput::default()).is_err());
    }
}
