//! The instance settings row.
use sea_orm::{ActiveValue::Set, EntityTrait as _};

use super::Store;
use super::entity::instance_settings;
use crate::domain::DomainError;
use crate::domain::clock::EpochMillis;
use crate::domain::instance::InstanceSettings;
use crate::domain::ports::InstanceSettingsStore;
use crate::domain::user::UserId;

const SETTINGS_ROW: i32 = 1;

impl InstanceSettingsStore for Store {
    async fn instance_settings(&self) -> Result<Option<InstanceSettings>, DomainError> {
        let row = instance_settings::Entity::find_by_id(SETTINGS_ROW)
            .one(self.reader())
            .await?;
        Ok(row.map(|row| InstanceSettings {
            allow_registration: row.allow_registration,
            session_lifetime_seconds: row.session_lifetime_seconds,
            updated_at: Some(EpochMillis(row.updated_at)),
            updated_by: row.updated_by.map(UserId),
        }))
    }

    async fn save_instance_settings(&self, settings: &InstanceSettings) -> Result<(), DomainError> {
        let row = instance_settings::ActiveModel {
            id: Set(SETTINGS_ROW),
            allow_registration: Set(settings.allow_registration),
            session_lifetime_seconds: Set(settings.session_lifetime_seconds),
            updated_at: Set(settings.updated_at.unwrap_or_else(EpochMillis::now).0),
            updated_by: Set(settings.updated_by.map(|id| id.0)),
        };
        instance_settings::Entity::insert(row)
            .on_conflict(
                sea_orm::sea_query::OnConflict::column(instance_settings::Column::Id)
                    .update_columns([
                        instance_settings::Column::AllowRegistration,
                        instance_settings::Column::SessionLifetimeSeconds,
                        instance_settings::Column::UpdatedAt,
                        instance_settings::Column::UpdatedBy,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(self.writer())
            .await?;
        Ok(())
    }
}
