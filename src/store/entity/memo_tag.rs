//! `memo_tags`: one row per tag of a memo.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "memo_tags")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub memo_id: Uuid,
    #[sea_orm(primary_key, auto_increment = false)]
    pub tag: String,
    /// Order of first use in the content.
    pub position: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
