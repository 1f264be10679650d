//! User statistics: aggregates over a user's memos that are not comments
//! and not deleted, as the caller may see them (all for oneself; PUBLIC and
//! PROTECTED for others). The store computes them in SQL; nothing here
//! loads memos.
use std::collections::BTreeMap;

use super::DomainError;
use super::clock::EpochMillis;
use super::ownership::{parse_owner, require_live_owner, require_on};
use super::page_token::{self, Position};
use super::permission::Permission;
use super::ports::{ListPosition, StatsStore, UserCatalog, UserDirectory, UserListQuery};
use super::principal::Principal;
use super::user::UserId;

/// Most display times reported per user, newest first.
pub const MAX_DISPLAY_TIMES: u64 = 10_000;

/// One user's statistics.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserStats {
    /// Whose.
    pub user: UserId,
    /// How many memos.
    pub total: u64,
    /// Memos with a link.
    pub with_link: u64,
    /// Memos with code.
    pub with_code: u64,
    /// Memos with a task list.
    pub with_task_list: u64,
    /// Memos with an unchecked task.
    pub with_incomplete_tasks: u64,
    /// Tag → memos carrying it.
    pub tags: BTreeMap<String, u64>,
    /// Pinned memo ids, newest first.
    pub pinned: Vec<uuid::Uuid>,
    /// Display times, newest first, at most [`MAX_DISPLAY_TIMES`].
    pub display_times: Vec<EpochMillis>,
}

impl UserStats {
    /// The statistics of a user with no memos the viewer may see.
    pub fn empty(user: UserId) -> Self {
        Self {
            user,
            total: 0,
            with_link: 0,
            with_code: 0,
            with_task_list: 0,
            with_incomplete_tasks: 0,
            tags: BTreeMap::new(),
            pinned: Vec::new(),
            display_times: Vec::new(),
        }
    }
}

/// GetUserStats.
pub async fn get_user_stats(
    store: &(impl UserDirectory + StatsStore),
    caller: &Principal,
    name: &str,
) -> Result<UserStats, DomainError> {
    let user = parse_owner("name", name)?;
    require_on(
        caller,
        user,
        Permission::DisplayStatsOwn,
        Permission::DisplayStatsAny,
    )?;
    require_live_owner(store, caller, user).await?;
    let mut stats = store.user_stats(&[user], caller.user.id).await?;
    Ok(stats.pop().unwrap_or_else(|| UserStats::empty(user)))
}

/// A page of statistics.
#[derive(Clone, Debug)]
pub struct StatsPage {
    /// One per user, in ListUsers order.
    pub stats: Vec<UserStats>,
    /// The next page's token; empty on the last.
    pub next_page_token: String,
}

/// ListAllUserStats: live users in (created_at, id) order, a page at a
/// time, each page's statistics in one set of grouped queries.
pub async fn list_all_user_stats(
    store: &(impl UserCatalog + StatsStore),
    caller: &Principal,
    page_size: i32,
    page_token_text: &str,
) -> Result<StatsPage, DomainError> {
    caller.require(Permission::DisplayStatsAny)?;
    let limit = page_token::page_size(page_size)?;
    let tag = page_token::query_tag(&[b"all-user-stats"]);
    let after = page_token::decode(page_token_text, tag)?;
    let mut users = store
        .list_users(&UserListQuery {
            filter: None,
            show_deleted: false,
            after: after.map(|position| ListPosition {
                created_at: position.at,
                id: UserId(position.id),
            }),
            limit: limit + 1,
        })
        .await?;
    let next_page_token = page_token::finish_page(&mut users, limit, tag, |last| Position {
        at: last.created_at,
        id: last.id.0,
    });
    let ids: Vec<UserId> = users.iter().map(|user| user.id).collect();
    let stats = store.user_stats(&ids, caller.user.id).await?;
    Ok(StatsPage {
        stats,
        next_page_token,
    })
}
