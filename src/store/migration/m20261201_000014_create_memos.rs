use sea_orm_migration::prelude::*;

use super::m20261123_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

/// Memos and comments (a comment has a `parent_id`), soft-deleted. Lists
/// walk `(creator_id, created_at, id)` and `(parent_id, created_at, id)`;
/// statistics aggregate over the first.
#[derive(DeriveIden)]
pub(super) enum Memos {
    Table,
    Id,
    CreatorId,
    ParentId,
    Content,
    Visibility,
    Pinned,
    HasLink,
    HasCode,
    HasTaskList,
    HasIncompleteTasks,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let flag = |column: Memos| ColumnDef::new(column).boolean().not_null().to_owned();
        manager
            .create_table(
                Table::create()
                    .table(Memos::Table)
                    .col(ColumnDef::new(Memos::Id).uuid().not_null().primary_key())
                    .col(ColumnDef::new(Memos::CreatorId).uuid().not_null())
                    .col(ColumnDef::new(Memos::ParentId).uuid().null())
                    .col(ColumnDef::new(Memos::Content).text().not_null())
                    .col(ColumnDef::new(Memos::Visibility).integer().not_null())
                    .col(flag(Memos::Pinned))
                    .col(flag(Memos::HasLink))
                    .col(flag(Memos::HasCode))
                    .col(flag(Memos::HasTaskList))
                    .col(flag(Memos::HasIncompleteTasks))
                    .col(ColumnDef::new(Memos::CreatedAt).big_integer().not_null())
                    .col(ColumnDef::new(Memos::UpdatedAt).big_integer().not_null())
                    .col(ColumnDef::new(Memos::DeletedAt).big_integer().null())
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_memos_creator")
                            .from(Memos::Table, Memos::CreatorId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, first) in [
            ("ix_memos_creator_order", Memos::CreatorId),
            ("ix_memos_parent_order", Memos::ParentId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Memos::Table)
                        .col(first)
                        .col(Memos::CreatedAt)
                        .col(Memos::Id)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Memos::Table).to_owned())
            .await
    }
}
