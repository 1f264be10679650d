//! SignIn, SignOut and the instance settings that shape them.
use prost::Message as _;
use roster::proto::goodmem::v1 as pb;
use roster::proto::google::rpc;
use serde_json::json;
use tonic::Code;

use crate::helpers::{TestApp, bearer, new_user, violated_fields};
use crate::on_every_backend;

async fn with_password(app: &TestApp, root_key: &str, username: &str) -> pb::User {
    app.create_user(
        root_key,
        pb::User {
            password: "correct horse".into(),
            ..new_user(username)
        },
    )
    .await
}

fn attempt(username: &str, password: &str) -> pb::SignInRequest {
    pb::SignInRequest {
        username: username.to_owned(),
        password: password.to_owned(),
        ..Default::default()
    }
}

async fn a_password_gives_a_session_that_sign_out_ends(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    let erin = with_password(&app, &root_key, "erin").await;
    let mut auth = app.auth().await;

    let signed_in = auth
        .sign_in(pb::SignInRequest {
            email: "ERIN@example.com".into(),
            password: "correct horse".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let token = signed_in.access_token.clone();
    let me = app
        .users()
        .await
        .get_user(bearer(pb::GetUserRequest::default(), &token))
        .await
        .unwrap()
        .into_inner();
    auth.sign_out(bearer(pb::SignOutRequest::default(), &token))
        .await
        .unwrap();
    let after = app
        .users()
        .await
        .get_user(bearer(pb::GetUserRequest::default(), &token))
        .await
        .unwrap_err();
    let with_key = auth
        .sign_out(bearer(pb::SignOutRequest::default(), &root_key))
        .await
        .unwrap_err();

    assert_eq!(signed_in.user.unwrap().user_id, erin.user_id);
    let lifetime = signed_in.expires_at.unwrap().seconds - chrono_now_seconds();
    assert!(
        (7 * 86_400 - 60..=7 * 86_400).contains(&lifetime),
        "{lifetime}"
    );
    assert_eq!(me.user_id, erin.user_id);
    assert_eq!(after.code(), Code::Unauthenticated);
    assert_eq!(with_key.code(), Code::FailedPrecondition);
}

fn chrono_now_seconds() -> i64 {
    roster::domain::clock::EpochMillis::now().0 / 1000
}

async fn wrong_users_and_wrong_passwords_get_one_answer(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    with_password(&app, &root_key, "frank").await;
    let mut auth = app.auth().await;

    let wrong_password = auth
        .sign_in(attempt("frank", "wrong horse"))
        .await
        .unwrap_err();
    let unknown_user = auth
        .sign_in(attempt("nobody", "correct horse"))
        .await
        .unwrap_err();
    let no_password = auth.sign_in(attempt("root", "anything")).await.unwrap_err();
    let malformed = auth
        .sign_in(pb::SignInRequest::default())
        .await
        .unwrap_err();

    for refused in [&wrong_password, &unknown_user, &no_password] {
        assert_eq!(refused.code(), Code::Unauthenticated);
        assert_eq!(refused.message(), wrong_password.message());
    }
    assert_eq!(malformed.code(), Code::InvalidArgument);
}

async fn repeated_failures_are_throttled_per_account(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    with_password(&app, &root_key, "grace").await;
    let mut auth = app.auth().await;

    for _ in 0..5 {
        let refused = auth.sign_in(attempt("grace", "guess")).await.unwrap_err();
        assert_eq!(refused.code(), Code::Unauthenticated);
    }
    let throttled = auth
        .sign_in(attempt("Grace", "correct horse"))
        .await
        .unwrap_err();
    let other_account = auth.sign_in(attempt("root", "guess")).await.unwrap_err();

    assert_eq!(throttled.code(), Code::ResourceExhausted, "{throttled:?}");
    let details = rpc::Status::decode(throttled.details()).unwrap();
    let retry = rpc::RetryInfo::decode(details.details[0].value.as_slice()).unwrap();
    assert!(retry.retry_delay.unwrap().seconds > 60);
    assert_eq!(other_account.code(), Code::Unauthenticated);
}

async fn admins_change_instance_settings_with_a_mask(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    let (_, user_key) = app
        .insert_user(roster::domain::user::Role::User, "henry")
        .await;
    let mut system = app.system().await;

    let defaults = system
        .get_instance_settings(bearer(pb::GetInstanceSettingsRequest::default(), &root_key))
        .await
        .unwrap()
        .into_inner();
    let by_user = system
        .get_instance_settings(bearer(pb::GetInstanceSettingsRequest::default(), &user_key))
        .await
        .unwrap_err();
    let out_of_range = system
        .update_instance_settings(bearer(
            pb::UpdateInstanceSettingsRequest {
                settings: Some(pb::InstanceSettings {
                    session_lifetime_seconds: 10,
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["sessionLifetimeSeconds".into()],
                }),
            },
            &root_key,
        ))
        .await
        .unwrap_err();
    let response = app
        .http()
        .patch(format!("{}/v1/system/settings", app.base_url()))
        .header("x-api-key", &root_key)
        .json(&json!({"sessionLifetimeSeconds": 3600}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let changed: serde_json::Value = response.json().await.unwrap();
    with_password(&app, &root_key, "irene").await;
    let session = app
        .auth()
        .await
        .sign_in(attempt("irene", "correct horse"))
        .await
        .unwrap()
        .into_inner();

    assert!(!defaults.allow_registration);
    assert_eq!(defaults.session_lifetime_seconds, 7 * 86_400);
    assert!(defaults.updated_at.is_none());
    assert_eq!(by_user.code(), Code::PermissionDenied);
    assert_eq!(
        violated_fields(&out_of_range),
        vec!["settings.session_lifetime_seconds"]
    );
    assert_eq!(status, 200, "{changed}");
    assert_eq!(changed["sessionLifetimeSeconds"], "3600");
    assert_eq!(changed["allowRegistration"], false);
    let lifetime = session.expires_at.unwrap().seconds - chrono_now_seconds();
    assert!((3_540..=3_600).contains(&lifetime), "{lifetime}");
}

on_every_backend!(
    a_password_gives_a_session_that_sign_out_ends,
    wrong_users_and_wrong_passwords_get_one_answer,
    repeated_failures_are_throttled_per_account,
    admins_change_instance_settings_with_a_mask,
);

/// Failures are also counted per client address, across accounts: a
/// password-spraying client is refused even on accounts it never tried.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failures_are_throttled_per_client_address() {
    let app = TestApp::spawn(crate::helpers::Backend::Sqlite).await;
    let (root_key, _) = app.initialize().await;
    with_password(&app, &root_key, "target").await;
    let mut auth = app.auth().await;

    // Four tries per account stay under the account limit of five.
    for attempt_number in 0..50 {
        let account = format!("sprayed{}", attempt_number / 4);
        let refused = auth.sign_in(attempt(&account, "guess")).await.unwrap_err();
        assert_eq!(
            refused.code(),
            Code::Unauthenticated,
            "attempt {attempt_number}"
        );
    }
    let throttled = auth
        .sign_in(attempt("target", "correct horse"))
        .await
        .unwrap_err();

    assert_eq!(throttled.code(), Code::ResourceExhausted, "{throttled:?}");
}
