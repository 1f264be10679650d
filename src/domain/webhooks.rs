//! Webhooks: URLs that will receive the events of their owner's memos,
//! each with a signing secret shown once. Owners manage their own, admins
//! anyone's. This module stores and validates them; delivery reads them.
use rand::Rng as _;

use super::clock::EpochMillis;
use super::field_mask::FieldMask;
use super::ownership::{parse_owned_name, parse_owner, require_live_owner, require_on};
use super::page_token::{self, Position};
use super::permission::Permission;
use super::ports::{UserDirectory, WebhookStore};
use super::principal::Principal;
use super::user::UserId;
use super::webhook_target::{HostResolver, TargetPolicy, WebhookUrl, check_target};
use super::{DomainError, Validation};

/// Longest display name.
const MAX_DISPLAY_NAME_CHARS: usize = 255;
/// Most webhooks one user may have.
pub const MAX_WEBHOOKS_PER_USER: u64 = 50;
/// Random bytes in a signing secret (Standard Webhooks asks for 24 to 64).
const SECRET_BYTES: usize = 32;

/// A stored webhook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Webhook {
    /// Its id.
    pub id: uuid::Uuid,
    /// Whose memos it follows.
    pub owner: UserId,
    /// Where events go.
    pub url: WebhookUrl,
    /// A name for people.
    pub display_name: String,
    /// Creation time.
    pub created_at: EpochMillis,
    /// Last change.
    pub updated_at: EpochMillis,
}

impl Webhook {
    /// `users/{user}/webhooks/{webhook}`.
    pub fn name(&self) -> String {
        format!("{}/webhooks/{}", self.owner.resource_name(), self.id)
    }
}

/// The `whsec_…` secret deliveries are signed with: `whsec_` and the
/// base64 of 32 random bytes, as Standard Webhooks writes it.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningSecret(String);

impl SigningSecret {
    /// A new random secret.
    pub fn generate() -> Self {
        let mut bytes = [0u8; SECRET_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        Self(format!("whsec_{}", data_encoding::BASE64.encode(&bytes)))
    }

    /// A secret read back from storage.
    pub fn from_storage(text: String) -> Self {
        Self(text)
    }

    /// The secret, for the one response that reveals it and for signing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("SigningSecret(…)")
    }
}

/// The webhook fields of a request, unchecked.
#[derive(Clone, Debug, Default)]
pub struct WebhookInput {
    /// `users/{user}/webhooks/{webhook}` (updates only).
    pub name: String,
    /// The URL.
    pub url: String,
    /// The display name.
    pub display_name: String,
}

/// What webhook RPCs need beside the store.
pub struct Targets<'a, R> {
    /// Whether private targets are allowed.
    pub policy: TargetPolicy,
    /// How host names are resolved.
    pub resolver: &'a R,
}

fn check_display_name(field: &str, display_name: &str) -> Result<(), DomainError> {
    if display_name.chars().count() > MAX_DISPLAY_NAME_CHARS {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {MAX_DISPLAY_NAME_CHARS} characters"),
        ));
    }
    Ok(())
}

/// A page of webhooks.
#[derive(Clone, Debug)]
pub struct WebhookPage {
    /// Oldest first.
    pub webhooks: Vec<Webhook>,
    /// The next page's token; empty on the last.
    pub next_page_token: String,
}

/// ListUserWebhooks.
pub async fn list_webhooks(
    store: &(impl UserDirectory + WebhookStore),
    caller: &Principal,
    parent: &str,
    page_size: i32,
    page_token_text: &str,
) -> Result<WebhookPage, DomainError> {
    let owner = parse_owner("parent", parent)?;
    require_on(
        caller,
        owner,
        Permission::DisplayWebhookOwn,
        Permission::DisplayWebhookAny,
    )?;
    let limit = page_token::page_size(page_size)?;
    let tag = page_token::query_tag(&[b"webhooks", owner.0.as_bytes()]);
    let after = page_token::decode(page_token_text, tag)?;
    require_live_owner(store, caller, owner).await?;
    let mut webhooks = store.list_webhooks(owner, after, limit + 1).await?;
    let next_page_token = page_token::finish_page(&mut webhooks, limit, tag, |last| Position {
        at: last.created_at,
        id: last.id,
    });
    Ok(WebhookPage {
        webhooks,
        next_page_token,
    })
}

