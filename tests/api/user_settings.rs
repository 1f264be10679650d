//! User settings: GENERAL holds the defaults until written, is validated
//! and updated by mask; WEBHOOKS is a read-only view of the webhooks.
use roster::domain::user::Role;
use roster::proto::goodmem::v1 as pb;
use serde_json::{Value, json};
use tonic::Code;

use crate::helpers::{TestApp, bearer, violated_fields};
use crate::on_every_backend;

fn general_name(owner: &roster::domain::user::User) -> String {
    format!("{}/settings/GENERAL", owner.id.resource_name())
}

fn general_update(
    name: &str,
    general: pb::GeneralSetting,
    paths: &[&str],
) -> pb::UpdateUserSettingRequest {
    pb::UpdateUserSettingRequest {
        setting: Some(pb::UserSetting {
            name: name.to_owned(),
            value: Some(pb::user_setting::Value::GeneralSetting(general)),
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: paths.iter().map(|path| (*path).to_owned()).collect(),
        }),
    }
}

fn general_of(setting: pb::UserSetting) -> pb::GeneralSetting {
    match setting.value {
        Some(pb::user_setting::Value::GeneralSetting(general)) => general,
        other => panic!("not a GENERAL setting: {other:?}"),
    }
}

async fn defaults_hold_until_a_masked_update_changes_only_its_fields(app: TestApp) {
    app.initialize().await;
    let (alice, alice_key) = app.insert_user(Role::User, "alice").await;
    let mut users = app.users().await;
    let name = general_name(&alice);

    let before = users
        .get_user_setting(bearer(
            pb::GetUserSettingRequest { name: name.clone() },
            &alice_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let after_locale = users
        .update_user_setting(bearer(
            general_update(
                &name,
                pb::GeneralSetting {
                    locale: "zh_hant_tw".into(),
                    theme: "ignored-not-in-mask".into(),
                    memo_visibility: pb::Visibility::Public as i32,
                },
                &["locale"],
            ),
            &alice_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let after_visibility = users
        .update_user_setting(bearer(
            general_update(
                &name,
                pb::GeneralSetting {
                    memo_visibility: pb::Visibility::Protected as i32,
                    ..Default::default()
                },
                &["general_setting.memoVisibility"],
            ),
            &alice_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let reread = users
        .get_user_setting(bearer(
            pb::GetUserSettingRequest { name: name.clone() },
            &alice_key,
        ))
        .await
        .unwrap()
        .into_inner();

    assert_eq!(before.name, name);
    assert_eq!(
        general_of(before),
        pb::GeneralSetting {
            locale: "en".into(),
            theme: "default".into(),
            memo_visibility: pb::Visibility::Private as i32,
        }
    );
    let locale_changed = general_of(after_locale);
    assert_eq!(locale_changed.locale, "zh-Hant-TW", "canonical case");
    assert_eq!(locale_changed.theme, "default", "not in the mask");
    assert_eq!(
        locale_changed.memo_visibility,
        pb::Visibility::Private as i32
    );
    let expected = pb::GeneralSetting {
        locale: "zh-Hant-TW".into(),
        theme: "default".into(),
        memo_visibility: pb::Visibility::Protected as i32,
    };
    assert_eq!(general_of(after_visibility), expected);
    assert_eq!(general_of(reread), expected);
}

async fn invalid_values_are_all_reported_and_nothing_is_written(app: TestApp) {
    app.initialize().await;
    let (bob, bob_key) = app.insert_user(Role::User, "bob").await;
    let mut users = app.users().await;
    let name = general_name(&bob);

    let error = users
        .update_user_setting(bearer(
            general_update(
                &name,
                pb::GeneralSetting {
                    locale: "english please".into(),
                    theme: "Dark Mode".into(),
                    memo_visibility: 0,
                },
                &["locale", "theme", "memo_visibility"],
            ),
            &bob_key,
        ))
        .await
        .unwrap_err();
    let unknown_path = users
        .update_user_setting(bearer(
            general_update(&name, pb::GeneralSetting::default(), &["color"]),
            &bob_key,
        ))
        .await
        .unwrap_err();
    let empty_mask = users
        .update_user_setting(bearer(
            general_update(&name, pb::GeneralSetting::default(), &[]),
            &bob_key,
        ))
        .await
        .unwrap_err();
    let unchanged = users
        .get_user_setting(bearer(pb::GetUserSettingRequest { name }, &bob_key))
        .await
        .unwrap()
        .into_inner();

    assert_eq!(error.code(), Code::InvalidArgument);
    let mut fields = violated_fields(&error);
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "setting.general_setting.locale",
            "setting.general_setting.memo_visibility",
            "setting.general_setting.theme",
        ]
    );
    assert_eq!(unknown_path.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&unknown_path), vec!["update_mask"]);
    assert_eq!(empty_mask.code(), Code::InvalidArgument);
    assert_eq!(general_of(unchanged).locale, "en");
}

async fn webhooks_setting_is_a_read_only_view(app: TestApp) {
    app.initialize().await;
    let (carol, carol_key) = app.insert_user(Role::User, "carol").await;
    let mut users = app.users().await;
    let created = users
        .create_user_webhook(bearer(
            pb::CreateUserWebhookRequest {
                parent: carol.id.resource_name(),
                webhook: Some(pb::UserWebhook {
                    url: "https://203.0.113.9/events".into(),
                    display_name: "ci".into(),
                    ..Default::default()
                }),
            },
            &carol_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let name = format!("{}/settings/WEBHOOKS", carol.id.resource_name());

    let view = users
        .get_user_setting(bearer(
            pb::GetUserSettingRequest { name: name.clone() },
            &carol_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let write = users
        .update_user_setting(bearer(
            pb::UpdateUserSettingRequest {
                setting: Some(pb::UserSetting { name, value: None }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["webhooks_setting".into()],
                }),
            },
            &carol_key,
        ))
        .await
        .unwrap_err();

    let Some(pb::user_setting::Value::WebhooksSetting(webhooks)) = view.value else {
        panic!("not a WEBHOOKS setting: {view:?}");
    };
    assert_eq!(webhooks.webhooks.len(), 1);
    assert_eq!(webhooks.webhooks[0].name, created.name);
    assert_eq!(webhooks.webhooks[0].url, "https://203.0.113.9/events");
    assert!(
        webhooks.webhooks[0].signing_secret.is_empty(),
        "secrets are shown once"
    );
    assert_eq!(write.code(), Code::InvalidArgument);
    assert!(write.message().contains("read-only"), "{write:?}");
}

async fn admins_read_but_never_write_anothers_settings(app: TestApp) {
    app.initialize().await;
    let (dana, dana_key) = app.insert_user(Role::User, "dana").await;
    let (_, admin_key) = app.insert_user(Role::Admin, "admin").await;
    let (_, other_key) = app.insert_user(Role::User, "other").await;
    let mut users = app.users().await;
    let listed_by_owner = users
        .list_user_settings(bearer(
            pb::ListUserSettingsRequest {
                parent: dana.id.resource_name(),
                page_size: 1,
                ..Default::default()
            },
            &dana_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let second_page = users
        .list_user_settings(bearer(
            pb::ListUserSettingsRequest {
                parent: dana.id.resource_name(),
                page_size: 1,
                page_token: listed_by_owner.next_page_token.clone(),
            },
            &dana_key,
        ))
        .await
        .unwrap()
        .into_inner();

    let read_by_admin = users
        .get_user_setting(bearer(
            pb::GetUserSettingRequest {
                name: general_name(&dana),
            },
            &admin_key,
        ))
        .await;
    let written_by_admin = users
        .update_user_setting(bearer(
            general_update(
                &general_name(&dana),
                pb::GeneralSetting {
                    theme: "paper".into(),
                    ..Default::default()
                },
                &["theme"],
            ),
            &admin_key,
        ))
        .await
        .unwrap_err();
    let read_by_other = users
        .get_user_setting(bearer(
            pb::GetUserSettingRequest {
                name: general_name(&dana),
            },
            &other_key,
        ))
        .await
        .unwrap_err();
    let nobody = users
        .get_user_setting(bearer(
            pb::GetUserSettingRequest {
                name: format!("users/{}/settings/GENERAL", uuid::Uuid::now_v7()),
            },
            &admin_key,
        ))
        .await
        .unwrap_err();
    let malformed = users
        .get_user_setting(bearer(
            pb::GetUserSettingRequest {
                name: format!("{}/settings/THEME", dana.id.resource_name()),
            },
            &dana_key,
        ))
        .await
        .unwrap_err();

    assert_eq!(listed_by_owner.total_size, 2);
    assert_eq!(listed_by_owner.settings.len(), 1);
    assert!(
        listed_by_owner.settings[0]
            .name
            .ends_with("/settings/GENERAL")
    );
    assert_eq!(second_page.settings.len(), 1);
    assert!(second_page.settings[0].name.ends_with("/settings/WEBHOOKS"));
    assert!(second_page.next_page_token.is_empty());
    assert!(read_by_admin.is_ok(), "{read_by_admin:?}");
    assert_eq!(written_by_admin.code(), Code::PermissionDenied);
    assert_eq!(read_by_other.code(), Code::PermissionDenied);
    assert_eq!(nobody.code(), Code::NotFound);
    assert_eq!(malformed.code(), Code::InvalidArgument);
}

async fn concurrent_updates_of_different_fields_both_stick(app: TestApp) {
    app.initialize().await;
    let (erin, erin_key) = app.insert_user(Role::User, "erin").await;
    let name = general_name(&erin);
    let mut locale_client = app.users().await;
    let mut theme_client = app.users().await;

    let (locale, theme) = tokio::join!(
        locale_client.update_user_setting(bearer(
            general_update(
                &name,
                pb::GeneralSetting {
                    locale: "fr".into(),
                    ..Default::default()
                },
                &["locale"],
            ),
            &erin_key,
        )),
        theme_client.update_user_setting(bearer(
            general_update(
                &name,
                pb::GeneralSetting {
                    theme: "midnight-blue".into(),
                    ..Default::default()
                },
                &["theme"],
            ),
            &erin_key,
        )),
    );
    let stored = app
        .users()
        .await
        .get_user_setting(bearer(pb::GetUserSettingRequest { name }, &erin_key))
        .await
        .unwrap()
        .into_inner();

    locale.unwrap();
    theme.unwrap();
    let stored = general_of(stored);
    assert_eq!(
        (stored.locale.as_str(), stored.theme.as_str()),
        ("fr", "midnight-blue")
    );
}

async fn rest_reads_and_patches_with_the_implied_mask(app: TestApp) {
    app.initialize().await;
    let (frank, frank_key) = app.insert_user(Role::User, "frank").await;
    let base = app.base_url();
    let path = format!("{base}/api/v1/users/{}/settings/GENERAL", frank.id);
    let http = app.http();

    let patched: Value = http
        .patch(&path)
        .bearer_auth(&frank_key)
        .json(&json!({"generalSetting": {"theme": "paper", "memoVisibility": "PUBLIC"}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let read: Value = http
        .get(format!("{base}/v1/users/{}/settings/GENERAL", frank.id))
        .bearer_auth(&frank_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let listed: Value = http
        .get(format!("{base}/v1/users/{}/settings", frank.id))
        .bearer_auth(&frank_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let invalid = http
        .patch(&path)
        .bearer_auth(&frank_key)
        .json(&json!({"generalSetting": {"locale": "not a tag"}}))
        .send()
        .await
        .unwrap();
    let invalid_status = invalid.status().as_u16();
    let invalid_body: Value = invalid.json().await.unwrap();

    // Every field is emitted (SPEC §4): the unset member of the oneof too.
    let expected = json!({
        "name": format!("users/{}/settings/GENERAL", frank.id),
        "generalSetting": {"locale": "en", "theme": "paper", "memoVisibility": "PUBLIC"},
        "webhooksSetting": null,
    });
    assert_eq!(patched, expected);
    assert_eq!(read, expected);
    assert_eq!(listed["totalSize"], 2);
    assert_eq!(listed["settings"][0], expected);
    assert_eq!(
        listed["settings"][1]["webhooksSetting"],
        json!({"webhooks": []})
    );
    assert_eq!(invalid_status, 400);
    assert_eq!(invalid_body["code"], 3);
    assert!(
        invalid_body
            .to_string()
            .contains("setting.general_setting.locale"),
        "{invalid_body}"
    );
}

on_every_backend!(
    defaults_hold_until_a_masked_update_changes_only_its_fields,
    invalid_values_are_all_reported_and_nothing_is_written,
    webhooks_setting_is_a_read_only_view,
    admins_read_but_never_write_anothers_settings,
    concurrent_updates_of_different_fields_both_stick,
    rest_reads_and_patches_with_the_implied_mask,
);
