//! Reading users, with the permission rules of the contract.
use super::DomainError;
use super::user::{Email, User, UserId, Username};
use crate::auth::{Permission, Principal};
use crate::store::Store;
use crate::store::users::{self as user_rows, UserLookup};

/// Which user a GetUser names, after the priority rule
/// (`user_id` > `email` > `username` > `name`) has picked one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserSelector {
    /// Nobody named: the caller.
    Caller,
    /// By id.
    Id(UserId),
    /// By email, any case.
    Email(String),
    /// By username, any case.
    Username(String),
}

impl UserSelector {
    /// Parses a resource name: `users/{uuid}` or `users/{username}`.
    pub fn from_resource_name(field: &str, name: &str) -> Result<Self, DomainError> {
        let Some(id_or_username) = name.strip_prefix("users/") else {
            return Err(DomainError::invalid(field, "must look like users/{id}"));
        };
        if id_or_username.len() == 36 && id_or_username.contains('-') {
            return UserId::parse_text(field, id_or_username).map(Self::Id);
        }
        if id_or_username.is_empty() || id_or_username.contains('/') {
            return Err(DomainError::invalid(field, "must look like users/{id}"));
        }
        Username::parse(field, id_or_username)
            .map(|username| Self::Username(username.as_str().to_owned()))
    }

    /// A lookup by email; a value that is no email address is malformed.
    pub fn email(field: &str, text: &str) -> Result<Self, DomainError> {
        Email::parse(field, text).map(|email| Self::Email(email.as_str().to_owned()))
    }

    /// A lookup by username; a value outside the username pattern is malformed.
    pub fn username(field: &str, text: &str) -> Result<Self, DomainError> {
        Username::parse(field, text).map(|username| Self::Username(username.as_str().to_owned()))
    }

    /// Whether this names the caller. Decided from the caller's own record,
    /// without reading anyone else's.
    fn names(&self, caller: &User) -> bool {
        match self {
            Self::Caller => true,
            Self::Id(id) => *id == caller.id,
            Self::Email(email) => email.eq_ignore_ascii_case(&caller.email),
            Self::Username(username) => {
                !caller.username.is_empty() && username.eq_ignore_ascii_case(&caller.username)
            }
        }
    }
}

/// GetUser: permission first, then the lookup, so a caller without
/// DISPLAY_USER_ANY never learns whether someone else exists.
pub async fn get_user(
    store: &Store,
    caller: &Principal,
    selector: UserSelector,
    include_deleted: bool,
) -> Result<User, DomainError> {
    let own_record = selector.names(&caller.user);
    if own_record && !caller.has(Permission::DisplayUserAny) {
        caller.require(Permission::DisplayUserOwn)?;
    } else {
        caller.require(Permission::DisplayUserAny)?;
    }
    if include_deleted {
        caller.require(Permission::DisplayUserAny)?;
    }
    let lookup = match selector {
        UserSelector::Caller => return Ok(caller.user.clone()),
        UserSelector::Id(id) => UserLookup::Id(id),
        UserSelector::Email(email) => UserLookup::EmailKey(email.to_ascii_lowercase()),
        UserSelector::Username(username) => UserLookup::UsernameKey(username.to_ascii_lowercase()),
    };
    user_rows::find(store, &lookup, include_deleted)
        .await?
        .ok_or_else(|| DomainError::NotFound("user not found".to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_names_resolve_to_ids_or_usernames() {
        let id = "0190c7d6-4c1e-7b3a-9f00-000000000001";
        assert_eq!(
            UserSelector::from_resource_name("name", &format!("users/{id}")).unwrap(),
            UserSelector::Id(UserId(uuid::Uuid::parse_str(id).unwrap()))
        );
        assert_eq!(
            UserSelector::from_resource_name("name", "users/alice").unwrap(),
            UserSelector::Username("alice".to_owned())
        );
        for bad in [
            "alice",
            "users/",
            "users/a/b",
            "groups/x",
            "users/a%2Fb",
            "users/-x",
        ] {
            assert!(
                UserSelector::from_resource_name("name", bad).is_err(),
                "{bad}"
            );
        }
    }
}
