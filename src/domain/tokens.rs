//! Personal access tokens: created by their owner (optionally narrowed to
//! scopes), listed as metadata, revoked at once.
use super::clock::EpochMillis;
use super::credential::{CredentialKind, NewCredential};
use super::ownership::{parse_owned_name, parse_owner, require_on};
use super::page_token::{self, Position};
use super::permission::{Permission, permissions_of};
use super::ports::TokenStore;
use super::principal::Principal;
use super::token::RawToken;
use super::user::UserId;
use super::{DomainError, Validation};

/// Longest description.
const MAX_DESCRIPTION_CHARS: usize = 255;
/// Longest lifetime a token may be given: ten years.
const MAX_EXPIRES_IN_DAYS: i32 = 3650;
const DAY_MILLIS: i64 = 24 * 3600 * 1000;

/// A token's metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenInfo {
    /// The credential id.
    pub id: uuid::Uuid,
    /// Its owner.
    pub user_id: UserId,
    /// What it is for.
    pub description: String,
    /// Its scopes; `None`: all of the owner's permissions.
    pub scopes: Option<Vec<Permission>>,
    /// Creation time.
    pub created_at: EpochMillis,
    /// Expiry.
    pub expires_at: Option<EpochMillis>,
    /// Last recorded use.
    pub last_used_at: Option<EpochMillis>,
}

impl TokenInfo {
    /// `users/{user}/personalAccessTokens/{token}`.
    pub fn name(&self) -> String {
        format!(
            "{}/personalAccessTokens/{}",
            self.user_id.resource_name(),
            self.id
        )
    }

    /// Whether it has expired at `now`.
    pub fn expired(&self, now: EpochMillis) -> bool {
        self.expires_at.is_some_and(|expiry| expiry <= now)
    }
}

/// A page of tokens.
#[derive(Clone, Debug)]
pub struct TokenPage {
    /// Newest first.
    pub tokens: Vec<TokenInfo>,
    /// The next page's token; empty on the last.
    pub next_page_token: String,
}

/// A CreatePersonalAccessToken request, unchecked.
#[derive(Clone, Debug, Default)]
pub struct NewTokenInput {
    /// `users/{user}`.
    pub parent: String,
    /// What it is for.
    pub description: String,
    /// Days until expiry; 0 never.
    pub expires_in_days: i32,
    /// Permission names.
    pub scopes: Vec<String>,
}

/// Permission to act on `owner`'s tokens, decided before any lookup.
fn may_manage(caller: &Principal, owner: UserId) -> Result<(), DomainError> {
    require_on(
        caller,
        owner,
        Permission::ManageTokenOwn,
        Permission::ManageTokenAny,
    )
}

/// ListPersonalAccessTokens.
pub async fn list_tokens(
    store: &impl TokenStore,
    caller: &Principal,
    parent: &str,
    page_size: i32,
    page_token_text: &str,
) -> Result<TokenPage, DomainError> {
    let owner = parse_owner("parent", parent)?;
    may_manage(caller, owner)?;
    let limit = page_token::page_size(page_size)?;
    let tag = page_token::query_tag(&[owner.0.as_bytes()]);
    let after = page_token::decode(page_token_text, tag)?;
    let mut tokens = store.list_tokens(owner, after, limit + 1).await?;
    let next_page_token = page_token::finish_page(&mut tokens, limit, tag, |last| Position {
        at: last.created_at,
        id: last.id,
    });
    Ok(TokenPage {
        tokens,
        next_page_token,
    })
}

/// CreatePersonalAccessToken: only for oneself. Scopes must be held by the
/// caller as it calls, so a scoped token can never mint a wider one; a
/// scoped caller that names none passes its own scopes on.
pub async fn create_token(
    store: &impl TokenStore,
    caller: &Principal,
    input: NewTokenInput,
) -> Result<(TokenInfo, RawToken), DomainError> {
    let owner = parse_owner("parent", &input.parent)?;
    if owner != caller.user.id {
        return Err(DomainError::PermissionDenied(
            "personal access tokens are created by their owner".to_owned(),
        ));
    }
    caller.require(Permission::ManageTokenOwn)?;
    let held: Vec<Permission> = permissions_of(caller.user.role)
        .iter()
        .copied()
        .filter(|permission| caller.has(*permission))
        .collect();
    let mut validation = Validation::default();
    if !(0..=MAX_EXPIRES_IN_DAYS).contains(&input.expires_in_days) {
        validation.add(
            "expires_in_days",
            format!("must be 0 (never) to {MAX_EXPIRES_IN_DAYS}"),
        );
    }
    if input.description.chars().count() > MAX_DESCRIPTION_CHARS {
        validation.add(
            "description",
            format!("must be at most {MAX_DESCRIPTION_CHARS} characters"),
        );
    }
    let mut scopes = Vec::new();
    for (index, name) in input.scopes.iter().enumerate() {
        match Permission::from_name(name) {
            None => validation.add(
                format!("scopes[{index}]"),
                format!("unknown permission {name:?}"),
            ),
            Some(permission) if !held.contains(&permission) => validation.add(
                format!("scopes[{index}]"),
                format!("{name} is not a permission the caller holds"),
            ),
            Some(permission) if !scopes.contains(&permission) => scopes.push(permission),
            Some(_) => {}
        }
    }
    validation.finish()?;
    let scopes = if scopes.is_empty() {
        caller.scopes.clone()
    } else {
        Some(scopes)
    };
    let now = EpochMillis::now();
    let token = RawToken::generate();
    let info = TokenInfo {
        id: uuid::Uuid::now_v7(),
        user_id: owner,
        description: input.description,
        scopes,
        created_at: now,
        expires_at: (input.expires_in_days > 0)
            .then(|| EpochMillis(now.0 + i64::from(input.expires_in_days) * DAY_MILLIS)),
        last_used_at: None,
    };
    store
        .create_token(&NewCredential {
            id: info.id,
            user_id: owner,
            kind: CredentialKind::PersonalAccessToken,
            token_hash: token.hash(),
            description: info.description.clone(),
            created_at: now,
            expires_at: info.expires_at,
            scopes: info.scopes.clone(),
        })
        .await?;
    tracing::info!(user_id = %owner, token_id = %info.id, "personal access token created");
    Ok((info, token))
}

/// DeletePersonalAccessToken: revokes it; every process reads the
/// revocation on the next call, since none caches credentials.
pub async fn delete_token(
    store: &impl TokenStore,
    caller: &Principal,
    name: &str,
) -> Result<(), DomainError> {
    let (owner, token_id) = parse_owned_name("name", name, "personalAccessTokens")?;
    may_manage(caller, owner)?;
    if !store
        .revoke_token(owner, token_id, EpochMillis::now())
        .await?
    {
        return Err(DomainError::NotFound(
            "personal access token not found".to_owned(),
        ));
    }
    tracing::info!(user_id = %owner, token_id = %token_id, "personal access token revoked");
    Ok(())
}
