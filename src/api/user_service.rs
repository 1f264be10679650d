//! `goodmem.v1.UserService`.
use tonic::{Request, Response, Status};

use super::call_origin::CallOrigin;
use super::convert::GetUserQuery;
use super::{ApiContext, caller};
use crate::domain::system::{BootstrapCaller, Initialization, initialize_system};
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
        request: Request<pb::InitializeSystemRequest>,
    ) -> Result<Response<pb::InitializeSystemResponse>, Status> {
        // The gate records the origin of every public call.
        let origin = request.extensions().get::<CallOrigin>().copied();
        let pb::InitializeSystemRequest { setup_code } = request.into_inner();
        let bootstrap_caller = BootstrapCaller {
            on_this_machine: origin.is_some_and(|origin| origin.on_this_machine),
            from_foreign_web_page: origin.is_none_or(|origin| origin.from_foreign_web_page),
            has_setup_code: self.context.setup_code.matches(&setup_code),
        };
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
}
