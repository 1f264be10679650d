//! Notifications: listed newest first in keyset pages, filtered by CEL over
//! `status` and `type`, marked UNREAD or ARCHIVED, deleted; seen and changed
//! by their recipient alone, admins and root included. Nothing creates them
//! through the API yet, so tests arrange them through the store.
use roster::domain::clock::EpochMillis;
use roster::domain::notifications::{Notification, NotificationKind, NotificationStatus};
use roster::domain::user::{Role, UserId};
use roster::proto::goodmem::v1 as pb;
use roster::store::notifications;
use serde_json::{Value, json};
use tonic::Code;

use crate::helpers::{TestApp, bearer, violated_fields};
use crate::on_every_backend;

use pb::user_notification::{Status, Type};

/// Stores a memo-comment notification from `sender` to `recipient`, about
/// a new memo id, created `at`.
async fn arrange(
    app: &TestApp,
    recipient: UserId,
    sender: UserId,
    status: NotificationStatus,
    at: EpochMillis,
) -> Notification {
    let notification = Notification {
        id: uuid::Uuid::now_v7(),
        recipient,
        sender: Some(sender),
        status,
        kind: NotificationKind::MemoComment,
        memo: Some(uuid::Uuid::now_v7()),
        created_at: at,
        updated_at: at,
    };
    notifications::insert(app.store.writer(), &notification)
        .await
        .unwrap();
    notification
}

/// A fixed point a minute ago that tests count milliseconds from.
fn minute_ago() -> i64 {
    EpochMillis::now().0 - 60_000
}

/// `offset` milliseconds after `start`.
fn at(start: i64, offset: i64) -> EpochMillis {
    EpochMillis(start + offset)
}

fn list(
    parent: &str,
    filter: &str,
    page_size: i32,
    page_token: &str,
) -> pb::ListUserNotificationsRequest {
    pb::ListUserNotificationsRequest {
        parent: parent.to_owned(),
        page_size,
        page_token: page_token.to_owned(),
        filter: filter.to_owned(),
    }
}

fn update(name: &str, status: Status, paths: &[&str]) -> pb::UpdateUserNotificationRequest {
    pb::UpdateUserNotificationRequest {
        notification: Some(pb::UserNotification {
            name: name.to_owned(),
            status: status as i32,
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: paths.iter().map(|path| (*path).to_owned()).collect(),
        }),
    }
}

fn delete(name: &str) -> pb::DeleteUserNotificationRequest {
    pb::DeleteUserNotificationRequest {
        name: name.to_owned(),
    }
}

/// The names `filter` lists for `token`'s owner, all pages of one.
async fn names_matching(app: &TestApp, token: &str, parent: &str, filter: &str) -> Vec<String> {
    let mut users = app.users().await;
    let mut names = Vec::new();
    let mut page_token = String::new();
    loop {
        let page = users
            .list_user_notifications(bearer(list(parent, filter, 1, &page_token), token))
            .await
            .unwrap_or_else(|status| panic!("{filter}: {status:?}"))
            .into_inner();
        names.extend(page.notifications.into_iter().map(|n| n.name));
        if page.next_page_token.is_empty() {
            return names;
        }
        page_token = page.next_page_token;
    }
}

async fn lists_are_newest_first_in_pages(app: TestApp) {
    app.initialize().await;
    let start = minute_ago();
    let (alice, alice_key) = app.insert_user(Role::User, "alice").await;
    let (bob, _) = app.insert_user(Role::User, "bob").await;
    let unread = NotificationStatus::Unread;
    // Two share a millisecond, across the first page's end: the id breaks
    // the tie (the later id is listed first).
    let mut arranged = Vec::new();
    for offset in [1, 3, 3, 4, 2] {
        arranged.push(arrange(&app, alice.id, bob.id, unread, at(start, offset)).await);
    }
    arrange(&app, bob.id, alice.id, unread, at(start, 5)).await;
    let mut expected = arranged.clone();
    expected.sort_by_key(|n| std::cmp::Reverse((n.created_at.0, n.id)));
    let parent = alice.id.resource_name();
    let mut users = app.users().await;

    let mut pages = Vec::new();
    let mut token = String::new();
    loop {
        let page = users
            .list_user_notifications(bearer(list(&parent, "", 2, &token), &alice_key))
            .await
            .unwrap()
            .into_inner();
        pages.push(page.notifications);
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
        assert!(pages.len() < 5, "paging must end");
    }
    let garbage = users
        .list_user_notifications(bearer(list(&parent, "", 2, "garbage"), &alice_key))
        .await
        .unwrap_err();

    assert_eq!(
        expected[1].created_at, expected[2].created_at,
        "the first page ends inside a tie"
    );
    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![2, 2, 1]);
    let listed: Vec<pb::UserNotification> = pages.into_iter().flatten().collect();
    let names: Vec<&str> = listed.iter().map(|n| n.name.as_str()).collect();
    let expected_names: Vec<String> = expected.iter().map(Notification::name).collect();
    assert_eq!(
        names, expected_names,
        "each once, newest first, bob's not at all"
    );
    let newest = &listed[0];
    let source = &expected[0];
    assert!(newest.name.starts_with(&format!("{parent}/notifications/")));
    assert_eq!(newest.sender, bob.id.resource_name());
    assert_eq!(newest.memo, format!("memos/{}", source.memo.unwrap()));
    assert_eq!(newest.status, Status::Unread as i32);
    assert_eq!(newest.r#type, Type::MemoComment as i32);
    let created = newest.create_time.as_ref().expect("create_time");
    assert_eq!(
        created.seconds * 1000 + i64::from(created.nanos) / 1_000_000,
        source.created_at.0
    );
    assert_eq!(garbage.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&garbage), vec!["page_token"]);
}

