//! Memos, their tags, and the notifications comments cause.
use std::collections::HashMap;

use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, Condition, ConnectionTrait, EntityTrait as _,
    QueryFilter as _, QueryOrder as _, QuerySelect as _,
};

use super::entity::{memo, memo_tag};
use super::{Store, keyset, notifications, outbox};
use crate::domain::DomainError;
use crate::domain::clock::EpochMillis;
use crate::domain::events::OutboxEvent;
use crate::domain::memo_facts::MemoFacts;
use crate::domain::memos::Memo;
use crate::domain::notifications::Notification;
use crate::domain::page_token::Position;
use crate::domain::ports::MemoStore;
use crate::domain::user::UserId;
use crate::domain::visibility::Visibility;

fn row(memo: &Memo) -> memo::ActiveModel {
    memo::ActiveModel {
        id: Set(memo.id),
        creator_id: Set(memo.creator.0),
        parent_id: Set(memo.parent),
        content: Set(memo.content.clone()),
        visibility: Set(memo.visibility.number()),
        pinned: Set(memo.pinned),
        has_link: Set(memo.facts.has_link),
        has_code: Set(memo.facts.has_code),
        has_task_list: Set(memo.facts.has_task_list),
        has_incomplete_tasks: Set(memo.facts.has_incomplete_tasks),
        created_at: Set(memo.created_at.0),
        updated_at: Set(memo.updated_at.0),
        deleted_at: Set(None),
    }
}

async fn insert_tags(connection: &impl ConnectionTrait, memo: &Memo) -> Result<(), DomainError> {
    if memo.facts.tags.is_empty() {
        return Ok(());
    }
    let rows = memo
        .facts
        .tags
        .iter()
        .enumerate()
        .map(|(position, tag)| memo_tag::ActiveModel {
            memo_id: Set(memo.id),
            tag: Set(tag.clone()),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
        });
    memo_tag::Entity::insert_many(rows)
        .exec_without_returning(connection)
        .await?;
    Ok(())
}

/// Rows and their tags as domain memos, in the rows' order.
async fn into_domain(
    connection: &impl ConnectionTrait,
    rows: Vec<memo::Model>,
) -> Result<Vec<Memo>, DomainError> {
    let ids: Vec<uuid::Uuid> = rows.iter().map(|row| row.id).collect();
    let mut tags: HashMap<uuid::Uuid, Vec<String>> = HashMap::new();
    if !ids.is_empty() {
        for tag in memo_tag::Entity::find()
            .filter(memo_tag::Column::MemoId.is_in(ids))
            .order_by_asc(memo_tag::Column::MemoId)
            .order_by_asc(memo_tag::Column::Position)
            .all(connection)
            .await?
        {
            tags.entry(tag.memo_id).or_default().push(tag.tag);
        }
    }
    rows.into_iter()
        .map(|row| {
            let visibility = Visibility::from_number(row.visibility).ok_or_else(|| {
                DomainError::internal(anyhow::anyhow!(
                    "memo {} has a stored visibility {} no visibility has",
                    row.id,
                    row.visibility
                ))
            })?;
            Ok(Memo {
                id: row.id,
                creator: UserId(row.creator_id),
                parent: row.parent_id,
                facts: MemoFacts {
                    has_link: row.has_link,
                    has_code: row.has_code,
                    has_task_list: row.has_task_list,
                    has_incomplete_tasks: row.has_incomplete_tasks,
                    tags: tags.remove(&row.id).unwrap_or_default(),
                },
                content: row.content,
                visibility,
                pinned: row.pinned,
                created_at: EpochMillis(row.created_at),
                updated_at: EpochMillis(row.updated_at),
            })
        })
        .collect()
}

impl MemoStore for Store {
    async fn create_memo(
        &self,
        memo: &Memo,
        notification: Option<&Notification>,
        event: &OutboxEvent,
    ) -> Result<(), DomainError> {
        let transaction = self.begin_write().await?;
        memo::Entity::insert(row(memo))
            .exec_without_returning(&transaction)
            .await?;
        insert_tags(&transaction, memo).await?;
        if let Some(notification) = notification {
            notifications::insert(&transaction, notification).await?;
        }
        let queued = outbox::enqueue(&transaction, event).await?;
        transaction.commit().await?;
        self.signal_outbox(queued);
        Ok(())
    }

    async fn find_memo(&self, id: uuid::Uuid) -> Result<Option<Memo>, DomainError> {
        let rows = memo::Entity::find_by_id(id)
            .filter(memo::Column::DeletedAt.is_null())
            .all(self.writer())
            .await?;
        Ok(into_domain(self.writer(), rows).await?.pop())
    }

