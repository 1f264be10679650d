//! The authenticated caller.
use super::permission::{Permission, permissions_of};
use crate::domain::DomainError;
use crate::domain::user::User;

/// A caller whose credential was checked: live, not archived, unexpired,
/// unrevoked.
#[derive(Clone, Debug)]
pub struct Principal {
    /// The caller's user record, as read with the credential.
    pub user: User,
    /// The credential presented.
    pub credential_id: uuid::Uuid,
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
