//! Bootstrap: the one-time creation of the ROOT user and its API key, who
//! may trigger it, and the operator's recovery of a lost root key.
use rand::Rng as _;

use super::DomainError;
use super::clock::EpochMillis;
use super::credential::{CredentialKind, NewCredential};
use super::ports::{Claim, SystemStore};
use super::token::RawToken;
use super::user::{Email, Role, User, UserId, UserState, Username};

/// Username of the ROOT user that `InitializeSystem` creates.
pub const ROOT_USERNAME: &str = "root";
/// Email of the bootstrap ROOT user.
pub const ROOT_EMAIL: &str = "root@localhost";

/// What `initialize_system` did.
#[derive(Debug)]
pub enum Initialization {
    /// This call initialized the system.
    Performed {
        /// The new ROOT user.
        root_user_id: UserId,
        /// Its API key; shown once.
        root_api_key: RawToken,
    },
    /// An earlier call did.
    AlreadyDone,
}

/// The one-time code that lets a caller on another machine initialize the
/// system. Each server process makes its own at start and logs it while the
/// system is uninitialized (as Jenkins does), so only someone who can read
/// the server's log can use it.
#[derive(Clone)]
pub struct SetupCode(String);

impl SetupCode {
    /// 128 random bits, as 26 lowercase base32 characters.
    pub fn generate() -> Self {
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        Self(
            data_encoding::BASE32_NOPAD
                .encode(&bytes)
                .to_ascii_lowercase(),
        )
    }

    /// The code, for the start-up log line.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether `presented` is the code; constant-time in its content, so
    /// timing reveals nothing about how much of a guess was right.
    pub fn matches(&self, presented: &str) -> bool {
        let expected = self.0.as_bytes();
        let presented = presented.trim().as_bytes();
        presented.len() == expected.len()
            && expected
                .iter()
                .zip(presented)
                .fold(0u8, |difference, (a, b)| difference | (a ^ b))
                == 0
    }
}

impl std::fmt::Debug for SetupCode {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("SetupCode(<redacted>)")
    }
}

/// Where an unauthenticated bootstrap request came from, as the transport
/// saw it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BootstrapCaller {
    /// The peer is a loopback address and no proxy forwarded the request.
    pub on_this_machine: bool,
    /// A browser sent it from a page of another origin. Such a request can
    /// be made by any website a person opens, without a CORS preflight.
    pub from_foreign_web_page: bool,
    /// The request carried the server's set-up code.
    pub has_setup_code: bool,
}

impl BootstrapCaller {
    /// Whether this caller may take a fresh instance: never from a foreign
    /// web page; otherwise from this machine or with the set-up code.
    pub fn may_initialize(self) -> Result<(), DomainError> {
        if self.from_foreign_web_page {
            return Err(DomainError::PermissionDenied(
                "initialization from a web page of another origin is refused".to_owned(),
            ));
        }
        if self.on_this_machine || self.has_setup_code {
            return Ok(());
        }
        Err(DomainError::PermissionDenied(
            "initialization from another machine needs the set-up code that the server \
             prints in its log at start (setup_code)"
                .to_owned(),
        ))
    }
}

/// Creates the ROOT user and a non-expiring personal access token for it,
/// unless the system is initialized. Later calls report `AlreadyDone` to
/// anyone; the first needs a caller that `may_initialize`.
pub async fn initialize_system(
    system: &impl SystemStore,
    caller: BootstrapCaller,
) -> Result<Initialization, DomainError> {
    if system.is_initialized().await? {
        return Ok(Initialization::AlreadyDone);
    }
    caller.may_initialize()?;
    let now = EpochMillis::now();
    let root = root_user(now);
    let (root_api_key, credential) = root_key_for(root.id, now);
    match system.claim_with_root(&root, &credential).await? {
        Claim::Claimed => {
            tracing::info!(root_user_id = %root.id, "system initialized");
            Ok(Initialization::Performed {
                root_user_id: root.id,
                root_api_key,
            })
        }
        Claim::AlreadyClaimed => Ok(Initialization::AlreadyDone),
    }
}

