//! Reading users, with the permission rules of the contract.
use super::DomainError;
use super::permission::Permission;
use super::ports::UserDirectory;
use super::principal::Principal;
use super::user::{Email, User, UserId, Username};

/// Which user a GetUser names, after the priority rule
/// (`user_id` > `email` > `username` > `name`) has picked one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UserSelector {
    /// Nobody named: the caller.
    Caller,
    /// By id.
    Id(UserId),
    /// By email, any case.
    Email(Email),
    /// By username, any case.
    Username(Username),
}

/// How storage finds one user: by id, or by the lowercase key of an email or
/// username.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum UserLookup {
    /// By id.
    Id(UserId),
    /// By lowercase email.
    EmailKey(String),
    /// By lowercase username.
    UsernameKey(String),
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
        Username::parse(field, id_or_username).map(Self::Username)
    }

    /// Whether this names the caller. Decided from the caller's own record,
    /// without reading anyone else's.
    pub fn names(&self, caller: &User) -> bool {
        match self {
            Self::Caller => true,
            Self::Id(id) => *id == caller.id,
            Self::Email(email) => email.matches(&caller.email),
            Self::Username(username) => caller
                .username
                .as_ref()
                .is_some_and(|own| own.matches(username)),
        }
    }
}

/// GetUser: permission first, then the lookup, so a caller without
/// DISPLAY_USER_ANY never learns whether someone else exists.
pub async fn get_user(
    users: &impl UserDirectory,
    caller: Principal,
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
        UserSelector::Caller => return Ok(caller.user),
        UserSelector::Id(id) => UserLookup::Id(id),
        UserSelector::Email(email) => UserLookup::EmailKey(email.key()),
        UserSelector::Username(username) => UserLookup::UsernameKey(username.key()),
    };
    users
        .find_user(&lookup, include_deleted)
        .await?
        .ok_or_else(|| DomainError::NotFound("user not found".to_owned()))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::domain::test_support::{principal_with_role, user_with_role};
    use crate::domain::user::Role;

    /// A directory that knows one user and remembers every lookup.
    struct OneUser {
        user: User,
        lookups: Mutex<Vec<UserLookup>>,
    }

    impl UserDirectory for OneUser {
        async fn find_user(
            &self,
            lookup: &UserLookup,
            _include_deleted: bool,
        ) -> Result<Option<User>, DomainError> {
            self.lookups.lock().unwrap().push(lookup.clone());
            Ok((*lookup == UserLookup::Id(self.user.id)).then(|| self.user.clone()))
        }
    }

    fn directory_of(user: User) -> OneUser {
        OneUser {
            user,
            lookups: Mutex::new(Vec::new()),
        }
    }

    fn principal(role: Role) -> Principal {
        principal_with_role(role)
    }

    #[tokio::test]
    async fn ordinary_users_are_refused_others_before_any_lookup() {
        let someone = user_with_role(Role::User);
        let directory = directory_of(someone.clone());
        let caller = principal(Role::User);

        let by_id = get_user(
            &directory,
            caller.clone(),
            UserSelector::Id(someone.id),
            false,
        )
        .await;
        let by_email = get_user(
            &directory,
            caller.clone(),
            UserSelector::Email(someone.email.clone()),
            false,
        )
        .await;

        assert!(matches!(by_id, Err(DomainError::PermissionDenied(_))));
        assert!(matches!(by_email, Err(DomainError::PermissionDenied(_))));
        assert!(
            directory.lookups.lock().unwrap().is_empty(),
            "no lookup may happen"
        );
    }

    #[tokio::test]
    async fn anyone_may_read_their_own_record_by_any_name() {
        let caller = principal(Role::User);
        let directory = directory_of(caller.user.clone());
        let own_email = Email::parse("email", &caller.user.email.as_str().to_uppercase()).unwrap();

        let me = get_user(&directory, caller.clone(), UserSelector::Caller, false)
            .await
            .unwrap();
        let by_email = get_user(
            &directory,
            caller.clone(),
            UserSelector::Email(own_email),
            false,
        )
        .await;

        assert_eq!(me.id, caller.user.id);
        assert!(!matches!(by_email, Err(DomainError::PermissionDenied(_))));
    }

    #[tokio::test]
    async fn tombstones_need_display_user_any() {
        let caller = principal(Role::User);
        let directory = directory_of(caller.user.clone());

        let refused = get_user(&directory, caller.clone(), UserSelector::Caller, true).await;
        let admin = principal(Role::Admin);
        let allowed = get_user(&directory, admin, UserSelector::Id(caller.user.id), true).await;

        assert!(matches!(refused, Err(DomainError::PermissionDenied(_))));
        assert_eq!(allowed.unwrap().id, caller.user.id);
    }

    #[tokio::test]
    async fn an_unknown_user_is_not_found_for_admins() {
        let directory = directory_of(user_with_role(Role::User));

        let missing = get_user(
            &directory,
            principal(Role::Admin),
            UserSelector::Id(UserId::generate()),
            false,
        )
        .await;

        assert!(matches!(missing, Err(DomainError::NotFound(_))));
    }

    #[test]
    fn resource_names_resolve_to_ids_or_usernames() {
        let id = "0190c7d6-4c1e-7b3a-9f00-000000000001";
        assert_eq!(
            UserSelector::from_resource_name("name", &format!("users/{id}")).unwrap(),
            UserSelector::Id(UserId(uuid::Uuid::parse_str(id).unwrap()))
        );
        assert_eq!(
            UserSelector::from_resource_name("name", "users/alice").unwrap(),
            UserSelector::Username(Username::parse("username", "alice").unwrap())
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
