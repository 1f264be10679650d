use sea_orm_migration::prelude::*;

use super::m20261123_000001_create_users::Users;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

/// One row (id 1) of running user counts, kept in the transactions that
/// create and delete users, so ListUsers reports `total_size` without
/// counting a large table on every page.
#[derive(DeriveIden)]
enum UserTotals {
    Table,
    Id,
    LiveUsers,
    AllUsers,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(UserTotals::Table)
                    .col(
                        ColumnDef::new(UserTotals::Id)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(UserTotals::LiveUsers)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(UserTotals::AllUsers)
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // Counts of the users that exist when this migration runs.
        let live = Expr::cust("COALESCE(SUM(CASE WHEN deleted_at IS NULL THEN 1 ELSE 0 END), 0)");
        let seed = Query::insert()
            .into_table(UserTotals::Table)
            .columns([UserTotals::Id, UserTotals::LiveUsers, UserTotals::AllUsers])
            .select_from(
                Query::select()
                    .expr(Expr::val(1))
                    .expr(live)
                    .expr(Expr::cust("COUNT(*)"))
                    .from(Users::Table)
                    .to_owned(),
            )
            .map_err(|error| DbErr::Migration(error.to_string()))?
            .to_owned();
        manager.exec_stmt(seed).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(UserTotals::Table).to_owned())
            .await
    }
}
