//! The user record and its validated parts. `Username` and `Email` are valid
//! by construction (`parse` for input; `from_storage` for rows, which were
//! parsed before they were written), so nothing downstream re-checks them,
//! and their lowercase `key` is computed in one place.
use std::collections::BTreeMap;

use super::clock::EpochMillis;
use super::error::DomainError;

/// A user's identity: a UUID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserId(pub uuid::Uuid);

impl UserId {
    /// A new time-ordered (v7) id: keeps inserts local in B-tree indexes.
    pub fn generate() -> Self {
        Self(uuid::Uuid::now_v7())
    }

    /// The 16 bytes of a protobuf `bytes` id; anything but 16 bytes is
    /// rejected, naming `field`.
    pub fn from_bytes(field: &str, bytes: &[u8]) -> Result<Self, DomainError> {
        uuid::Uuid::from_slice(bytes).map(Self).map_err(|_| {
            DomainError::invalid(
                field,
                format!("must be a 16-byte uuid, got {} bytes", bytes.len()),
            )
        })
    }

    /// Canonical UUID text (any case, hyphenated).
    pub fn parse_text(field: &str, text: &str) -> Result<Self, DomainError> {
        if text.len() != 36 {
            return Err(DomainError::invalid(field, "must be a canonical uuid"));
        }
        uuid::Uuid::try_parse(text)
            .map(Self)
            .map_err(|_| DomainError::invalid(field, "must be a canonical uuid"))
    }

    /// The resource name, `users/{uuid}`.
    pub fn resource_name(&self) -> String {
        format!("users/{}", self.0)
    }
}

impl std::fmt::Display for UserId {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(formatter)
    }
}

/// A role; its number is stored and matches the proto enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// The instance owner.
    Root,
    /// Manages users.
    Admin,
    /// Acts on its own records.
    User,
}

impl Role {
    /// The stored (and wire) number.
    pub fn number(self) -> i32 {
        match self {
            Self::Root => 1,
            Self::Admin => 2,
            Self::User => 3,
        }
    }

    /// The role stored as `number`; `None` for a number no role has.
    pub fn from_number(number: i32) -> Option<Self> {
        match number {
            1 => Some(Self::Root),
            2 => Some(Self::Admin),
            3 => Some(Self::User),
            _ => None,
        }
    }
}

/// Whether an account may act.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UserState {
    /// Active.
    Normal,
    /// Disabled: credentials are rejected.
    Archived,
}

impl UserState {
    /// The stored (and wire) number.
    pub fn number(self) -> i32 {
        match self {
            Self::Normal => 1,
            Self::Archived => 2,
        }
    }

    /// The state stored as `number`.
    pub fn from_number(number: i32) -> Option<Self> {
        match number {
            1 => Some(Self::Normal),
            2 => Some(Self::Archived),
            _ => None,
        }
    }
}

/// A username: `^[a-zA-Z0-9]([a-zA-Z0-9-]{0,30}[a-zA-Z0-9])?$`, unique
/// without regard to case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Validates `text`, naming `field` in the error.
    pub fn parse(field: &str, text: &str) -> Result<Self, DomainError> {
        let bytes = text.as_bytes();
        let edges_ok = bytes.first().is_some_and(u8::is_ascii_alphanumeric)
            && bytes.last().is_some_and(u8::is_ascii_alphanumeric);
        let body_ok = bytes
            .iter()
            .all(|byte| byte.is_ascii_alphanumeric() || *byte == b'-');
        if !(1..=32).contains(&bytes.len()) || !edges_ok || !body_ok {
            return Err(DomainError::invalid(
                field,
                "must be 1-32 letters, digits or inner hyphens",
            ));
        }
        Ok(Self(text.to_owned()))
    }

    /// A username read back from storage, where only parsed ones are written.
    pub fn from_storage(text: String) -> Self {
        Self(text)
    }

    /// Whether `other` is this username, without regard to case.
    pub fn matches(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }

    /// The username as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The username as given, by value.
    pub fn into_string(self) -> String {
        self.0
    }

    /// The lowercase form that uniqueness and lookups use.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// An email address: ASCII `local@domain`, the domain made of dot-separated
