//! UpdateUser and DeleteUser: masks, guards, etags, ROOT's protections,
//! session revocation, soft deletes.
use roster::domain::user::Role;
use roster::proto::goodmem::v1 as pb;
use serde_json::json;
use tonic::Code;

use crate::helpers::{TestApp, bearer, new_user, violated_fields};
use crate::on_every_backend;

fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|path| (*path).to_owned()).collect(),
    })
}

fn update(user: pb::User, paths: &[&str], allow_missing: bool) -> pb::UpdateUserRequest {
    pb::UpdateUserRequest {
        user: Some(user),
        update_mask: mask(paths),
        allow_missing,
    }
}

async fn owners_change_their_profile_and_only_admins_change_roles(app: TestApp) {
    app.initialize().await;
    let (alice, alice_key) = app.insert_user(Role::User, "alice").await;
    let mut users = app.users().await;
    let name = alice.id.resource_name();

    let renamed = users
        .update_user(bearer(
            update(
                pb::User {
                    name: name.clone(),
                    display_name: "Alice A.".into(),
                    labels: [("team".to_owned(), "infra".to_owned())].into(),
                    ..Default::default()
                },
                &["display_name", "labels.team"],
                false,
            ),
            &alice_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let promotion = users
        .update_user(bearer(
            update(
                pb::User {
                    name: name.clone(),
                    role: pb::user::Role::Admin as i32,
                    ..Default::default()
                },
                &["role"],
                true,
            ),
            &alice_key,
        ))
        .await
        .unwrap_err();
    let unmasked = users
        .update_user(bearer(
            update(
                pb::User {
                    name: name.clone(),
                    display_name: "x".into(),
                    ..Default::default()
                },
                &[],
                false,
            ),
            &alice_key,
        ))
        .await
        .unwrap_err();
    let unknown_path = users
        .update_user(bearer(
            update(
                pb::User {
                    name,
                    ..Default::default()
                },
                &["created_at"],
                false,
            ),
            &alice_key,
        ))
        .await
        .unwrap_err();

    assert_eq!(renamed.display_name, "Alice A.");
    assert_eq!(renamed.labels["team"], "infra");
    assert_ne!(renamed.etag, "");
    assert_eq!(promotion.code(), Code::PermissionDenied);
    assert_eq!(violated_fields(&unmasked), vec!["update_mask"]);
    assert_eq!(violated_fields(&unknown_path), vec!["update_mask"]);
    let unlabelled = users
        .update_user(bearer(
            update(
                pb::User {
                    name: alice.id.resource_name(),
                    ..Default::default()
                },
                &["labels.team"],
                false,
            ),
            &alice_key,
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(
        unlabelled.labels.is_empty(),
        "labels.KEY without the key in the body removes it"
    );
}

async fn sensitive_fields_need_allow_missing_and_etags_guard_updates(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    let (bob, _) = app.insert_user(Role::User, "bob").await;
    let mut users = app.users().await;
    let name = bob.id.resource_name();
    let current = users
        .get_user(bearer(
            pb::GetUserRequest {
                name: name.clone(),
                ..Default::default()
            },
            &root_key,
        ))
        .await
        .unwrap()
        .into_inner();

    let unguarded = users
        .update_user(bearer(
            update(
                pb::User {
                    name: name.clone(),
                    role: pb::user::Role::Admin as i32,
                    ..Default::default()
                },
                &["role"],
                false,
            ),
            &root_key,
        ))
        .await
        .unwrap_err();
    let promoted = users
        .update_user(bearer(
            update(
                pb::User {
                    name: name.clone(),
                    role: pb::user::Role::Admin as i32,
                    etag: current.etag.clone(),
                    ..Default::default()
                },
                &["role"],
                true,
            ),
            &root_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let stale = users
        .update_user(bearer(
            update(
                pb::User {
                    name,
                    description: "lost update".into(),
                    etag: current.etag.clone(),
                    ..Default::default()
                },
                &["description"],
                false,
            ),
            &root_key,
        ))
        .await
        .unwrap_err();

    assert_eq!(violated_fields(&unguarded), vec!["allow_missing"]);
    assert_eq!(promoted.role, pb::user::Role::Admin as i32);
    assert_ne!(promoted.etag, current.etag);
    assert_eq!(stale.code(), Code::Aborted);
}

async fn root_cannot_be_demoted_archived_or_deleted(app: TestApp) {
    let (root_key, root_id) = app.initialize().await;
    let mut users = app.users().await;
    let name = root_id.resource_name();

    let demoted = users
        .update_user(bearer(
            update(
                pb::User {
                    name: name.clone(),
                    role: pb::user::Role::User as i32,
                    ..Default::default()
                },
                &["role"],
                true,
            ),
            &root_key,
        ))
        .await
        .unwrap_err();
    let archived = users
        .update_user(bearer(
            update(
                pb::User {
                    name,
                    state: pb::user::State::Archived as i32,
                    ..Default::default()
                },
                &["state"],
                true,
            ),
            &root_key,
        ))
        .await
        .unwrap_err();
    let deleted = users
        .delete_user(bearer(
            pb::DeleteUserRequest {
                user_id: root_id.0.as_bytes().to_vec(),
                ..Default::default()
            },
            &root_key,
        ))
        .await
        .unwrap_err();

    assert_eq!(demoted.code(), Code::FailedPrecondition);
    assert_eq!(archived.code(), Code::FailedPrecondition);
    assert_eq!(deleted.code(), Code::FailedPrecondition);
}

async fn archiving_revokes_sessions(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    let created = app
        .create_user(
            &root_key,
            pb::User {
                password: "correct horse".into(),
                ..new_user("sleepy")
            },
        )
        .await;
    let session = app.sign_in("sleepy", "correct horse").await;
    let mut users = app.users().await;
    let set_state = |state: pb::user::State| {
        bearer(
            update(
                pb::User {
                    name: created.name.clone(),
                    state: state as i32,
                    ..Default::default()
                },
                &["state"],
                true,
            ),
            &root_key,
        )
    };

    users
        .update_user(set_state(pb::user::State::Archived))
        .await
        .unwrap();
    users
        .update_user(set_state(pb::user::State::Normal))
        .await
        .unwrap();
    let with_old_session = users
        .get_user(bearer(pb::GetUserRequest::default(), &session))
        .await
        .unwrap_err();
    let fresh = app.sign_in("sleepy", "correct horse").await;
    let with_new_session = users
        .get_user(bearer(pb::GetUserRequest::default(), &fresh))
        .await;

    assert_eq!(with_old_session.code(), Code::Unauthenticated);
    assert!(with_new_session.is_ok());
}

async fn rest_updates_the_fields_in_the_body(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    let (carol, carol_key) = app.insert_user(Role::User, "carol").await;
    let url = format!("{}/v1/{}", app.base_url(), carol.id.resource_name());

    let response = app
        .http()
        .patch(&url)
        .header("authorization", format!("Bearer {carol_key}"))
        .json(&json!({"description": "hello", "displayName": ""}))
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap();
    let alias = app
        .http()
        .patch(format!(
            "{}/api/v1/{}?updateMask=avatarUrl",
            app.base_url(),
            carol.id.resource_name()
        ))
        .header("x-api-key", &root_key)
        .json(&json!({"avatarUrl": "https://example.com/a.png", "description": "ignored"}))
        .send()
        .await
        .unwrap();
    let alias_status = alias.status();
    let aliased: serde_json::Value = alias.json().await.unwrap();

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["description"], "hello");
    assert_eq!(
        body["displayName"], "",
        "a field present in the body is updated"
    );
    assert_eq!(body["username"], "carol");
    assert_eq!(alias_status, 200, "{aliased}");
    assert_eq!(aliased["avatarUrl"], "https://example.com/a.png");
    assert_eq!(aliased["description"], "hello");
}

async fn deleting_frees_the_email_and_ends_every_credential(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    let (dave, dave_key) = app.insert_user(Role::User, "dave").await;
    let mut users = app.users().await;
    let delete = |force: bool| {
        bearer(
            pb::DeleteUserRequest {
                user_id: dave.id.0.as_bytes().to_vec(),
                force,
                ..Default::default()
            },
            &root_key,
        )
    };

    let owns_a_token = users.delete_user(delete(false)).await.unwrap_err();
    users.delete_user(delete(true)).await.unwrap();
    let again = users.delete_user(delete(false)).await;
    let with_token = users
        .get_user(bearer(pb::GetUserRequest::default(), &dave_key))
        .await
        .unwrap_err();
    let recreated = app.create_user(&root_key, new_user("dave")).await;
    let tombstone = users
        .get_user(bearer(
            pb::GetUserRequest {
                user_id: dave.id.0.as_bytes().to_vec(),
                include_deleted: true,
                ..Default::default()
            },
            &root_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let unknown = users
        .delete_user(bearer(
            pb::DeleteUserRequest {
                user_id: uuid::Uuid::now_v7().as_bytes().to_vec(),
                ..Default::default()
            },
            &root_key,
        ))
        .await
        .unwrap_err();

    assert_eq!(owns_a_token.code(), Code::FailedPrecondition);
    assert!(owns_a_token.message().contains("personal access token"));
    assert!(again.is_ok(), "a repeated delete succeeds: {again:?}");
    assert_eq!(with_token.code(), Code::Unauthenticated);
    assert_ne!(recreated.user_id, dave.id.0.as_bytes().to_vec());
    assert!(tombstone.deleted_at.is_some());
    assert!(!tombstone.deleted_by_id.is_empty());
    assert_eq!(unknown.code(), Code::NotFound);
    let update_tombstone = users
        .update_user(bearer(
            update(
                pb::User {
                    name: dave.id.resource_name(),
                    description: "too late".into(),
                    ..Default::default()
                },
                &["description"],
                false,
            ),
            &root_key,
        ))
        .await
        .unwrap_err();
    assert_eq!(update_tombstone.code(), Code::FailedPrecondition);
}

async fn rest_deletes_by_id_and_by_name(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    let first = app.create_user(&root_key, new_user("gone1")).await;
    let second = app.create_user(&root_key, new_user("gone2")).await;
    let base = app.base_url();
    let id_text = |user: &pb::User| uuid::Uuid::from_slice(&user.user_id).unwrap().to_string();

    let by_id = app
        .http()
        .delete(format!("{base}/v1/users/{}", id_text(&first)))
        .header("x-api-key", &root_key)
        .send()
        .await
        .unwrap();
    let by_name = app
        .http()
        .delete(format!("{base}/api/v1/users/{}", id_text(&second)))
        .header("x-api-key", &root_key)
        .send()
        .await
        .unwrap();

    assert_eq!(by_id.status(), 200);
    assert_eq!(by_id.text().await.unwrap(), "{}");
    assert_eq!(by_name.status(), 200);
}

on_every_backend!(
    owners_change_their_profile_and_only_admins_change_roles,
    sensitive_fields_need_allow_missing_and_etags_guard_updates,
    root_cannot_be_demoted_archived_or_deleted,
    archiving_revokes_sessions,
    rest_updates_the_fields_in_the_body,
    deleting_frees_the_email_and_ends_every_credential,
    rest_deletes_by_id_and_by_name,
);
