//! One table: every RPC so far × every kind of caller, with the code each
//! cell must answer, checked over gRPC and over REST. The last two callers
//! are tokens of "self" narrowed by scopes: a read-only one, and one whose
//! stored scopes name permissions its owner's role lacks (scopes never
//! grant what the role does not).
use std::sync::atomic::{AtomicUsize, Ordering};

use roster::domain::clock::EpochMillis;
use roster::domain::credential::{CredentialKind, NewCredential};
use roster::domain::permission::Permission;
use roster::domain::token::RawToken;
use roster::domain::user::{Role, UserId};
use roster::proto::goodmem::v1 as pb;
use roster::proto::goodmem::v1::memo_service_client::MemoServiceClient;
use roster::store::credentials;
use serde_json::{Value, json};
use tonic::Code;

use crate::helpers::{TestApp, bearer, new_user};
use crate::on_every_backend;

/// The callers, in column order.
const CALLERS: [&str; 11] = [
    "anonymous",
    "self",
    "another user",
    "admin",
    "root",
    "deleted user",
    "archived user",
    "expired token",
    "revoked token",
    "read-only token",
    "over-scoped token",
];

/// The read-only token's scopes.
const READ_ONLY: &[Permission] = &[
    Permission::DisplayUserOwn,
    Permission::DisplaySettingOwn,
    Permission::DisplayWebhookOwn,
    Permission::DisplayNotificationOwn,
    Permission::DisplayMemo,
    Permission::DisplayStatsOwn,
];

/// The over-scoped token's scopes: the first four are admin permissions
/// an ordinary user lacks, so only the last works.
const OVER_SCOPED: &[Permission] = &[
    Permission::ListUser,
    Permission::DisplayUserAny,
    Permission::ManageInstance,
    Permission::ManageWebhookAny,
    Permission::DisplayNotificationOwn,
];

use Code::{
    FailedPrecondition as Pre, NotFound as Nf, Ok as Yes, PermissionDenied as No,
    Unauthenticated as Who,
};

