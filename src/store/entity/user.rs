//! `users`: live rows and soft-deleted tombstones.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub email: String,
    /// Lowercase email; unique together with `tombstone`.
    pub email_key: String,
    pub username: Option<String>,
    /// Lowercase username; unique together with `tombstone`.
    pub username_key: Option<String>,
    /// `""` while live, the user's id once deleted: uniqueness holds among
    /// live users only, identically on every backend.
    pub tombstone: String,
    pub display_name: String,
    pub role: i32,
    pub state: i32,
    pub avatar_url: String,
    pub description: String,
    pub password_hash: Option<String>,
    /// The labels as a JSON object, read with the row; `user_labels` holds
    /// the same pairs for indexed filtering.
    pub labels_json: String,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
    pub deleted_at: Option<i64>,
    pub created_by: Option<Uuid>,
    pub updated_by: Option<Uuid>,
    pub deleted_by: Option<Uuid>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::credential::Entity")]
    Credential,
}

impl Related<super::credential::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Credential.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
