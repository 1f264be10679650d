use sea_orm_migration::prelude::*;

use super::m20261123_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

/// Notifications, listed per recipient newest first through
/// `(user_id, created_at, id)`; `status` and `kind` filters narrow that
/// range.
#[derive(DeriveIden)]
enum UserNotifications {
    Table,
    Id,
    UserId,
    SenderId,
    Status,
    Kind,
    MemoId,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UserNotifications::Table)
                    .col(
                        ColumnDef::new(UserNotifications::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(UserNotifications::UserId).uuid().not_null())
                    .col(ColumnDef::new(UserNotifications::SenderId).uuid().null())
                    .col(
                        ColumnDef::new(UserNotifications::Status)
                            .integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(UserNotifications::Kind).integer().not_null())
                    .col(ColumnDef::new(UserNotifications::MemoId).uuid().null())
                    .col(
                        ColumnDef::new(UserNotifications::CreatedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(UserNotifications::UpdatedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_notifications_user")
                            .from(UserNotifications::Table, UserNotifications::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_user_notifications_recipient_order")
                    .table(UserNotifications::Table)
                    .col(UserNotifications::UserId)
                    .col(UserNotifications::CreatedAt)
                    .col(UserNotifications::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UserNotifications::Table).to_owned())
            .await
    }
}
