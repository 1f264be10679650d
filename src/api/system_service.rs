//! `goodmem.v1.SystemService`.
use tonic::{Request, Response, Status};

use super::{ApiContext, caller};
use crate::domain::instance::{get_instance_settings, update_instance_settings};
use crate::domain::ports::SystemStore as _;
use crate::proto::goodmem::v1 as pb;
use crate::proto::goodmem::v1::system_service_server::SystemService;

/// The git commit the binary was built from (set by `build.rs`).
pub const GIT_COMMIT: &str = env!("ROSTER_GIT_COMMIT");
/// When the binary was built, RFC 3339 UTC (set by `build.rs`).
pub const BUILD_TIME: &str = env!("ROSTER_BUILD_TIME");

/// The SystemService implementation.
#[derive(Clone, Debug)]
pub struct SystemServiceApi {
    context: ApiContext,
}

impl SystemServiceApi {
    /// The service over `context`.
    pub fn new(context: ApiContext) -> Self {
        Self { context }
    }
}

#[tonic::async_trait]
impl SystemService for SystemServiceApi {
    async fn get_system_info(
        &self,
        _request: Request<pb::GetSystemInfoRequest>,
    ) -> Result<Response<pb::GetSystemInfoResponse>, Status> {
        Ok(Response::new(pb::GetSystemInfoResponse {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            git_commit: GIT_COMMIT.to_owned(),
            build_time: BUILD_TIME.to_owned(),
            capabilities: self.context.capabilities.clone(),
            initialized: self.context.store.is_initialized().await?,
            database_backend: self.context.store.backend().name().to_owned(),
        }))
    }

    async fn get_instance_settings(
        &self,
        mut request: Request<pb::GetInstanceSettingsRequest>,
    ) -> Result<Response<pb::InstanceSettings>, Status> {
        let caller = caller(&mut request)?;
        let settings = get_instance_settings(&self.context.store, &caller).await?;
        Ok(Response::new(settings.into()))
    }

    async fn update_instance_settings(
        &self,
        mut request: Request<pb::UpdateInstanceSettingsRequest>,
    ) -> Result<Response<pb::InstanceSettings>, Status> {
        let caller = caller(&mut request)?;
        let settings =
            update_instance_settings(&self.context.store, &caller, request.into_inner().into())
                .await?;
        Ok(Response::new(settings.into()))
    }
}