/// CreateUserWebhook: returns the webhook and its secret, shown once.
pub async fn create_webhook(
    store: &(impl UserDirectory + WebhookStore),
    targets: Targets<'_, impl HostResolver>,
    caller: &Principal,
    parent: &str,
    input: WebhookInput,
) -> Result<(Webhook, SigningSecret), DomainError> {
    let owner = parse_owner("parent", parent)?;
    require_on(
        caller,
        owner,
        Permission::ManageWebhookOwn,
        Permission::ManageWebhookAny,
    )?;
    let mut validation = Validation::default();
    let url = validation
        .check(check_target("webhook.url", &input.url, targets.policy, targets.resolver).await);
    validation.check(check_display_name(
        "webhook.display_name",
        &input.display_name,
    ));
    validation.finish()?;
    let Some(url) = url else {
        return Err(DomainError::invalid("webhook.url", "is required"));
    };
    require_live_owner(store, caller, owner).await?;
    let now = EpochMillis::now();
    let webhook = Webhook {
        id: uuid::Uuid::now_v7(),
        owner,
        url,
        display_name: input.display_name,
        created_at: now,
        updated_at: now,
    };
    let secret = SigningSecret::generate();
    store
        .create_webhook(&webhook, &secret, MAX_WEBHOOKS_PER_USER)
        .await?;
    tracing::info!(user_id = %owner, webhook_id = %webhook.id, "webhook created");
    Ok((webhook, secret))
}

/// UpdateUserWebhook: `url` and `display_name`, as the mask says.
pub async fn update_webhook(
    store: &impl WebhookStore,
    targets: Targets<'_, impl HostResolver>,
    caller: &Principal,
    input: WebhookInput,
    mask: FieldMask,
) -> Result<Webhook, DomainError> {
    let (owner, id) = parse_owned_name("webhook.name", &input.name, "webhooks")?;
    require_on(
        caller,
        owner,
        Permission::ManageWebhookOwn,
        Permission::ManageWebhookAny,
    )?;
    let paths = mask.paths_within("update_mask", &["url", "display_name"])?;
    let mut validation = Validation::default();
    let mut url = None;
    if paths.iter().any(|path| path == "url") {
        url = validation
            .check(check_target("webhook.url", &input.url, targets.policy, targets.resolver).await);
    }
    let renames = paths.iter().any(|path| path == "display_name");
    if renames {
        validation.check(check_display_name(
            "webhook.display_name",
            &input.display_name,
        ));
    }
    validation.finish()?;
    let not_found = || DomainError::NotFound("webhook not found".to_owned());
    let mut webhook = store.find_webhook(owner, id).await?.ok_or_else(not_found)?;
    if let Some(url) = url {
        webhook.url = url;
    }
    if renames {
        webhook.display_name = input.display_name;
    }
    webhook.updated_at = EpochMillis::now().max(webhook.updated_at);
    if !store.update_webhook(&webhook).await? {
        return Err(not_found());
    }
    tracing::info!(user_id = %owner, webhook_id = %id, "webhook updated");
    Ok(webhook)
}

/// DeleteUserWebhook.
pub async fn delete_webhook(
    store: &impl WebhookStore,
    caller: &Principal,
    name: &str,
) -> Result<(), DomainError> {
    let (owner, id) = parse_owned_name("name", name, "webhooks")?;
    require_on(
        caller,
        owner,
        Permission::ManageWebhookOwn,
        Permission::ManageWebhookAny,
    )?;
    if !store.delete_webhook(owner, id).await? {
        return Err(DomainError::NotFound("webhook not found".to_owned()));
    }
    tracing::info!(user_id = %owner, webhook_id = %id, "webhook deleted");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_have_the_standard_webhooks_shape() {
        let secret = SigningSecret::generate();
        let encoded = secret.expose().strip_prefix("whsec_").unwrap();
        assert_eq!(
            data_encoding::BASE64
                .decode(encoded.as_bytes())
                .unwrap()
                .len(),
            32
        );
        assert_ne!(secret, SigningSecret::generate());
        assert!(!format!("{secret:?}").contains(encoded));
    }
}
