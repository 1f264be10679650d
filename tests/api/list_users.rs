//! ListUsers: keyset pagination, CEL filters, deleted users, totals.
use std::collections::HashSet;

use roster::domain::user::Role;
use roster::proto::goodmem::v1 as pb;
use tonic::Code;

use crate::helpers::{TestApp, bearer, violated_fields};
use crate::on_every_backend;

async fn list(app: &TestApp, key: &str, request: pb::ListUsersRequest) -> pb::ListUsersResponse {
    app.users()
        .await
        .list_users(bearer(request.clone(), key))
        .await
        .unwrap_or_else(|status| panic!("{request:?}: {status:?}"))
        .into_inner()
}

async fn list_error(app: &TestApp, key: &str, request: pb::ListUsersRequest) -> tonic::Status {
    app.users()
        .await
        .list_users(bearer(request, key))
        .await
        .unwrap_err()
}

async fn usernames(app: &TestApp, key: &str, filter: &str) -> Vec<String> {
    let mut names: Vec<String> = list(
        app,
        key,
        pb::ListUsersRequest {
            filter: filter.to_owned(),
            page_size: 1000,
            ..Default::default()
        },
    )
    .await
    .users
    .into_iter()
    .map(|user| user.username)
    .collect();
    names.sort();
    names
}

