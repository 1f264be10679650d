use sea_orm_migration::prelude::*;

use super::m20261123_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

/// Webhooks, listed per owner oldest first through
/// `(user_id, created_at, id)`. The signing secret is kept as is: the
/// server signs with it, so a hash would not do.
#[derive(DeriveIden)]
enum UserWebhooks {
    Table,
    Id,
    UserId,
    Url,
    DisplayName,
    SigningSecret,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UserWebhooks::Table)
                    .col(
                        ColumnDef::new(UserWebhooks::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(UserWebhooks::UserId).uuid().not_null())
                    .col(
                        ColumnDef::new(UserWebhooks::Url)
                            .string_len(2048)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(UserWebhooks::DisplayName)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(UserWebhooks::SigningSecret)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(UserWebhooks::CreatedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(UserWebhooks::UpdatedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_webhooks_user")
                            .from(UserWebhooks::Table, UserWebhooks::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_user_webhooks_owner_order")
                    .table(UserWebhooks::Table)
                    .col(UserWebhooks::UserId)
                    .col(UserWebhooks::CreatedAt)
                    .col(UserWebhooks::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UserWebhooks::Table).to_owned())
            .await
    }
}
