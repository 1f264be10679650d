//! gRPC health (`grpc.health.v1.Health`) from tonic-health's reporter, with
//! `Watch` as the health protocol specifies it for a service the server
//! does not know: the stream sends `SERVICE_UNKNOWN` and stays open (a
//! service may appear later), where tonic-health fails it with `NOT_FOUND`.
//! `Check` keeps answering `NOT_FOUND` for such a service, as specified.
use std::pin::Pin;

use futures_util::{Stream, StreamExt as _, stream};
use tonic::{Code, Request, Response, Status};
use tonic_health::pb::health_check_response::ServingStatus as WireStatus;
use tonic_health::pb::health_server::{Health, HealthServer};
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};
use tonic_health::server::{HealthReporter, HealthService};

/// The health service; see the module comment.
#[derive(Debug)]
pub struct SpecHealth {
    inner: HealthService,
}

/// A reporter and the service that serves what it reports.
pub fn health_service() -> (HealthReporter, HealthServer<SpecHealth>) {
    let reporter = HealthReporter::new();
    let inner = HealthService::from_health_reporter(reporter.clone());
    (reporter, HealthServer::new(SpecHealth { inner }))
}

type Responses = Pin<Box<dyn Stream<Item = Result<HealthCheckResponse, Status>> + Send>>;

#[tonic::async_trait]
impl Health for SpecHealth {
    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        self.inner.check(request).await
    }

    type WatchStream = Responses;

    async fn watch(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<Responses>, Status> {
        match self.inner.watch(request).await {
            Ok(watching) => Ok(Response::new(Box::pin(watching.into_inner()) as Responses)),
            Err(status) if status.code() == Code::NotFound => {
                let unknown = HealthCheckResponse {
                    status: WireStatus::ServiceUnknown as i32,
                };
                let responses = stream::once(async move { Ok(unknown) }).chain(stream::pending());
                Ok(Response::new(Box::pin(responses) as Responses))
            }
            Err(status) => Err(status),
        }
    }
}
