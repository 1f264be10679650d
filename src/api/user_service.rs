//! `goodmem.v1.UserService`.
use tonic::{Request, Response, Status};

use super::call_origin::CallOrigin;
use super::convert::{GetUserQuery, delete_target, field_mask, token_message};
use super::user_resources::{
    notification_message, setting_message, stats_message, webhook_input, webhook_message,
};
use super::{ApiContext, caller};
use crate::domain::clock::EpochMillis;
use crate::domain::create_user::{Creator, create_user};
use crate::domain::delete_user::delete_user;
use crate::domain::list_users::list_users;
use crate::domain::notifications::{delete_notification, list_notifications, update_notification};
use crate::domain::principal::Principal;
use crate::domain::stats::{get_user_stats, list_all_user_stats};
use crate::domain::system::{BootstrapCaller, Initialization, initialize_system};
use crate::domain::tokens::{NewTokenInput, create_token, delete_token, list_tokens};
use crate::domain::update_user::update_user;
use crate::domain::user_settings::{get_user_setting, list_user_settings, update_user_setting};
use crate::domain::users::get_user;
use crate::domain::webhooks::{
    Targets, create_webhook, delete_webhook, list_webhooks, update_webhook,
};
use crate::proto::goodmem::v1 as pb;
use crate::proto::goodmem::v1::user_service_server::UserService;
use crate::webhook::resolver::SystemResolver;

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

    /// Where webhooks may point, and how their hosts are resolved.
    fn targets(&self) -> Targets<'static, SystemResolver> {
        Targets {
            policy: self.context.webhook_policy,
            resolver: &SystemResolver,
        }
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

    async fn get_user_setting(
        &self,
        mut request: Request<pb::GetUserSettingRequest>,
    ) -> Result<Response<pb::UserSetting>, Status> {
        let caller = caller(&mut request)?;
        let pb::GetUserSettingRequest { name } = request.into_inner();
        let setting = get_user_setting(&self.context.store, &caller, &name).await?;
        Ok(Response::new(setting_message(setting)))
    }

    async fn update_user_setting(
        &self,
        mut request: Request<pb::UpdateUserSettingRequest>,
    ) -> Result<Response<pb::UserSetting>, Status> {
        let caller = caller(&mut request)?;
        let input = request.into_inner().into();
        let setting = update_user_setting(&self.context.store, &caller, input).await?;
        Ok(Response::new(setting_message(setting)))
    }

    async fn list_user_settings(
        &self,
        mut request: Request<pb::ListUserSettingsRequest>,
    ) -> Result<Response<pb::ListUserSettingsResponse>, Status> {
        let caller = caller(&mut request)?;
        let pb::ListUserSettingsRequest {
            parent,
            page_size,
            page_token,
        } = request.into_inner();
        let page = list_user_settings(
            &self.context.store,
            &caller,
            &parent,
            page_size,
            &page_token,
        )
        .await?;
        Ok(Response::new(pb::ListUserSettingsResponse {
            settings: page.settings.into_iter().map(setting_message).collect(),
            next_page_token: page.next_page_token,
            total_size: i32::try_from(page.total_size).unwrap_or(i32::MAX),
        }))
    }

    async fn list_user_webhooks(
        &self,
        mut request: Request<pb::ListUserWebhooksRequest>,
    ) -> Result<Response<pb::ListUserWebhooksResponse>, Status> {
        let caller = caller(&mut request)?;
        let pb::ListUserWebhooksRequest {
            parent,
            page_size,
            page_token,
        } = request.into_inner();
        let page = list_webhooks(
            &self.context.store,
            &caller,
            &parent,
            page_size,
            &page_token,
        )
        .await?;
        Ok(Response::new(pb::ListUserWebhooksResponse {
            webhooks: page
                .webhooks
                .into_iter()
                .map(|webhook| webhook_message(webhook, None))
                .collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn create_user_webhook(
        &self,
        mut request: Request<pb::CreateUserWebhookRequest>,
    ) -> Result<Response<pb::UserWebhook>, Status> {
        let caller = caller(&mut request)?;
        let pb::CreateUserWebhookRequest { parent, webhook } = request.into_inner();
        let (webhook, secret) = create_webhook(
            &self.context.store,
            self.targets(),
            &caller,
            &parent,
            webhook_input(webhook),
        )
        .await?;
        Ok(Response::new(webhook_message(webhook, Some(&secret))))
    }

    async fn update_user_webhook(
        &self,
        mut request: Request<pb::UpdateUserWebhookRequest>,
    ) -> Result<Response<pb::UserWebhook>, Status> {
        let caller = caller(&mut request)?;
        let pb::UpdateUserWebhookRequest {
            webhook,
            update_mask,
        } = request.into_inner();
        let mask = field_mask(update_mask);
        let webhook = update_webhook(
            &self.context.store,
            self.targets(),
            &caller,
            webhook_input(webhook),
            mask,
        )
        .await?;
        Ok(Response::new(webhook_message(webhook, None)))
    }

    async fn delete_user_webhook(
        &self,
        mut request: Request<pb::DeleteUserWebhookRequest>,
    ) -> Result<Response<()>, Status> {
        let caller = caller(&mut request)?;
        let pb::DeleteUserWebhookRequest { name } = request.into_inner();
        delete_webhook(&self.context.store, &caller, &name).await?;
        Ok(Response::new(()))
    }

    async fn list_user_notifications(
        &self,
        mut request: Request<pb::ListUserNotificationsRequest>,
    ) -> Result<Response<pb::ListUserNotificationsResponse>, Status> {
        let caller = caller(&mut request)?;
        let pb::ListUserNotificationsRequest {
            parent,
            page_size,
            page_token,
            filter,
        } = request.into_inner();
        let page = list_notifications(
            &self.context.store,
            &caller,
            &parent,
            page_size,
            &page_token,
            &filter,
        )
        .await?;
        Ok(Response::new(pb::ListUserNotificationsResponse {
            notifications: page
                .notifications
                .into_iter()
                .map(notification_message)
                .collect(),
            next_page_token: page.next_page_token,
        }))
    }

    async fn update_user_notification(
        &self,
        mut request: Request<pb::UpdateUserNotificationRequest>,
    ) -> Result<Response<pb::UserNotification>, Status> {
        let caller = caller(&mut request)?;
        let pb::UpdateUserNotificationRequest {
            notification,
            update_mask,
        } = request.into_inner();
        let pb::UserNotification {
            name,
            status,
            sender: _,
            r#type: _,
            create_time: _,
            memo: _,
        } = notification.unwrap_or_default();
        let mask = field_mask(update_mask);
        let notification =
            update_notification(&self.context.store, &caller, &name, status, mask).await?;
        Ok(Response::new(notification_message(notification)))
    }

    async fn delete_user_notification(
        &self,
        mut request: Request<pb::DeleteUserNotificationRequest>,
    ) -> Result<Response<()>, Status> {
        let caller = caller(&mut request)?;
        let pb::DeleteUserNotificationRequest { name } = request.into_inner();
        delete_notification(&self.context.store, &caller, &name).await?;
        Ok(Response::new(()))
    }

    async fn get_user_stats(
        &self,
        mut request: Request<pb::GetUserStatsRequest>,
    ) -> Result<Response<pb::UserStats>, Status> {
        let caller = caller(&mut request)?;
        let pb::GetUserStatsRequest { name } = request.into_inner();
        let stats = get_user_stats(&self.context.store, &caller, &name).await?;
        Ok(Response::new(stats_message(stats)))
    }

    async fn list_all_user_stats(
        &self,
        mut request: Request<pb::ListAllUserStatsRequest>,
    ) -> Result<Response<pb::ListAllUserStatsResponse>, Status> {
        let caller = caller(&mut request)?;
        let pb::ListAllUserStatsRequest {
            page_size,
            page_token,
        } = request.into_inner();
        let page =
            list_all_user_stats(&self.context.store, &caller, page_size, &page_token).await?;
        Ok(Response::new(pb::ListAllUserStatsResponse {
            stats: page.stats.into_iter().map(stats_message).collect(),
            next_page_token: page.next_page_token,
        }))
    }
}
