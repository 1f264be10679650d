use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

/// One row (id 1) once an admin changes a setting; absent means defaults.
#[derive(DeriveIden)]
enum InstanceSettings {
    Table,
    Id,
    AllowRegistration,
    SessionLifetimeSeconds,
    UpdatedAt,
    UpdatedBy,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(InstanceSettings::Table)
                    .col(
                        ColumnDef::new(InstanceSettings::Id)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(InstanceSettings::AllowRegistration)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InstanceSettings::SessionLifetimeSeconds)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(InstanceSettings::UpdatedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(InstanceSettings::UpdatedBy).uuid().null())
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(InstanceSettings::Table).to_owned())
            .await
    }
}