async fn pages_cover_more_than_a_thousand_users_exactly_once(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    let seeded = app.insert_many_users(1_203).await;
    let mut seen = HashSet::new();
    let mut token = String::new();
    let mut pages = 0;

    loop {
        let page = list(
            &app,
            &root_key,
            pb::ListUsersRequest {
                page_size: 500,
                page_token: token.clone(),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(page.total_size, 1_204);
        for user in page.users {
            assert!(seen.insert(user.user_id), "a user appeared twice");
        }
        pages += 1;
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
    }

    assert_eq!(pages, 3);
    assert_eq!(seen.len(), seeded.len() + 1, "every user and ROOT once");
}

async fn page_sizes_default_clamp_and_refuse_negatives(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    app.insert_many_users(1_100).await;

    let default = list(&app, &root_key, pb::ListUsersRequest::default()).await;
    let clamped = list(
        &app,
        &root_key,
        pb::ListUsersRequest {
            page_size: 5_000,
            ..Default::default()
        },
    )
    .await;
    let negative = list_error(
        &app,
        &root_key,
        pb::ListUsersRequest {
            page_size: -1,
            ..Default::default()
        },
    )
    .await;

    assert_eq!(default.users.len(), 50);
    assert_eq!(clamped.users.len(), 1000);
    assert_eq!(violated_fields(&negative), vec!["page_size"]);
}

async fn tokens_are_bound_to_their_filter(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    app.insert_many_users(30).await;
    let first = list(
        &app,
        &root_key,
        pb::ListUsersRequest {
            page_size: 5,
            filter: "labels[\"parity\"] == \"0\"".into(),
            ..Default::default()
        },
    )
    .await;

    let other_filter = list_error(
        &app,
        &root_key,
        pb::ListUsersRequest {
            page_size: 5,
            page_token: first.next_page_token.clone(),
            filter: "labels[\"parity\"] == \"1\"".into(),
            ..Default::default()
        },
    )
    .await;
    let forged = list_error(
        &app,
        &root_key,
        pb::ListUsersRequest {
            page_token: "not-a-token".into(),
            ..Default::default()
        },
    )
    .await;

    assert_eq!(first.users.len(), 5);
    assert_eq!(first.total_size, 15);
    assert_eq!(violated_fields(&other_filter), vec!["page_token"]);
    assert_eq!(violated_fields(&forged), vec!["page_token"]);
}

async fn filters_are_translated_to_sql(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    app.insert_user(Role::Admin, "Ann").await;
    app.insert_user(Role::User, "annabel").await;
    app.insert_user(Role::User, "bob").await;

    let cases: &[(&str, &[&str])] = &[
        ("username == \"ANN\"", &["Ann"]),
        ("username != \"bob\" && role == \"USER\"", &["annabel"]),
        ("username.startsWith(\"ann\")", &["Ann", "annabel"]),
        ("email.contains(\"BEL@\")", &["annabel"]),
        ("display_name.contains(\"NAB\")", &["annabel"]),
        ("role == \"ADMIN\" || username == \"bob\"", &["Ann", "bob"]),
        (
            "labels[\"team\"] == \"core\" && state == \"NORMAL\"",
            &["Ann", "annabel", "bob"],
        ),
        ("username.contains(\"%\")", &[]),
    ];
    for (filter, expected) in cases {
        assert_eq!(
            usernames(&app, &root_key, filter).await,
            *expected,
            "{filter}"
        );
    }
    for unsupported in [
        "avatar_url == \"x\"",
        "username > \"a\"",
        "username.matches(\"a.*\")",
        "role == \"KING\"",
        "username ==",
    ] {
        let error = list_error(
            &app,
            &root_key,
            pb::ListUsersRequest {
                filter: unsupported.to_owned(),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(error.code(), Code::InvalidArgument, "{unsupported}");
        assert_eq!(violated_fields(&error), vec!["filter"], "{unsupported}");
    }
}

async fn filtered_totals_are_estimated_on_large_tables(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    app.insert_many_users(1_203).await;

    let even = list(
        &app,
        &root_key,
        pb::ListUsersRequest {
            filter: "labels[\"parity\"] == \"0\" && username.startsWith(\"bulk\")".into(),
            ..Default::default()
        },
    )
    .await;
    let one = list(
        &app,
        &root_key,
        pb::ListUsersRequest {
            filter: "username == \"bulk00007\"".into(),
            ..Default::default()
        },
    )
    .await;

    // 602 users match; the estimate comes from a sample of 300.
    assert!(
        (540..=664).contains(&even.total_size),
        "{}",
        even.total_size
    );
    assert_eq!(even.users.len(), 50);
    assert_eq!(one.total_size, 1, "a result that fits one page is counted");
}

async fn deleted_users_are_listed_only_on_request(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    let (gone, _) = app.insert_user(Role::User, "gone").await;
    app.users()
        .await
        .delete_user(bearer(
            pb::DeleteUserRequest {
                user_id: gone.id.0.as_bytes().to_vec(),
                force: true,
                ..Default::default()
            },
            &root_key,
        ))
        .await
        .unwrap();

    let live = list(&app, &root_key, pb::ListUsersRequest::default()).await;
    let all = list(
        &app,
        &root_key,
        pb::ListUsersRequest {
            show_deleted: true,
            ..Default::default()
        },
    )
    .await;

    assert_eq!((live.users.len(), live.total_size), (1, 1));
    assert_eq!((all.users.len(), all.total_size), (2, 2));
}

async fn rest_lists_with_query_parameters(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    app.insert_many_users(3).await;

    let response = app
        .http()
        .get(format!(
            "{}/api/v1/users?pageSize=2&filter=username.startsWith(%22bulk%22)",
            app.base_url()
        ))
        .header("x-api-key", &root_key)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap();

    assert_eq!(status, 200, "{body}");
    assert_eq!(body["users"].as_array().unwrap().len(), 2);
    assert_eq!(body["totalSize"], 3);
    assert!(body["users"][0]["userId"].as_str().unwrap().contains('-'));
    assert!(!body["nextPageToken"].as_str().unwrap().is_empty());
}

on_every_backend!(
    pages_cover_more_than_a_thousand_users_exactly_once,
    page_sizes_default_clamp_and_refuse_negatives,
    tokens_are_bound_to_their_filter,
    filters_are_translated_to_sql,
    filtered_totals_are_estimated_on_large_tables,
    deleted_users_are_listed_only_on_request,
    rest_lists_with_query_parameters,
);
