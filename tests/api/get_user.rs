//! GetUser: every lookup mode and every error code the contract names.
use roster::domain::clock::EpochMillis;
use roster::domain::user::Role;
use roster::proto::goodmem::v1 as pb;
use tonic::Code;

use crate::helpers::{TestApp, bearer};
use crate::on_every_backend;

fn by_id(id: &roster::domain::user::UserId) -> pb::GetUserRequest {
    pb::GetUserRequest {
        user_id: id.0.as_bytes().to_vec(),
        ..Default::default()
    }
}

async fn every_lookup_mode_finds_the_user(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    let (alice, _) = app.insert_user(Role::User, "Alice").await;
    let mut users = app.users().await;
    let requests = [
        by_id(&alice.id),
        pb::GetUserRequest {
            email: "ALICE@example.com".into(),
            ..Default::default()
        },
        pb::GetUserRequest {
            username: "alice".into(),
            ..Default::default()
        },
        pb::GetUserRequest {
            name: alice.id.resource_name(),
            ..Default::default()
        },
        pb::GetUserRequest {
            name: "users/ALICE".into(),
            ..Default::default()
        },
    ];

    for request in requests {
        let found = users
            .get_user(bearer(request.clone(), &root_key))
            .await
            .unwrap_or_else(|status| panic!("{request:?}: {status:?}"))
            .into_inner();

        assert_eq!(found.user_id, alice.id.0.as_bytes().to_vec(), "{request:?}");
        assert_eq!(found.email, "Alice@example.com");
        assert_eq!(found.username, "Alice");
        assert_eq!(found.display_name, "ALICE");
        assert_eq!(found.name, alice.id.resource_name());
        assert_eq!(found.role, pb::user::Role::User as i32);
        assert_eq!(found.state, pb::user::State::Normal as i32);
        assert_eq!(found.labels.get("team").map(String::as_str), Some("core"));
        assert_eq!(found.created_at.unwrap().seconds, alice.created_at.0 / 1000);
        assert!(found.password.is_empty());
        assert!(found.deleted_at.is_none());
        assert!(!found.etag.is_empty());
    }
}

