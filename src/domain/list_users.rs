//! ListUsers: keyset pagination with opaque page tokens bound to their
//! query, and CEL filters translated to SQL by the store.
use super::DomainError;
use super::page_token;
use super::permission::Permission;
use super::ports::{ListPosition, UserCatalog, UserListQuery};
use super::principal::Principal;
use super::user::{User, UserId};
use super::user_filter::UserFilter;

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
    let limit = page_token::page_size(input.page_size)?;
    let filter = UserFilter::parse(&input.filter)?;
    let tag = page_token::query_tag(&[
        input.filter.trim().as_bytes(),
        &[u8::from(input.show_deleted)],
    ]);
    let after = page_token::decode(&input.page_token, tag)?.map(|position| ListPosition {
        created_at: position.at,
        id: UserId(position.id),
    });
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
            page_token::encode(
                page_token::Position {
                    at: last.created_at,
                    id: last.id.0,
                },
                tag,
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
