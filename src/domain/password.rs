//! Passwords: validated on input, stored as Argon2id PHC strings, never
//! logged or returned. Hashing is deliberately expensive (tens of
//! milliseconds of CPU and 19 MiB), so it runs on tokio's blocking pool,
//! never on an async worker, and at most `concurrency` hashes run at once:
//! a storm of sign-ins queues here instead of starving every other call.
use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHasher as _, PasswordVerifier as _};
use tokio::sync::Semaphore;

use super::DomainError;

/// Shortest password accepted.
const MIN_CHARS: usize = 8;
/// Longest accepted: bounds the hashing work a request can ask for.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// A password that meets the contract's rules. Its text never appears in
/// `Debug` output.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Validates `text`, naming `field` in the error.
    pub fn parse(field: &str, text: &str) -> Result<Self, DomainError> {
        if text.chars().count() < MIN_CHARS {
            return Err(DomainError::invalid(
                field,
                format!("must be at least {MIN_CHARS} characters"),
            ));
        }
        if text.len() > MAX_PASSWORD_BYTES {
            return Err(DomainError::invalid(
                field,
                format!("must be at most {MAX_PASSWORD_BYTES} bytes"),
            ));
        }
        Ok(Self(text.to_owned()))
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("Password(<redacted>)")
    }
}

/// An Argon2id PHC string (`$argon2id$v=19$m=19456,t=2,p=1$…`).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// A hash read back from storage.
    pub fn from_storage(text: String) -> Self {
        Self(text)
    }

    /// The PHC string, for storage.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for PasswordHash {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("PasswordHash(<redacted>)")
    }
}

/// Hashes and verifies passwords off the async workers, a bounded number at
/// a time.
#[derive(Clone, Debug)]
pub struct PasswordHasher {
    permits: Arc<Semaphore>,
}

impl PasswordHasher {
    /// A hasher running at most `concurrency` (at least one) hashes at once.
    pub fn new(concurrency: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(concurrency.max(1))),
        }
    }

    /// Half the machine's cores (at least one): the other half keeps
    /// answering calls while sign-ins queue.
    pub fn for_this_machine() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self::new(cores / 2)
    }

    /// A new salted Argon2id hash of `password`.
    pub async fn hash(&self, password: &Password) -> Result<PasswordHash, DomainError> {
        let password = password.0.clone();
        self.run(move || {
            argon2::Argon2::default()
                .hash_password(password.as_bytes())
                .map(|hash| PasswordHash(hash.to_string()))
                .map_err(|error| DomainError::internal(anyhow::anyhow!("hashing: {error}")))
        })
        .await
    }

    /// Whether `password` matches `stored`. With no stored hash (no such
    /// user, or a user without a password) it verifies against a fixed
    /// hash and answers `false`, so both cases take as long as a real
    /// mismatch and timing does not tell them apart.
    pub async fn verify(
        &self,
        password: &str,
        stored: Option<&PasswordHash>,
    ) -> Result<bool, DomainError> {
        let password = password.to_owned();
        let stored = stored.map(|hash| hash.0.clone());
        self.run(move || {
            let known = stored.is_some();
            let hash = stored.unwrap_or_else(|| decoy_hash().to_owned());
            let matches = argon2::Argon2::default()
                .verify_password(password.as_bytes(), hash.as_str())
                .is_ok();
            Ok(known && matches)
        })
        .await
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, DomainError> + Send + 'static,
    ) -> Result<T, DomainError> {
        let _permit =
            self.permits.acquire().await.map_err(|error| {
                DomainError::internal(anyhow::anyhow!("hasher closed: {error}"))
            })?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|error| DomainError::internal(anyhow::anyhow!("hashing task: {error}")))?
    }
}

/// A hash of a random password nobody knows, with the default parameters,
/// made once per process.
fn decoy_hash() -> &'static str {
    static DECOY: OnceLock<String> = OnceLock::new();
    DECOY.get_or_init(|| {
        let secret = super::token::RawToken::generate();
        argon2::Argon2::default()
            .hash_password(secret.expose().as_bytes())
            .map(|hash| hash.to_string())
            .unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_need_eight_characters_and_at_most_a_kilobyte() {
        assert!(Password::parse("password", "1234567").is_err());
        assert!(Password::parse("password", "ééééééé").is_err());
        assert!(Password::parse("password", "12345678").is_ok());
        assert!(Password::parse("password", &"x".repeat(1025)).is_err());
        let password = Password::parse("password", "hunter2hunter2").unwrap();
        assert!(!format!("{password:?}").contains("hunter2"));
    }

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let hasher = PasswordHasher::new(1);
        let password = Password::parse("password", "correct horse").unwrap();

        let hash = hasher.hash(&password).await.unwrap();

        assert!(hash.as_str().starts_with("$argon2id$"));
        assert!(hasher.verify("correct horse", Some(&hash)).await.unwrap());
        assert!(!hasher.verify("wrong horse", Some(&hash)).await.unwrap());
        assert!(!hasher.verify("correct horse", None).await.unwrap());
    }
}
