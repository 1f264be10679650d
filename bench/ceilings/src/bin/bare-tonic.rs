//! Ceiling for native gRPC and gRPC-Web: a bare tonic `UserService` whose
//! GetUser answers the benchmark's target user from memory (no auth, no
//! database, no layers), served on one port the way `roster` serves.
use std::net::SocketAddr;
use std::sync::Arc;

use clap::Parser;
use roster::proto::goodmem::v1 as pb;
use roster::proto::goodmem::v1::user_service_server::{UserService, UserServiceServer};
use tonic::{Request, Response, Status};

/// Serves GetUser from memory.
#[derive(Debug, Parser)]
struct Args {
    /// Address to serve on (port 0 picks one; printed on stdout).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Leave Nagle's algorithm on, as plain `axum::serve` does.
    #[arg(long)]
    no_tcp_nodelay: bool,
    /// The seeded database, read once at start-up for the answer.
    #[arg(long)]
    database_url: String,
    /// The user whose record every GetUser returns.
    #[arg(long)]
    user_id: uuid::Uuid,
}

#[derive(Clone, Debug)]
struct BareUserService {
    user: Arc<pb::User>,
}

#[tonic::async_trait]
impl UserService for BareUserService {
    async fn initialize_system(
        &self,
        _request: Request<pb::InitializeSystemRequest>,
    ) -> Result<Response<pb::InitializeSystemResponse>, Status> {
        Err(Status::unimplemented("not part of the ceiling"))
    }

    async fn get_user(
        &self,
        _request: Request<pb::GetUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        // The real server builds a fresh message per call; so does this.
        Ok(Response::new(pb::User::clone(&self.user)))
    }

    async fn list_users(
        &self,
        _request: Request<pb::ListUsersRequest>,
    ) -> Result<Response<pb::ListUsersResponse>, Status> {
        Err(Status::unimplemented("not part of the ceiling"))
    }

    async fn create_user(
        &self,
        _request: Request<pb::CreateUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        Err(Status::unimplemented("not part of the ceiling"))
    }

    async fn update_user(
        &self,
        _request: Request<pb::UpdateUserRequest>,
    ) -> Result<Response<pb::User>, Status> {
        Err(Status::unimplemented("not part of the ceiling"))
    }

    async fn delete_user(
        &self,
        _request: Request<pb::DeleteUserRequest>,
    ) -> Result<Response<()>, Status> {
        Err(Status::unimplemented("not part of the ceiling"))
    }

    async fn list_personal_access_tokens(
        &self,
        _request: Request<pb::ListPersonalAccessTokensRequest>,
    ) -> Result<Response<pb::ListPersonalAccessTokensResponse>, Status> {
        Err(Status::unimplemented("not part of the ceiling"))
    }

    async fn create_personal_access_token(
        &self,
        _request: Request<pb::CreatePersonalAccessTokenRequest>,
    ) -> Result<Response<pb::CreatePersonalAccessTokenResponse>, Status> {
        Err(Status::unimplemented("not part of the ceiling"))
    }

    async fn delete_personal_access_token(
        &self,
        _request: Request<pb::DeletePersonalAccessTokenRequest>,
    ) -> Result<Response<()>, Status> {
        Err(Status::unimplemented("not part of the ceiling"))
    }

    async fn get_user_setting(
        &self,
        _request: Request<pb::GetUserSettingRequest>,
    ) -> Result<Response<pb::UserSetting>, Status> {
        Err(Status::unimplemented("not part of the ceiling"))
    }

    async fn update_user_setting(
        &self,
        _request: Request<pb::UpdateUserSettingRequest>,
    ) -> Result<Response<pb::UserSetting>, Status> {
        Err(Status::unimplemented("not part of the ceiling"))
    }

    async fn list_user_settings(
        &self,
        _request: Request<pb::ListUserSettingsRequest>,
    ) -> Result<Response<pb::ListUserSettingsResponse>, Status> {
        Err(Status::unimplemented("not part of the ceiling"))
    }

    async fn list_user_webhooks(
        &self,
        _request: Request<pb::ListUserWebhooksRequest>,
    ) -> Result<Response<pb::ListUserWebhooksResponse>, Status> {
        Err(Status::unimplemented("not part of the ceiling"))
    }

    async fn create_user_webhook(
        &self,
        _request: Request<pb::CreateUserWebhookRequest>,
    ) -> Result<Response<pb::UserWebhook>, Status> {
        Err(Status::unimplemented("not part of the ceiling"))
    }

    async fn update_user_webhook(
        &self,
        _request: Request<pb::UpdateUserWebhookRequest>,
    ) -> Result<Response<pb::UserWebhook>, Status> {
        Err(Status::unimplemented("not part of the ceiling"))
    }

    async fn delete_user_webhook(
        &self,
        _request: Request<pb::DeleteUserWebhookRequest>,
    ) -> Result<Response<()>, Status> {
        Err(Status::unimplemented("not part of the ceiling"))
    }

    async fn list_user_notifications(
        &self,
        _request: Request<pb::ListUserNotificationsRequest>,
    ) -> Result<Response<pb::ListUserNotificationsResponse>, Status> {
        Err(Status::unimplemented("not part of the ceiling"))
    }

    async fn update_user_notification(
        &self,
        _request: Request<pb::UpdateUserNotificationRequest>,
    ) -> Result<Response<pb::UserNotification>, Status> {
        Err(Status::unimplemented("not part of the ceiling"))
    }

    async fn delete_user_notification(
        &self,
        _request: Request<pb::DeleteUserNotificationRequest>,
    ) -> Result<Response<()>, Status> {
        Err(Status::unimplemented("not part of the ceiling"))
    }

    async fn get_user_stats(
        &self,
        _request: Request<pb::GetUserStatsRequest>,
    ) -> Result<Response<pb::UserStats>, Status> {
        Err(Status::unimplemented("not part of the ceiling"))
    }

    async fn list_all_user_stats(
        &self,
        _request: Request<pb::ListAllUserStatsRequest>,
    ) -> Result<Response<pb::ListAllUserStatsResponse>, Status> {
        Err(Status::unimplemented("not part of the ceiling"))
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let user = roster_bench::load_user(&args.database_url, args.user_id).await?;
    let service = UserServiceServer::new(BareUserService {
        user: Arc::new(user),
    });
    let router = tonic::service::Routes::new(service)
        .prepare()
        .into_axum_router();
    roster_bench::serve(args.listen, router, !args.no_tcp_nodelay).await
}