async fn filters_select_by_status_and_type(app: TestApp) {
    app.initialize().await;
    let start = minute_ago();
    let (alice, alice_key) = app.insert_user(Role::User, "alice").await;
    let (bob, _) = app.insert_user(Role::User, "bob").await;
    let mut arranged = Vec::new();
    for (offset, status) in [
        (1, NotificationStatus::Unread),
        (2, NotificationStatus::Archived),
        (3, NotificationStatus::Unread),
        (4, NotificationStatus::Archived),
        (5, NotificationStatus::Unread),
    ] {
        arranged.push(arrange(&app, alice.id, bob.id, status, at(start, offset)).await);
    }
    let names = |wanted: &[usize]| -> Vec<String> {
        wanted.iter().map(|index| arranged[*index].name()).collect()
    };
    let parent = alice.id.resource_name();
    let mut users = app.users().await;

    let unread = names_matching(&app, &alice_key, &parent, r#"status == "UNREAD""#).await;
    let archived = names_matching(&app, &alice_key, &parent, r#""ARCHIVED" == status"#).await;
    let comments = names_matching(&app, &alice_key, &parent, r#"type == "MEMO_COMMENT""#).await;
    let not_archived_comments = names_matching(
        &app,
        &alice_key,
        &parent,
        r#"status != "ARCHIVED" && type == "MEMO_COMMENT""#,
    )
    .await;
    let either = names_matching(
        &app,
        &alice_key,
        &parent,
        r#"status == "ARCHIVED" || status == "UNREAD""#,
    )
    .await;
    let none = names_matching(&app, &alice_key, &parent, r#"type != "MEMO_COMMENT""#).await;
    let mut refused = Vec::new();
    for filter in [
        r#"sender == "x""#,
        r#"status == "READ""#,
        r#"status.startsWith("U")"#,
        r#"status < "UNREAD""#,
        "status ==",
    ] {
        let status = users
            .list_user_notifications(bearer(list(&parent, filter, 0, ""), &alice_key))
            .await
            .unwrap_err();
        refused.push((filter, status));
    }
    let first_unread = users
        .list_user_notifications(bearer(
            list(&parent, r#"status == "UNREAD""#, 1, ""),
            &alice_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let token_for_another_filter = users
        .list_user_notifications(bearer(
            list(
                &parent,
                r#"status == "ARCHIVED""#,
                1,
                &first_unread.next_page_token,
            ),
            &alice_key,
        ))
        .await
        .unwrap_err();

    assert_eq!(unread, names(&[4, 2, 0]));
    assert_eq!(archived, names(&[3, 1]));
    assert_eq!(comments, names(&[4, 3, 2, 1, 0]));
    assert_eq!(not_archived_comments, names(&[4, 2, 0]));
    assert_eq!(either, names(&[4, 3, 2, 1, 0]));
    assert!(none.is_empty());
    for (filter, status) in refused {
        assert_eq!(status.code(), Code::InvalidArgument, "{filter}: {status:?}");
        assert_eq!(violated_fields(&status), vec!["filter"], "{filter}");
    }
    assert!(!first_unread.next_page_token.is_empty());
    assert_eq!(token_for_another_filter.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&token_for_another_filter),
        vec!["page_token"]
    );
}

async fn recipients_mark_and_delete_their_notifications(app: TestApp) {
    app.initialize().await;
    let start = minute_ago();
    let (alice, alice_key) = app.insert_user(Role::User, "alice").await;
    let (bob, _) = app.insert_user(Role::User, "bob").await;
    let unread = NotificationStatus::Unread;
    let notification = arrange(&app, alice.id, bob.id, unread, at(start, 1)).await;
    let bobs = arrange(&app, bob.id, alice.id, unread, at(start, 2)).await;
    let name = notification.name();
    let parent = alice.id.resource_name();
    let mut users = app.users().await;

    let archived = users
        .update_user_notification(bearer(
            update(&name, Status::Archived, &["status"]),
            &alice_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let listed_archived =
        names_matching(&app, &alice_key, &parent, r#"status == "ARCHIVED""#).await;
    let type_path = users
        .update_user_notification(bearer(
            update(&name, Status::Unread, &["status", "type"]),
            &alice_key,
        ))
        .await
        .unwrap_err();
    let empty_mask = users
        .update_user_notification(bearer(update(&name, Status::Unread, &[]), &alice_key))
        .await
        .unwrap_err();
    let unspecified = users
        .update_user_notification(bearer(
            update(&name, Status::Unspecified, &["status"]),
            &alice_key,
        ))
        .await
        .unwrap_err();
    let unknown = users
        .update_user_notification(bearer(
            update(
                &format!("{parent}/notifications/{}", uuid::Uuid::now_v7()),
                Status::Unread,
                &["status"],
            ),
            &alice_key,
        ))
        .await
        .unwrap_err();
    // Bob's notification addressed under Alice: there is none.
    let under_the_wrong_user = users
        .update_user_notification(bearer(
            update(
                &format!("{parent}/notifications/{}", bobs.id),
                Status::Archived,
                &["status"],
            ),
            &alice_key,
        ))
        .await
        .unwrap_err();
    let marked_unread = users
        .update_user_notification(bearer(
            update(&name, Status::Unread, &["status"]),
            &alice_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let deleted = users
        .delete_user_notification(bearer(delete(&name), &alice_key))
        .await;
    let deleted_again = users
        .delete_user_notification(bearer(delete(&name), &alice_key))
        .await
        .unwrap_err();
    let left = names_matching(&app, &alice_key, &parent, "").await;

    assert_eq!(archived.name, name);
    assert_eq!(archived.status, Status::Archived as i32);
    assert_eq!(archived.sender, bob.id.resource_name());
    assert_eq!(archived.r#type, Type::MemoComment as i32);
    assert_eq!(listed_archived, vec![name.clone()]);
    for (what, status, field) in [
        ("a type path", &type_path, "update_mask"),
        ("an empty mask", &empty_mask, "update_mask"),
        ("STATUS_UNSPECIFIED", &unspecified, "notification.status"),
    ] {
        assert_eq!(status.code(), Code::InvalidArgument, "{what}: {status:?}");
        assert_eq!(violated_fields(status), vec![field], "{what}");
    }
    assert_eq!(unknown.code(), Code::NotFound);
    assert_eq!(under_the_wrong_user.code(), Code::NotFound);
    assert_eq!(marked_unread.status, Status::Unread as i32);
    assert!(deleted.is_ok(), "{deleted:?}");
    assert_eq!(deleted_again.code(), Code::NotFound);
    assert!(left.is_empty());
}

async fn nobody_but_the_recipient_sees_or_changes_them(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    let start = minute_ago();
    let (alice, alice_key) = app.insert_user(Role::User, "alice").await;
    let (bob, bob_key) = app.insert_user(Role::User, "bob").await;
    let (_, admin_key) = app.insert_user(Role::Admin, "admin").await;
    let notification = arrange(
        &app,
        alice.id,
        bob.id,
        NotificationStatus::Unread,
        at(start, 1),
    )
    .await;
    let name = notification.name();
    let parent = alice.id.resource_name();
    let random = format!("{parent}/notifications/{}", uuid::Uuid::now_v7());
    let mut users = app.users().await;

    let mut refusals = Vec::new();
    for (who, key) in [
        ("bob", &bob_key),
        ("an admin", &admin_key),
        ("root", &root_key),
    ] {
        let listed = users
            .list_user_notifications(bearer(list(&parent, "", 0, ""), key))
            .await
            .map(|_| ());
        let updated = users
            .update_user_notification(bearer(update(&name, Status::Archived, &["status"]), key))
            .await
            .map(|_| ());
        let updated_random = users
            .update_user_notification(bearer(update(&random, Status::Archived, &["status"]), key))
            .await
            .map(|_| ());
        let deleted = users
            .delete_user_notification(bearer(delete(&name), key))
            .await
            .map(|_| ());
        refusals.push((who, "list", listed));
        refusals.push((who, "update", updated));
        refusals.push((who, "update a random id", updated_random));
        refusals.push((who, "delete", deleted));
    }
    let own = users
        .list_user_notifications(bearer(list(&parent, "", 0, ""), &alice_key))
        .await
        .unwrap()
        .into_inner()
        .notifications;
    let bobs_own = users
        .list_user_notifications(bearer(list(&bob.id.resource_name(), "", 0, ""), &bob_key))
        .await
        .unwrap()
        .into_inner()
        .notifications;

    for (who, what, answer) in refusals {
        let status = answer.expect_err(&format!("{who} {what}"));
        assert_eq!(
            status.code(),
            Code::PermissionDenied,
            "{who} {what}: {status:?}"
        );
    }
    assert_eq!(own.len(), 1, "untouched");
    assert_eq!(own[0].name, name);
    assert_eq!(own[0].status, Status::Unread as i32);
    assert!(bobs_own.is_empty(), "bob has none of his own");
}

/// Sends `request`; returns the status and the parsed JSON body.
async fn call(request: reqwest::RequestBuilder) -> (u16, Value) {
    let response = request.send().await.expect("http call");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let body =
        serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON ({status}): {text}"));
    (status, body)
}

async fn notifications_over_rest(app: TestApp) {
    app.initialize().await;
    let start = minute_ago();
    let (alice, alice_key) = app.insert_user(Role::User, "alice").await;
    let (bob, _) = app.insert_user(Role::User, "bob").await;
    let older = arrange(
        &app,
        alice.id,
        bob.id,
        NotificationStatus::Unread,
        at(start, 1),
    )
    .await;
    let newer = arrange(
        &app,
        alice.id,
        bob.id,
        NotificationStatus::Unread,
        at(start, 2),
    )
    .await;
    arrange(
        &app,
        alice.id,
        bob.id,
        NotificationStatus::Archived,
        at(start, 3),
    )
    .await;
    let http = app.http();
    let base = app.base_url();
    let id = alice.id.0;
    let auth = format!("Bearer {alice_key}");
    let unread = "filter=status%20%3D%3D%20%22UNREAD%22";

    let (first_status, first) = call(
        http.get(format!(
            "{base}/v1/users/{id}/notifications?{unread}&pageSize=1"
        ))
        .header("authorization", &auth),
    )
    .await;
    let next = first["nextPageToken"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let (second_status, second) = call(
        http.get(format!("{base}/api/v1/users/{id}/notifications"))
            .query(&[
                ("filter", r#"status == "UNREAD""#),
                ("pageSize", "1"),
                ("pageToken", next.as_str()),
            ])
            .header("authorization", &auth),
    )
    .await;
    let (patched_status, patched) = call(
        http.patch(format!("{base}/v1/{}", newer.name()))
            .header("authorization", &auth)
            .json(&json!({"status": "ARCHIVED"})),
    )
    .await;
    let (deleted_status, _) = call(
        http.delete(format!("{base}/api/v1/{}", older.name()))
            .header("authorization", &auth),
    )
    .await;
    let (bad_filter_status, bad_filter) = call(
        http.get(format!("{base}/v1/users/{id}/notifications"))
            .query(&[("filter", r#"sender == "x""#)])
            .header("authorization", &auth),
    )
    .await;
    let left = names_matching(
        &app,
        &alice_key,
        &alice.id.resource_name(),
        r#"status == "UNREAD""#,
    )
    .await;

    assert_eq!(first_status, 200, "{first}");
    let first_page = first["notifications"].as_array().expect("notifications");
    assert_eq!(first_page.len(), 1, "{first}");
    assert_eq!(first_page[0]["name"], newer.name());
    assert_eq!(first_page[0]["status"], "UNREAD");
    assert_eq!(first_page[0]["type"], "MEMO_COMMENT");
    assert_eq!(first_page[0]["sender"], bob.id.resource_name());
    assert!(!next.is_empty(), "{first}");
    assert_eq!(second_status, 200, "{second}");
    assert_eq!(second["notifications"][0]["name"], older.name());
    assert_eq!(
        second["nextPageToken"].as_str().unwrap_or(""),
        "",
        "{second}"
    );
    assert_eq!(patched_status, 200, "{patched}");
    assert_eq!(patched["status"], "ARCHIVED");
    assert_eq!(patched["name"], newer.name());
    assert_eq!(deleted_status, 200);
    assert_eq!(bad_filter_status, 400, "{bad_filter}");
    assert_eq!(bad_filter["code"], 3);
    assert!(left.is_empty(), "one archived, one deleted: {left:?}");
}

on_every_backend!(
    lists_are_newest_first_in_pages,
    filters_select_by_status_and_type,
    recipients_mark_and_delete_their_notifications,
    nobody_but_the_recipient_sees_or_changes_them,
    notifications_over_rest,
);
