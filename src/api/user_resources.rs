//! Conversions for a user's settings, webhooks and notifications. Incoming
//! messages are destructured field by field, so a new proto field is a
//! compile error here until it is handled.
use super::convert::{field_mask, timestamp};
use crate::domain::memos::memo_name;
use crate::domain::notifications::{Notification, NotificationKind, NotificationStatus};
use crate::domain::stats::UserStats;
use crate::domain::user_settings::{
    GeneralSetting, GeneralSettingInput, SettingValue, UpdateSettingInput, UserSetting,
};
use crate::domain::visibility::Visibility;
use crate::domain::webhooks::{SigningSecret, Webhook, WebhookInput};
use crate::proto::goodmem::v1 as pb;

/// A visibility as the proto enum.
pub fn visibility_message(visibility: Visibility) -> pb::Visibility {
    match visibility {
        Visibility::Private => pb::Visibility::Private,
        Visibility::Protected => pb::Visibility::Protected,
        Visibility::Public => pb::Visibility::Public,
    }
}

fn general_setting(setting: GeneralSetting) -> pb::GeneralSetting {
    let GeneralSetting {
        locale,
        theme,
        memo_visibility,
    } = setting;
    pb::GeneralSetting {
        locale: locale.as_str().to_owned(),
        theme: theme.as_str().to_owned(),
        memo_visibility: visibility_message(memo_visibility) as i32,
    }
}

/// A setting as the API shows it.
pub fn setting_message(setting: UserSetting) -> pb::UserSetting {
    let name = setting.name();
    let value = match setting.value {
        SettingValue::General(general) => {
            pb::user_setting::Value::GeneralSetting(general_setting(general))
        }
        SettingValue::Webhooks(webhooks) => {
            pb::user_setting::Value::WebhooksSetting(pb::WebhooksSetting {
                webhooks: webhooks
                    .into_iter()
                    .map(|webhook| webhook_message(webhook, None))
                    .collect(),
            })
        }
    };
    pb::UserSetting {
        name,
        value: Some(value),
    }
}

impl From<pb::UpdateUserSettingRequest> for UpdateSettingInput {
    fn from(request: pb::UpdateUserSettingRequest) -> Self {
        let pb::UpdateUserSettingRequest {
            setting,
            update_mask,
        } = request;
        let pb::UserSetting { name, value } = setting.unwrap_or_default();
        let general = match value {
            Some(pb::user_setting::Value::GeneralSetting(pb::GeneralSetting {
                locale,
                theme,
                memo_visibility,
            })) => Some(GeneralSettingInput {
                locale,
                theme,
                memo_visibility,
            }),
            // The WEBHOOKS view is output only; a client echoing it back
            // changes nothing.
            Some(pb::user_setting::Value::WebhooksSetting(_)) | None => None,
        };
        Self {
            name,
            general,
            mask: field_mask(update_mask),
        }
    }
}

/// A webhook as the API shows it; the secret only when just created.
pub fn webhook_message(webhook: Webhook, secret: Option<&SigningSecret>) -> pb::UserWebhook {
    let name = webhook.name();
    let Webhook {
        id: _,
        owner: _,
        url,
        display_name,
        created_at,
        updated_at,
    } = webhook;
    pb::UserWebhook {
        name,
        url: url.as_str().to_owned(),
        display_name,
        create_time: Some(timestamp(created_at)),
        update_time: Some(timestamp(updated_at)),
        signing_secret: secret
            .map(|secret| secret.expose().to_owned())
            .unwrap_or_default(),
    }
}

/// The settable fields of a request's webhook. Output-only fields a
/// client sends back are ignored, as AIP-203 asks.
pub fn webhook_input(webhook: Option<pb::UserWebhook>) -> WebhookInput {
    let pb::UserWebhook {
        name,
        url,
        display_name,
        create_time: _,
        update_time: _,
        signing_secret: _,
    } = webhook.unwrap_or_default();
    WebhookInput {
        name,
        url,
        display_name,
    }
}

/// A notification as the API shows it.
pub fn notification_message(notification: Notification) -> pb::UserNotification {
    let name = notification.name();
    let Notification {
        id: _,
        recipient: _,
        sender,
        status,
        kind,
        memo,
        created_at,
        updated_at: _,
    } = notification;
    pb::UserNotification {
        name,
        sender: sender
            .map(|sender| sender.resource_name())
            .unwrap_or_default(),
        status: match status {
            NotificationStatus::Unread => pb::user_notification::Status::Unread,
            NotificationStatus::Archived => pb::user_notification::Status::Archived,
        } as i32,
        r#type: match kind {
            NotificationKind::MemoComment => pb::user_notification::Type::MemoComment,
        } as i32,
        create_time: Some(timestamp(created_at)),
        memo: memo.map(|memo| format!("memos/{memo}")).unwrap_or_default(),
    }
}

/// Statistics as the API shows them.
pub fn stats_message(stats: UserStats) -> pb::UserStats {
    let UserStats {
        user,
        total,
        with_link,
        with_code,
        with_task_list,
        with_incomplete_tasks,
        tags,
        pinned,
        display_times,
    } = stats;
    let count = |number: u64| i32::try_from(number).unwrap_or(i32::MAX);
    pb::UserStats {
        name: user.resource_name(),
        memo_display_timestamps: display_times.into_iter().map(timestamp).collect(),
        memo_type_stats: Some(pb::user_stats::MemoTypeStats {
            link_count: count(with_link),
            code_count: count(with_code),
            todo_count: count(with_task_list),
            undo_count: count(with_incomplete_tasks),
        }),
        tag_count: tags
            .into_iter()
            .map(|(tag, memos)| (tag, count(memos)))
            .collect(),
        pinned_memos: pinned.into_iter().map(memo_name).collect(),
        total_memo_count: count(total),
    }
}
