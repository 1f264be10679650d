//! Notifications, per recipient, newest first; filters become SQL.
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, Condition, ConnectionTrait, EntityTrait as _,
    QueryFilter as _, QueryOrder as _, QuerySelect as _,
};

use super::entity::user_notification;
use super::{Store, keyset};
use crate::domain::DomainError;
use crate::domain::clock::EpochMillis;
use crate::domain::notification_filter::NotificationFilter;
use crate::domain::notifications::{Notification, NotificationKind, NotificationStatus};
use crate::domain::page_token::Position;
use crate::domain::ports::NotificationStore;
use crate::domain::user::UserId;

/// Stores a new notification (memo comments call it in their transaction;
/// tests arrange notifications with it).
pub async fn insert(
    connection: &impl ConnectionTrait,
    notification: &Notification,
) -> Result<(), DomainError> {
    user_notification::Entity::insert(user_notification::ActiveModel {
        id: Set(notification.id),
        user_id: Set(notification.recipient.0),
        sender_id: Set(notification.sender.map(|sender| sender.0)),
        status: Set(notification.status.number()),
        kind: Set(notification.kind.number()),
        memo_id: Set(notification.memo),
        created_at: Set(notification.created_at.0),
        updated_at: Set(notification.updated_at.0),
    })
    .exec_without_returning(connection)
    .await?;
    Ok(())
}

fn into_domain(row: user_notification::Model) -> Result<Notification, DomainError> {
    let corrupt = |what: &str, number: i32| {
        DomainError::internal(anyhow::anyhow!(
            "notification {} has a stored {what} {number} the service does not know",
            row.id
        ))
    };
    let status =
        NotificationStatus::from_number(row.status).ok_or_else(|| corrupt("status", row.status))?;
    let kind = NotificationKind::from_number(row.kind).ok_or_else(|| corrupt("kind", row.kind))?;
    Ok(Notification {
        id: row.id,
        recipient: UserId(row.user_id),
        sender: row.sender_id.map(UserId),
        status,
        kind,
        memo: row.memo_id,
        created_at: EpochMillis(row.created_at),
        updated_at: EpochMillis(row.updated_at),
    })
}

/// The condition selecting the notifications `filter` matches.
fn filter_condition(filter: &NotificationFilter) -> Condition {
    use user_notification::Column;
    match filter {
        NotificationFilter::Status { status, equal } => Condition::all().add(if *equal {
            Column::Status.eq(status.number())
        } else {
            Column::Status.ne(status.number())
        }),
        NotificationFilter::Kind { kind, equal } => Condition::all().add(if *equal {
            Column::Kind.eq(kind.number())
        } else {
            Column::Kind.ne(kind.number())
        }),
        NotificationFilter::And(left, right) => Condition::all()
            .add(filter_condition(left))
            .add(filter_condition(right)),
        NotificationFilter::Or(left, right) => Condition::any()
            .add(filter_condition(left))
            .add(filter_condition(right)),
    }
}

impl NotificationStore for Store {
    async fn list_notifications(
        &self,
        recipient: UserId,
        filter: Option<&NotificationFilter>,
        after: Option<Position>,
        limit: u64,
    ) -> Result<Vec<Notification>, DomainError> {
        use user_notification::Column;
        let mut select = user_notification::Entity::find().filter(Column::UserId.eq(recipient.0));
        if let Some(filter) = filter {
            select = select.filter(filter_condition(filter));
        }
        if let Some(after) = after {
            select = select.filter(keyset::older_than(Column::CreatedAt, Column::Id, after));
        }
        select
            .order_by_desc(Column::CreatedAt)
            .order_by_desc(Column::Id)
            .limit(limit)
            .all(self.reader())
            .await?
            .into_iter()
            .map(into_domain)
            .collect()
    }

    async fn set_notification_status(
        &self,
        recipient: UserId,
        id: uuid::Uuid,
        status: NotificationStatus,
        now: EpochMillis,
    ) -> Result<Option<Notification>, DomainError> {
        use user_notification::Column;
        user_notification::Entity::update_many()
            .col_expr(Column::Status, Expr::value(status.number()))
            .col_expr(Column::UpdatedAt, Expr::value(now.0))
            .filter(Column::Id.eq(id))
            .filter(Column::UserId.eq(recipient.0))
            .exec(self.writer())
            .await?;
        user_notification::Entity::find_by_id(id)
            .filter(Column::UserId.eq(recipient.0))
            .one(self.writer())
            .await?
            .map(into_domain)
            .transpose()
    }

    async fn delete_notification(
        &self,
        recipient: UserId,
        id: uuid::Uuid,
    ) -> Result<bool, DomainError> {
        let deleted = user_notification::Entity::delete_many()
            .filter(user_notification::Column::Id.eq(id))
            .filter(user_notification::Column::UserId.eq(recipient.0))
            .exec(self.writer())
            .await?
            .rows_affected;
        Ok(deleted > 0)
    }
}