/// Rows: an RPC and the expected code for each caller of [`CALLERS`].
#[rustfmt::skip]
const MATRIX: &[(Rpc, [Code; 11])] = &[
    //                               anon self other admin root  del  arch  exp  rev  read over
    (Rpc::InitializeSystem,          [Yes, Yes, Yes, Yes, Yes, Who, Who, Who, Who, Yes, Yes]),
    (Rpc::GetSystemInfo,             [Yes, Yes, Yes, Yes, Yes, Who, Who, Who, Who, Yes, Yes]),
    (Rpc::GetUser,                   [Who, Yes, No,  Yes, Yes, Who, Who, Who, Who, Yes, No ]),
    (Rpc::ListUsers,                 [Who, No,  No,  Yes, Yes, Who, Who, Who, Who, No,  No ]),
    (Rpc::CreateUser,                [No,  No,  No,  Yes, Yes, Who, Who, Who, Who, No,  No ]),
    (Rpc::UpdateUser,                [Who, Yes, No,  Yes, Yes, Who, Who, Who, Who, No,  No ]),
    (Rpc::DeleteUser,                [Who, No,  No,  Nf,  Nf,  Who, Who, Who, Who, No,  No ]),
    (Rpc::SignIn,                    [Yes, Yes, Yes, Yes, Yes, Who, Who, Who, Who, Yes, Yes]),
    (Rpc::SignOut,                   [Who, Pre, Pre, Pre, Pre, Who, Who, Who, Who, Pre, Pre]),
    (Rpc::GetInstanceSettings,       [Who, No,  No,  Yes, Yes, Who, Who, Who, Who, No,  No ]),
    (Rpc::UpdateInstanceSettings,    [Who, No,  No,  Yes, Yes, Who, Who, Who, Who, No,  No ]),
    (Rpc::ListPersonalAccessTokens,  [Who, Yes, No,  Yes, Yes, Who, Who, Who, Who, No,  No ]),
    (Rpc::CreatePersonalAccessToken, [Who, Yes, No,  No,  No,  Who, Who, Who, Who, No,  No ]),
    (Rpc::DeletePersonalAccessToken, [Who, Nf,  No,  Nf,  Nf,  Who, Who, Who, Who, No,  No ]),
    (Rpc::GetUserSetting,            [Who, Yes, No,  Yes, Yes, Who, Who, Who, Who, Yes, No ]),
    (Rpc::UpdateUserSetting,         [Who, Yes, No,  No,  No,  Who, Who, Who, Who, No,  No ]),
    (Rpc::ListUserSettings,          [Who, Yes, No,  Yes, Yes, Who, Who, Who, Who, Yes, No ]),
    (Rpc::ListUserWebhooks,          [Who, Yes, No,  Yes, Yes, Who, Who, Who, Who, Yes, No ]),
    (Rpc::CreateUserWebhook,         [Who, Yes, No,  Yes, Yes, Who, Who, Who, Who, No,  No ]),
    (Rpc::UpdateUserWebhook,         [Who, Nf,  No,  Nf,  Nf,  Who, Who, Who, Who, No,  No ]),
    (Rpc::DeleteUserWebhook,         [Who, Nf,  No,  Nf,  Nf,  Who, Who, Who, Who, No,  No ]),
    (Rpc::ListUserNotifications,     [Who, Yes, No,  No,  No,  Who, Who, Who, Who, Yes, Yes]),
    (Rpc::UpdateUserNotification,    [Who, Nf,  No,  No,  No,  Who, Who, Who, Who, No,  No ]),
    (Rpc::DeleteUserNotification,    [Who, Nf,  No,  No,  No,  Who, Who, Who, Who, No,  No ]),
    (Rpc::CreateMemo,                [Who, Yes, Yes, Yes, Yes, Who, Who, Who, Who, No,  No ]),
    (Rpc::GetMemo,                   [Who, Yes, Yes, Yes, Yes, Who, Who, Who, Who, Yes, No ]),
    (Rpc::ListMemos,                 [Who, Yes, Yes, Yes, Yes, Who, Who, Who, Who, Yes, No ]),
    (Rpc::UpdateMemo,                [Who, Nf,  Nf,  Nf,  Nf,  Who, Who, Who, Who, No,  No ]),
    (Rpc::DeleteMemo,                [Who, Nf,  Nf,  Nf,  Nf,  Who, Who, Who, Who, No,  No ]),
    (Rpc::CreateMemoComment,         [Who, Yes, Yes, Yes, Yes, Who, Who, Who, Who, No,  No ]),
    (Rpc::ListMemoComments,          [Who, Yes, Yes, Yes, Yes, Who, Who, Who, Who, Yes, No ]),
    (Rpc::GetUserStats,              [Who, Yes, No,  Yes, Yes, Who, Who, Who, Who, Yes, No ]),
    (Rpc::ListAllUserStats,          [Who, No,  No,  Yes, Yes, Who, Who, Who, Who, No,  No ]),
];

#[derive(Clone, Copy, Debug)]
enum Rpc {
    InitializeSystem,
    GetSystemInfo,
    GetUser,
    ListUsers,
    CreateUser,
    UpdateUser,
    DeleteUser,
    SignIn,
    SignOut,
    GetInstanceSettings,
    UpdateInstanceSettings,
    ListPersonalAccessTokens,
    CreatePersonalAccessToken,
    DeletePersonalAccessToken,
    GetUserSetting,
    UpdateUserSetting,
    ListUserSettings,
    ListUserWebhooks,
    CreateUserWebhook,
    UpdateUserWebhook,
    DeleteUserWebhook,
    ListUserNotifications,
    UpdateUserNotification,
    DeleteUserNotification,
    CreateMemo,
    GetMemo,
    ListMemos,
    UpdateMemo,
    DeleteMemo,
    CreateMemoComment,
    ListMemoComments,
    GetUserStats,
    ListAllUserStats,
}

/// The users and tokens the cells use.
struct Cast {
    /// One token per caller column; `None` for anonymous.
    tokens: Vec<Option<String>>,
    /// The ordinary user "self" is.
    target: UserId,
    /// A user with a password, for SignIn.
    signer: &'static str,
    /// Makes CreateUser usernames unique.
    created: AtomicUsize,
    /// A PROTECTED memo of the target's, `memos/{uuid}`.
    memo: String,
}

