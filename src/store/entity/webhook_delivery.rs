//! `webhook_deliveries`: the outbox, one row per (event, webhook).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "webhook_deliveries")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub event_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub webhook_id: Uuid,
    pub event_type: String,
    /// The JSON body, the same on every attempt.
    pub payload: String,
    /// 0 = pending, 1 = delivered, 2 = given up.
    pub state: i32,
    pub attempts: i32,
    /// Due time; while claimed, the end of the claim's lease.
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub created_at: i64,
    pub delivered_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
