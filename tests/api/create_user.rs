//! CreateUser: the first user, registration, validation, uniqueness,
//! custom ids, validate_only and idempotent retries.
use roster::proto::goodmem::v1 as pb;
use tonic::Code;

use crate::helpers::{TestApp, bearer, new_user, violated_fields};
use crate::on_every_backend;

async fn the_first_user_becomes_root_and_initializes_the_system(app: TestApp) {
    let mut users = app.users().await;

    let first = users
        .create_user(pb::CreateUserRequest {
            user: Some(new_user("owner")),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let second = users
        .create_user(pb::CreateUserRequest {
            user: Some(new_user("stranger")),
            ..Default::default()
        })
        .await
        .unwrap_err();
    let init = users
        .initialize_system(pb::InitializeSystemRequest::default())
        .await
        .unwrap()
        .into_inner();

    assert_eq!(first.role, pb::user::Role::Root as i32);
    assert_eq!(first.created_by_id, first.user_id);
    assert_eq!(second.code(), Code::PermissionDenied, "{second:?}");
    assert!(second.message().contains("registration"), "{second:?}");
    assert!(init.already_initialized);
}

async fn registration_is_off_by_default_and_creates_only_users(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    let mut users = app.users().await;
    let mut system = app.system().await;
    let enable = pb::UpdateInstanceSettingsRequest {
        settings: Some(pb::InstanceSettings {
            allow_registration: true,
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: vec!["allow_registration".into()],
        }),
    };

    let closed = users
        .create_user(pb::CreateUserRequest {
            user: Some(new_user("early")),
            ..Default::default()
        })
        .await
        .unwrap_err();
    system
        .update_instance_settings(bearer(enable, &root_key))
        .await
        .unwrap();
    let registered = users
        .create_user(pb::CreateUserRequest {
            user: Some(pb::User {
                password: "correct horse".into(),
                ..new_user("joiner")
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let as_admin = users
        .create_user(pb::CreateUserRequest {
            user: Some(pb::User {
                role: pb::user::Role::Admin as i32,
                ..new_user("climber")
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    let session = app.sign_in("joiner", "correct horse").await;

    assert_eq!(closed.code(), Code::PermissionDenied);
    assert_eq!(registered.role, pb::user::Role::User as i32);
    assert!(registered.password.is_empty());
    assert_eq!(as_admin.code(), Code::PermissionDenied);
    assert!(session.starts_with("gm_"));
}

async fn admins_create_any_role_but_root_with_custom_ids(app: TestApp) {
    let (root_key, root_id) = app.initialize().await;
    let mut users = app.users().await;
    let custom = "0190c7d6-4c1e-7b3a-9f00-0000000000aa";

    let admin = users
        .create_user(bearer(
            pb::CreateUserRequest {
                user: Some(pb::User {
                    role: pb::user::Role::Admin as i32,
                    ..new_user("second")
                }),
                user_id: custom.into(),
                ..Default::default()
            },
            &root_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let root = users
        .create_user(bearer(
            pb::CreateUserRequest {
                user: Some(pb::User {
                    role: pb::user::Role::Root as i32,
                    ..new_user("usurper")
                }),
                ..Default::default()
            },
            &root_key,
        ))
        .await
        .unwrap_err();
    let reused_id = users
        .create_user(bearer(
            pb::CreateUserRequest {
                user: Some(new_user("other")),
                user_id: custom.into(),
                ..Default::default()
            },
            &root_key,
        ))
        .await
        .unwrap_err();
    let uppercase_id = users
        .create_user(bearer(
            pb::CreateUserRequest {
                user: Some(new_user("upper")),
                user_id: custom.to_uppercase(),
                ..Default::default()
            },
            &root_key,
        ))
        .await
        .unwrap_err();

    assert_eq!(admin.role, pb::user::Role::Admin as i32);
    assert_eq!(admin.name, format!("users/{custom}"));
    assert_eq!(admin.created_by_id, root_id.0.as_bytes().to_vec());
    assert_eq!(root.code(), Code::InvalidArgument);
    assert_eq!(reused_id.code(), Code::AlreadyExists, "{reused_id:?}");
    assert_eq!(violated_fields(&uppercase_id), vec!["user_id"]);
}

async fn every_invalid_field_is_reported_in_one_answer(app: TestApp) {
    let (root_key, _) = app.initialize().await;

    let error = app
        .users()
        .await
        .create_user(bearer(
            pb::CreateUserRequest {
                user: Some(pb::User {
                    email: "not an email".into(),
                    username: "-bad-".into(),
                    password: "short".into(),
                    labels: [("Bad Key".to_owned(), "v".to_owned())].into(),
                    ..Default::default()
                }),
                request_id: "nope".into(),
                ..Default::default()
            },
            &root_key,
        ))
        .await
        .unwrap_err();

    assert_eq!(error.code(), Code::InvalidArgument);
    let mut fields = violated_fields(&error);
    fields.sort();
    assert_eq!(
        fields,
        vec![
            "request_id",
            "user.email",
            "user.labels[\"Bad Key\"]",
            "user.password",
            "user.username"
        ]
    );
}

async fn emails_and_usernames_are_unique_without_regard_to_case(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    app.create_user(&root_key, new_user("alice")).await;
    let mut users = app.users().await;

    let same_email = users
        .create_user(bearer(
            pb::CreateUserRequest {
                user: Some(pb::User {
                    email: "ALICE@example.com".into(),
                    ..new_user("alice2")
                }),
                ..Default::default()
            },
            &root_key,
        ))
        .await
        .unwrap_err();
    let same_username = users
        .create_user(bearer(
            pb::CreateUserRequest {
                user: Some(pb::User {
                    email: "other@example.com".into(),
                    ..new_user("ALICE")
                }),
                ..Default::default()
            },
            &root_key,
        ))
        .await
        .unwrap_err();
    let checked = users
        .create_user(bearer(
            pb::CreateUserRequest {
                user: Some(pb::User {
                    email: "Alice@Example.com".into(),
                    ..new_user("carol")
                }),
                validate_only: true,
                ..Default::default()
            },
            &root_key,
        ))
        .await
        .unwrap_err();

    assert_eq!(same_email.code(), Code::AlreadyExists);
    assert_eq!(same_email.message(), "email already in use");
    assert_eq!(same_username.code(), Code::AlreadyExists);
    assert_eq!(same_username.message(), "username already in use");
    assert_eq!(
        checked.code(),
        Code::AlreadyExists,
        "validate_only checks too"
    );
}

async fn validate_only_writes_nothing(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    let mut users = app.users().await;

    let preview = users
        .create_user(bearer(
            pb::CreateUserRequest {
                user: Some(new_user("dry")),
                validate_only: true,
                ..Default::default()
            },
            &root_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let lookup = users
        .get_user(bearer(
            pb::GetUserRequest {
                username: "dry".into(),
                ..Default::default()
            },
            &root_key,
        ))
        .await
        .unwrap_err();

    assert_eq!(preview.username, "dry");
    assert_eq!(lookup.code(), Code::NotFound);
}

async fn two_concurrent_creates_with_one_email_leave_one_user(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    let attempts = (0..2).map(|index| {
        let root_key = root_key.clone();
        let address = app.base_url();
        tokio::spawn(async move {
            let mut users =
                roster::proto::goodmem::v1::user_service_client::UserServiceClient::connect(
                    address,
                )
                .await
                .unwrap();
            users
                .create_user(bearer(
                    pb::CreateUserRequest {
                        user: Some(pb::User {
                            email: "shared@example.com".into(),
                            ..new_user(&format!("racer{index}"))
                        }),
                        ..Default::default()
                    },
                    &root_key,
                ))
                .await
        })
    });

    let results: Vec<_> = futures_util::future::join_all(attempts).await;

    let codes: Vec<Code> = results
        .into_iter()
        .map(|joined| match joined.unwrap() {
            Ok(_) => Code::Ok,
            Err(status) => status.code(),
        })
        .collect();
    assert_eq!(codes.iter().filter(|code| **code == Code::Ok).count(), 1);
    assert!(codes.contains(&Code::AlreadyExists), "{codes:?}");
}

async fn a_request_id_makes_concurrent_retries_create_one_user(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    let request_id = uuid::Uuid::new_v4().to_string();
    let request = pb::CreateUserRequest {
        user: Some(new_user("once")),
        request_id: request_id.clone(),
        ..Default::default()
    };
    let retries = (0..6).map(|_| {
        let request = request.clone();
        let root_key = root_key.clone();
        let address = app.base_url();
        tokio::spawn(async move {
            roster::proto::goodmem::v1::user_service_client::UserServiceClient::connect(address)
                .await
                .unwrap()
                .create_user(bearer(request, &root_key))
                .await
                .map(tonic::Response::into_inner)
        })
    });

    let created: Vec<pb::User> = futures_util::future::join_all(retries)
        .await
        .into_iter()
        .map(|joined| joined.unwrap().expect("every retry succeeds"))
        .collect();
    let changed = app
        .users()
        .await
        .create_user(bearer(
            pb::CreateUserRequest {
                user: Some(new_user("twice")),
                request_id,
                ..Default::default()
            },
            &root_key,
        ))
        .await
        .unwrap_err();
    let listed = app
        .users()
        .await
        .list_users(bearer(
            pb::ListUsersRequest {
                filter: "username == \"once\"".into(),
                ..Default::default()
            },
            &root_key,
        ))
        .await
        .unwrap()
        .into_inner();

    assert!(
        created
            .iter()
            .all(|user| user.user_id == created[0].user_id)
    );
    assert_eq!(listed.users.len(), 1);
    assert_eq!(violated_fields(&changed), vec!["request_id"]);
}

async fn two_servers_racing_for_the_first_user_make_one_root(app: TestApp) {
    let other = app.second_server().await;
    let attempts = [app.base_url(), other.base_url()]
        .into_iter()
        .enumerate()
        .map(|(index, address)| {
            tokio::spawn(async move {
                roster::proto::goodmem::v1::user_service_client::UserServiceClient::connect(address)
                    .await
                    .unwrap()
                    .create_user(pb::CreateUserRequest {
                        user: Some(new_user(&format!("founder{index}"))),
                        ..Default::default()
                    })
                    .await
                    .map(tonic::Response::into_inner)
            })
        });

    let results: Vec<_> = futures_util::future::join_all(attempts).await;

    let roots = results
        .into_iter()
        .filter_map(|joined| joined.unwrap().ok())
        .filter(|user| user.role == pb::user::Role::Root as i32)
        .count();
    assert_eq!(roots, 1);
    other.stop().await.unwrap();
}

on_every_backend!(
    the_first_user_becomes_root_and_initializes_the_system,
    registration_is_off_by_default_and_creates_only_users,
    admins_create_any_role_but_root_with_custom_ids,
    every_invalid_field_is_reported_in_one_answer,
    emails_and_usernames_are_unique_without_regard_to_case,
    validate_only_writes_nothing,
    two_concurrent_creates_with_one_email_leave_one_user,
    a_request_id_makes_concurrent_retries_create_one_user,
    two_servers_racing_for_the_first_user_make_one_root,
);
