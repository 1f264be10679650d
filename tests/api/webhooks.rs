//! Webhooks: a secret shown once, URLs checked against server-side request
//! forgery, masks, keyset pages, owners and admins only, at most 50 per
//! user, and DeleteUser refusing to drop them silently.
use base64::Engine as _;
use roster::domain::user::Role;
use roster::proto::goodmem::v1 as pb;
use serde_json::{Value, json};
use tonic::Code;

use crate::helpers::{Backend, TestApp, TestDatabase, bearer, violated_fields};
use crate::on_every_backend;

/// A public address (TEST-NET-3): accepted, never connected to.
const PUBLIC_URL: &str = "https://203.0.113.7/hook";

fn create(parent: &str, url: &str, display_name: &str) -> pb::CreateUserWebhookRequest {
    pb::CreateUserWebhookRequest {
        parent: parent.to_owned(),
        webhook: Some(pb::UserWebhook {
            url: url.to_owned(),
            display_name: display_name.to_owned(),
            ..Default::default()
        }),
    }
}

fn update(
    name: &str,
    url: &str,
    display_name: &str,
    paths: &[&str],
) -> pb::UpdateUserWebhookRequest {
    pb::UpdateUserWebhookRequest {
        webhook: Some(pb::UserWebhook {
            name: name.to_owned(),
            url: url.to_owned(),
            display_name: display_name.to_owned(),
            ..Default::default()
        }),
        update_mask: Some(prost_types::FieldMask {
            paths: paths.iter().map(|path| (*path).to_owned()).collect(),
        }),
    }
}

fn list(parent: &str, page_size: i32, page_token: &str) -> pb::ListUserWebhooksRequest {
    pb::ListUserWebhooksRequest {
        parent: parent.to_owned(),
        page_size,
        page_token: page_token.to_owned(),
    }
}

fn delete(name: &str) -> pb::DeleteUserWebhookRequest {
    pb::DeleteUserWebhookRequest {
        name: name.to_owned(),
    }
}

/// A timestamp as epoch milliseconds.
fn millis(timestamp: &Option<prost_types::Timestamp>) -> i64 {
    let timestamp = timestamp.as_ref().expect("timestamp set");
    timestamp.seconds * 1000 + i64::from(timestamp.nanos) / 1_000_000
}

/// The description of the one violation of `status`, checking its field.
fn only_violation(status: &tonic::Status, field: &str) -> String {
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    assert_eq!(
        violated_fields(status),
        vec![field.to_owned()],
        "{status:?}"
    );
    status.message().to_owned()
}