impl Cast {
    /// A name of a record of the target's that does not exist:
    /// `users/{target}/{collection}/{random uuid}`.
    fn child(&self, collection: &str) -> String {
        format!(
            "{}/{collection}/{}",
            self.target.resource_name(),
            uuid::Uuid::now_v7()
        )
    }
}

async fn cast(app: &TestApp) -> Cast {
    let (root_key, _) = app.initialize().await;
    let (target, self_key) = app.insert_user(Role::User, "target").await;
    let (_, other_key) = app.insert_user(Role::User, "other").await;
    let (_, admin_key) = app.insert_user(Role::Admin, "admin").await;
    let (deleted, deleted_key) = app.insert_user(Role::User, "deleted").await;
    let (archived, archived_key) = app.insert_user(Role::User, "archived").await;
    let expired_at = Some(EpochMillis(EpochMillis::now().0 - 1_000));
    let (_, expired_key) = app
        .insert_user_with_token(Role::User, "expired", expired_at)
        .await;
    let mut users = app.users().await;
    users
        .delete_user(bearer(
            pb::DeleteUserRequest {
                user_id: deleted.id.0.as_bytes().to_vec(),
                force: true,
                ..Default::default()
            },
            &root_key,
        ))
        .await
        .unwrap();
    users
        .update_user(bearer(
            pb::UpdateUserRequest {
                user: Some(pb::User {
                    name: archived.id.resource_name(),
                    state: pb::user::State::Archived as i32,
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["state".into()],
                }),
                allow_missing: true,
            },
            &root_key,
        ))
        .await
        .unwrap();
    app.create_user(
        &root_key,
        pb::User {
            password: "correct horse".into(),
            ..new_user("signer")
        },
    )
    .await;
    let revoked_key = app.sign_in("signer", "correct horse").await;
    app.auth()
        .await
        .sign_out(bearer(pb::SignOutRequest::default(), &revoked_key))
        .await
        .unwrap();
    let memo = MemoServiceClient::connect(app.base_url())
        .await
        .unwrap()
        .create_memo(bearer(
            pb::CreateMemoRequest {
                memo: Some(pb::Memo {
                    content: "for the matrix".into(),
                    visibility: pb::Visibility::Protected as i32,
                    ..Default::default()
                }),
            },
            &self_key,
        ))
        .await
        .unwrap()
        .into_inner()
        .name;
    let read_only_key = scoped_token(app, target.id, READ_ONLY).await;
    let over_scoped_key = scoped_token(app, target.id, OVER_SCOPED).await;
    Cast {
        tokens: vec![
            None,
            Some(self_key),
            Some(other_key),
            Some(admin_key),
            Some(root_key),
            Some(deleted_key),
            Some(archived_key),
            Some(expired_key),
            Some(revoked_key),
            Some(read_only_key),
            Some(over_scoped_key),
        ],
        target: target.id,
        signer: "signer",
        created: AtomicUsize::new(0),
        memo,
    }
}

/// A personal access token of `owner` with these stored scopes, written
/// through the store: the API would refuse scopes the owner lacks.
async fn scoped_token(app: &TestApp, owner: UserId, scopes: &[Permission]) -> String {
    let token = RawToken::generate();
    credentials::insert(
        app.store.writer(),
        &NewCredential {
            id: uuid::Uuid::now_v7(),
            user_id: owner,
            kind: CredentialKind::PersonalAccessToken,
            token_hash: token.hash(),
            description: "scoped".to_owned(),
            created_at: EpochMillis::now(),
            expires_at: None,
            scopes: Some(scopes.to_vec()),
        },
    )
    .await
    .unwrap();
    token.expose().to_owned()
}

fn mask(path: &str) -> Option<prost_types::FieldMask> {
    Some(prost_types::FieldMask {
        paths: vec![path.to_owned()],
    })
}

fn request<T>(message: T, token: Option<&str>) -> tonic::Request<T> {
    match token {
        Some(token) => bearer(message, token),
        None => tonic::Request::new(message),
    }
}

