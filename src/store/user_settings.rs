//! The GENERAL setting rows: absent until first written.
use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, EntityTrait as _};

use super::Store;
use super::entity::user_general_setting;
use crate::domain::DomainError;
use crate::domain::clock::EpochMillis;
use crate::domain::ports::UserSettingStore;
use crate::domain::user::UserId;
use crate::domain::user_settings::{GeneralSetting, GeneralSettingChange, Locale, Theme};
use crate::domain::visibility::Visibility;

fn into_domain(row: user_general_setting::Model) -> Result<GeneralSetting, DomainError> {
    let memo_visibility = Visibility::from_number(row.memo_visibility).ok_or_else(|| {
        DomainError::internal(anyhow::anyhow!(
            "user {} has a stored memo visibility {} no visibility has",
            row.user_id,
            row.memo_visibility
        ))
    })?;
    Ok(GeneralSetting {
        locale: Locale::from_storage(row.locale),
        theme: Theme::from_storage(row.theme),
        memo_visibility,
    })
}

impl UserSettingStore for Store {
    async fn general_setting(&self, owner: UserId) -> Result<Option<GeneralSetting>, DomainError> {
        user_general_setting::Entity::find_by_id(owner.0)
            .one(self.reader())
            .await?
            .map(into_domain)
            .transpose()
    }

    async fn update_general_setting(
        &self,
        owner: UserId,
        change: &GeneralSettingChange,
        now: EpochMillis,
    ) -> Result<GeneralSetting, DomainError> {
        use user_general_setting::Column;
        // A first write starts from the defaults; later ones set only the
        // changed columns, so concurrent updates of different fields both
        // stick without a read-modify-write.
        let first = change.applied_to(GeneralSetting::default());
        let row = user_general_setting::ActiveModel {
            user_id: Set(owner.0),
            locale: Set(first.locale.as_str().to_owned()),
            theme: Set(first.theme.as_str().to_owned()),
            memo_visibility: Set(first.memo_visibility.number()),
            updated_at: Set(now.0),
        };
        let mut changed = vec![Column::UpdatedAt];
        if change.locale.is_some() {
            changed.push(Column::Locale);
        }
        if change.theme.is_some() {
            changed.push(Column::Theme);
        }
        if change.memo_visibility.is_some() {
            changed.push(Column::MemoVisibility);
        }
        user_general_setting::Entity::insert(row)
            .on_conflict(
                OnConflict::column(Column::UserId)
                    .update_columns(changed)
                    .to_owned(),
            )
            .exec_without_returning(self.writer())
            .await?;
        let stored = user_general_setting::Entity::find_by_id(owner.0)
            .one(self.writer())
            .await?
            .ok_or_else(|| {
                DomainError::internal(anyhow::anyhow!("general setting of {owner} vanished"))
            })?;
        into_domain(stored)
    }
}