    async fn list_memos(
        &self,
        creator: UserId,
        include_private: bool,
        after: Option<Position>,
        limit: u64,
    ) -> Result<Vec<Memo>, DomainError> {
        use memo::Column;
        let mut select = memo::Entity::find()
            .filter(Column::CreatorId.eq(creator.0))
            .filter(Column::ParentId.is_null())
            .filter(Column::DeletedAt.is_null());
        if !include_private {
            select = select.filter(Column::Visibility.ne(Visibility::Private.number()));
        }
        if let Some(after) = after {
            select = select.filter(keyset::older_than(Column::CreatedAt, Column::Id, after));
        }
        let rows = select
            .order_by_desc(Column::CreatedAt)
            .order_by_desc(Column::Id)
            .limit(limit)
            .all(self.reader())
            .await?;
        into_domain(self.reader(), rows).await
    }

    async fn list_comments(
        &self,
        parent: uuid::Uuid,
        after: Option<Position>,
        limit: u64,
    ) -> Result<Vec<Memo>, DomainError> {
        use memo::Column;
        let mut select = memo::Entity::find()
            .filter(Column::ParentId.eq(parent))
            .filter(Column::DeletedAt.is_null());
        if let Some(after) = after {
            select = select.filter(keyset::newer_than(Column::CreatedAt, Column::Id, after));
        }
        let rows = select
            .order_by_asc(Column::CreatedAt)
            .order_by_asc(Column::Id)
            .limit(limit)
            .all(self.reader())
            .await?;
        into_domain(self.reader(), rows).await
    }

    async fn update_memo(&self, memo: &Memo, event: &OutboxEvent) -> Result<bool, DomainError> {
        use memo::Column;
        let transaction = self.begin_write().await?;
        let updated = memo::Entity::update_many()
            .col_expr(Column::Content, Expr::value(memo.content.as_str()))
            .col_expr(Column::Visibility, Expr::value(memo.visibility.number()))
            .col_expr(Column::Pinned, Expr::value(memo.pinned))
            .col_expr(Column::HasLink, Expr::value(memo.facts.has_link))
            .col_expr(Column::HasCode, Expr::value(memo.facts.has_code))
            .col_expr(Column::HasTaskList, Expr::value(memo.facts.has_task_list))
            .col_expr(
                Column::HasIncompleteTasks,
                Expr::value(memo.facts.has_incomplete_tasks),
            )
            .col_expr(Column::UpdatedAt, Expr::value(memo.updated_at.0))
            .filter(Column::Id.eq(memo.id))
            .filter(Column::DeletedAt.is_null())
            .exec(&transaction)
            .await?
            .rows_affected;
        if updated == 0 {
            transaction.rollback().await?;
            return Ok(false);
        }
        memo_tag::Entity::delete_many()
            .filter(memo_tag::Column::MemoId.eq(memo.id))
            .exec(&transaction)
            .await?;
        insert_tags(&transaction, memo).await?;
        if memo.parent.is_none() {
            // Comments are read by their memo's visibility.
            memo::Entity::update_many()
                .col_expr(Column::Visibility, Expr::value(memo.visibility.number()))
                .filter(Column::ParentId.eq(memo.id))
                .exec(&transaction)
                .await?;
        }
        let queued = outbox::enqueue(&transaction, event).await?;
        transaction.commit().await?;
        self.signal_outbox(queued);
        Ok(true)
    }

    async fn delete_memo(
        &self,
        id: uuid::Uuid,
        now: EpochMillis,
        event: &OutboxEvent,
    ) -> Result<bool, DomainError> {
        use memo::Column;
        let transaction = self.begin_write().await?;
        let deleted = memo::Entity::update_many()
            .col_expr(Column::DeletedAt, Expr::value(now.0))
            .filter(
                Condition::any()
                    .add(Column::Id.eq(id))
                    .add(Column::ParentId.eq(id)),
            )
            .filter(Column::DeletedAt.is_null())
            .exec(&transaction)
            .await?
            .rows_affected;
        if deleted == 0 {
            transaction.rollback().await?;
            return Ok(false);
        }
        let queued = outbox::enqueue(&transaction, event).await?;
        transaction.commit().await?;
        self.signal_outbox(queued);
        Ok(true)
    }
}

impl Store {
    fn signal_outbox(&self, queued: usize) {
        if queued > 0 {
            self.outbox_signal().notify_one();
        }
    }
}
