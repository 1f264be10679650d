//! `goodmem.v1.AuthService`.
use tonic::{Request, Response, Status};

use super::call_origin::CallOrigin;
use super::convert::timestamp;
use super::{ApiContext, caller};
use crate::domain::sign_in::{SignInInput, sign_in, sign_out};
use crate::proto::goodmem::v1 as pb;
use crate::proto::goodmem::v1::auth_service_server::AuthService;

/// The AuthService implementation.
#[derive(Clone, Debug)]
pub struct AuthServiceApi {
    context: ApiContext,
}

impl AuthServiceApi {
    /// The service over `context`.
    pub fn new(context: ApiContext) -> Self {
        Self { context }
    }
}

#[tonic::async_trait]
impl AuthService for AuthServiceApi {
    async fn sign_in(
        &self,
        request: Request<pb::SignInRequest>,
    ) -> Result<Response<pb::SignInResponse>, Status> {
        let client_address = request
            .extensions()
            .get::<CallOrigin>()
            .and_then(|origin| origin.peer);
        let pb::SignInRequest {
            username,
            email,
            password,
        } = request.into_inner();
        let input = SignInInput {
            username,
            email,
            password,
            client_address,
        };
        let signed_in = sign_in(&self.context.store, &self.context.hasher, input).await?;
        Ok(Response::new(pb::SignInResponse {
            user: Some(signed_in.user.into()),
            access_token: signed_in.token.expose().to_owned(),
            expires_at: Some(timestamp(signed_in.expires_at)),
        }))
    }

    async fn sign_out(
        &self,
        mut request: Request<pb::SignOutRequest>,
    ) -> Result<Response<()>, Status> {
        let caller = caller(&mut request)?;
        sign_out(&self.context.store, &caller).await?;
        Ok(Response::new(()))
    }
}