async fn id_takes_priority_over_email_and_username(app: TestApp) {
    let (root_key, root_id) = app.initialize().await;
    let (alice, _) = app.insert_user(Role::User, "alice").await;
    let mut users = app.users().await;

    let found = users
        .get_user(bearer(
            pb::GetUserRequest {
                user_id: root_id.0.as_bytes().to_vec(),
                email: "alice@example.com".into(),
                username: "alice".into(),
                ..Default::default()
            },
            &root_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let by_email = users
        .get_user(bearer(
            pb::GetUserRequest {
                email: "alice@example.com".into(),
                username: "root".into(),
                ..Default::default()
            },
            &root_key,
        ))
        .await
        .unwrap()
        .into_inner();

    assert_eq!(found.user_id, root_id.0.as_bytes().to_vec());
    assert_eq!(by_email.user_id, alice.id.0.as_bytes().to_vec());
}

async fn an_empty_request_returns_the_caller(app: TestApp) {
    app.initialize().await;
    let (bob, bob_key) = app.insert_user(Role::User, "bob").await;

    let found = app
        .users()
        .await
        .get_user(bearer(pb::GetUserRequest::default(), &bob_key))
        .await
        .unwrap()
        .into_inner();

    assert_eq!(found.user_id, bob.id.0.as_bytes().to_vec());
}

async fn x_api_key_header_is_accepted(app: TestApp) {
    let (root_key, root_id) = app.initialize().await;
    let mut request = tonic::Request::new(pb::GetUserRequest::default());
    request
        .metadata_mut()
        .insert("x-api-key", root_key.parse().unwrap());

    let found = app
        .users()
        .await
        .get_user(request)
        .await
        .unwrap()
        .into_inner();

    assert_eq!(found.user_id, root_id.0.as_bytes().to_vec());
}

async fn bad_credentials_are_unauthenticated(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    let (expired_user, expired_key) = app
        .insert_user_with_token(
            Role::User,
            "expired",
            Some(EpochMillis::now().minus_millis(1000)),
        )
        .await;
    let (revoked_user, revoked_key) = app.insert_user(Role::User, "revoked").await;
    let (archived_user, archived_key) = app.insert_user(Role::User, "archived").await;
    let (deleted_user, deleted_key) = app.insert_user(Role::User, "deleted").await;
    let _ = (expired_user, revoked_user);
    app.revoke_token(&revoked_key).await;
    app.archive_user(&root_key, archived_user.id).await;
    app.delete_user(&root_key, deleted_user.id).await;
    let mut users = app.users().await;
    let unknown_key = roster::domain::token::RawToken::generate()
        .expose()
        .to_owned();
    let cases = [
        ("no credentials", None),
        ("garbage token", Some("not-a-token".to_owned())),
        ("unknown token", Some(unknown_key)),
        ("expired token", Some(expired_key)),
        ("revoked token", Some(revoked_key)),
        ("archived user", Some(archived_key)),
        ("deleted user", Some(deleted_key)),
    ];

    for (case, token) in cases {
        let request = match &token {
            Some(token) => bearer(pb::GetUserRequest::default(), token),
            None => tonic::Request::new(pb::GetUserRequest::default()),
        };
        let status = users.get_user(request).await.expect_err(case);

        assert_eq!(status.code(), Code::Unauthenticated, "{case}: {status:?}");
        assert!(
            !status.message().contains("gm_"),
            "{case}: message leaks the token"
        );
    }
    // The root key still works: only the bad ones were refused.
    users
        .get_user(bearer(pb::GetUserRequest::default(), &root_key))
        .await
        .unwrap();
}

async fn ordinary_users_are_denied_others_before_any_lookup(app: TestApp) {
    let (_, root_id) = app.initialize().await;
    let (_, bob_key) = app.insert_user(Role::User, "bob").await;
    let mut users = app.users().await;
    let nobody = roster::domain::user::UserId::generate();
    let requests = [
        ("root by id", by_id(&root_id)),
        ("missing user by id", by_id(&nobody)),
        (
            "root by email",
            pb::GetUserRequest {
                email: "root@localhost".into(),
                ..Default::default()
            },
        ),
        (
            "missing user by email",
            pb::GetUserRequest {
                email: "ghost@example.com".into(),
                ..Default::default()
            },
        ),
        (
            "root by username",
            pb::GetUserRequest {
                username: "root".into(),
                ..Default::default()
            },
        ),
        (
            "root by name",
            pb::GetUserRequest {
                name: root_id.resource_name(),
                ..Default::default()
            },
        ),
        (
            "own record with include_deleted",
            pb::GetUserRequest {
                include_deleted: true,
                ..Default::default()
            },
        ),
    ];

    for (case, request) in requests {
        let status = users
            .get_user(bearer(request, &bob_key))
            .await
            .expect_err(case);

        assert_eq!(status.code(), Code::PermissionDenied, "{case}: {status:?}");
        assert!(
            status.message().contains("DISPLAY_USER_ANY"),
            "{case}: {}",
            status.message()
        );
    }
    let own = users
        .get_user(bearer(
            pb::GetUserRequest {
                username: "BOB".into(),
                ..Default::default()
            },
            &bob_key,
        ))
        .await;
    assert!(own.is_ok(), "bob may read himself: {own:?}");
}

async fn malformed_ids_are_invalid_arguments(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    let mut users = app.users().await;
    let requests = [
        (
            "short id",
            pb::GetUserRequest {
                user_id: vec![1, 2, 3],
                ..Default::default()
            },
            "user_id",
        ),
        (
            "long id",
            pb::GetUserRequest {
                user_id: vec![0; 17],
                ..Default::default()
            },
            "user_id",
        ),
        (
            "foreign name",
            pb::GetUserRequest {
                name: "groups/1".into(),
                ..Default::default()
            },
            "name",
        ),
        (
            "bad uuid name",
            pb::GetUserRequest {
                name: "users/zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz".into(),
                ..Default::default()
            },
            "name",
        ),
        (
            "impossible username in name",
            pb::GetUserRequest {
                name: "users/no_such".into(),
                ..Default::default()
            },
            "name",
        ),
        (
            "malformed email",
            pb::GetUserRequest {
                email: "not-an-email".into(),
                ..Default::default()
            },
            "email",
        ),
        (
            "malformed username",
            pb::GetUserRequest {
                username: "bad name".into(),
                ..Default::default()
            },
            "username",
        ),
    ];

    for (case, request, field) in requests {
        let status = users
            .get_user(bearer(request, &root_key))
            .await
            .expect_err(case);

        assert_eq!(status.code(), Code::InvalidArgument, "{case}: {status:?}");
        assert!(
            status.message().starts_with(field),
            "{case}: {}",
            status.message()
        );
        assert!(
            !status.details().is_empty(),
            "{case}: a BadRequest detail is attached"
        );
    }
}

async fn unknown_users_are_not_found(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    let mut users = app.users().await;
    let requests = [
        by_id(&roster::domain::user::UserId::generate()),
        pb::GetUserRequest {
            email: "ghost@example.com".into(),
            ..Default::default()
        },
        pb::GetUserRequest {
            username: "ghost".into(),
            ..Default::default()
        },
    ];

    for request in requests {
        let status = users
            .get_user(bearer(request.clone(), &root_key))
            .await
            .expect_err("missing");

        assert_eq!(status.code(), Code::NotFound, "{request:?}");
    }
}

async fn deleted_users_are_visible_only_with_include_deleted(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    let (carol, _) = app.insert_user(Role::User, "carol").await;
    app.delete_user(&root_key, carol.id).await;
    let mut users = app.users().await;

    let hidden = users.get_user(bearer(by_id(&carol.id), &root_key)).await;
    let shown = users
        .get_user(bearer(
            pb::GetUserRequest {
                include_deleted: true,
                ..by_id(&carol.id)
            },
            &root_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let by_email = users
        .get_user(bearer(
            pb::GetUserRequest {
                email: "carol@example.com".into(),
                include_deleted: true,
                ..Default::default()
            },
            &root_key,
        ))
        .await
        .unwrap()
        .into_inner();

    assert_eq!(hidden.unwrap_err().code(), Code::NotFound);
    assert!(shown.deleted_at.unwrap().seconds >= carol.created_at.0 / 1000);
    assert_eq!(shown.deleted_by_id.len(), 16);
    assert_eq!(by_email.user_id, carol.id.0.as_bytes().to_vec());
}

async fn using_a_token_records_its_last_use(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    use sea_orm::EntityTrait as _;
    let last_used = || async {
        roster::store::entity::credential::Entity::find()
            .one(app.store.reader())
            .await
            .unwrap()
            .unwrap()
            .last_used_at
    };
    assert_eq!(last_used().await, None);

    app.users()
        .await
        .get_user(bearer(pb::GetUserRequest::default(), &root_key))
        .await
        .unwrap();

    // Written off the request path: wait for it.
    let mut recorded = None;
    for _ in 0..100 {
        recorded = last_used().await;
        if recorded.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let recorded = recorded.expect("last use recorded");
    assert!((EpochMillis::now().0 - recorded).abs() < 60_000);

    // Within the minute, further calls do not write again.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    for _ in 0..3 {
        app.users()
            .await
            .get_user(bearer(pb::GetUserRequest::default(), &root_key))
            .await
            .unwrap();
    }
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        last_used().await,
        Some(recorded),
        "written at most about once a minute"
    );
}

async fn admins_may_read_anyone(app: TestApp) {
    app.initialize().await;
    let (_, admin_key) = app.insert_user(Role::Admin, "admin").await;
    let (dave, _) = app.insert_user(Role::User, "dave").await;

    let found = app
        .users()
        .await
        .get_user(bearer(by_id(&dave.id), &admin_key))
        .await
        .unwrap()
        .into_inner();

    assert_eq!(found.username, "dave");
}
on_every_backend!(
    every_lookup_mode_finds_the_user,
    id_takes_priority_over_email_and_username,
    an_empty_request_returns_the_caller,
    x_api_key_header_is_accepted,
    bad_credentials_are_unauthenticated,
    ordinary_users_are_denied_others_before_any_lookup,
    malformed_ids_are_invalid_arguments,
    unknown_users_are_not_found,
    deleted_users_are_visible_only_with_include_deleted,
    using_a_token_records_its_last_use,
    admins_may_read_anyone
);
