//! The gateway in front of a real tonic server (tonic-health), wrapped in
//! gRPC-Web as the server wraps its gRPC routes: the in-process call must
//! look like a native gRPC call to tonic.

use roster_gateway::{Gateway, GatewayConfig};
use serde_json::json;
use tower::ServiceExt as _;

use crate::support::compile;

async fn get(router: &axum::Router, uri: &str) -> (u16, serde_json::Value) {
    let request = http::Request::builder()
        .uri(uri)
        .body(axum::body::Body::empty())
        .unwrap();
    let response = router.clone().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    (status, serde_json::from_slice(&body).unwrap())
}

#[tokio::test]
async fn rest_calls_reach_tonic_health() {
    let pool = compile(&["grpc/health/v1/health.proto"]);
    let gateway = Gateway::new(pool, GatewayConfig::default()).unwrap();
    let (_reporter, health) = tonic_health::server::health_reporter();
    let grpc = tonic::service::Routes::new(health)
        .prepare()
        .into_axum_router()
        .layer(tonic_web::GrpcWebLayer::new());
    let router = gateway.into_router(grpc);

    assert_eq!(
        get(&router, "/v1/health").await,
        (200, json!({"status": "SERVING"}))
    );
    assert_eq!(
        get(&router, "/v1/health?service=").await,
        (200, json!({"status": "SERVING"}))
    );

    let (status, body) = get(&router, "/v1/health/unknown.Service").await;
    assert_eq!(status, 404);
    assert_eq!(body["code"], json!(5));
    assert!(!body["message"].as_str().unwrap().is_empty());

    let (status, body) = get(&router, "/v1/health:watch").await;
    assert_eq!(
        (status, &body["code"]),
        (404, &json!(5)),
        "streaming RPCs get no route: {body}"
    );
}
