//! Memos: Markdown facts read on save, reads by visibility, comments that
//! notify, statistics by SQL aggregates, on every backend.
use roster::domain::user::Role;
use roster::proto::goodmem::v1 as pb;
use roster::proto::goodmem::v1::memo_service_client::MemoServiceClient;
use serde_json::{Value, json};
use tonic::Code;
use tonic::transport::Channel;

use crate::helpers::{TestApp, bearer, violated_fields};
use crate::on_every_backend;

async fn memos(app: &TestApp) -> MemoServiceClient<Channel> {
    MemoServiceClient::connect(app.base_url()).await.unwrap()
}

fn new_memo(content: &str, visibility: pb::Visibility, pinned: bool) -> pb::CreateMemoRequest {
    pb::CreateMemoRequest {
        memo: Some(pb::Memo {
            content: content.to_owned(),
            visibility: visibility as i32,
            pinned,
            ..Default::default()
        }),
    }
}

async fn write(app: &TestApp, token: &str, content: &str, visibility: pb::Visibility) -> pb::Memo {
    memos(app)
        .await
        .create_memo(bearer(new_memo(content, visibility, false), token))
        .await
        .unwrap()
        .into_inner()
}

/// The first page of `parent`'s notifications, as its owner sees them.
async fn notifications_of(
    app: &TestApp,
    parent: &str,
    token: &str,
) -> pb::ListUserNotificationsResponse {
    app.users()
        .await
        .list_user_notifications(bearer(
            pb::ListUserNotificationsRequest {
                parent: parent.to_owned(),
                ..Default::default()
            },
            token,
        ))
        .await
        .unwrap()
        .into_inner()
}

fn mask(paths: &[&str]) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: paths.iter().map(|path| (*path).to_owned()).collect(),
    })
}

