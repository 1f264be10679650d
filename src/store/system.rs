//! The system-state row that marks the instance as initialized.
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait as _};

use super::entity::system_state;
use super::users::unique_violation_as;
use crate::domain::DomainError;
use crate::domain::clock::EpochMillis;
use crate::domain::user::UserId;

/// The one row's key.
const SYSTEM_ROW: i32 = 1;

/// Claims the instance for `root`: inserts the state row. Run inside the
/// transaction that creates the root user; the primary key makes exactly
/// one claim succeed however many run at once, on any number of processes
/// (a concurrent claimer waits on the key, then fails). A lost race is
/// `AlreadyExists`.
pub async fn claim(
    connection: &impl ConnectionTrait,
    root: UserId,
    now: EpochMillis,
) -> Result<(), DomainError> {
    let row = system_state::ActiveModel {
        id: Set(SYSTEM_ROW),
        root_user_id: Set(root.0),
        initialized_at: Set(now.0),
    };
    system_state::Entity::insert(row)
        .exec_without_returning(connection)
        .await
        .map_err(unique_violation_as("the system is already initialized"))?;
    Ok(())
}

/// Whether the instance has been claimed.
pub async fn is_initialized(connection: &impl ConnectionTrait) -> Result<bool, DomainError> {
    Ok(system_state::Entity::find_by_id(SYSTEM_ROW)
        .one(connection)
        .await?
        .is_some())
}
