//! ListUsers: keyset pagination with opaque page tokens bound to their
//! query, and CEL filters translated to SQL by the store.
use sha2::{Digest as _, Sha256};

use super::DomainError;
use super::clock::EpochMillis;
use super::permission::Permission;
use super::ports::{ListPosition, UserCatalog, UserListQuery};
use super::principal::Principal;
use super::user::{User, UserId};
use super::user_filter::UserFilter;

/// Page size when the request names none.
pub const DEFAULT_PAGE_SIZE: u64 = 50;
/// Largest page; larger requests are clamped.
pub const MAX_PAGE_SIZE: u64 = 1000;

/// A ListUsers request, unchecked.
#[derive(Clone, Debug, Default)]
pub struct ListUsersInput {
    /// Requested page size; 0 for the default.
    pub page_size: i32,
    /// The previous page's token; empty for the first page.
    pub page_token: String,
    /// CEL filter; empty for none.
    pub filter: String,
    /// Include tombstones.
    pub show_deleted: bool,
}

/// One page.
#[derive(Clone, Debug)]
pub struct UserPage {
    /// The users, in (created_at, id) order.
    pub users: Vec<User>,
    /// The token of the next page; empty on the last.
    pub next_page_token: String,
    /// How many users match in all.
    pub total_size: u64,
}

/// ListUsers.
pub async fn list_users(
    store: &impl UserCatalog,
    caller: &Principal,
    input: ListUsersInput,
) -> Result<UserPage, DomainError> {
    caller.require(Permission::ListUser)?;
    if input.show_deleted {
        caller.require(Permission::DisplayUserAny)?;
    }
    let limit = match u64::try_from(input.page_size) {
        Ok(0) => DEFAULT_PAGE_SIZE,
        Ok(size) => size.min(MAX_PAGE_SIZE),
        Err(_) => return Err(DomainError::invalid("page_size", "must not be negative")),
    };
    let filter = UserFilter::parse(&input.filter)?;
    let query_tag = query_tag(&input.filter, input.show_deleted);
    let after = if input.page_token.is_empty() {
        None
    } else {
        Some(PageToken::decode(&input.page_token, query_tag)?)
    };
    let query = UserListQuery {
        filter,
        show_deleted: input.show_deleted,
        after,
        limit: limit + 1,
    };
    let mut users = store.list_users(&query).await?;
    let next_page_token = if users.len() as u64 > limit {
        users.truncate(limit as usize);
        users.last().map_or_else(String::new, |last| {
            PageToken::encode(
                ListPosition {
                    created_at: last.created_at,
                    id: last.id,
                },
                query_tag,
            )
        })
    } else {
        String::new()
    };
    // Counting every match would make a page cost more as the table grows.
    let total_size = match &query.filter {
        None => store.count_users(input.show_deleted).await?,
        Some(_) if query.after.is_none() && next_page_token.is_empty() => users.len() as u64,
        Some(filter) => store.estimate_matches(filter, input.show_deleted).await?,
    };
    Ok(UserPage {
        users,
        next_page_token,
        total_size,
    })
}

/// The first 8 bytes of a SHA-256 of what the token is bound to.
fn query_tag(filter: &str, show_deleted: bool) -> [u8; 8] {
    let mut hasher = Sha256::new();
    hasher.update([u8::from(show_deleted)]);
    hasher.update(filter.trim().as_bytes());
    let digest = hasher.finalize();
    let mut tag = [0u8; 8];
    tag.copy_from_slice(&digest[..8]);
    tag
}

/// `version | created_at | id | query tag`, base64url without padding.
/// Not a secret: it only says where the last page ended.
struct PageToken;

impl PageToken {
    const VERSION: u8 = 1;
    const LENGTH: usize = 1 + 8 + 16 + 8;

    fn encode(position: ListPosition, tag: [u8; 8]) -> String {
        let mut bytes = Vec::with_capacity(Self::LENGTH);
        bytes.push(Self::VERSION);
        bytes.extend_from_slice(&position.created_at.0.to_be_bytes());
        bytes.extend_from_slice(position.id.0.as_bytes());
        bytes.extend_from_slice(&tag);
        data_encoding::BASE64URL_NOPAD.encode(&bytes)
    }

    fn decode(token: &str, tag: [u8; 8]) -> Result<ListPosition, DomainError> {
        let malformed = || DomainError::invalid("page_token", "is not a token this server issued");
        let bytes = data_encoding::BASE64URL_NOPAD
            .decode(token.as_bytes())
            .map_err(|_| malformed())?;
        if bytes.len() != Self::LENGTH || bytes[0] != Self::VERSION {
            return Err(malformed());
        }
        if bytes[25..] != tag {
            return Err(DomainError::invalid(
                "page_token",
                "was issued for a different filter or show_deleted; start again without a token",
            ));
        }
        let created_at = i64::from_be_bytes(bytes[1..9].try_into().map_err(|_| malformed())?);
        let id = uuid::Uuid::from_slice(&bytes[9..25]).map_err(|_| malformed())?;
        Ok(ListPosition {
            created_at: EpochMillis(created_at),
            id: UserId(id),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_are_bound_to_their_query() {
        let position = ListPosition {
            created_at: EpochMillis(1_800_000_000_123),
            id: UserId::generate(),
        };
        let tag = query_tag("username == \"a\"", false);
        let token = PageToken::encode(position, tag);

        assert_eq!(PageToken::decode(&token, tag).unwrap(), position);
        let other = query_tag("username == \"b\"", false);
        assert!(PageToken::decode(&token, other).is_err());
        assert!(PageToken::decode(&token, query_tag("username == \"a\"", true)).is_err());
        for garbage in ["", "abc", "!!!!", &token[1..]] {
            assert!(PageToken::decode(garbage, tag).is_err(), "{garbage}");
        }
    }
}