fn code<T>(result: Result<tonic::Response<T>, tonic::Status>) -> Code {
    result.map_or_else(|status| status.code(), |_| Code::Ok)
}

impl Rpc {
    async fn over_grpc(self, app: &TestApp, cast: &Cast, token: Option<&str>) -> Code {
        let mut users = app.users().await;
        let mut memos = MemoServiceClient::connect(app.base_url()).await.unwrap();
        let random_memo = format!("memos/{}", uuid::Uuid::now_v7());
        let memo = |content: &str| pb::Memo {
            content: content.to_owned(),
            ..Default::default()
        };
        match self {
            Self::InitializeSystem => code(
                users
                    .initialize_system(request(pb::InitializeSystemRequest::default(), token))
                    .await,
            ),
            Self::GetSystemInfo => code(
                app.system()
                    .await
                    .get_system_info(request(pb::GetSystemInfoRequest::default(), token))
                    .await,
            ),
            Self::GetUser => code(
                users
                    .get_user(request(
                        pb::GetUserRequest {
                            user_id: cast.target.0.as_bytes().to_vec(),
                            ..Default::default()
                        },
                        token,
                    ))
                    .await,
            ),
            Self::ListUsers => code(
                users
                    .list_users(request(pb::ListUsersRequest::default(), token))
                    .await,
            ),
            Self::CreateUser => {
                let index = cast.created.fetch_add(1, Ordering::Relaxed);
                code(
                    users
                        .create_user(request(
                            pb::CreateUserRequest {
                                user: Some(new_user(&format!("made{index}"))),
                                ..Default::default()
                            },
                            token,
                        ))
                        .await,
                )
            }
            Self::UpdateUser => code(
                users
                    .update_user(request(
                        pb::UpdateUserRequest {
                            user: Some(pb::User {
                                name: cast.target.resource_name(),
                                description: "changed".into(),
                                ..Default::default()
                            }),
                            update_mask: Some(prost_types::FieldMask {
                                paths: vec!["description".into()],
                            }),
                            allow_missing: false,
                        },
                        token,
                    ))
                    .await,
            ),
            Self::DeleteUser => code(
                users
                    .delete_user(request(
                        pb::DeleteUserRequest {
                            user_id: uuid::Uuid::now_v7().as_bytes().to_vec(),
                            ..Default::default()
                        },
                        token,
                    ))
                    .await,
            ),
            Self::SignIn => code(
                app.auth()
                    .await
                    .sign_in(request(
                        pb::SignInRequest {
                            username: cast.signer.into(),
                            password: "correct horse".into(),
                            ..Default::default()
                        },
                        token,
                    ))
                    .await,
            ),
            Self::SignOut => code(
                app.auth()
                    .await
                    .sign_out(request(pb::SignOutRequest::default(), token))
                    .await,
            ),
            Self::GetInstanceSettings => code(
                app.system()
                    .await
                    .get_instance_settings(request(
                        pb::GetInstanceSettingsRequest::default(),
                        token,
                    ))
                    .await,
            ),
            Self::UpdateInstanceSettings => code(
                app.system()
                    .await
                    .update_instance_settings(request(
                        pb::UpdateInstanceSettingsRequest {
                            settings: Some(pb::InstanceSettings::default()),
                            update_mask: Some(prost_types::FieldMask {
                                paths: vec!["allow_registration".into()],
                            }),
                        },
                        token,
                    ))
                    .await,
            ),
            Self::ListPersonalAccessTokens => code(
                users
                    .list_personal_access_tokens(request(
                        pb::ListPersonalAccessTokensRequest {
                            parent: cast.target.resource_name(),
                            ..Default::default()
                        },
                        token,
                    ))
                    .await,
            ),
            Self::CreatePersonalAccessToken => code(
                users
                    .create_personal_access_token(request(
                        pb::CreatePersonalAccessTokenRequest {
                            parent: cast.target.resource_name(),
                            description: "matrix".into(),
                            ..Default::default()
                        },
                        token,
                    ))
                    .await,
            ),
            Self::DeletePersonalAccessToken => code(
                users
                    .delete_personal_access_token(request(
                        pb::DeletePersonalAccessTokenRequest {
                            name: format!(
                                "{}/personalAccessTokens/{}",
                                cast.target.resource_name(),
                                uuid::Uuid::now_v7()
                            ),
                        },
                        token,
                    ))
                    .await,
            ),
            Self::GetUserSetting => code(
                users
                    .get_user_setting(request(
                        pb::GetUserSettingRequest {
                            name: format!("{}/settings/GENERAL", cast.target.resource_name()),
                        },
                        token,
                    ))
                    .await,
            ),
            Self::UpdateUserSetting => code(
                users
                    .update_user_setting(request(
                        pb::UpdateUserSettingRequest {
                            setting: Some(pb::UserSetting {
                                name: format!("{}/settings/GENERAL", cast.target.resource_name()),
                                value: Some(pb::user_setting::Value::GeneralSetting(
                                    pb::GeneralSetting {
                                        locale: "fr".into(),
                                        ..Default::default()
                                    },
                                )),
                            }),
                            update_mask: mask("locale"),
                        },
                        token,
                    ))
                    .await,
            ),
            Self::ListUserSettings => code(
                users
                    .list_user_settings(request(
                        pb::ListUserSettingsRequest {
                            parent: cast.target.resource_name(),
                            ..Default::default()
                        },
                        token,
                    ))
                    .await,
            ),
            Self::ListUserWebhooks => code(
                users
                    .list_user_webhooks(request(
                        pb::ListUserWebhooksRequest {
                            parent: cast.target.resource_name(),
                            ..Default::default()
                        },
                        token,
                    ))
                    .await,
            ),
            Self::CreateUserWebhook => code(
                users
                    .create_user_webhook(request(
                        pb::CreateUserWebhookRequest {
                            parent: cast.target.resource_name(),
                            webhook: Some(pb::UserWebhook {
                                url: "https://203.0.113.7/hook".into(),
                                ..Default::default()
                            }),
                        },
                        token,
                    ))
                    .await,
            ),
            Self::UpdateUserWebhook => code(
                users
                    .update_user_webhook(request(
                        pb::UpdateUserWebhookRequest {
                            webhook: Some(pb::UserWebhook {
                                name: cast.child("webhooks"),
                                display_name: "renamed".into(),
                                ..Default::default()
                            }),
                            update_mask: mask("display_name"),
                        },
                        token,
                    ))
                    .await,
            ),
            Self::DeleteUserWebhook => code(
                users
                    .delete_user_webhook(request(
                        pb::DeleteUserWebhookRequest {
                            name: cast.child("webhooks"),
                        },
                        token,
                    ))
                    .await,
            ),
            Self::ListUserNotifications => code(
                users
                    .list_user_notifications(request(
                        pb::ListUserNotificationsRequest {
                            parent: cast.target.resource_name(),
                            ..Default::default()
                        },
                        token,
                    ))
                    .await,
            ),
            Self::UpdateUserNotification => code(
                users
                    .update_user_notification(request(
                        pb::UpdateUserNotificationRequest {
                            notification: Some(pb::UserNotification {
                                name: cast.child("notifications"),
                                status: pb::user_notification::Status::Archived as i32,
                                ..Default::default()
                            }),
                            update_mask: mask("status"),
                        },
                        token,
                    ))
                    .await,
            ),
            Self::DeleteUserNotification => code(
                users
                    .delete_user_notification(request(
                        pb::DeleteUserNotificationRequest {
                            name: cast.child("notifications"),
                        },
                        token,
                    ))
                    .await,
            ),
            Self::CreateMemo => code(
                memos
                    .create_memo(request(
                        pb::CreateMemoRequest {
                            memo: Some(memo("matrix")),
                        },
                        token,
                    ))
                    .await,
            ),
            Self::GetMemo => code(
                memos
                    .get_memo(request(
                        pb::GetMemoRequest {
                            name: cast.memo.clone(),
                        },
                        token,
                    ))
                    .await,
            ),
            Self::ListMemos => code(
                memos
                    .list_memos(request(
                        pb::ListMemosRequest {
                            parent: cast.target.resource_name(),
                            ..Default::default()
                        },
                        token,
                    ))
                    .await,
            ),
            Self::UpdateMemo => code(
                memos
                    .update_memo(request(
                        pb::UpdateMemoRequest {
                            memo: Some(pb::Memo {
                                name: random_memo,
                                pinned: true,
                                ..Default::default()
                            }),
                            update_mask: mask("pinned"),
                        },
                        token,
                    ))
                    .await,
            ),
            Self::DeleteMemo => code(
                memos
                    .delete_memo(request(pb::DeleteMemoRequest { name: random_memo }, token))
                    .await,
            ),
            Self::CreateMemoComment => code(
                memos
                    .create_memo_comment(request(
                        pb::CreateMemoCommentRequest {
                            name: cast.memo.clone(),
                            comment: Some(memo("a comment")),
                        },
                        token,
                    ))
                    .await,
            ),
            Self::ListMemoComments => code(
                memos
                    .list_memo_comments(request(
                        pb::ListMemoCommentsRequest {
                            name: cast.memo.clone(),
                            ..Default::default()
                        },
                        token,
                    ))
                    .await,
            ),
            Self::GetUserStats => code(
                users
                    .get_user_stats(request(
                        pb::GetUserStatsRequest {
                            name: cast.target.resource_name(),
                        },
                        token,
                    ))
                    .await,
            ),
            Self::ListAllUserStats => code(
                users
                    .list_all_user_stats(request(pb::ListAllUserStatsRequest::default(), token))
                    .await,
            ),
        }
    }

