//! `sign_in_failures`: failed sign-ins per throttle key, in fixed windows.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sign_in_failures")]
pub struct Model {
    /// `username:…`, `email:…` or `address:…`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub throttle_key: String,
    pub window_started_at: i64,
    pub failures: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
