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
use super::user::{Email, Role, User, UserState, Username};
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
    // Permission before lookup, as for GetUser; the error names the
    // permission this request needed.
    if !own_record {
        caller.require(Permission::UpdateUserAny)?;
    } else if !caller.has(Permission::UpdateUserAny) {
        caller.require(Permission::UpdateUserOwn)?;
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

/// The validated changes a mask selects, parsed once.
struct Changes {
    paths: Vec<String>,
    email: Option<Email>,
    username: Option<Option<Username>>,
    password: Option<super::password::Password>,
}

/// Validates the values of the masked fields.
fn check_changes(
    validation: &mut Validation,
    paths: &[String],
    fields: &UserFields,
) -> Option<Changes> {
    let (mut email, mut username, mut password) = (None, None, None);
    for path in paths {
        match path.as_str() {
            "email" => email = check_email(validation, &fields.email),
            "username" => username = check_username(validation, &fields.username),
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
        email,
        username,
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
                    if let Some(email) = &self.email {
                        user.email = email.clone();
                    }
                }
                "username" => {
                    if let Some(username) = &self.username {
                        user.username = username.clone();
                    }
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::domain::clock::EpochMillis;
    use crate::domain::ports::{Creation, IdempotencyKey};
    use crate::domain::test_support::{principal_with_role, user_with_role};
    use crate::domain::user::UserId;

    /// A directory that holds one user and records every lookup and write.
    struct OneUser {
        user: User,
        lookups: Mutex<usize>,
        writes: Mutex<Vec<i64>>,
    }

    impl UserDirectory for OneUser {
        async fn find_user(
            &self,
            lookup: &UserLookup,
            _include_deleted: bool,
        ) -> Result<Option<User>, DomainError> {
            *self.lookups.lock().unwrap() += 1;
            Ok((*lookup == UserLookup::Id(self.user.id)).then(|| self.user.clone()))
        }
    }

    impl UserRegistry for OneUser {
        async fn create_user(
            &self,
            _: &User,
            _: Option<&super::super::password::PasswordHash>,
            _: Option<&IdempotencyKey>,
            _: bool,
        ) -> Result<Creation, DomainError> {
            unreachable!("updates never create")
        }

        async fn update_user(&self, update: &UserUpdate<'_>) -> Result<(), DomainError> {
            self.writes.lock().unwrap().push(update.expected_version);
            Ok(())
        }

        async fn delete_user(
            &self,
            _: &User,
            _: UserId,
            _: EpochMillis,
            _: bool,
        ) -> Result<(), DomainError> {
            unreachable!("updates never delete")
        }
    }

    fn holding(user: User) -> OneUser {
        OneUser {
            user,
            lookups: Mutex::new(0),
            writes: Mutex::new(Vec::new()),
        }
    }

    fn describe(name: String) -> UpdateUserInput {
        UpdateUserInput {
            name,
            fields: UserFields {
                description: "new".into(),
                ..Default::default()
            },
            mask: FieldMask(vec!["description".into()]),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn ordinary_users_are_refused_others_before_any_lookup() {
        let store = holding(user_with_role(Role::User));
        let caller = principal_with_role(Role::User);

        let refused = update_user(
            &store,
            &PasswordHasher::new(1),
            &caller,
            describe(store.user.id.resource_name()),
        )
        .await;

        assert!(matches!(refused, Err(DomainError::PermissionDenied(_))));
        assert_eq!(*store.lookups.lock().unwrap(), 0);
    }

    #[tokio::test]
    async fn updates_are_guarded_by_the_version_read() {
        let mut target = user_with_role(Role::User);
        target.version = 7;
        let store = holding(target);
        let admin = principal_with_role(Role::Admin);

        let updated = update_user(
            &store,
            &PasswordHasher::new(1),
            &admin,
            describe(store.user.id.resource_name()),
        )
        .await
        .unwrap();
        let stale = update_user(
            &store,
            &PasswordHasher::new(1),
            &admin,
            UpdateUserInput {
                etag: "\"6\"".into(),
                ..describe(store.user.id.resource_name())
            },
        )
        .await;

        assert_eq!(updated.version, 8);
        assert_eq!(updated.description, "new");
        assert_eq!(updated.updated_by, Some(admin.user.id));
        assert_eq!(*store.writes.lock().unwrap(), vec![7]);
        assert!(matches!(stale, Err(DomainError::Aborted(_))));
    }
}
