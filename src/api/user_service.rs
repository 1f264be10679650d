//! `goodmem.v1.UserService`.
use tonic::{Request, Response, Status};

use super::ApiContext;
use super::convert::GetUserQuery;
use crate::domain::system::{Initialization, initialize_system};
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
}

#[tonic::async_trait]
impl UserService for UserServiceApi {
    async fn initialize_system(
        &self,
        _request: Request<pb::InitializeSystemRequest>,
    ) -> Result<Response<pb::InitializeSystemResponse>, Status> {
        let response = match initialize_system(&self.context.store).await? {
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
        request: Request<pb::GetUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        let caller = self.context.caller(&request).await?;
        let query = GetUserQuery::try_from(request.into_inner())?;
        let user = get_user(
            &self.context.store,
            &caller,
            query.selector,
            query.include_deleted,
        )
        .await?;
        Ok(Response::new(user.into()))
    }
}
