//! Remembers which credential is the root key, so an operator can replace
//! exactly that one when it is lost (`roster reset-root-key`).
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

#[derive(DeriveIden)]
enum SystemState {
    Table,
    RootCredentialId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SystemState::Table)
                    .add_column(ColumnDef::new(SystemState::RootCredentialId).uuid().null())
                    .to_owned(),
            )
            .await?;
        // Instances initialized before this migration: their root key is
        // ROOT's first personal access token. The same SQL on every backend.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE system_state SET root_credential_id = (\
                 SELECT c.id FROM credentials c \
                 WHERE c.user_id = system_state.root_user_id AND c.kind = 1 \
                 ORDER BY c.created_at LIMIT 1)",
            )
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(SystemState::Table)
                    .drop_column(SystemState::RootCredentialId)
                    .to_owned(),
            )
            .await
    }
}
