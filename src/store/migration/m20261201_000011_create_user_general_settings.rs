use sea_orm_migration::prelude::*;

use super::m20261123_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

/// A user's GENERAL setting, once first written; no row means the defaults.
#[derive(DeriveIden)]
enum UserGeneralSettings {
    Table,
    UserId,
    Locale,
    Theme,
    MemoVisibility,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UserGeneralSettings::Table)
                    .col(
                        ColumnDef::new(UserGeneralSettings::UserId)
                            .uuid()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(UserGeneralSettings::Locale)
                            .string_len(35)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(UserGeneralSettings::Theme)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(UserGeneralSettings::MemoVisibility)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(UserGeneralSettings::UpdatedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_general_settings_user")
                            .from(UserGeneralSettings::Table, UserGeneralSettings::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UserGeneralSettings::Table).to_owned())
            .await
    }
}
