//! Values for the domain's unit tests.
use super::clock::EpochMillis;
use super::credential::CredentialKind;
use super::principal::{CredentialInUse, Principal};
use super::user::{Email, Role, User, UserId, UserState, Username};

/// A live, active user with `role` and a unique username and email.
pub(crate) fn user_with_role(role: Role) -> User {
    let id = UserId::generate();
    let name = format!("u{}", id.0.simple());
    User {
        id,
        email: Email::parse("email", &format!("{name}@example.com")).unwrap(),
        username: Some(Username::parse("username", &name[..30]).unwrap()),
        display_name: name.clone(),
        role,
        state: UserState::Normal,
        avatar_url: String::new(),
        description: String::new(),
        labels: Default::default(),
        version: 1,
        created_at: EpochMillis(0),
        updated_at: EpochMillis(0),
        deleted_at: None,
        created_by: None,
        updated_by: None,
        deleted_by: None,
    }
}

/// A caller of `role`, signed in with a personal access token.
pub(crate) fn principal_with_role(role: Role) -> Principal {
    Principal {
        user: user_with_role(role),
        credential: CredentialInUse {
            id: uuid::Uuid::now_v7(),
            kind: CredentialKind::PersonalAccessToken,
        },
        scopes: None,
    }
}
