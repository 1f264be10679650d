//! DeleteUser: a soft delete that frees the email and username and ends
//! every credential of the user at once.
use super::DomainError;
use super::clock::EpochMillis;
use super::permission::Permission;
use super::ports::{UserDirectory, UserRegistry};
use super::principal::Principal;
use super::user::{Role, UserId};
use super::users::UserLookup;

/// DeleteUser. Deleting a deleted user succeeds (a retried delete must not
/// fail); ROOT cannot be deleted.
pub async fn delete_user(
    store: &(impl UserDirectory + UserRegistry),
    caller: &Principal,
    id: UserId,
    force: bool,
) -> Result<(), DomainError> {
    caller.require(Permission::DeleteUserAny)?;
    let user = store
        .find_user(&UserLookup::Id(id), true)
        .await?
        .ok_or_else(|| DomainError::NotFound("user not found".to_owned()))?;
    if user.deleted_at.is_some() {
        return Ok(());
    }
    if user.role == Role::Root {
        return Err(DomainError::FailedPrecondition(
            "the root user cannot be deleted".to_owned(),
        ));
    }
    store
        .delete_user(&user, caller.user.id, EpochMillis::now(), force)
        .await?;
    tracing::info!(user_id = %id, force, "user deleted");
    Ok(())
}
