//! `memos`: memos and comments, soft-deleted.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "memos")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub creator_id: Uuid,
    /// The memo a comment is on.
    pub parent_id: Option<Uuid>,
    pub content: String,
    /// 1 = PRIVATE, 2 = PROTECTED, 3 = PUBLIC.
    pub visibility: i32,
    pub pinned: bool,
    pub has_link: bool,
    pub has_code: bool,
    pub has_task_list: bool,
    pub has_incomplete_tasks: bool,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
