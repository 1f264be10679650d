//! Credentials as the domain sees them: bearer tokens known by their hash.
use super::clock::EpochMillis;
use super::permission::Permission;
use super::token::TokenHash;
use super::user::{User, UserId};

/// What a credential is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CredentialKind {
    /// A personal access token (API key).
    PersonalAccessToken,
    /// A sign-in session token.
    Session,
}

impl CredentialKind {
    /// The stored number.
    pub fn number(self) -> i32 {
        match self {
            Self::PersonalAccessToken => 1,
            Self::Session => 2,
        }
    }

    /// The kind stored as `number`.
    pub fn from_number(number: i32) -> Option<Self> {
        match number {
            1 => Some(Self::PersonalAccessToken),
            2 => Some(Self::Session),
            _ => None,
        }
    }
}

/// A credential about to be stored; its raw token went to its owner.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCredential {
    /// Its id.
    pub id: uuid::Uuid,
    /// Its owner.
    pub user_id: UserId,
    /// PAT or session.
    pub kind: CredentialKind,
    /// Digest of the token.
    pub token_hash: TokenHash,
    /// What the owner said it is for.
    pub description: String,
    /// Creation time.
    pub created_at: EpochMillis,
    /// Expiry; `None` never expires.
    pub expires_at: Option<EpochMillis>,
    /// The permissions it is narrowed to; `None`: all of its owner's.
    pub scopes: Option<Vec<Permission>>,
}

/// A presented credential and its owner, before any validity check.
#[derive(Clone, Debug)]
pub struct PresentedCredential {
    /// Credential id.
    pub id: uuid::Uuid,
    /// PAT or session.
    pub kind: CredentialKind,
    /// Expiry.
    pub expires_at: Option<EpochMillis>,
    /// Revocation time.
    pub revoked_at: Option<EpochMillis>,
    /// Last recorded use.
    pub last_used_at: Option<EpochMillis>,
    /// The permissions it is narrowed to; `None`: all of its owner's.
    pub scopes: Option<Vec<Permission>>,
    /// The owner, live or not.
    pub owner: User,
}