/// A new root key, and how many old ones it revoked.
#[derive(Debug)]
pub struct RootKeyReplacement {
    /// The ROOT user.
    pub root_user_id: UserId,
    /// The new key; shown once.
    pub root_api_key: RawToken,
    /// Keys revoked by the replacement.
    pub revoked: u64,
}

/// Issues a new root key and revokes the old one, for an operator who lost
/// it (the reply to InitializeSystem never arrived). Run on the server's
/// machine against its database: whoever can do that owns the data anyway.
pub async fn replace_root_key(
    system: &impl SystemStore,
) -> Result<RootKeyReplacement, DomainError> {
    let root_user_id = system.root_user_id().await?.ok_or_else(|| {
        DomainError::FailedPrecondition(
            "the system is not initialized: run `roster init` instead".to_owned(),
        )
    })?;
    let now = EpochMillis::now();
    let (root_api_key, credential) = root_key_for(root_user_id, now);
    let revoked = system.replace_root_key(&credential, now).await?;
    tracing::info!(root_user_id = %root_user_id, revoked, "root key replaced");
    Ok(RootKeyReplacement {
        root_user_id,
        root_api_key,
        revoked,
    })
}

fn root_user(now: EpochMillis) -> User {
    let root_id = UserId::generate();
    // ROOT creates itself: every user has a creator, which GoodMem clients
    // require (`createdById` is not optional in their UserResponse).
    User {
        id: root_id,
        email: Email::from_storage(ROOT_EMAIL.to_owned()),
        username: Some(Username::from_storage(ROOT_USERNAME.to_owned())),
        display_name: "Root".to_owned(),
        role: Role::Root,
        state: UserState::Normal,
        avatar_url: String::new(),
        description: String::new(),
        labels: Default::default(),
        version: 1,
        created_at: now,
        updated_at: now,
        deleted_at: None,
        created_by: Some(root_id),
        updated_by: Some(root_id),
        deleted_by: None,
    }
}

fn root_key_for(root: UserId, now: EpochMillis) -> (RawToken, NewCredential) {
    let token = RawToken::generate();
    let credential = NewCredential {
        id: uuid::Uuid::now_v7(),
        user_id: root,
        kind: CredentialKind::PersonalAccessToken,
        token_hash: token.hash(),
        description: "root key".to_owned(),
        created_at: now,
        expires_at: None,
        scopes: None,
    };
    (token, credential)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bootstrap_needs_this_machine_or_the_code_and_never_a_foreign_page() {
        let allowed = [
            BootstrapCaller {
                on_this_machine: true,
                ..Default::default()
            },
            BootstrapCaller {
                has_setup_code: true,
                ..Default::default()
            },
        ];
        let refused = [
            BootstrapCaller::default(),
            BootstrapCaller {
                on_this_machine: true,
                from_foreign_web_page: true,
                has_setup_code: true,
            },
            BootstrapCaller {
                has_setup_code: true,
                from_foreign_web_page: true,
                ..Default::default()
            },
        ];
        for caller in allowed {
            assert!(caller.may_initialize().is_ok(), "{caller:?}");
        }
        for caller in refused {
            assert!(
                matches!(
                    caller.may_initialize(),
                    Err(DomainError::PermissionDenied(_))
                ),
                "{caller:?}"
            );
        }
    }

    #[test]
    fn root_identity_is_valid_by_the_contract_rules() {
        assert!(Email::parse("email", ROOT_EMAIL).is_ok());
        assert!(Username::parse("username", ROOT_USERNAME).is_ok());
    }

    #[test]
    fn setup_codes_match_only_themselves() {
        let code = SetupCode::generate();
        assert!(code.matches(code.expose()));
        assert!(code.matches(&format!(" {} ", code.expose())));
        assert!(!code.matches(""));
        assert!(!code.matches(&code.expose()[1..]));
        assert!(!SetupCode::generate().matches(code.expose()));
        assert!(!format!("{code:?}").contains(code.expose()));
    }
}
