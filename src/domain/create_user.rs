//! CreateUser: the first user (who becomes ROOT), admins creating users,
//! and self-registration, with `validate_only` and idempotent retries.
use sha2::{Digest as _, Sha256};

use super::clock::EpochMillis;
use super::instance::current_settings;
use super::password::PasswordHasher;
use super::permission::Permission;
use super::ports::{
    Creation, IdempotencyKey, InstanceSettingsStore, SystemStore, UserCatalog, UserDirectory,
    UserRegistry,
};
use super::principal::Principal;
use super::profile::{UserDraft, UserFields};
use super::system::BootstrapCaller;
use super::user::{Role, User, UserId, UserState};
use super::users::UserLookup;
use super::{DomainError, Validation};

/// A CreateUser request, unchecked.
#[derive(Clone, Debug, Default)]
pub struct CreateUserInput {
    /// The new user's fields.
    pub fields: UserFields,
    /// A client-chosen id (canonical lowercase UUID); empty to generate one.
    pub user_id: String,
    /// Check everything, write nothing.
    pub validate_only: bool,
    /// A UUID making retries safe; empty for none.
    pub request_id: String,
}

/// Who asks.
#[derive(Clone, Debug)]
pub struct Creator {
    /// The authenticated caller, if credentials were sent.
    pub principal: Option<Principal>,
    /// Where an anonymous call came from (the first-user rule needs it).
    pub origin: BootstrapCaller,
}

/// Everything CreateUser needs from storage.
pub trait UserCreationStore:
    SystemStore + InstanceSettingsStore + UserCatalog + UserDirectory + UserRegistry
{
}

impl<T> UserCreationStore for T where
    T: SystemStore + InstanceSettingsStore + UserCatalog + UserDirectory + UserRegistry
{
}

/// CreateUser. Authorization comes before validation, so a caller who may
/// not create users learns nothing from field errors.
pub async fn create_user(
    store: &impl UserCreationStore,
    hasher: &PasswordHasher,
    creator: &Creator,
    input: CreateUserInput,
) -> Result<User, DomainError> {
    // A lost race for the first user is retried once as an ordinary create.
    let mut claim_instance = !store.is_initialized().await?;
    loop {
        let role = authorize(store, creator, &input, claim_instance).await?;
        let (user, password, idempotency) = prepare(creator, &input, role)?;
        if input.validate_only {
            if let Some(field) = store.taken(&user).await? {
                return Err(field.already_exists());
            }
            return Ok(user);
        }
        let password_hash = match &password {
            Some(password) => Some(hasher.hash(password).await?),
            None => None,
        };
        let creation = store
            .create_user(
                &user,
                password_hash.as_ref(),
                idempotency.as_ref(),
                claim_instance,
            )
            .await?;
        match creation {
            Creation::Created => {
                tracing::info!(user_id = %user.id, role = ?user.role, "user created");
                return Ok(user);
            }
            Creation::Replayed(id) => {
                return store
                    .find_user(&UserLookup::Id(id), true)
                    .await?
                    .ok_or_else(|| DomainError::NotFound("user not found".to_owned()));
            }
            Creation::RequestIdReused => {
                return Err(DomainError::invalid(
                    "request_id",
                    "was already used with a different request",
                ));
            }
            Creation::InstanceAlreadyClaimed if claim_instance => claim_instance = false,
            Creation::InstanceAlreadyClaimed => {
                return Err(DomainError::internal(anyhow::anyhow!(
                    "instance claim reported without a claim"
                )));
            }
        }
    }
}

/// The role the new user gets, or why the caller may not create it.
async fn authorize(
    store: &impl InstanceSettingsStore,
    creator: &Creator,
    input: &CreateUserInput,
    claim_instance: bool,
) -> Result<Role, DomainError> {
    if claim_instance {
        // The first user owns the instance: the bootstrap trust rule applies.
        creator.origin.may_initialize()?;
        return Ok(Role::Root);
    }
    let requested = Role::from_number(input.fields.role);
    if let Some(principal) = &creator.principal
        && principal.has(Permission::CreateUser)
    {
        return match requested {
            Some(Role::Root) => Err(DomainError::invalid(
                "user.role",
                "there is exactly one ROOT; create an ADMIN or USER",
            )),
            Some(role) => Ok(role),
            None => Ok(Role::User),
        };
    }
    if !current_settings(store).await?.allow_registration {
        return Err(DomainError::PermissionDenied(format!(
            "permission {} required: registration is closed on this instance",
            Permission::CreateUser.name()
        )));
    }
    match requested {
        None | Some(Role::User) => Ok(Role::User),
        Some(_) => Err(DomainError::PermissionDenied(format!(
            "permission {} required to create an administrator",
            Permission::CreateUser.name()
        ))),
    }
}

type Prepared = (
    User,
    Option<super::password::Password>,
    Option<IdempotencyKey>,
);

