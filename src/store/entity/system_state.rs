//! `system_state`: one row (id 1) once the system is initialized. Its
//! primary key is what makes bootstrap atomic across processes.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "system_state")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i32,
    pub root_user_id: Uuid,
    pub initialized_at: i64,
    /// The credential `roster reset-root-key` replaces; `None` when the
    /// first user was made without one.
    pub root_credential_id: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
