//! The authenticated caller.
use super::DomainError;
use super::credential::CredentialKind;
use super::permission::{Permission, permissions_of};
use super::user::User;

/// The credential a call was made with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CredentialInUse {
    /// Its id.
    pub id: uuid::Uuid,
    /// A personal access token or a sign-in session.
    pub kind: CredentialKind,
}

/// A caller whose credential was checked: live, not archived, unexpired,
/// unrevoked. Only authentication makes one; handlers receive it from the
/// authentication layer.
#[derive(Clone, Debug)]
pub struct Principal {
    /// The caller's user record, as read with the credential.
    pub user: User,
    /// The credential presented.
    pub credential: CredentialInUse,
    /// The permissions the credential is narrowed to; `None`: all of the
    /// role's. Scopes never grant what the role lacks.
    pub scopes: Option<Vec<Permission>>,
}

impl Principal {
    /// Whether the caller's role grants `permission` and the credential's
    /// scopes (if any) include it. Every permission check of every protocol
    /// comes here, so a scoped token cannot be forgotten by a handler.
    pub fn has(&self, permission: Permission) -> bool {
        permissions_of(self.user.role).contains(&permission)
            && self
                .scopes
                .as_ref()
                .is_none_or(|scopes| scopes.contains(&permission))
    }

    /// `PermissionDenied` naming `permission` unless the caller has it.
    pub fn require(&self, permission: Permission) -> Result<(), DomainError> {
        if self.has(permission) {
            Ok(())
        } else {
            let outside_scopes = permissions_of(self.user.role).contains(&permission);
            Err(DomainError::PermissionDenied(format!(
                "permission {} required{}",
                permission.name(),
                if outside_scopes {
                    ": it is outside this token's scopes"
                } else {
                    ""
                }
            )))
        }
    }
}
