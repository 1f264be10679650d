use sea_orm::DbBackend;
use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub(super) struct Migration;

/// The webhook outbox: one row per (event, webhook), written in the
/// transaction of the change, and its delivery state. Dispatchers claim
/// due rows through `(state, next_attempt_at)`.
#[derive(DeriveIden)]
enum WebhookDeliveries {
    Table,
    EventId,
    WebhookId,
    EventType,
    Payload,
    State,
    Attempts,
    NextAttemptAt,
    LastError,
    CreatedAt,
    DeliveredAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut payload = ColumnDef::new(WebhookDeliveries::Payload);
        // A memo of 64,000 bytes, escaped, can pass MySQL's 64 KiB TEXT.
        if manager.get_database_backend() == DbBackend::MySql {
            payload.custom(Alias::new("mediumtext"));
        } else {
            payload.text();
        }
        payload.not_null();
        manager
            .create_table(
                Table::create()
                    .table(WebhookDeliveries::Table)
                    .col(ColumnDef::new(WebhookDeliveries::EventId).uuid().not_null())
                    .col(
                        ColumnDef::new(WebhookDeliveries::WebhookId)
                            .uuid()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WebhookDeliveries::EventType)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(payload)
                    .col(
                        ColumnDef::new(WebhookDeliveries::State)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WebhookDeliveries::Attempts)
                            .integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WebhookDeliveries::NextAttemptAt)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WebhookDeliveries::LastError)
                            .string_len(255)
                            .null(),
                    )
                    .col(
                        ColumnDef::new(WebhookDeliveries::CreatedAt)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(WebhookDeliveries::DeliveredAt)
                            .big_integer()
                            .null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(WebhookDeliveries::EventId)
                            .col(WebhookDeliveries::WebhookId),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_webhook_deliveries_due")
                    .table(WebhookDeliveries::Table)
                    .col(WebhookDeliveries::State)
                    .col(WebhookDeliveries::NextAttemptAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(WebhookDeliveries::Table).to_owned())
            .await
    }
}
