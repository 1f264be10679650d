//! UpdateUser: field masks, who may change what, the sensitive-field guard,
//! etags, and the protections of ROOT.
use super::clock::EpochMillis;
use super::field_mask::FieldMask;
use super::password::PasswordHasher;
use super::permission::Permission;
use super::ports::{UserDirectory, UserRegistry, UserUpdate};
use super::principal::Principal;
use super::profile::{
    MAX_AVATAR_URL_CHARS, MAX_DESCRIPTION_CHARS, MAX_DISPLAY_NAME_CHARS, MAX_LABELS, UserFields,
    check_email, check_labels, check_password, check_text, check_username, is_label_key,
};
use super::user::{Role, User, UserState};
use super::users::{UserLookup, UserSelector};
use super::{DomainError, Validation};

/// Paths an update mask may name (besides `labels.KEY`).
const UPDATABLE: &[&str] = &[
    "username",
    "email",
    "display_name",
    "avatar_url",
    "description",
    "labels",
    "password",
    "role",
    "state",
];

/// Paths only UPDATE_USER_ANY may change.
const ADMIN_ONLY: &[&str] = &["username", "role", "state"];

/// Paths that change only with `allow_missing` (as the Memos API has it).
const SENSITIVE: &[&str] = &["password", "role", "state", "username"];

/// An UpdateUser request, unchecked.
#[derive(Clone, Debug, Default)]
pub struct UpdateUserInput {
    /// `user.name`: whom to update.
    pub name: String,
    /// `user.etag`: the version the client read; empty to skip the check.
    pub etag: String,
    /// The new values.
    pub fields: UserFields,
    /// Which of them apply.
    pub mask: FieldMask,
    /// The guard for sensitive fields.
    pub allow_missing: bool,
}

/// UpdateUser.
pub async fn update_user(
    store: &(impl UserDirectory + UserRegistry),
    hasher: &PasswordHasher,
    caller: &Principal,
    input: UpdateUserInput,
) -> Result<User, DomainError> {
    let selector = UserSelector::from_resource_name("user.name", &input.name)?;
    let own_record = selector.names(&caller.user);
    // Permission before lookup, as for GetUser.
    if !(own_record && caller.has(Permission::UpdateUserOwn)) {
        caller.require(Permission::UpdateUserAny)?;
    }
    let paths = input.mask.paths_within("update_mask", UPDATABLE)?;
    if let Some(path) = paths
        .iter()
        .find(|path| ADMIN_ONLY.contains(&path.as_str()))
        && !caller.has(Permission::UpdateUserAny)
    {
        return Err(DomainError::PermissionDenied(format!(
            "permission {} required to change {path}",
            Permission::UpdateUserAny.name()
        )));
    }
    let mut validation = Validation::default();
    if !input.allow_missing
        && let Some(path) = paths.iter().find(|path| SENSITIVE.contains(&path.as_str()))
    {
        validation.add(
            "allow_missing",
            format!(
                "must be true to change {path} (password, role, state and username are guarded)"
            ),
        );
    }
    let changes = check_changes(&mut validation, &paths, &input.fields);
    validation.finish()?;
    let Some(changes) = changes else {
        return Err(DomainError::internal(anyhow::anyhow!(
            "validation passed without values"
        )));
    };

    let lookup = match selector {
        UserSelector::Caller => UserLookup::Id(caller.user.id),
        UserSelector::Id(id) => UserLookup::Id(id),
        UserSelector::Email(email) => UserLookup::EmailKey(email.key()),
        UserSelector::Username(username) => UserLookup::UsernameKey(username.key()),
    };
    let current = store
        .find_user(&lookup, true)
        .await?
        .ok_or_else(|| DomainError::NotFound("user not found".to_owned()))?;
    if current.deleted_at.is_some() {
        return Err(DomainError::FailedPrecondition(
            "the user is deleted".to_owned(),
        ));
    }
    if !input.etag.is_empty() && input.etag != current.etag() {
        return Err(DomainError::Aborted(
            "etag mismatch: the user changed since it was read; read it again".to_owned(),
        ));
    }
    if current.role == Role::Root && caller.user.role != Role::Root {
        return Err(DomainError::PermissionDenied(
            "only the root user may change the root user".to_owned(),
        ));
    }

    let mut updated = current.clone();
    let labels_changed = changes.apply(&mut updated, &input.fields)?;
    if current.role == Role::Root && updated.role != Role::Root {
        return Err(DomainError::FailedPrecondition(
            "the root user cannot be demoted".to_owned(),
        ));
    }
    if current.role != Role::Root && updated.role == Role::Root {
        return Err(DomainError::invalid(
            "user.role",
            "there is exactly one ROOT; it cannot be granted",
        ));
    }
    if updated.role == Role::Root && updated.state == UserState::Archived {
        return Err(DomainError::FailedPrecondition(
            "the root user cannot be archived".to_owned(),
        ));
    }
    let password_hash = match &changes.password {
        Some(password) => Some(hasher.hash(password).await?),
        None => None,
    };
    updated.version = current.version + 1;
    updated.updated_at = EpochMillis::now();
    updated.updated_by = Some(caller.user.id);
    let archiving = current.state != UserState::Archived && updated.state == UserState::Archived;
    store
        .update_user(&UserUpdate {
            user: &updated,
            expected_version: current.version,
            password_hash: password_hash.as_ref(),
            labels_changed,
            revoke_sessions: archiving,
        })
        .await?;
    tracing::info!(user_id = %updated.id, fields = ?paths, "user updated");
    Ok(updated)
}

