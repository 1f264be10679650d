use sea_orm_migration::prelude::*;

use super::m20261123_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden)]
enum UserLabels {
    Table,
    UserId,
    LabelKey,
    LabelValue,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UserLabels::Table)
                    .col(ColumnDef::new(UserLabels::UserId).uuid().not_null())
                    .col(
                        ColumnDef::new(UserLabels::LabelKey)
                            .string_len(63)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(UserLabels::LabelValue)
                            .string_len(255)
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(UserLabels::UserId)
                            .col(UserLabels::LabelKey),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_user_labels_user")
                            .from(UserLabels::Table, UserLabels::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // `labels["k"] == "v"` filters are an index lookup on this.
        manager
            .create_index(
                Index::create()
                    .name("ix_user_labels_key_value")
                    .table(UserLabels::Table)
                    .col(UserLabels::LabelKey)
                    .col(UserLabels::LabelValue)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UserLabels::Table).to_owned())
            .await
    }
}