/// labels. Unique without regard to case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Validates `text`, naming `field` in the error.
    pub fn parse(field: &str, text: &str) -> Result<Self, DomainError> {
        let invalid = || DomainError::invalid(field, "must be a valid email address");
        if text.len() > 254 || !text.is_ascii() {
            return Err(invalid());
        }
        let (local, domain) = text.rsplit_once('@').ok_or_else(invalid)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local.bytes().all(|byte| {
                byte.is_ascii_alphanumeric() || b"!#$%&'*+/=?^_`{|}~.-".contains(&byte)
            });
        let domain_ok = !domain.is_empty()
            && domain.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label
                        .bytes()
                        .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-')
            });
        if !local_ok || !domain_ok {
            return Err(invalid());
        }
        Ok(Self(text.to_owned()))
    }

    /// An address read back from storage, where only parsed ones are written.
    pub fn from_storage(text: String) -> Self {
        Self(text)
    }

    /// Whether `other` is this address, without regard to case.
    pub fn matches(&self, other: &Self) -> bool {
        self.0.eq_ignore_ascii_case(&other.0)
    }

    /// The address as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The address as given, by value.
    pub fn into_string(self) -> String {
        self.0
    }

    /// The lowercase form that uniqueness and lookups use.
    pub fn key(&self) -> String {
        self.0.to_ascii_lowercase()
    }
}

/// A user as the domain sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct User {
    /// Identity.
    pub id: UserId,
    /// Email address.
    pub email: Email,
    /// Username; `None` when the user has none.
    pub username: Option<Username>,
    /// Name for display.
    pub display_name: String,
    /// Role.
    pub role: Role,
    /// Whether the account is active.
    pub state: UserState,
    /// Avatar image URL.
    pub avatar_url: String,
    /// Bio.
    pub description: String,
    /// Labels, sorted by key.
    pub labels: BTreeMap<String, String>,
    /// Bumped by every change; the etag is derived from it.
    pub version: i64,
    /// Creation time.
    pub created_at: EpochMillis,
    /// Last change.
    pub updated_at: EpochMillis,
    /// Deletion time; `None` while live.
    pub deleted_at: Option<EpochMillis>,
    /// Who created the user.
    pub created_by: Option<UserId>,
    /// Who changed it last.
    pub updated_by: Option<UserId>,
    /// Who deleted it.
    pub deleted_by: Option<UserId>,
}

impl User {
    /// The etag clients send back to guard updates.
    pub fn etag(&self) -> String {
        format!("\"{}\"", self.version)
    }

    /// Whether the user can act: live and not archived.
    pub fn can_sign_in(&self) -> bool {
        self.deleted_at.is_none() && self.state == UserState::Normal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_contract_pattern() {
        for good in ["a", "alice", "Alice-Smith", "a1", &"x".repeat(32)] {
            assert!(Username::parse("username", good).is_ok(), "{good}");
        }
        for bad in ["", "-a", "a-", "a_b", "a b", "é", &"x".repeat(33)] {
            assert!(Username::parse("username", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_are_validated() {
        for good in ["a@b.c", "first.last+tag@example.com", "root@localhost"] {
            assert!(Email::parse("email", good).is_ok(), "{good}");
        }
        for bad in [
            "", "a", "@b.c", "a@", "a@b..c", ".a@b.c", "a b@c.d", "a@-b.c", "ä@b.c",
        ] {
            assert!(Email::parse("email", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn keys_fold_case() {
        assert_eq!(Email::parse("email", "A@B.C").unwrap().key(), "a@b.c");
        assert_eq!(Username::parse("username", "Bob").unwrap().key(), "bob");
    }

    #[test]
    fn user_ids_need_sixteen_bytes() {
        assert!(UserId::from_bytes("user_id", &[0; 16]).is_ok());
        let error = UserId::from_bytes("user_id", &[0; 3]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "user_id: must be a 16-byte uuid, got 3 bytes"
        );
    }
}
