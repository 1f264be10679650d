use sea_orm_migration::prelude::*;

use super::m20261123_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden)]
enum Credentials {
    Table,
    Id,
    UserId,
    Kind,
    TokenHash,
    Description,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    LastUsedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Credentials::Table)
                    .col(
                        ColumnDef::new(Credentials::Id)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Credentials::UserId).uuid().not_null())
                    .col(ColumnDef::new(Credentials::Kind).integer().not_null())
                    .col(
                        ColumnDef::new(Credentials::TokenHash)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Credentials::Description)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Credentials::CreatedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(Credentials::ExpiresAt).big_integer().null())
                    .col(ColumnDef::new(Credentials::RevokedAt).big_integer().null())
                    .col(ColumnDef::new(Credentials::LastUsedAt).big_integer().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_credentials_user")
                            .from(Credentials::Table, Credentials::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_credentials_token_hash")
                    .table(Credentials::Table)
                    .col(Credentials::TokenHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_credentials_user_kind")
                    .table(Credentials::Table)
                    .col(Credentials::UserId)
                    .col(Credentials::Kind)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Credentials::Table).to_owned())
            .await
    }
}
