use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden)]
pub(super) enum Users {
    Table,
    Id,
    Email,
    EmailKey,
    Username,
    UsernameKey,
    Tombstone,
    DisplayName,
    Role,
    State,
    AvatarUrl,
    Description,
    PasswordHash,
    LabelsJson,
    Version,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
    CreatedBy,
    UpdatedBy,
    DeletedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(ColumnDef::new(Users::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Users::Email).string_len(254).not_null())
                    .col(ColumnDef::new(Users::EmailKey).string_len(254).not_null())
                    .col(ColumnDef::new(Users::Username).string_len(32).null())
                    .col(ColumnDef::new(Users::UsernameKey).string_len(32).null())
                    .col(ColumnDef::new(Users::Tombstone).string_len(36).not_null())
                    .col(
                        ColumnDef::new(Users::DisplayName)
                            .string_len(255)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Users::Role).integer().not_null())
                    .col(ColumnDef::new(Users::State).integer().not_null())
                    .col(ColumnDef::new(Users::AvatarUrl).string_len(2048).not_null())
                    .col(ColumnDef::new(Users::Description).text().not_null())
                    .col(ColumnDef::new(Users::PasswordHash).string_len(255).null())
                    .col(ColumnDef::new(Users::LabelsJson).text().not_null())
                    .col(ColumnDef::new(Users::Version).big_integer().not_null())
                    .col(ColumnDef::new(Users::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(Users::UpdatedAt).big_integer().not_null())
                    .col(ColumnDef::new(Users::DeletedAt).big_integer().null())
                    .col(ColumnDef::new(Users::CreatedBy).uuid().null())
                    .col(ColumnDef::new(Users::UpdatedBy).uuid().null())
                    .col(ColumnDef::new(Users::DeletedBy).uuid().null())
                    .to_owned(),
            )
            .await?;
        // Unique among live users: a tombstone carries its own id.
        manager
            .create_index(
                Index::create()
                    .name("ux_users_email_key")
                    .table(Users::Table)
                    .col(Users::EmailKey)
                    .col(Users::Tombstone)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_users_username_key")
                    .table(Users::Table)
                    .col(Users::UsernameKey)
                    .col(Users::Tombstone)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Keyset pagination walks (created_at, id).
        manager
            .create_index(
                Index::create()
                    .name("ix_users_created_at_id")
                    .table(Users::Table)
                    .col(Users::CreatedAt)
                    .col(Users::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Users::Table).to_owned())
            .await
    }
}
