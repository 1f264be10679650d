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
}

impl Principal {
    /// Whether the caller's role grants `permission`.
    pub fn has(&self, permission: Permission) -> bool {
        permissions_of(self.user.role).contains(&permission)
    }

    /// `PermissionDenied` naming `permission` unless the caller has it.
    pub fn require(&self, permission: Permission) -> Result<(), DomainError> {
        if self.has(permission) {
            Ok(())
        } else {
            Err(DomainError::PermissionDenied(format!(
                "permission {} required",
                permission.name()
            )))
        }
    }
}