    /// Method, path and JSON body of the REST binding.
    fn over_rest(self, cast: &Cast) -> (reqwest::Method, String, Option<Value>) {
        use reqwest::Method;
        let target = cast.target.0;
        match self {
            Self::InitializeSystem => (Method::POST, "/v1/system/init".into(), Some(json!({}))),
            Self::GetSystemInfo => (Method::GET, "/v1/system/info".into(), None),
            Self::GetUser => (Method::GET, format!("/api/v1/users/{target}"), None),
            Self::ListUsers => (Method::GET, "/v1/users?pageSize=5".into(), None),
            Self::CreateUser => {
                let index = cast.created.fetch_add(1, Ordering::Relaxed);
                let name = format!("rest{index}");
                let body =
                    json!({"user": {"username": name, "email": format!("{name}@example.com")}});
                (Method::POST, "/v1/users".into(), Some(body))
            }
            Self::UpdateUser => (
                Method::PATCH,
                format!("/v1/users/{target}"),
                Some(json!({"description": "changed over rest"})),
            ),
            Self::DeleteUser => (
                Method::DELETE,
                format!("/v1/users/{}", uuid::Uuid::now_v7()),
                None,
            ),
            Self::SignIn => (
                Method::POST,
                "/v1/auth/signin".into(),
                Some(json!({"username": cast.signer, "password": "correct horse"})),
            ),
            Self::SignOut => (Method::POST, "/v1/auth/signout".into(), Some(json!({}))),
            Self::GetInstanceSettings => (Method::GET, "/v1/system/settings".into(), None),
            Self::UpdateInstanceSettings => (
                Method::PATCH,
                "/v1/system/settings?updateMask=allowRegistration".into(),
                Some(json!({"allowRegistration": false})),
            ),
            Self::ListPersonalAccessTokens => (
                Method::GET,
                format!("/v1/users/{target}/personalAccessTokens"),
                None,
            ),
            Self::CreatePersonalAccessToken => (
                Method::POST,
                format!("/api/v1/users/{target}/personalAccessTokens"),
                Some(json!({"description": "matrix over rest"})),
            ),
            Self::DeletePersonalAccessToken => (
                Method::DELETE,
                format!(
                    "/v1/users/{target}/personalAccessTokens/{}",
                    uuid::Uuid::now_v7()
                ),
                None,
            ),
            Self::GetUserSetting => (
                Method::GET,
                format!("/api/v1/users/{target}/settings/GENERAL"),
                None,
            ),
            Self::UpdateUserSetting => (
                Method::PATCH,
                format!("/v1/users/{target}/settings/GENERAL"),
                Some(json!({"generalSetting": {"locale": "de"}})),
            ),
            Self::ListUserSettings => (Method::GET, format!("/v1/users/{target}/settings"), None),
            Self::ListUserWebhooks => (
                Method::GET,
                format!("/api/v1/users/{target}/webhooks"),
                None,
            ),
            Self::CreateUserWebhook => (
                Method::POST,
                format!("/v1/users/{target}/webhooks"),
                Some(json!({"url": "https://203.0.113.8/rest", "displayName": "rest"})),
            ),
            Self::UpdateUserWebhook => (
                Method::PATCH,
                format!("/v1/{}", cast.child("webhooks")),
                Some(json!({"displayName": "renamed over rest"})),
            ),
            Self::DeleteUserWebhook => (
                Method::DELETE,
                format!("/api/v1/{}", cast.child("webhooks")),
                None,
            ),
            Self::ListUserNotifications => (
                Method::GET,
                format!("/v1/users/{target}/notifications?filter=status%20%3D%3D%20%22UNREAD%22"),
                None,
            ),
            Self::UpdateUserNotification => (
                Method::PATCH,
                format!("/api/v1/{}", cast.child("notifications")),
                Some(json!({"status": "ARCHIVED"})),
            ),
            Self::DeleteUserNotification => (
                Method::DELETE,
                format!("/v1/{}", cast.child("notifications")),
                None,
            ),
            Self::CreateMemo => (
                Method::POST,
                "/v1/memos".into(),
                Some(json!({"content": "matrix over rest"})),
            ),
            Self::GetMemo => (Method::GET, format!("/api/v1/{}", cast.memo), None),
            Self::ListMemos => (Method::GET, format!("/v1/users/{target}/memos"), None),
            Self::UpdateMemo => (
                Method::PATCH,
                format!("/v1/memos/{}", uuid::Uuid::now_v7()),
                Some(json!({"pinned": true})),
            ),
            Self::DeleteMemo => (
                Method::DELETE,
                format!("/api/v1/memos/{}", uuid::Uuid::now_v7()),
                None,
            ),
            Self::CreateMemoComment => (
                Method::POST,
                format!("/v1/{}/comments", cast.memo),
                Some(json!({"content": "a comment over rest"})),
            ),
            Self::ListMemoComments => {
                (Method::GET, format!("/api/v1/{}/comments", cast.memo), None)
            }
            Self::GetUserStats => (Method::GET, format!("/v1/users/{target}:getStats"), None),
            Self::ListAllUserStats => (Method::GET, "/api/v1/users:stats".into(), None),
        }
    }
}

