//! User statistics as SQL aggregates over `memos` (and `memo_tags`): one
//! grouped query per figure for a whole page of users, plus one bounded
//! query of display times per user. No memo is loaded.
use std::collections::HashMap;

use sea_orm::sea_query::{Alias, Expr};
use sea_orm::{
    ColumnTrait as _, Condition, EntityTrait as _, JoinType, QueryFilter as _, QueryOrder as _,
    QuerySelect as _, RelationDef,
};

use super::Store;
use super::entity::{memo, memo_tag};
use crate::domain::DomainError;
use crate::domain::clock::EpochMillis;
use crate::domain::ports::StatsStore;
use crate::domain::stats::{MAX_DISPLAY_TIMES, UserStats};
use crate::domain::user::UserId;
use crate::domain::visibility::Visibility;

/// Most pinned memos reported per user.
const MAX_PINNED: u64 = 1000;

/// The memos a viewer's statistics count: live memos (not comments) of
/// `users`, all of the viewer's own and the others' PUBLIC and PROTECTED.
fn counted(users: &[UserId], viewer: UserId) -> Condition {
    use memo::Column;
    Condition::all()
        .add(Column::CreatorId.is_in(users.iter().map(|user| user.0)))
        .add(Column::ParentId.is_null())
        .add(Column::DeletedAt.is_null())
        .add(
            Condition::any()
                .add(Column::CreatorId.eq(viewer.0))
                .add(Column::Visibility.ne(Visibility::Private.number())),
        )
}

fn count_where(flag: &str) -> Expr {
    Expr::cust(format!("COUNT(CASE WHEN {flag} THEN 1 END)"))
}

fn tags_to_memos() -> RelationDef {
    memo_tag::Entity::belongs_to(memo::Entity)
        .from(memo_tag::Column::MemoId)
        .to(memo::Column::Id)
        .into()
}

impl StatsStore for Store {
    async fn user_stats(
        &self,
        users: &[UserId],
        viewer: UserId,
    ) -> Result<Vec<UserStats>, DomainError> {
        let empty = || users.iter().map(|user| UserStats::empty(*user)).collect();
        if users.is_empty() {
            return Ok(Vec::new());
        }
        let reader = self.reader();
        let counts: Vec<(uuid::Uuid, i64, i64, i64, i64, i64)> = memo::Entity::find()
            .select_only()
            .column(memo::Column::CreatorId)
            .column_as(Expr::cust("COUNT(*)"), "total")
            .column_as(count_where("has_link"), "with_link")
            .column_as(count_where("has_code"), "with_code")
            .column_as(count_where("has_task_list"), "with_task_list")
            .column_as(count_where("has_incomplete_tasks"), "with_incomplete_tasks")
            .filter(counted(users, viewer))
            .group_by(memo::Column::CreatorId)
            .into_tuple()
            .all(reader)
            .await?;
        let mut stats: HashMap<uuid::Uuid, UserStats> = HashMap::new();
        let count = |number: i64| u64::try_from(number).unwrap_or(0);
        for (creator, total, link, code, tasks, incomplete) in counts {
            stats.insert(
                creator,
                UserStats {
                    total: count(total),
                    with_link: count(link),
                    with_code: count(code),
                    with_task_list: count(tasks),
                    with_incomplete_tasks: count(incomplete),
                    ..UserStats::empty(UserId(creator))
                },
            );
        }
        if stats.is_empty() {
            // Nobody on the page has a memo the viewer may see.
            return Ok(empty());
        }
        let tags: Vec<(uuid::Uuid, String, i64)> = memo_tag::Entity::find()
            .select_only()
            .column_as(
                Expr::col((Alias::new("memos"), Alias::new("creator_id"))),
                "creator_id",
            )
            .column(memo_tag::Column::Tag)
            .column_as(Expr::cust("COUNT(*)"), "memos")
            .join(JoinType::InnerJoin, tags_to_memos())
            .filter(counted(users, viewer))
            .group_by(Expr::col((Alias::new("memos"), Alias::new("creator_id"))))
            .group_by(memo_tag::Column::Tag)
            .into_tuple()
            .all(reader)
            .await?;
        for (creator, tag, memos) in tags {
            if let Some(entry) = stats.get_mut(&creator) {
                entry.tags.insert(tag, count(memos));
            }
        }
        for (creator, entry) in &mut stats {
            let only = [UserId(*creator)];
            let pinned: Vec<uuid::Uuid> = memo::Entity::find()
                .select_only()
                .column(memo::Column::Id)
                .filter(counted(&only, viewer))
                .filter(memo::Column::Pinned.eq(true))
                .order_by_desc(memo::Column::CreatedAt)
                .order_by_desc(memo::Column::Id)
                .limit(MAX_PINNED)
                .into_tuple()
                .all(reader)
                .await?;
            let display_times: Vec<i64> = memo::Entity::find()
                .select_only()
                .column(memo::Column::CreatedAt)
                .filter(counted(&only, viewer))
                .order_by_desc(memo::Column::CreatedAt)
                .order_by_desc(memo::Column::Id)
                .limit(MAX_DISPLAY_TIMES)
                .into_tuple()
                .all(reader)
                .await?;
            entry.pinned = pinned;
            entry.display_times = display_times.into_iter().map(EpochMillis).collect();
        }
        Ok(users
            .iter()
            .map(|user| {
                stats
                    .remove(&user.0)
                    .unwrap_or_else(|| UserStats::empty(*user))
            })
            .collect())
    }
}
