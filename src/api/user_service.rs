//! `goodmem.v1.UserService`.
use tonic::{Request, Response, Status};

use super::call_origin::CallOrigin;
use super::convert::{GetUserQuery, delete_target, token_message};
use super::{ApiContext, caller};
use crate::domain::clock::EpochMillis;
use crate::domain::create_user::{Creator, create_user};
use crate::domain::delete_user::delete_user;
use crate::domain::list_users::list_users;
use crate::domain::principal::Principal;
use crate::domain::system::{BootstrapCaller, Initialization, initialize_system};
use crate::domain::tokens::{NewTokenInput, create_token, delete_token, list_tokens};
use crate::domain::update_user::update_user;
use crate::domain::users::get_user;
use crate::proto::goodmem::v1 as pb;
use crate::proto::goodmem::v1::user_service_server::UserService;

/// The UserService implementation.
#[derive(Clone, Debug)]
pub struct UserServiceApi {
    context: ApiContext,
}

impl UserServiceApi {
    /// The service over `context`.
    pub fn new(context: ApiContext) -> Self {
        Self { context }
    }

    /// The bootstrap facts of a public call (the gate records its origin).
    fn bootstrap_caller<T>(&self, request: &Request<T>, setup_code: &str) -> BootstrapCaller {
        let origin = request.extensions().get::<CallOrigin>().copied();
        BootstrapCaller {
            on_this_machine: origin.is_some_and(|origin| origin.on_this_machine),
            from_foreign_web_page: origin.is_none_or(|origin| origin.from_foreign_web_page),
            has_setup_code: self.context.setup_code.matches(setup_code),
        }
    }
}

#[tonic::async_trait]
impl UserService for UserServiceApi {
    async fn initialize_system(
        &self,
        request: Request<pb::InitializeSystemRequest>,
    ) -> Result<Response<pb::InitializeSystemResponse>, Status> {
        let bootstrap_caller = self.bootstrap_caller(&request, &request.get_ref().setup_code);
        let pb::InitializeSystemRequest { setup_code: _ } = request.into_inner();
        let response = match initialize_system(&self.context.store, bootstrap_caller).await? {
            Initialization::Performed {
                root_user_id,
                root_api_key,
            } => pb::InitializeSystemResponse {
                already_initialized: false,
                message: "system initialized: keep the root api key, it is shown only once"
                    .to_owned(),
                root_api_key: root_api_key.expose().to_owned(),
                user_id: root_user_id.0.as_bytes().to_vec(),
            },
            Initialization::AlreadyDone => pb::InitializeSystemResponse {
                already_initialized: true,
                message: "system already initialized".to_owned(),
                root_api_key: String::new(),
                user_id: Vec::new(),
            },
        };
        Ok(Response::new(response))
    }

    async fn get_user(
        &self,
        mut request: Request<pb::GetUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let caller = caller(&mut request)?;
        let query = GetUserQuery::try_from(request.into_inner())?;
        let user = get_user(
            &self.context.store,
            caller,
            query.selector,
            query.include_deleted,
        )
        .await?;
        Ok(Response::new(user.into()))
    }

    async fn list_users(
        &self,
        mut request: Request<pb::ListUsersRequest>,
    ) -> Result<Response<pb::ListUsersResponse>, Status> {
        let caller = caller(&mut request)?;
        let page = list_users(&self.context.store, &caller, request.into_inner().into()).await?;
        Ok(Response::new(pb::ListUsersResponse {
            users: page.users.into_iter().map(Into::into).collect(),
            next_page_token: page.next_page_token,
            total_size: i32::try_from(page.total_size).unwrap_or(i32::MAX),
        }))
    }

    async fn create_user(
        &self,
        mut request: Request<pb::CreateUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let origin = self.bootstrap_caller(&request, &request.get_ref().setup_code);
        let principal = request.extensions_mut().remove::<Principal>();
        let creator = Creator { principal, origin };
        let input = request.into_inner().into();
        let user = create_user(&self.context.store, &self.context.hasher, &creator, input).await?;
        Ok(Response::new(user.into()))
    }

    async fn update_user(
        &self,
        mut request: Request<pb::UpdateUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let caller = caller(&mut request)?;
        let user = update_user(
            &self.context.store,
            &self.context.hasher,
            &caller,
            request.into_inner().into(),
        )
        .await?;
        Ok(Response::new(user.into()))
    }

    async fn delete_user(
        &self,
        mut request: Request<pb::DeleteUserRequest>,
    ) -> Result<Response<()>, Status> {
        let caller = caller(&mut request)?;
        let request = request.into_inner();
        let target = delete_target(&request)?;
        delete_user(&self.context.store, &caller, target, request.force).await?;
        Ok(Response::new(()))
    }

    async fn list_personal_access_tokens(
        &self,
        mut request: Request<pb::ListPersonalAccessTokensRequest>,
    ) -> Result<Response<pb::ListPersonalAccessTokensResponse>, Status> {
        let caller = caller(&mut request)?;
        let pb::ListPersonalAccessTokensRequest {
            parent,
            page_size,
            page_token,
        } = request.into_inner();
        let page = list_tokens(
            &self.context.store,
            &caller,
            &parent,
            page_size,
            &page_token,
        )
        .await?;
        let now = EpochMillis::now();
        Ok(Response::new(pb::ListPersonalAccessTokensResponse {
            personal_access_tokens: page
                .tokens
                .into_iter()
                .map(|token| token_message(token, now))
                .collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn create_personal_access_token(
        &self,
        mut request: Request<pb::CreatePersonalAccessTokenRequest>,
    ) -> Result<Response<pb::CreatePersonalAccessTokenResponse>, Status> {
        let caller = caller(&mut request)?;
        let pb::CreatePersonalAccessTokenRequest {
            parent,
            description,
            expires_in_days,
            scopes,
        } = request.into_inner();
        let input = NewTokenInput {
            parent,
            description,
            expires_in_days,
            scopes,
        };
        let (info, token) = create_token(&self.context.store, &caller, input).await?;
        Ok(Response::new(pb::CreatePersonalAccessTokenResponse {
            personal_access_token: Some(token_message(info, EpochMillis::now())),
            token: token.expose().to_owned(),
        }))
    }

    async fn delete_personal_access_token(
        &self,
        mut request: Request<pb::DeletePersonalAccessTokenRequest>,
    ) -> Result<Response<()>, Status> {
        let caller = caller(&mut request)?;
        let pb::DeletePersonalAccessTokenRequest { name } = request.into_inner();
        delete_token(&self.context.store, &caller, &name).await?;
        Ok(Response::new(()))
    }
}