/// The validated changes a mask selects.
struct Changes {
    paths: Vec<String>,
    password: Option<super::password::Password>,
}

/// Validates the values of the masked fields.
fn check_changes(
    validation: &mut Validation,
    paths: &[String],
    fields: &UserFields,
) -> Option<Changes> {
    let mut password = None;
    for path in paths {
        match path.as_str() {
            "email" => {
                check_email(validation, &fields.email);
            }
            "username" => {
                check_username(validation, &fields.username);
            }
            "display_name" => {
                check_text(
                    validation,
                    "user.display_name",
                    &fields.display_name,
                    MAX_DISPLAY_NAME_CHARS,
                );
            }
            "avatar_url" => {
                check_text(
                    validation,
                    "user.avatar_url",
                    &fields.avatar_url,
                    MAX_AVATAR_URL_CHARS,
                );
            }
            "description" => {
                check_text(
                    validation,
                    "user.description",
                    &fields.description,
                    MAX_DESCRIPTION_CHARS,
                );
            }
            "labels" => {
                check_labels(validation, &fields.labels);
            }
            "password" => {
                if fields.password.is_empty() {
                    validation.add("user.password", "must be set (at least 8 characters)");
                } else {
                    password = check_password(validation, &fields.password).flatten();
                }
            }
            "role" if Role::from_number(fields.role).is_none() => {
                validation.add("user.role", "must be ROOT, ADMIN or USER");
            }
            "state" if UserState::from_number(fields.state).is_none() => {
                validation.add("user.state", "must be NORMAL or ARCHIVED");
            }
            label_path => {
                if let Some(key) = label_path.strip_prefix("labels.")
                    && !is_label_key(key)
                {
                    validation.add(
                        "update_mask",
                        format!("{label_path:?}: label keys are 1-63 characters of a-z, 0-9, '.', '_' or '-'"),
                    );
                } else if let Some(key) = label_path.strip_prefix("labels.") {
                    let single = fields
                        .labels
                        .get(key)
                        .map(|value| [(key.to_owned(), value.clone())].into())
                        .unwrap_or_default();
                    check_labels(validation, &single);
                }
            }
        }
    }
    validation.is_clean().then(|| Changes {
        paths: paths.to_vec(),
        password,
    })
}

impl Changes {
    /// Writes the masked values into `user`; returns whether the labels
    /// changed.
    fn apply(&self, user: &mut User, fields: &UserFields) -> Result<bool, DomainError> {
        let original_labels = user.labels.clone();
        for path in &self.paths {
            match path.as_str() {
                "email" => {
                    user.email = super::user::Email::parse("user.email", &fields.email)?;
                }
                "username" => {
                    user.username = if fields.username.is_empty() {
                        None
                    } else {
                        Some(super::user::Username::parse(
                            "user.username",
                            &fields.username,
                        )?)
                    };
                }
                "display_name" => user.display_name.clone_from(&fields.display_name),
                "avatar_url" => user.avatar_url.clone_from(&fields.avatar_url),
                "description" => user.description.clone_from(&fields.description),
                "labels" => user.labels.clone_from(&fields.labels),
                "password" => {}
                "role" => {
                    user.role = Role::from_number(fields.role)
                        .ok_or_else(|| DomainError::invalid("user.role", "must be set"))?;
                }
                "state" => {
                    user.state = UserState::from_number(fields.state)
                        .ok_or_else(|| DomainError::invalid("user.state", "must be set"))?;
                }
                label_path => {
                    let key = label_path.trim_start_matches("labels.");
                    match fields.labels.get(key) {
                        Some(value) => {
                            user.labels.insert(key.to_owned(), value.clone());
                        }
                        None => {
                            user.labels.remove(key);
                        }
                    }
                }
            }
        }
        if user.labels.len() > MAX_LABELS {
            return Err(DomainError::invalid(
                "user.labels",
                format!("at most {MAX_LABELS} labels"),
            ));
        }
        Ok(user.labels != original_labels)
    }
}