async fn markdown_facts_and_tags_are_read_on_every_save(app: TestApp) {
    app.initialize().await;
    let (_, alice_key) = app.insert_user(Role::User, "alice").await;
    let mut client = memos(&app).await;

    let created = write(
        &app,
        &alice_key,
        "Plan #work:\n\n- [x] read https://example.com\n- [ ] fix `#not-a-tag`\n\n```\n#nor-this\n```\n",
        pb::Visibility::Private,
    )
    .await;
    let updated = client
        .update_memo(bearer(
            pb::UpdateMemoRequest {
                memo: Some(pb::Memo {
                    name: created.name.clone(),
                    content: "now just #home and #garden".into(),
                    ..Default::default()
                }),
                update_mask: mask(&["content"]),
            },
            &alice_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let reread = client
        .get_memo(bearer(
            pb::GetMemoRequest {
                name: created.name.clone(),
            },
            &alice_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let empty = client
        .create_memo(bearer(
            new_memo("  ", pb::Visibility::Public, false),
            &alice_key,
        ))
        .await
        .unwrap_err();
    let huge = client
        .create_memo(bearer(
            new_memo(&"x".repeat(64_001), pb::Visibility::Public, false),
            &alice_key,
        ))
        .await
        .unwrap_err();

    assert!(created.name.starts_with("memos/"));
    assert_eq!(created.tags, vec!["work"]);
    assert_eq!(
        created.property,
        Some(pb::MemoProperty {
            has_link: true,
            has_task_list: true,
            has_code: true,
            has_incomplete_tasks: true,
        })
    );
    assert_eq!(updated.tags, vec!["home", "garden"]);
    assert_eq!(updated.property, Some(pb::MemoProperty::default()));
    assert_eq!(reread, updated);
    assert_eq!(violated_fields(&empty), vec!["memo.content"]);
    assert_eq!(violated_fields(&huge), vec!["memo.content"]);
}

async fn reads_follow_visibility_and_the_default_comes_from_settings(app: TestApp) {
    app.initialize().await;
    let (alice, alice_key) = app.insert_user(Role::User, "alice").await;
    let (_, bob_key) = app.insert_user(Role::User, "bob").await;
    let mut client = memos(&app).await;
    let private = write(&app, &alice_key, "mine", pb::Visibility::Private).await;
    let protected = write(&app, &alice_key, "signed-in", pb::Visibility::Protected).await;
    app.users()
        .await
        .update_user_setting(bearer(
            pb::UpdateUserSettingRequest {
                setting: Some(pb::UserSetting {
                    name: format!("{}/settings/GENERAL", alice.id.resource_name()),
                    value: Some(pb::user_setting::Value::GeneralSetting(
                        pb::GeneralSetting {
                            memo_visibility: pb::Visibility::Public as i32,
                            ..Default::default()
                        },
                    )),
                }),
                update_mask: mask(&["memo_visibility"]),
            },
            &alice_key,
        ))
        .await
        .unwrap();
    let defaulted = write(
        &app,
        &alice_key,
        "no visibility given",
        pb::Visibility::Unspecified,
    )
    .await;

    let bob_private = client
        .get_memo(bearer(
            pb::GetMemoRequest {
                name: private.name.clone(),
            },
            &bob_key,
        ))
        .await
        .unwrap_err();
    let bob_protected = client
        .get_memo(bearer(
            pb::GetMemoRequest {
                name: protected.name.clone(),
            },
            &bob_key,
        ))
        .await;
    let list = |token: String| {
        let mut client = client.clone();
        let parent = alice.id.resource_name();
        async move {
            client
                .list_memos(bearer(
                    pb::ListMemosRequest {
                        parent,
                        page_size: 2,
                        ..Default::default()
                    },
                    &token,
                ))
                .await
                .unwrap()
                .into_inner()
        }
    };
    let as_bob = list(bob_key.clone()).await;
    let as_alice = list(alice_key.clone()).await;
    let bob_edits = client
        .update_memo(bearer(
            pb::UpdateMemoRequest {
                memo: Some(pb::Memo {
                    name: protected.name.clone(),
                    pinned: true,
                    ..Default::default()
                }),
                update_mask: mask(&["pinned"]),
            },
            &bob_key,
        ))
        .await
        .unwrap_err();

    assert_eq!(defaulted.visibility, pb::Visibility::Public as i32);
    assert_eq!(
        bob_private.code(),
        Code::NotFound,
        "existence is not revealed"
    );
    assert!(bob_protected.is_ok(), "{bob_protected:?}");
    let names = |page: &pb::ListMemosResponse| -> Vec<String> {
        page.memos.iter().map(|memo| memo.name.clone()).collect()
    };
    assert_eq!(
        names(&as_bob),
        vec![defaulted.name.clone(), protected.name.clone()]
    );
    assert!(as_bob.next_page_token.is_empty());
    assert_eq!(names(&as_alice), vec![defaulted.name, protected.name]);
    assert!(
        !as_alice.next_page_token.is_empty(),
        "her private memo is on page two"
    );
    assert_eq!(bob_edits.code(), Code::PermissionDenied);
}

async fn a_comment_by_someone_else_notifies_the_creator(app: TestApp) {
    app.initialize().await;
    let (alice, alice_key) = app.insert_user(Role::User, "alice").await;
    let (bob, bob_key) = app.insert_user(Role::User, "bob").await;
    let mut client = memos(&app).await;
    let memo = write(
        &app,
        &alice_key,
        "what do you think?",
        pb::Visibility::Protected,
    )
    .await;
    let comment = |token: &str, content: &str| {
        bearer(
            pb::CreateMemoCommentRequest {
                name: memo.name.clone(),
                comment: Some(pb::Memo {
                    content: content.to_owned(),
                    ..Default::default()
                }),
            },
            token,
        )
    };

    let by_bob = client
        .create_memo_comment(comment(&bob_key, "looks good #review"))
        .await
        .unwrap()
        .into_inner();
    client
        .create_memo_comment(comment(&alice_key, "thanks"))
        .await
        .unwrap();
    let on_a_comment = client
        .create_memo_comment(bearer(
            pb::CreateMemoCommentRequest {
                name: by_bob.name.clone(),
                comment: Some(pb::Memo {
                    content: "nested".into(),
                    ..Default::default()
                }),
            },
            &alice_key,
        ))
        .await
        .unwrap_err();
    let comments = client
        .list_memo_comments(bearer(
            pb::ListMemoCommentsRequest {
                name: memo.name.clone(),
                ..Default::default()
            },
            &bob_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let alice_notifications = notifications_of(&app, &alice.id.resource_name(), &alice_key).await;
    let bob_notifications = notifications_of(&app, &bob.id.resource_name(), &bob_key).await;

    assert_eq!(by_bob.parent, memo.name);
    assert_eq!(by_bob.visibility, pb::Visibility::Protected as i32);
    assert_eq!(on_a_comment.code(), Code::InvalidArgument);
    let contents: Vec<&str> = comments
        .memos
        .iter()
        .map(|memo| memo.content.as_str())
        .collect();
    assert_eq!(
        contents,
        vec!["looks good #review", "thanks"],
        "oldest first"
    );
    assert_eq!(
        alice_notifications.notifications.len(),
        1,
        "her own comment notifies nobody"
    );
    let notification = &alice_notifications.notifications[0];
    assert_eq!(notification.sender, bob.id.resource_name());
    assert_eq!(notification.memo, memo.name);
    assert_eq!(
        notification.r#type,
        pb::user_notification::Type::MemoComment as i32
    );
    assert_eq!(
        notification.status,
        pb::user_notification::Status::Unread as i32
    );
    assert!(bob_notifications.notifications.is_empty());
}

async fn stats_count_what_the_caller_may_see(app: TestApp) {
    app.initialize().await;
    let (carol, carol_key) = app.insert_user(Role::User, "carol").await;
    let (_, admin_key) = app.insert_user(Role::Admin, "admin").await;
    let (_, dave_key) = app.insert_user(Role::User, "dave").await;
    let mut client = memos(&app).await;
    use pb::Visibility::{Private, Protected, Public};
    let link = write(
        &app,
        &carol_key,
        "see [docs](https://example.com) #work",
        Public,
    )
    .await;
    write(&app, &carol_key, "inline `code` and #work #home", Protected).await;
    write(
        &app,
        &carol_key,
        "```\n#not-a-tag\n```\n- [ ] todo",
        Private,
    )
    .await;
    write(&app, &carol_key, "- [x] all done #home", Public).await;
    let pinned = client
        .create_memo(bearer(
            new_memo("pinned #work", Protected, true),
            &carol_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let deleted = write(&app, &carol_key, "gone https://x.example #work", Public).await;
    client
        .delete_memo(bearer(
            pb::DeleteMemoRequest {
                name: deleted.name.clone(),
            },
            &carol_key,
        ))
        .await
        .unwrap();
    client
        .create_memo_comment(bearer(
            pb::CreateMemoCommentRequest {
                name: link.name.clone(),
                comment: Some(pb::Memo {
                    content: "comments do not count https://a.example #work".into(),
                    ..Default::default()
                }),
            },
            &carol_key,
        ))
        .await
        .unwrap();
    let stats_of = |token: String| {
        let name = carol.id.resource_name();
        let app = &app;
        async move {
            app.users()
                .await
                .get_user_stats(bearer(pb::GetUserStatsRequest { name }, &token))
                .await
        }
    };

    let own = stats_of(carol_key.clone()).await.unwrap().into_inner();
    let by_admin = stats_of(admin_key.clone()).await.unwrap().into_inner();
    let by_dave = stats_of(dave_key.clone()).await.unwrap_err();
    let all = app
        .users()
        .await
        .list_all_user_stats(bearer(
            pb::ListAllUserStatsRequest {
                page_size: 2,
                ..Default::default()
            },
            &admin_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let all_by_user = app
        .users()
        .await
        .list_all_user_stats(bearer(pb::ListAllUserStatsRequest::default(), &dave_key))
        .await
        .unwrap_err();

    assert_eq!(own.name, carol.id.resource_name());
    assert_eq!(own.total_memo_count, 5);
    assert_eq!(
        own.memo_type_stats,
        Some(pb::user_stats::MemoTypeStats {
            link_count: 1,
            code_count: 2,
            todo_count: 2,
            undo_count: 1,
        })
    );
    assert_eq!(
        own.tag_count,
        [("home".to_owned(), 2), ("work".to_owned(), 3)].into()
    );
    assert_eq!(own.pinned_memos, vec![pinned.name.clone()]);
    assert_eq!(own.memo_display_timestamps.len(), 5);
    assert_eq!(
        by_admin.total_memo_count, 4,
        "others see PUBLIC and PROTECTED"
    );
    assert_eq!(
        by_admin.memo_type_stats,
        Some(pb::user_stats::MemoTypeStats {
            link_count: 1,
            code_count: 1,
            todo_count: 1,
            undo_count: 0,
        })
    );
    assert_eq!(by_dave.code(), Code::PermissionDenied);
    assert_eq!(all.stats.len(), 2);
    assert!(!all.next_page_token.is_empty());
    assert_eq!(all_by_user.code(), Code::PermissionDenied);
}

async fn deleting_a_user_with_memos_needs_force(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    let (erin, erin_key) = app.insert_user(Role::User, "erin").await;
    let memo = write(&app, &erin_key, "a memo", pb::Visibility::Public).await;
    let mut users = app.users().await;
    let delete = |force| pb::DeleteUserRequest {
        user_id: erin.id.0.as_bytes().to_vec(),
        force,
        ..Default::default()
    };

    let refused = users
        .delete_user(bearer(delete(false), &root_key))
        .await
        .unwrap_err();
    users
        .delete_user(bearer(delete(true), &root_key))
        .await
        .unwrap();
    let after = memos(&app)
        .await
        .get_memo(bearer(pb::GetMemoRequest { name: memo.name }, &root_key))
        .await
        .unwrap_err();

    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("memo"), "{refused:?}");
    assert_eq!(after.code(), Code::NotFound);
}

async fn memos_and_stats_over_rest(app: TestApp) {
    app.initialize().await;
    let (frank, frank_key) = app.insert_user(Role::User, "frank").await;
    let (_, admin_key) = app.insert_user(Role::Admin, "admin").await;
    let base = app.base_url();
    let http = app.http();

    let created: Value = http
        .post(format!("{base}/v1/memos"))
        .bearer_auth(&frank_key)
        .json(&json!({"content": "hello #rest", "visibility": "PUBLIC", "pinned": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let name = created["name"].as_str().unwrap().to_owned();
    let patched: Value = http
        .patch(format!("{base}/api/v1/{name}"))
        .bearer_auth(&frank_key)
        .json(&json!({"content": "hello #rest again"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let stats: Value = http
        .get(format!("{base}/v1/users/{}:getStats", frank.id))
        .bearer_auth(&frank_key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let all = http
        .get(format!("{base}/api/v1/users:stats?pageSize=10"))
        .bearer_auth(&admin_key)
        .send()
        .await
        .unwrap();
    let all_status = all.status().as_u16();
    let all: Value = all.json().await.unwrap();
    let deleted = http
        .delete(format!("{base}/v1/{name}"))
        .bearer_auth(&frank_key)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16();

    assert_eq!(created["creator"], json!(format!("users/{}", frank.id)));
    assert_eq!(created["tags"], json!(["rest"]));
    assert!(created["createTime"].is_i64(), "{created}");
    assert_eq!(patched["content"], json!("hello #rest again"));
    assert_eq!(patched["pinned"], json!(true), "not in the implied mask");
    assert_eq!(stats["totalMemoCount"], json!(1));
    assert_eq!(stats["tagCount"], json!({"rest": 1}));
    assert_eq!(stats["pinnedMemos"], json!([name]));
    assert_eq!(all_status, 200);
    assert_eq!(
        all["stats"].as_array().unwrap().len(),
        3,
        "root, frank, admin"
    );
    assert_eq!(deleted, 200);
}

on_every_backend!(
    markdown_facts_and_tags_are_read_on_every_save,
    reads_follow_visibility_and_the_default_comes_from_settings,
    a_comment_by_someone_else_notifies_the_creator,
    stats_count_what_the_caller_may_see,
    deleting_a_user_with_memos_needs_force,
    memos_and_stats_over_rest,
);