fn http_status(code: Code) -> u16 {
    match code {
        Code::Ok => 200,
        Code::Unauthenticated => 401,
        Code::PermissionDenied => 403,
        Code::NotFound => 404,
        Code::FailedPrecondition => 400,
        other => panic!("no expected HTTP status for {other:?}"),
    }
}

async fn every_rpc_answers_every_caller_as_the_table_says(app: TestApp) {
    let cast = cast(&app).await;
    let mut mismatches = Vec::new();

    for (rpc, expected) in MATRIX {
        for (column, caller) in CALLERS.iter().enumerate() {
            let token = cast.tokens[column].as_deref();
            let over_grpc = rpc.over_grpc(&app, &cast, token).await;
            if over_grpc != expected[column] {
                mismatches.push(format!(
                    "gRPC {rpc:?} as {caller}: {over_grpc:?}, expected {:?}",
                    expected[column]
                ));
            }
            let (method, path, body) = rpc.over_rest(&cast);
            let mut rest = app
                .http()
                .request(method, format!("{}{path}", app.base_url()));
            if let Some(token) = token {
                rest = rest.header("authorization", format!("Bearer {token}"));
            }
            if let Some(body) = body {
                rest = rest.json(&body);
            }
            let status = rest.send().await.unwrap().status().as_u16();
            if status != http_status(expected[column]) {
                mismatches.push(format!(
                    "REST {rpc:?} as {caller}: HTTP {status}, expected {}",
                    http_status(expected[column])
                ));
            }
        }
    }

    assert!(mismatches.is_empty(), "{}", mismatches.join("\n"));
}

on_every_backend!(every_rpc_answers_every_caller_as_the_table_says);
