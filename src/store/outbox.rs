//! The webhook outbox: events written in their change's transaction, one
//! row per webhook, and the claims dispatchers take on them. A claim is a
//! lease: the row's due time moves past the delivery's timeout, so a
//! process that dies mid-delivery leaves the row to be retried, and a row
//! is claimed by one process at a time (`FOR UPDATE SKIP LOCKED` on
//! PostgreSQL and MySQL; SQLite's single writer serializes claims).
use sea_orm::sea_query::{Expr, ExprTrait as _, LockBehavior, LockType};
use sea_orm::{
    ActiveValue::Set, ColumnTrait as _, ConnectionTrait, EntityTrait as _, QueryFilter as _,
    QueryOrder as _, QuerySelect as _,
};

use super::Store;
use super::entity::{user_webhook, webhook_delivery};
use crate::domain::DomainError;
use crate::domain::clock::EpochMillis;
use crate::domain::events::OutboxEvent;
use crate::domain::webhooks::SigningSecret;

const PENDING: i32 = 0;
const DELIVERED: i32 = 1;
const GAVE_UP: i32 = 2;

/// Writes `event` for every webhook of its owner, in the change's
/// transaction. Returns how many deliveries it queued.
pub(crate) async fn enqueue(
    transaction: &impl ConnectionTrait,
    event: &OutboxEvent,
) -> Result<usize, DomainError> {
    let webhooks: Vec<uuid::Uuid> = user_webhook::Entity::find()
        .select_only()
        .column(user_webhook::Column::Id)
        .filter(user_webhook::Column::UserId.eq(event.owner.0))
        .into_tuple()
        .all(transaction)
        .await?;
    if webhooks.is_empty() {
        return Ok(0);
    }
    let payload = String::from_utf8_lossy(&event.payload).into_owned();
    let rows = webhooks
        .iter()
        .map(|webhook| webhook_delivery::ActiveModel {
            event_id: Set(event.id),
            webhook_id: Set(*webhook),
            event_type: Set(event.kind.name().to_owned()),
            payload: Set(payload.clone()),
            state: Set(PENDING),
            attempts: Set(0),
            next_attempt_at: Set(event.at.0),
            last_error: Set(None),
            created_at: Set(event.at.0),
            delivered_at: Set(None),
        });
    webhook_delivery::Entity::insert_many(rows)
        .exec_without_returning(transaction)
        .await?;
    Ok(webhooks.len())
}

/// A delivery this process has claimed.
#[derive(Clone, Debug)]
pub struct ClaimedDelivery {
    /// The event id (`webhook-id`).
    pub event_id: uuid::Uuid,
    /// The webhook.
    pub webhook_id: uuid::Uuid,
    /// The JSON body.
    pub payload: String,
    /// This attempt's number, from 1.
    pub attempt: i32,
    /// Where to POST.
    pub url: String,
    /// What to sign with.
    pub secret: SigningSecret,
}

/// How an attempt ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The receiver answered 2xx.
    Delivered,
    /// Failed; try again at this time.
    RetryAt(EpochMillis, String),
    /// Failed for the last time.
    GiveUp(String),
}

impl Store {
    /// Claims up to `limit` due deliveries until `now + lease_millis`.
    /// Deliveries whose webhook was deleted are given up here.
    pub async fn claim_deliveries(
        &self,
        now: EpochMillis,
        lease_millis: i64,
        limit: u64,
    ) -> Result<Vec<ClaimedDelivery>, DomainError> {
        use webhook_delivery::Column;
        // Most polls find nothing: ask a reader first, so an idle
        // dispatcher never takes SQLite's write lock.
        let any_due = webhook_delivery::Entity::find()
            .select_only()
            .column(Column::EventId)
            .filter(Column::State.eq(PENDING))
            .filter(Column::NextAttemptAt.lte(now.0))
            .limit(1)
            .into_tuple::<uuid::Uuid>()
            .one(self.reader())
            .await?;
        if any_due.is_none() {
            return Ok(Vec::new());
        }
        let transaction = self.begin_write().await?;
        let due = webhook_delivery::Entity::find()
            .filter(Column::State.eq(PENDING))
            .filter(Column::NextAttemptAt.lte(now.0))
            .order_by_asc(Column::NextAttemptAt)
            .limit(limit)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .all(&transaction)
            .await?;
        if due.is_empty() {
            transaction.rollback().await?;
            return Ok(Vec::new());
        }
        let webhooks = user_webhook::Entity::find()
            .filter(user_webhook::Column::Id.is_in(due.iter().map(|row| row.webhook_id)))
            .all(&transaction)
            .await?;
        let mut claimed = Vec::with_capacity(due.len());
        for row in due {
            let filter = Column::EventId
                .eq(row.event_id)
                .and(Column::WebhookId.eq(row.webhook_id));
            let Some(webhook) = webhooks.iter().find(|webhook| webhook.id == row.webhook_id) else {
                webhook_delivery::Entity::update_many()
                    .col_expr(Column::State, Expr::value(GAVE_UP))
                    .col_expr(Column::LastError, Expr::value("the webhook was deleted"))
                    .filter(filter)
                    .exec(&transaction)
                    .await?;
                continue;
            };
            webhook_delivery::Entity::update_many()
                .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
                .col_expr(Column::NextAttemptAt, Expr::value(now.0 + lease_millis))
                .filter(filter)
                .exec(&transaction)
                .await?;
            claimed.push(ClaimedDelivery {
                event_id: row.event_id,
                webhook_id: row.webhook_id,
                payload: row.payload,
                attempt: row.attempts + 1,
                url: webhook.url.clone(),
                secret: SigningSecret::from_storage(webhook.signing_secret.clone()),
            });
        }
        transaction.commit().await?;
        Ok(claimed)
    }

    /// Records how the claimed attempt `delivery.attempt` ended; a row
    /// claimed again since (its lease ran out) is left to the new claim.
    pub async fn finish_delivery(
        &self,
        delivery: &ClaimedDelivery,
        outcome: &AttemptOutcome,
        now: EpochMillis,
    ) -> Result<(), DomainError> {
        use webhook_delivery::Column;
        let mut update = webhook_delivery::Entity::update_many();
        update = match outcome {
            AttemptOutcome::Delivered => update
                .col_expr(Column::State, Expr::value(DELIVERED))
                .col_expr(Column::DeliveredAt, Expr::value(now.0)),
            AttemptOutcome::RetryAt(at, error) => update
                .col_expr(Column::NextAttemptAt, Expr::value(at.0))
                .col_expr(Column::LastError, Expr::value(truncate(error))),
            AttemptOutcome::GiveUp(error) => update
                .col_expr(Column::State, Expr::value(GAVE_UP))
                .col_expr(Column::LastError, Expr::value(truncate(error))),
        };
        update
            .filter(Column::EventId.eq(delivery.event_id))
            .filter(Column::WebhookId.eq(delivery.webhook_id))
            .filter(Column::Attempts.eq(delivery.attempt))
            .filter(Column::State.eq(PENDING))
            .exec(self.writer())
            .await?;
        Ok(())
    }
}

fn truncate(error: &str) -> String {
    error.chars().take(255).collect()
}
