//! `user_notifications`: what a user should know about.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "user_notifications")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    /// The recipient.
    pub user_id: Uuid,
    pub sender_id: Option<Uuid>,
    /// 1 = UNREAD, 2 = ARCHIVED.
    pub status: i32,
    /// 1 = MEMO_COMMENT.
    pub kind: i32,
    pub memo_id: Option<Uuid>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
