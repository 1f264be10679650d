use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

use super::m20261201_000014_create_memos::Memos;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

/// A memo's `#tags`, one row each, `position` keeping their order. Tags compare exactly on every backend:
/// on MySQL/MariaDB the column is binary-collated, where the server's
/// default collation would fold case and accents (and make `#Work` and
/// `#work` one key).
#[derive(DeriveIden)]
enum MemoTags {
    Table,
    MemoId,
    Tag,
    Position,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut tag = ColumnDef::new(MemoTags::Tag);
        if manager.get_database_backend() == DbBackend::MySql {
            tag.custom(Alias::new(
                "varchar(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
            ));
        } else {
            tag.string_len(64);
        }
        tag.not_null();
        manager
            .create_table(
                Table::create()
                    .table(MemoTags::Table)
                    .col(ColumnDef::new(MemoTags::MemoId).uuid().not_null())
                    .col(tag)
                    .col(ColumnDef::new(MemoTags::Position).integer().not_null())
                    .primary_key(Index::create().col(MemoTags::MemoId).col(MemoTags::Tag))
                    .foreign_key(
                        ForeignKey::create()
                            .name("fk_memo_tags_memo")
                            .from(MemoTags::Table, MemoTags::MemoId)
                            .to(Memos::Table, Memos::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(MemoTags::Table).to_owned())
            .await
    }
}
