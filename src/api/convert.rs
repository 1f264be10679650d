//! Conversions between proto messages and domain types. Incoming requests
//! are destructured field by field, so a new proto field is a compile error
//! here until it is handled.
use crate::domain::DomainError;
use crate::domain::clock::EpochMillis;
use crate::domain::create_user::CreateUserInput;
use crate::domain::field_mask::FieldMask;
use crate::domain::instance::{InstanceSettings, SettingsChange};
use crate::domain::list_users::ListUsersInput;
use crate::domain::profile::UserFields;
use crate::domain::tokens::TokenInfo;
use crate::domain::update_user::UpdateUserInput;
use crate::domain::user::{Email, Role, User, UserId, UserState, Username};
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

/// A request's `update_mask` as the domain reads it; absent is empty.
pub fn field_mask(mask: Option<prost_types::FieldMask>) -> FieldMask {
    FieldMask(mask.map(|mask| mask.paths).unwrap_or_default())
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

/// The settable fields of a request's `User`, and its `name` and `etag`.
/// Output-only fields a client sends back are ignored, as AIP-203 asks.
pub fn user_fields(user: Option<pb::User>) -> (UserFields, String, String) {
    let pb::User {
        user_id: _,
        email,
        display_name,
        username,
        created_at: _,
        updated_at: _,
        name,
        role,
        state,
        avatar_url,
        description,
        password,
        labels,
        etag,
        deleted_at: _,
        created_by_id: _,
        updated_by_id: _,
        deleted_by_id: _,
    } = user.unwrap_or_default();
    let fields = UserFields {
        email,
        username,
        display_name,
        avatar_url,
        description,
        labels: labels.into_iter().collect(),
        password,
        role,
        state,
    };
    (fields, name, etag)
}

/// The set-up code is read by the handler, which checks it against this
/// process's code; the domain sees only whether it matched.
impl From<pb::CreateUserRequest> for CreateUserInput {
    fn from(request: pb::CreateUserRequest) -> Self {
        let pb::CreateUserRequest {
            user,
            user_id,
            validate_only,
            request_id,
            setup_code: _,
        } = request;
        let (fields, _name, _etag) = user_fields(user);
        Self {
            fields,
            user_id,
            validate_only,
            request_id,
        }
    }
}

impl From<pb::UpdateUserRequest> for UpdateUserInput {
    fn from(request: pb::UpdateUserRequest) -> Self {
        let pb::UpdateUserRequest {
            user,
            update_mask,
            allow_missing,
        } = request;
        let (fields, name, etag) = user_fields(user);
        Self {
            name,
            etag,
            fields,
            mask: field_mask(update_mask),
            allow_missing,
        }
    }
}

impl From<pb::ListUsersRequest> for ListUsersInput {
    fn from(request: pb::ListUsersRequest) -> Self {
        let pb::ListUsersRequest {
            page_size,
            page_token,
            filter,
            show_deleted,
        } = request;
        Self {
            page_size,
            page_token,
            filter,
            show_deleted,
        }
    }
}

/// The user a DeleteUser request names: `user_id`, else `name`.
pub fn delete_target(request: &pb::DeleteUserRequest) -> Result<UserId, DomainError> {
    if !request.user_id.is_empty() {
        return UserId::from_bytes("user_id", &request.user_id);
    }
    if request.name.is_empty() {
        return Err(DomainError::invalid("user_id", "set user_id or name"));
    }
    match UserSelector::from_resource_name("name", &request.name)? {
        UserSelector::Id(id) => Ok(id),
        _ => Err(DomainError::invalid("name", "must look like users/{uuid}")),
    }
}

impl From<InstanceSettings> for pb::InstanceSettings {
    fn from(settings: InstanceSettings) -> Self {
        let InstanceSettings {
            allow_registration,
            session_lifetime_seconds,
            updated_at,
            updated_by: _,
        } = settings;
        Self {
            allow_registration,
            session_lifetime_seconds,
            updated_at: updated_at.map(timestamp),
        }
    }
}

impl From<pb::UpdateInstanceSettingsRequest> for SettingsChange {
    fn from(request: pb::UpdateInstanceSettingsRequest) -> Self {
        let pb::UpdateInstanceSettingsRequest {
            settings,
            update_mask,
        } = request;
        let pb::InstanceSettings {
            allow_registration,
            session_lifetime_seconds,
            updated_at: _,
        } = settings.unwrap_or_default();
        Self {
            allow_registration,
            session_lifetime_seconds,
            mask: field_mask(update_mask),
        }
    }
}

/// A token's metadata as the API shows it (never the token itself).
pub fn token_message(token: TokenInfo, now: EpochMillis) -> pb::PersonalAccessToken {
    let expired = token.expired(now);
    let name = token.name();
    let TokenInfo {
        id: _,
        user_id: _,
        description,
        scopes,
        created_at,
        expires_at,
        last_used_at,
    } = token;
    pb::PersonalAccessToken {
        name,
        description,
        scopes: scopes
            .unwrap_or_default()
            .into_iter()
            .map(|scope| scope.name().to_owned())
            .collect(),
        created_at: Some(timestamp(created_at)),
        expires_at: expires_at.map(timestamp),
        last_used_at: last_used_at.map(timestamp),
        expired,
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
