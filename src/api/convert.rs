//! Conversions between proto messages and domain types. Incoming requests
//! are destructured field by field, so a new proto field is a compile error
//! here until it is handled.
use crate::domain::DomainError;
use crate::domain::clock::EpochMillis;
use crate::domain::user::{Email, Role, User, UserState, Username};
use crate::domain::users::UserSelector;
use crate::proto::goodmem::v1 as pb;

/// A GetUser request in domain terms.
#[derive(Debug)]
pub struct GetUserQuery {
    /// Who is asked for.
    pub selector: UserSelector,
    /// Whether tombstones count.
    pub include_deleted: bool,
}

impl TryFrom<pb::GetUserRequest> for GetUserQuery {
    type Error = DomainError;

    fn try_from(request: pb::GetUserRequest) -> Result<Self, Self::Error> {
        let pb::GetUserRequest {
            user_id,
            email,
            username,
            name,
            include_deleted,
        } = request;
        let selector = if !user_id.is_empty() {
            UserSelector::Id(crate::domain::user::UserId::from_bytes(
                "user_id", &user_id,
            )?)
        } else if !email.is_empty() {
            UserSelector::Email(Email::parse("email", &email)?)
        } else if !username.is_empty() {
            UserSelector::Username(Username::parse("username", &username)?)
        } else if !name.is_empty() {
            UserSelector::from_resource_name("name", &name)?
        } else {
            UserSelector::Caller
        };
        Ok(Self {
            selector,
            include_deleted,
        })
    }
}

/// Epoch milliseconds as a protobuf Timestamp.
pub fn timestamp(at: EpochMillis) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.0.div_euclid(1000),
        // In 0..1e9 by construction, so the cast cannot truncate.
        nanos: (at.0.rem_euclid(1000) * 1_000_000) as i32,
    }
}

fn role(role: Role) -> pb::user::Role {
    match role {
        Role::Root => pb::user::Role::Root,
        Role::Admin => pb::user::Role::Admin,
        Role::User => pb::user::Role::User,
    }
}

fn state(state: UserState) -> pb::user::State {
    match state {
        UserState::Normal => pb::user::State::Normal,
        UserState::Archived => pb::user::State::Archived,
    }
}

impl From<User> for pb::User {
    fn from(user: User) -> Self {
        let etag = user.etag();
        let User {
            id,
            email,
            username,
            display_name,
            role: user_role,
            state: user_state,
            avatar_url,
            description,
            labels,
            version: _,
            created_at,
            updated_at,
            deleted_at,
            created_by,
            updated_by,
            deleted_by,
        } = user;
        let id_bytes = |id: Option<crate::domain::user::UserId>| {
            id.map(|id| id.0.as_bytes().to_vec()).unwrap_or_default()
        };
        pb::User {
            user_id: id.0.as_bytes().to_vec(),
            email: email.into_string(),
            display_name,
            username: username.map(Username::into_string).unwrap_or_default(),
            created_at: Some(timestamp(created_at)),
            updated_at: Some(timestamp(updated_at)),
            name: id.resource_name(),
            role: role(user_role) as i32,
            state: state(user_state) as i32,
            avatar_url,
            description,
            // Never returned: the field exists for input only.
            password: String::new(),
            labels: labels.into_iter().collect(),
            etag,
            deleted_at: deleted_at.map(timestamp),
            created_by_id: id_bytes(created_by),
            updated_by_id: id_bytes(updated_by),
            deleted_by_id: id_bytes(deleted_by),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_keep_milliseconds_including_before_the_epoch() {
        assert_eq!(
            timestamp(EpochMillis(1_732_262_400_123)).seconds,
            1_732_262_400
        );
        assert_eq!(timestamp(EpochMillis(1_732_262_400_123)).nanos, 123_000_000);
        let before = timestamp(EpochMillis(-1));
        assert_eq!((before.seconds, before.nanos), (-1, 999_000_000));
    }

    #[test]
    fn lookup_priority_is_id_then_email_then_username_then_name() {
        let id = uuid::Uuid::now_v7();
        let all = pb::GetUserRequest {
            user_id: id.as_bytes().to_vec(),
            email: "a@b.c".into(),
            username: "bob".into(),
            name: "users/carol".into(),
            include_deleted: false,
        };
        let query = GetUserQuery::try_from(all.clone()).unwrap();
        assert_eq!(
            query.selector,
            UserSelector::Id(crate::domain::user::UserId(id))
        );
        let query = GetUserQuery::try_from(pb::GetUserRequest {
            user_id: vec![],
            ..all.clone()
        })
        .unwrap();
        assert_eq!(
            query.selector,
            UserSelector::Email(Email::parse("email", "a@b.c").unwrap())
        );
        let query = GetUserQuery::try_from(pb::GetUserRequest {
            user_id: vec![],
            email: String::new(),
            ..all.clone()
        })
        .unwrap();
        assert_eq!(
            query.selector,
            UserSelector::Username(Username::parse("username", "bob").unwrap())
        );
        let query = GetUserQuery::try_from(pb::GetUserRequest::default()).unwrap();
        assert_eq!(query.selector, UserSelector::Caller);
    }
}