async fn a_new_webhook_shows_its_secret_once(app: TestApp) {
    app.initialize().await;
    let (alice, alice_key) = app.insert_user(Role::User, "alice").await;
    let mut users = app.users().await;
    let parent = alice.id.resource_name();

    let created = users
        .create_user_webhook(bearer(
            create(&parent, "HTTPS://203.0.113.7/Hook?x=1", "Builds"),
            &alice_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let other = users
        .create_user_webhook(bearer(create(&parent, PUBLIC_URL, ""), &alice_key))
        .await
        .unwrap()
        .into_inner();
    let listed = users
        .list_user_webhooks(bearer(list(&parent, 0, ""), &alice_key))
        .await
        .unwrap()
        .into_inner();

    let encoded = created
        .signing_secret
        .strip_prefix("whsec_")
        .expect("a whsec_ secret");
    let key = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("base64 after the prefix");
    assert_eq!(key.len(), 32);
    assert_ne!(created.signing_secret, other.signing_secret);
    let id = created
        .name
        .strip_prefix(&format!("{parent}/webhooks/"))
        .expect("users/{user}/webhooks/{webhook}");
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{}", created.name);
    assert_eq!(created.url, "https://203.0.113.7/Hook?x=1", "normalized");
    assert_eq!(created.display_name, "Builds");
    assert!(millis(&created.create_time) > 0);
    assert_eq!(millis(&created.update_time), millis(&created.create_time));

    assert_eq!(listed.webhooks.len(), 2);
    assert!(listed.next_page_token.is_empty());
    let shown = &listed.webhooks[0];
    assert_eq!(shown.name, created.name);
    assert_eq!(shown.url, created.url);
    assert_eq!(shown.display_name, "Builds");
    assert_eq!(shown.create_time, created.create_time);
    assert_eq!(shown.update_time, created.update_time);
    assert!(
        listed
            .webhooks
            .iter()
            .all(|webhook| webhook.signing_secret.is_empty()),
        "lists never show secrets"
    );
}

async fn lists_are_oldest_first_in_pages(app: TestApp) {
    app.initialize().await;
    let (alice, alice_key) = app.insert_user(Role::User, "alice").await;
    let mut users = app.users().await;
    let parent = alice.id.resource_name();
    let mut created = Vec::new();
    for index in 0..5 {
        let webhook = users
            .create_user_webhook(bearer(
                create(
                    &parent,
                    &format!("https://203.0.113.{}/hook", index + 1),
                    &format!("hook {index}"),
                ),
                &alice_key,
            ))
            .await
            .unwrap()
            .into_inner();
        created.push(webhook.name);
    }

    let mut pages = Vec::new();
    let mut token = String::new();
    loop {
        let page = users
            .list_user_webhooks(bearer(list(&parent, 2, &token), &alice_key))
            .await
            .unwrap()
            .into_inner();
        pages.push(page.webhooks);
        if page.next_page_token.is_empty() {
            break;
        }
        token = page.next_page_token;
        assert!(pages.len() < 5, "paging must end");
    }
    let garbage = users
        .list_user_webhooks(bearer(list(&parent, 2, "not-a-page-token"), &alice_key))
        .await
        .unwrap_err();

    let sizes: Vec<usize> = pages.iter().map(Vec::len).collect();
    assert_eq!(sizes, vec![2, 2, 1]);
    let seen: Vec<String> = pages
        .into_iter()
        .flatten()
        .map(|webhook| webhook.name)
        .collect();
    assert_eq!(seen, created, "each once, oldest first");
    only_violation(&garbage, "page_token");
}

async fn urls_and_display_names_are_checked_together(app: TestApp) {
    app.initialize().await;
    let (alice, alice_key) = app.insert_user(Role::User, "alice").await;
    let mut users = app.users().await;
    let parent = alice.id.resource_name();
    let longest_url = format!("https://203.0.113.7/{}", "a".repeat(2048 - 20));
    let longest_name = "é".repeat(255);
    assert_eq!(longest_url.chars().count(), 2048);

    let ftp_and_long_name = users
        .create_user_webhook(bearer(
            create(&parent, "ftp://203.0.113.7/hook", &"n".repeat(256)),
            &alice_key,
        ))
        .await
        .unwrap_err();
    let credentials = users
        .create_user_webhook(bearer(
            create(&parent, "https://user:secret@203.0.113.7/hook", ""),
            &alice_key,
        ))
        .await
        .unwrap_err();
    let too_long = users
        .create_user_webhook(bearer(
            create(&parent, &format!("{longest_url}a"), ""),
            &alice_key,
        ))
        .await
        .unwrap_err();
    let missing = users
        .create_user_webhook(bearer(create(&parent, "", ""), &alice_key))
        .await
        .unwrap_err();
    let longest = users
        .create_user_webhook(bearer(
            create(&parent, &longest_url, &longest_name),
            &alice_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let listed = users
        .list_user_webhooks(bearer(list(&parent, 0, ""), &alice_key))
        .await
        .unwrap()
        .into_inner();

    assert_eq!(ftp_and_long_name.code(), Code::InvalidArgument);
    let mut fields = violated_fields(&ftp_and_long_name);
    fields.sort();
    assert_eq!(fields, vec!["webhook.display_name", "webhook.url"]);
    assert!(
        ftp_and_long_name.message().contains("http or https"),
        "{ftp_and_long_name:?}"
    );
    assert!(only_violation(&credentials, "webhook.url").contains("credentials"));
    assert!(only_violation(&too_long, "webhook.url").contains("2048"));
    assert!(only_violation(&missing, "webhook.url").contains("required"));
    assert_eq!(longest.url, longest_url);
    assert_eq!(longest.display_name, longest_name);
    assert_eq!(listed.webhooks.len(), 1, "refused webhooks are not stored");
    assert_eq!(listed.webhooks[0].url, longest_url);
    assert_eq!(listed.webhooks[0].display_name, longest_name);
}

async fn a_url_that_encodes_past_the_limit_is_refused(app: TestApp) {
    // 2048 characters as sent, but WHATWG normalization percent-encodes
    // each brace of the path (`{` → `%7B`): stored, it would be 6 000+ long.
    app.initialize().await;
    let (alice, alice_key) = app.insert_user(Role::User, "alice").await;
    let mut users = app.users().await;
    let parent = alice.id.resource_name();
    let url = format!("https://203.0.113.7/{}", "{}".repeat((2048 - 20) / 2));
    assert_eq!(url.chars().count(), 2048);
    let created = users
        .create_user_webhook(bearer(create(&parent, PUBLIC_URL, ""), &alice_key))
        .await
        .unwrap()
        .into_inner();

    let refused = users
        .create_user_webhook(bearer(create(&parent, &url, ""), &alice_key))
        .await
        .unwrap_err();
    let update_refused = users
        .update_user_webhook(bearer(
            update(&created.name, &url, "", &["url"]),
            &alice_key,
        ))
        .await
        .unwrap_err();
    let listed = users
        .list_user_webhooks(bearer(list(&parent, 0, ""), &alice_key))
        .await
        .unwrap()
        .into_inner()
        .webhooks;

    assert!(only_violation(&refused, "webhook.url").contains("encoded"));
    assert!(only_violation(&update_refused, "webhook.url").contains("encoded"));
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].url, PUBLIC_URL);
}

async fn private_and_local_targets_are_refused(app: TestApp) {
    app.initialize().await;
    let (alice, alice_key) = app.insert_user(Role::User, "alice").await;
    let mut users = app.users().await;
    let parent = alice.id.resource_name();
    let refused = [
        ("http://127.0.0.1/hook", "loopback"),
        ("http://10.0.0.1/hook", "private"),
        ("http://192.168.1.1/hook", "private"),
        ("http://172.16.0.1/hook", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://0.0.0.0/hook", "unspecified"),
        ("http://[::1]/hook", "loopback"),
        ("http://[::ffff:127.0.0.1]/hook", "loopback"),
        ("http://[fe80::1]/hook", "link-local"),
        ("http://[fd00::1]/hook", "unique-local"),
        ("http://0x7f.1/", "loopback"),
        ("http://2130706433/", "loopback"),
        ("http://localhost:8080/hook", "loopback"),
        ("https://no-such-host.invalid/", "does not resolve"),
    ];

    let mut answers = Vec::new();
    for (url, _) in refused {
        answers.push(
            users
                .create_user_webhook(bearer(create(&parent, url, ""), &alice_key))
                .await,
        );
    }
    let public_v4 = users
        .create_user_webhook(bearer(create(&parent, PUBLIC_URL, ""), &alice_key))
        .await;
    let public_v6 = users
        .create_user_webhook(bearer(
            create(&parent, "https://[2606:4700::1111]/x", ""),
            &alice_key,
        ))
        .await;
    let listed = users
        .list_user_webhooks(bearer(list(&parent, 0, ""), &alice_key))
        .await
        .unwrap()
        .into_inner();

    for ((url, reason), answer) in refused.iter().zip(answers) {
        let status = answer.expect_err(url);
        let message = only_violation(&status, "webhook.url");
        assert!(message.contains(reason), "{url}: {message}");
    }
    assert_eq!(public_v4.unwrap().into_inner().url, PUBLIC_URL);
    assert_eq!(
        public_v6.unwrap().into_inner().url,
        "https://[2606:4700::1111]/x"
    );
    assert_eq!(listed.webhooks.len(), 2, "only the public ones are stored");
}

async fn updates_follow_the_mask_and_recheck_the_url(app: TestApp) {
    app.initialize().await;
    let (alice, alice_key) = app.insert_user(Role::User, "alice").await;
    let mut users = app.users().await;
    let parent = alice.id.resource_name();
    let created = users
        .create_user_webhook(bearer(create(&parent, PUBLIC_URL, "before"), &alice_key))
        .await
        .unwrap()
        .into_inner();
    let name = created.name.clone();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;

    let renamed = users
        .update_user_webhook(bearer(
            update(
                &name,
                "https://203.0.113.99/ignored",
                "after",
                &["displayName"],
            ),
            &alice_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let moved = users
        .update_user_webhook(bearer(
            update(&name, "https://203.0.113.8/new", "", &["url"]),
            &alice_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let private = users
        .update_user_webhook(bearer(
            update(&name, "http://localhost:8080/hook", "", &["url"]),
            &alice_key,
        ))
        .await
        .unwrap_err();
    let secret_path = users
        .update_user_webhook(bearer(
            update(&name, "", "", &["signing_secret"]),
            &alice_key,
        ))
        .await
        .unwrap_err();
    let empty_mask = users
        .update_user_webhook(bearer(update(&name, "", "x", &[]), &alice_key))
        .await
        .unwrap_err();
    let unknown = users
        .update_user_webhook(bearer(
            update(
                &format!("{parent}/webhooks/{}", uuid::Uuid::now_v7()),
                "",
                "x",
                &["display_name"],
            ),
            &alice_key,
        ))
        .await
        .unwrap_err();
    let stored = users
        .list_user_webhooks(bearer(list(&parent, 0, ""), &alice_key))
        .await
        .unwrap()
        .into_inner()
        .webhooks;

    assert_eq!(renamed.display_name, "after");
    assert_eq!(renamed.url, PUBLIC_URL, "url was not in the mask");
    assert!(renamed.signing_secret.is_empty());
    assert_eq!(renamed.create_time, created.create_time);
    assert!(millis(&renamed.update_time) > millis(&created.update_time));
    assert_eq!(moved.url, "https://203.0.113.8/new");
    assert_eq!(
        moved.display_name, "after",
        "display_name was not in the mask"
    );
    assert!(only_violation(&private, "webhook.url").contains("loopback"));
    assert!(only_violation(&secret_path, "update_mask").contains("signing_secret"));
    only_violation(&empty_mask, "update_mask");
    assert_eq!(unknown.code(), Code::NotFound);
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].url, "https://203.0.113.8/new");
    assert_eq!(stored[0].display_name, "after");
    assert_eq!(stored[0].create_time, created.create_time);
    assert_eq!(stored[0].update_time, moved.update_time);
}

async fn owners_and_admins_manage_webhooks_others_are_refused(app: TestApp) {
    app.initialize().await;
    let (alice, alice_key) = app.insert_user(Role::User, "alice").await;
    let (_, bob_key) = app.insert_user(Role::User, "bob").await;
    let (_, admin_key) = app.insert_user(Role::Admin, "admin").await;
    let mut users = app.users().await;
    let parent = alice.id.resource_name();
    let own = users
        .create_user_webhook(bearer(create(&parent, PUBLIC_URL, "mine"), &alice_key))
        .await
        .unwrap()
        .into_inner();
    let random = format!("{parent}/webhooks/{}", uuid::Uuid::now_v7());
    let stranger = format!("users/{}", uuid::Uuid::now_v7());

    let bob_list = users
        .list_user_webhooks(bearer(list(&parent, 0, ""), &bob_key))
        .await
        .unwrap_err();
    let bob_create = users
        .create_user_webhook(bearer(create(&parent, PUBLIC_URL, ""), &bob_key))
        .await
        .unwrap_err();
    let bob_update = users
        .update_user_webhook(bearer(
            update(&own.name, "", "bob's", &["display_name"]),
            &bob_key,
        ))
        .await
        .unwrap_err();
    let bob_update_random = users
        .update_user_webhook(bearer(
            update(&random, "", "bob's", &["display_name"]),
            &bob_key,
        ))
        .await
        .unwrap_err();
    let bob_delete = users
        .delete_user_webhook(bearer(delete(&own.name), &bob_key))
        .await
        .unwrap_err();
    let bob_delete_random = users
        .delete_user_webhook(bearer(delete(&random), &bob_key))
        .await
        .unwrap_err();
    let bob_list_stranger = users
        .list_user_webhooks(bearer(list(&stranger, 0, ""), &bob_key))
        .await
        .unwrap_err();

    let by_admin = users
        .create_user_webhook(bearer(create(&parent, PUBLIC_URL, "admin's"), &admin_key))
        .await
        .unwrap()
        .into_inner();
    let admin_renamed = users
        .update_user_webhook(bearer(
            update(&own.name, "", "renamed by admin", &["display_name"]),
            &admin_key,
        ))
        .await
        .unwrap()
        .into_inner();
    let admin_list = users
        .list_user_webhooks(bearer(list(&parent, 0, ""), &admin_key))
        .await
        .unwrap()
        .into_inner()
        .webhooks;
    let admin_delete = users
        .delete_user_webhook(bearer(delete(&by_admin.name), &admin_key))
        .await;
    let admin_delete_again = users
        .delete_user_webhook(bearer(delete(&by_admin.name), &admin_key))
        .await
        .unwrap_err();
    let admin_for_stranger = users
        .create_user_webhook(bearer(create(&stranger, PUBLIC_URL, ""), &admin_key))
        .await
        .unwrap_err();
    let owner_delete = users
        .delete_user_webhook(bearer(delete(&own.name), &alice_key))
        .await;
    let owner_delete_again = users
        .delete_user_webhook(bearer(delete(&own.name), &alice_key))
        .await
        .unwrap_err();
    let left = users
        .list_user_webhooks(bearer(list(&parent, 0, ""), &alice_key))
        .await
        .unwrap()
        .into_inner()
        .webhooks;

    for (what, status) in [
        ("list", &bob_list),
        ("create", &bob_create),
        ("update", &bob_update),
        ("update a random id", &bob_update_random),
        ("delete", &bob_delete),
        ("delete a random id", &bob_delete_random),
        ("list a user that does not exist", &bob_list_stranger),
    ] {
        assert_eq!(status.code(), Code::PermissionDenied, "{what}: {status:?}");
    }
    assert!(by_admin.name.starts_with(&format!("{parent}/webhooks/")));
    assert!(by_admin.signing_secret.starts_with("whsec_"));
    assert_eq!(admin_renamed.display_name, "renamed by admin");
    let names: Vec<&str> = admin_list
        .iter()
        .map(|webhook| webhook.name.as_str())
        .collect();
    assert_eq!(names, vec![own.name.as_str(), by_admin.name.as_str()]);
    assert!(admin_delete.is_ok(), "{admin_delete:?}");
    assert_eq!(admin_delete_again.code(), Code::NotFound);
    assert_eq!(admin_for_stranger.code(), Code::NotFound);
    assert!(owner_delete.is_ok(), "{owner_delete:?}");
    assert_eq!(owner_delete_again.code(), Code::NotFound);
    assert!(left.is_empty());
}

async fn a_user_has_at_most_fifty_webhooks(app: TestApp) {
    app.initialize().await;
    let (alice, alice_key) = app.insert_user(Role::User, "alice").await;
    let mut users = app.users().await;
    let parent = alice.id.resource_name();
    let mut names = Vec::new();
    for index in 0..50 {
        let webhook = users
            .create_user_webhook(bearer(
                create(&parent, PUBLIC_URL, &format!("hook {index}")),
                &alice_key,
            ))
            .await
            .unwrap_or_else(|status| panic!("webhook {index}: {status:?}"))
            .into_inner();
        names.push(webhook.name);
    }

    let fifty_first = users
        .create_user_webhook(bearer(create(&parent, PUBLIC_URL, "one more"), &alice_key))
        .await
        .unwrap_err();
    users
        .delete_user_webhook(bearer(delete(&names[0]), &alice_key))
        .await
        .unwrap();
    let after_delete = users
        .create_user_webhook(bearer(
            create(&parent, PUBLIC_URL, "replacement"),
            &alice_key,
        ))
        .await;
    let listed = users
        .list_user_webhooks(bearer(list(&parent, 100, ""), &alice_key))
        .await
        .unwrap()
        .into_inner();

    assert_eq!(
        fifty_first.code(),
        Code::FailedPrecondition,
        "{fifty_first:?}"
    );
    assert!(fifty_first.message().contains("50"), "{fifty_first:?}");
    assert!(after_delete.is_ok(), "{after_delete:?}");
    assert_eq!(listed.webhooks.len(), 50);
}

/// Fills `parent` to 40 webhooks one by one, then races 20 creates; returns
/// how many were created in the race, the refusals, and how many it holds.
async fn race_to_the_limit(app: &TestApp, parent: &str, key: &str) -> (usize, Vec<Code>, usize) {
    let users = app.users().await;
    for index in 0..40 {
        users
            .clone()
            .create_user_webhook(bearer(
                create(parent, PUBLIC_URL, &format!("hook {index}")),
                key,
            ))
            .await
            .unwrap();
    }
    let racers: Vec<_> = (0..20)
        .map(|index| {
            let mut client = users.clone();
            let request = bearer(create(parent, PUBLIC_URL, &format!("racer {index}")), key);
            tokio::spawn(async move { client.create_user_webhook(request).await })
        })
        .collect();
    let mut created = 0;
    let mut refusals = Vec::new();
    for racer in racers {
        match racer.await.unwrap() {
            Ok(_) => created += 1,
            Err(status) => refusals.push(status.code()),
        }
    }
    let held = users
        .clone()
        .list_user_webhooks(bearer(list(parent, 1000, ""), key))
        .await
        .unwrap()
        .into_inner()
        .webhooks
        .len();
    (created, refusals, held)
}

async fn concurrent_creates_stay_within_fifty(app: TestApp) {
    // A race is a matter of timing: three users race, and each must end
    // with exactly 50.
    app.initialize().await;
    let mut outcomes = Vec::new();
    for username in ["alice", "bob", "carol"] {
        let (user, key) = app.insert_user(Role::User, username).await;
        let outcome = race_to_the_limit(&app, &user.id.resource_name(), &key).await;
        outcomes.push((username, outcome));
    }

    for (username, (created, refusals, held)) in outcomes {
        assert_eq!(held, 50, "{username}: the limit holds under concurrency");
        assert_eq!(created, 10, "{username}: ten slots were left");
        assert!(
            refusals
                .iter()
                .all(|code| matches!(code, Code::FailedPrecondition | Code::Aborted)),
            "{username}: {refusals:?}"
        );
    }
}

async fn deleting_a_user_with_webhooks_needs_force(app: TestApp) {
    let (root_key, _) = app.initialize().await;
    let (alice, alice_key) = app.insert_user(Role::User, "alice").await;
    let mut users = app.users().await;
    let parent = alice.id.resource_name();
    users
        .create_user_webhook(bearer(create(&parent, PUBLIC_URL, ""), &alice_key))
        .await
        .unwrap();
    let delete_user = |force| pb::DeleteUserRequest {
        user_id: alice.id.0.as_bytes().to_vec(),
        force,
        ..Default::default()
    };

    let refused = users
        .delete_user(bearer(delete_user(false), &root_key))
        .await
        .unwrap_err();
    let still_there = users
        .list_user_webhooks(bearer(list(&parent, 0, ""), &root_key))
        .await
        .unwrap()
        .into_inner()
        .webhooks;
    let forced = users
        .delete_user(bearer(delete_user(true), &root_key))
        .await;
    let afterwards = users
        .list_user_webhooks(bearer(list(&parent, 0, ""), &root_key))
        .await
        .unwrap_err();

    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert!(refused.message().contains("webhook"), "{refused:?}");
    assert_eq!(still_there.len(), 1);
    assert!(forced.is_ok(), "{forced:?}");
    assert_eq!(afterwards.code(), Code::NotFound, "{afterwards:?}");
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

async fn webhooks_over_rest(app: TestApp) {
    app.initialize().await;
    let (alice, alice_key) = app.insert_user(Role::User, "alice").await;
    let http = app.http();
    let base = app.base_url();
    let id = alice.id.0;
    let auth = format!("Bearer {alice_key}");

    let (created_status, created) = call(
        http.post(format!("{base}/v1/users/{id}/webhooks"))
            .header("authorization", &auth)
            .json(&json!({"url": PUBLIC_URL, "displayName": "rest"})),
    )
    .await;
    let (alias_status, alias) = call(
        http.post(format!("{base}/api/v1/users/{id}/webhooks"))
            .header("authorization", &auth)
            .json(&json!({"url": "https://203.0.113.8/alias"})),
    )
    .await;
    let name = created["name"].as_str().unwrap_or_default().to_owned();
    let (patched_status, patched) = call(
        http.patch(format!("{base}/v1/{name}"))
            .header("authorization", &auth)
            .json(&json!({"displayName": "renamed"})),
    )
    .await;
    let (private_status, private) = call(
        http.post(format!("{base}/v1/users/{id}/webhooks"))
            .header("authorization", &auth)
            .json(&json!({"url": "http://169.254.169.254/latest/meta-data/"})),
    )
    .await;
    let (listed_status, listed) = call(
        http.get(format!("{base}/api/v1/users/{id}/webhooks"))
            .header("authorization", &auth),
    )
    .await;
    let (deleted_status, _) = call(
        http.delete(format!("{base}/api/v1/{name}"))
            .header("authorization", &auth),
    )
    .await;
    let (again_status, again) = call(
        http.delete(format!("{base}/v1/{name}"))
            .header("authorization", &auth),
    )
    .await;

    assert_eq!(created_status, 200, "{created}");
    assert!(
        name.starts_with(&format!("users/{id}/webhooks/")),
        "{created}"
    );
    assert!(
        created["signingSecret"]
            .as_str()
            .is_some_and(|secret| secret.starts_with("whsec_")),
        "{created}"
    );
    assert!(created["createTime"].is_i64(), "milliseconds: {created}");
    assert_eq!(created["displayName"], "rest");
    assert_eq!(alias_status, 200, "{alias}");
    assert_eq!(alias["url"], "https://203.0.113.8/alias");
    assert_eq!(patched_status, 200, "{patched}");
    assert_eq!(patched["displayName"], "renamed");
    assert_eq!(patched["url"], PUBLIC_URL, "the mask came from the body");
    assert_eq!(patched["createTime"], created["createTime"]);
    assert_eq!(private_status, 400, "{private}");
    assert_eq!(private["code"], 3);
    let fields: Vec<&str> = private["details"]
        .as_array()
        .expect("details")
        .iter()
        .filter(|detail| detail["@type"] == "type.googleapis.com/google.rpc.BadRequest")
        .flat_map(|detail| detail["fieldViolations"].as_array().into_iter().flatten())
        .filter_map(|violation| violation["field"].as_str())
        .collect();
    assert_eq!(fields, vec!["webhook.url"], "{private}");
    assert_eq!(listed_status, 200, "{listed}");
    let webhooks = listed["webhooks"].as_array().expect("webhooks");
    assert_eq!(webhooks.len(), 2);
    assert!(
        webhooks
            .iter()
            .all(|webhook| webhook["signingSecret"].as_str().unwrap_or("").is_empty()),
        "{listed}"
    );
    assert_eq!(deleted_status, 200);
    assert_eq!(again_status, 404, "{again}");
    assert_eq!(again["code"], 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_allowing_private_webhooks_accepts_local_targets() {
    let app = TestApp::spawn_configured(TestDatabase::create(Backend::Sqlite).await, |config| {
        config.allow_private_webhooks = true;
    })
    .await;
    app.initialize().await;
    let (alice, alice_key) = app.insert_user(Role::User, "alice").await;
    let mut users = app.users().await;
    let parent = alice.id.resource_name();

    let localhost = users
        .create_user_webhook(bearer(
            create(&parent, "http://localhost:8080/hook", "local"),
            &alice_key,
        ))
        .await;
    let loopback = users
        .create_user_webhook(bearer(
            create(&parent, "http://127.0.0.1:9/", ""),
            &alice_key,
        ))
        .await;
    let still_http_only = users
        .create_user_webhook(bearer(create(&parent, "ftp://127.0.0.1/", ""), &alice_key))
        .await
        .unwrap_err();

    assert_eq!(
        localhost.unwrap().into_inner().url,
        "http://localhost:8080/hook"
    );
    assert_eq!(loopback.unwrap().into_inner().url, "http://127.0.0.1:9/");
    only_violation(&still_http_only, "webhook.url");
}

on_every_backend!(
    a_new_webhook_shows_its_secret_once,
    lists_are_oldest_first_in_pages,
    urls_and_display_names_are_checked_together,
    a_url_that_encodes_past_the_limit_is_refused,
    private_and_local_targets_are_refused,
    updates_follow_the_mask_and_recheck_the_url,
    owners_and_admins_manage_webhooks_others_are_refused,
    a_user_has_at_most_fifty_webhooks,
    concurrent_creates_stay_within_fifty,
    deleting_a_user_with_webhooks_needs_force,
    webhooks_over_rest,
);
