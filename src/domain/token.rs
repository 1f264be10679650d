//! Bearer tokens: `gm_` + unpadded lowercase base32 of 20 random bytes.
//! Only the SHA-256 of a token is stored; the raw token is shown once.
use rand::Rng as _;
use sha2::{Digest as _, Sha256};

const PREFIX: &str = "gm_";
/// 160 bits: above the 128-bit floor of the contract, and 32 base32 characters.
const RANDOM_BYTES: usize = 20;
/// Base32 of the 16-byte minimum the contract allows is 26 characters.
const MIN_BODY_CHARS: usize = 26;
/// Anything longer is not one of ours; refusing it early bounds hashing work.
const MAX_TOKEN_CHARS: usize = 256;

/// A freshly generated token, to be returned to its owner exactly once.
pub struct RawToken(String);

impl RawToken {
    /// A new random token from the operating system's generator.
    pub fn generate() -> Self {
        let mut bytes = [0u8; RANDOM_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        let body = data_encoding::BASE32_NOPAD
            .encode(&bytes)
            .to_ascii_lowercase();
        Self(format!("{PREFIX}{body}"))
    }

    /// The token text, for the one response that reveals it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The digest stored in place of the token.
    pub fn hash(&self) -> TokenHash {
        TokenHash::of(&self.0)
    }
}

impl std::fmt::Debug for RawToken {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("RawToken(<redacted>)")
    }
}

/// Lowercase hex SHA-256 of a token: what the credentials table holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenHash(String);

impl TokenHash {
    /// Hashes any presented token text.
    pub fn of(token: &str) -> Self {
        Self(data_encoding::HEXLOWER.encode(&Sha256::digest(token.as_bytes())))
    }

    /// The 64 hex characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Whether `token` has the shape of a Roster token. Checked before any
/// database work, so garbage costs nothing.
pub fn looks_like_token(token: &str) -> bool {
    let Some(body) = token.strip_prefix(PREFIX) else {
        return false;
    };
    token.len() <= MAX_TOKEN_CHARS
        && body.len() >= MIN_BODY_CHARS
        && body
            .bytes()
            .all(|byte| matches!(byte, b'a'..=b'z' | b'2'..=b'7'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_have_the_documented_shape() {
        let token = RawToken::generate();
        assert!(token.expose().starts_with("gm_"));
        assert_eq!(token.expose().len(), 3 + 32);
        assert!(looks_like_token(token.expose()));
    }

    #[test]
    fn generated_tokens_differ() {
        assert_ne!(RawToken::generate().expose(), RawToken::generate().expose());
    }

    #[test]
    fn malformed_tokens_are_rejected_by_shape() {
        for token in [
            "",
            "gm_",
            "gm_short",
            "xx_abcdefghijklmnopqrstuvwxyz",
            "gm_ABCDEFGHIJKLMNOPQRSTUVWXYZ",
            "gm_abcdefghijklmnopqrstuvwxy1",
        ] {
            assert!(!looks_like_token(token), "{token:?}");
        }
        assert!(looks_like_token("gm_abcdefghijklmnopqrstuvwxyz"));
    }

    #[test]
    fn hash_is_sha256_hex() {
        assert_eq!(
            TokenHash::of("abc").as_str(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn debug_never_shows_the_token() {
        let token = RawToken::generate();
        assert!(!format!("{token:?}").contains(token.expose()));
    }
}