/// Validates every field and builds the record.
fn prepare(
    creator: &Creator,
    input: &CreateUserInput,
    role: Role,
) -> Result<Prepared, DomainError> {
    let mut validation = Validation::default();
    let draft = UserDraft::check(&mut validation, input.fields.clone());
    let id = if input.user_id.is_empty() {
        Some(UserId::generate())
    } else {
        validation.check(parse_lowercase_uuid("user_id", &input.user_id).map(UserId))
    };
    let request_id = if input.request_id.is_empty() {
        Some(None)
    } else {
        validation
            .check(parse_lowercase_uuid("request_id", &input.request_id))
            .map(Some)
    };
    validation.finish()?;
    let (Some(draft), Some(id), Some(request_id)) = (draft, id, request_id) else {
        return Err(DomainError::internal(anyhow::anyhow!(
            "validation passed without values"
        )));
    };
    let now = EpochMillis::now();
    // Self-registered and first users create themselves: GoodMem clients
    // require a creator on every user.
    let actor = creator
        .principal
        .as_ref()
        .map_or(id, |principal| principal.user.id);
    let idempotency = request_id.map(|request_id| IdempotencyKey {
        request_id,
        fingerprint: fingerprint(creator, input),
    });
    let user = User {
        id,
        email: draft.email,
        username: draft.username,
        display_name: draft.display_name,
        role,
        state: draft.state.unwrap_or(UserState::Normal),
        avatar_url: draft.avatar_url,
        description: draft.description,
        labels: draft.labels,
        version: 1,
        created_at: now,
        updated_at: now,
        deleted_at: None,
        created_by: Some(actor),
        updated_by: Some(actor),
        deleted_by: None,
    };
    if user.role == Role::Root && user.state != UserState::Normal {
        return Err(DomainError::invalid(
            "user.state",
            "the root user cannot be archived",
        ));
    }
    Ok((user, draft.password, idempotency))
}

/// A canonical UUID in lowercase (`[a-z0-9-]+`, 36 characters).
fn parse_lowercase_uuid(field: &str, text: &str) -> Result<uuid::Uuid, DomainError> {
    let canonical = text.len() == 36
        && text
            .bytes()
            .all(|byte| matches!(byte, b'a'..=b'f' | b'0'..=b'9' | b'-'));
    match uuid::Uuid::try_parse(text) {
        Ok(id) if canonical && id.hyphenated().to_string() == text => Ok(id),
        _ => Err(DomainError::invalid(
            field,
            "must be a canonical lowercase uuid such as 0190c7d6-4c1e-7b3a-9f00-000000000001",
        )),
    }
}

/// What makes two CreateUser calls "the same request": the caller and every
/// field but the password's text (a hash of a password would be a weak
/// one, stored in a table that is not built to keep secrets).
fn fingerprint(creator: &Creator, input: &CreateUserInput) -> String {
    let fields = &input.fields;
    let caller = creator
        .principal
        .as_ref()
        .map(|principal| principal.user.id.to_string())
        .unwrap_or_default();
    let mut hasher = Sha256::new();
    let mut part = |text: &str| {
        hasher.update((text.len() as u64).to_be_bytes());
        hasher.update(text.as_bytes());
    };
    part(&caller);
    part(&input.user_id);
    part(&fields.email);
    part(&fields.username);
    part(&fields.display_name);
    part(&fields.avatar_url);
    part(&fields.description);
    part(&fields.role.to_string());
    part(&fields.state.to_string());
    part(if fields.password.is_empty() {
        ""
    } else {
        "password"
    });
    for (key, value) in &fields.labels {
        part(key);
        part(value);
    }
    data_encoding::HEXLOWER.encode(&hasher.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_ids_must_be_canonical_lowercase() {
        let id = "0190c7d6-4c1e-7b3a-9f00-000000000001";
        assert!(parse_lowercase_uuid("user_id", id).is_ok());
        for bad in [
            "0190C7D6-4C1E-7B3A-9F00-000000000001",
            "0190c7d64c1e7b3a9f00000000000001",
            "{0190c7d6-4c1e-7b3a-9f00-000000000001}",
            "x",
        ] {
            assert!(parse_lowercase_uuid("user_id", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fingerprints_ignore_the_password_text_but_not_other_fields() {
        let creator = Creator {
            principal: None,
            origin: BootstrapCaller::default(),
        };
        let input = |email: &str, password: &str| CreateUserInput {
            fields: UserFields {
                email: email.into(),
                password: password.into(),
                ..Default::default()
            },
            ..Default::default()
        };
        assert_eq!(
            fingerprint(&creator, &input("a@b.c", "password1")),
            fingerprint(&creator, &input("a@b.c", "password2"))
        );
        assert_ne!(
            fingerprint(&creator, &input("a@b.c", "password1")),
            fingerprint(&creator, &input("b@b.c", "password1"))
        );
    }
}
