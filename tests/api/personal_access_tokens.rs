//! Personal access tokens: created once, listed as metadata, narrowed by
//! scopes in the one authorization path, revoked at once.
use roster::domain::clock::EpochMillis;
use roster::domain::user::Role;
use roster::proto::goodmem::v1 as pb;
use tonic::Code;

use crate::helpers::{TestApp, bearer, violated_fields};
use crate::on_every_backend;

fn create(
    parent: &str,
    scopes: &[&str],
    expires_in_days: i32,
) -> pb::CreatePersonalAccessTokenRequest {
    pb::CreatePersonalAccessTokenRequest {
        parent: parent.to_owned(),
        description: "ci job".into(),
        expires_in_days,
        scopes: scopes.iter().map(|scope| (*scope).to_owned()).collect(),
    }
}

async fn a_read_only_token_reads_but_cannot_write(app: TestApp) {
    app.initialize().await;
    let (alice, alice_key) = app.insert_user(Role::User, "alice").await;
    let mut users = app.users().await;
    let parent = alice.id.resource_name();

    let created = users
        .create_personal_access_token(bearer(
            create(&parent, &["DISPLAY_USER_OWN"], 30),
            &alice_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let read_only = created.token.clone();
    let me = users
        .get_user(bearer(pb::GetUserRequest::default(), &read_only))
        .await;
    let write = users
        .update_user(bearer(
            pb::UpdateUserRequest {
                user: Some(pb::User {
                    name: parent.clone(),
                    description: "changed".into(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["description".into()],
                }),
                allow_missing: false,
            },
            &read_only,
        ))
        .await
        .unwrap_err();
    let mint = users
        .create_personal_access_token(bearer(create(&parent, &[], 0), &read_only))
        .await
        .unwrap_err();

    let metadata = created.personal_access_token.unwrap();
    assert!(read_only.starts_with("gm_"));
    assert_eq!(metadata.scopes, vec!["DISPLAY_USER_OWN"]);
    assert!(
        metadata
            .name
            .starts_with(&format!("{parent}/personalAccessTokens/"))
    );
    assert!(metadata.expires_at.is_some());
    assert!(me.is_ok(), "{me:?}");
    assert_eq!(write.code(), Code::PermissionDenied);
    assert!(write.message().contains("UPDATE_USER_OWN"), "{write:?}");
    assert_eq!(
        mint.code(),
        Code::PermissionDenied,
        "a scoped token cannot mint"
    );
}

async fn scopes_and_lifetimes_are_validated(app: TestApp) {
    app.initialize().await;
    let (bob, bob_key) = app.insert_user(Role::User, "bob").await;
    let mut users = app.users().await;
    let parent = bob.id.resource_name();

    let error = users
        .create_personal_access_token(bearer(
            create(&parent, &["NO_SUCH_PERMISSION", "LIST_USER"], -1),
            &bob_key,
        ))
        .await
        .unwrap_err();

    let mut fields = violated_fields(&error);
    fields.sort();
    assert_eq!(fields, vec!["expires_in_days", "scopes[0]", "scopes[1]"]);
}

async fn lists_show_metadata_and_deletes_revoke_at_once(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    let (carol, carol_key) = app
        .insert_user_with_token(Role::User, "carol", Some(EpochMillis(1)))
        .await;
    let _ = carol_key;
    let (_, fresh_key) = app.insert_user(Role::Admin, "dana").await;
    let mut users = app.users().await;
    let parent = carol.id.resource_name();
    // Carol's fixture token expired; an admin lists it, a new one is made
    // through the store for the list to show both.
    let second = roster::domain::token::RawToken::generate();
    roster::store::credentials::insert(
        app.store.writer(),
        &roster::domain::credential::NewCredential {
            id: uuid::Uuid::now_v7(),
            user_id: carol.id,
            kind: roster::domain::credential::CredentialKind::PersonalAccessToken,
            token_hash: second.hash(),
            description: "second".into(),
            created_at: EpochMillis::now(),
            expires_at: None,
            scopes: None,
        },
    )
    .await
    .unwrap();

    let listed = users
        .list_personal_access_tokens(bearer(
            pb::ListPersonalAccessTokensRequest {
                parent: parent.clone(),
                page_size: 1,
                ..Default::default()
            },
            &fresh_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let rest = users
        .list_personal_access_tokens(bearer(
            pb::ListPersonalAccessTokensRequest {
                parent: parent.clone(),
                page_size: 1,
                page_token: listed.next_page_token.clone(),
            },
            &root_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let newest = &listed.personal_access_tokens[0];
    let works_before = users
        .get_user(bearer(pb::GetUserRequest::default(), second.expose()))
        .await;
    users
        .delete_personal_access_token(bearer(
            pb::DeletePersonalAccessTokenRequest {
                name: newest.name.clone(),
            },
            &root_key,
        ))
        .await
        .unwrap();
    let works_after = users
        .get_user(bearer(pb::GetUserRequest::default(), second.expose()))
        .await
        .unwrap_err();
    let again = users
        .delete_personal_access_token(bearer(
            pb::DeletePersonalAccessTokenRequest {
                name: newest.name.clone(),
            },
            &root_key,
        ))
        .await
        .unwrap_err();

    assert_eq!(newest.description, "second");
    assert!(!newest.expired);
    assert_eq!(rest.personal_access_tokens.len(), 1);
    assert!(rest.personal_access_tokens[0].expired);
    assert!(rest.next_page_token.is_empty());
    assert!(works_before.is_ok());
    assert_eq!(works_after.code(), Code::Unauthenticated);
    assert_eq!(again.code(), Code::NotFound);
}

async fn a_revoked_token_stops_working_on_every_process(app: TestApp) {
    app.initialize().await;
    let (erin, erin_key) = app.insert_user(Role::User, "erin").await;
    let other = app.second_server().await;
    let parent = erin.id.resource_name();
    let created = app
        .users()
        .await
        .create_personal_access_token(bearer(create(&parent, &[], 0), &erin_key))
        .await
        .unwrap()
        .into_inner();
    let token = created.token;
    let mut there = other.users().await;
    let before = there
        .get_user(bearer(pb::GetUserRequest::default(), &token))
        .await;

    app.users()
        .await
        .delete_personal_access_token(bearer(
            pb::DeletePersonalAccessTokenRequest {
                name: created.personal_access_token.unwrap().name,
            },
            &erin_key,
        ))
        .await
        .unwrap();
    let after = there
        .get_user(bearer(pb::GetUserRequest::default(), &token))
        .await
        .unwrap_err();

    assert!(before.is_ok(), "{before:?}");
    assert_eq!(after.code(), Code::Unauthenticated);
    other.stop().await.unwrap();
}

/// GetUser of the token's owner over gRPC, gRPC-Web and REST: the gRPC
/// codes (REST as its HTTP status).
async fn who_am_i_everywhere(app: &TestApp, token: &str) -> (Code, Code, u16) {
    let over_grpc = app
        .users()
        .await
        .get_user(bearer(pb::GetUserRequest::default(), token))
        .await
        .map_or_else(|status| status.code(), |_| Code::Ok);
    let over_grpc_web = app
        .grpc_web_users()
        .get_user(bearer(pb::GetUserRequest::default(), token))
        .await
        .map_or_else(|status| status.code(), |_| Code::Ok);
    let over_rest = app
        .http()
        .get(format!("{}/v1/users/me", app.base_url()))
        .header("x-api-key", token)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();
    (over_grpc, over_grpc_web, over_rest)
}

async fn a_deleted_token_stops_working_at_once_over_every_protocol(app: TestApp) {
    app.initialize().await;
    let (frank, frank_key) = app.insert_user(Role::User, "frank").await;
    let created = app
        .users()
        .await
        .create_personal_access_token(bearer(
            create(&frank.id.resource_name(), &[], 0),
            &frank_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let before = who_am_i_everywhere(&app, &created.token).await;

    app.grpc_web_users()
        .delete_personal_access_token(bearer(
            pb::DeletePersonalAccessTokenRequest {
                name: created.personal_access_token.unwrap().name,
            },
            &frank_key,
        ))
        .await
        .unwrap();
    let after = who_am_i_everywhere(&app, &created.token).await;

    assert_eq!(before, (Code::Ok, Code::Ok, 200));
    assert_eq!(after, (Code::Unauthenticated, Code::Unauthenticated, 401));
}

on_every_backend!(
    a_deleted_token_stops_working_at_once_over_every_protocol,
    a_revoked_token_stops_working_on_every_process,
    a_read_only_token_reads_but_cannot_write,
    scopes_and_lifetimes_are_validated,
    lists_show_metadata_and_deletes_revoke_at_once,
);
