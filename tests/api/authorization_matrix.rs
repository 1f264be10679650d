//! One table: every RPC so far × every kind of caller, with the code each
//! cell must answer, checked over gRPC and over REST.
use std::sync::atomic::{AtomicUsize, Ordering};

use roster::domain::clock::EpochMillis;
use roster::domain::user::{Role, UserId};
use roster::proto::goodmem::v1 as pb;
use serde_json::{Value, json};
use tonic::Code;

use crate::helpers::{TestApp, bearer, new_user};
use crate::on_every_backend;

/// The callers, in column order.
const CALLERS: [&str; 9] = [
    "anonymous",
    "self",
    "another user",
    "admin",
    "root",
    "deleted user",
    "archived user",
    "expired token",
    "revoked token",
];

use Code::{
    FailedPrecondition as Pre, NotFound as Nf, Ok as Yes, PermissionDenied as No,
    Unauthenticated as Who,
};

/// Rows: an RPC and the expected code for each caller of [`CALLERS`].
#[rustfmt::skip]
const MATRIX: &[(Rpc, [Code; 9])] = &[
    //                               anon self other admin root  del  arch  exp  rev
    (Rpc::InitializeSystem,          [Yes, Yes, Yes, Yes, Yes, Who, Who, Who, Who]),
    (Rpc::GetSystemInfo,             [Yes, Yes, Yes, Yes, Yes, Who, Who, Who, Who]),
    (Rpc::GetUser,                   [Who, Yes, No,  Yes, Yes, Who, Who, Who, Who]),
    (Rpc::ListUsers,                 [Who, No,  No,  Yes, Yes, Who, Who, Who, Who]),
    (Rpc::CreateUser,                [No,  No,  No,  Yes, Yes, Who, Who, Who, Who]),
    (Rpc::UpdateUser,                [Who, Yes, No,  Yes, Yes, Who, Who, Who, Who]),
    (Rpc::DeleteUser,                [Who, No,  No,  Nf,  Nf,  Who, Who, Who, Who]),
    (Rpc::SignIn,                    [Yes, Yes, Yes, Yes, Yes, Who, Who, Who, Who]),
    (Rpc::SignOut,                   [Who, Pre, Pre, Pre, Pre, Who, Who, Who, Who]),
    (Rpc::GetInstanceSettings,       [Who, No,  No,  Yes, Yes, Who, Who, Who, Who]),
    (Rpc::UpdateInstanceSettings,    [Who, No,  No,  Yes, Yes, Who, Who, Who, Who]),
    (Rpc::ListPersonalAccessTokens,  [Who, Yes, No,  Yes, Yes, Who, Who, Who, Who]),
    (Rpc::CreatePersonalAccessToken, [Who, Yes, No,  No,  No,  Who, Who, Who, Who]),
    (Rpc::DeletePersonalAccessToken, [Who, Nf,  No,  Nf,  Nf,  Who, Who, Who, Who]),
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
        ],
        target: target.id,
        signer: "signer",
        created: AtomicUsize::new(0),
    }
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
