//! Deny by default: every method of the descriptor set that its proto does
//! not declare public answers `UNAUTHENTICATED` without credentials, over
//! gRPC, gRPC-Web and REST. An RPC added later is covered here without
//! anyone remembering to add it.
use futures_util::StreamExt as _;
use prost_reflect::{DescriptorPool, DynamicMessage, MethodDescriptor, Value};
use roster::api::methods::MethodTable;

use crate::helpers::{Backend, TestApp};

fn our_methods() -> Vec<MethodDescriptor> {
    let pool = DescriptorPool::decode(roster::proto::FILE_DESCRIPTOR_SET).unwrap();
    pool.services()
        .filter(|service| service.package_name() == "goodmem.v1")
        .flat_map(|service| service.methods().collect::<Vec<_>>())
        .collect()
}

fn method_table() -> MethodTable {
    roster::server::method_table().unwrap()
}

/// An empty message in a gRPC frame.
const EMPTY_FRAME: [u8; 5] = [0, 0, 0, 0, 0];

async fn grpc_status(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    content_type: &str,
) -> String {
    let response = client
        .post(format!("{}{path}", app.base_url()))
        .header("content-type", content_type)
        .header("te", "trailers")
        .body(EMPTY_FRAME.to_vec())
        .send()
        .await
        .unwrap();
    response
        .headers()
        .get("grpc-status")
        .map(|status| status.to_str().unwrap().to_owned())
        .unwrap_or_else(|| panic!("{path}: no trailers-only grpc-status: {response:?}"))
}

#[tokio::test]
async fn every_method_not_declared_public_refuses_anonymous_grpc_and_grpc_web_calls() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let http2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let http1 = reqwest::Client::builder().http1_only().build().unwrap();
    let table = method_table();
    let mut checked = 0;

    for method in table.iter().filter(|method| !method.public) {
        let over_grpc = grpc_status(&app, &http2, method.path, "application/grpc").await;
        let over_grpc_web =
            grpc_status(&app, &http1, method.path, "application/grpc-web+proto").await;

        assert_eq!(over_grpc, "16", "{} over gRPC", method.path);
        assert_eq!(over_grpc_web, "16", "{} over gRPC-Web", method.path);
        checked += 1;
    }

    assert!(checked >= 1, "the table has protected methods");
    assert!(
        table.iter().filter(|method| method.public).all(|method| {
            method.path.starts_with("/grpc.")
                || method.path == "/goodmem.v1.UserService/InitializeSystem"
                || method.path == "/goodmem.v1.SystemService/GetSystemInfo"
                || method.path == "/goodmem.v1.UserService/CreateUser"
                || method.path == "/goodmem.v1.AuthService/SignIn"
        }),
        "only the documented methods are public"
    );
}

/// Every `google.api.http` binding of a method: (verb, path with each
/// variable filled by a UUID, which every path parameter accepts).
fn rest_bindings(method: &MethodDescriptor) -> Vec<(reqwest::Method, String)> {
    let pool = method.parent_pool();
    let Some(http) = pool.get_extension_by_name("google.api.http") else {
        return Vec::new();
    };
    let options = method.options();
    if !options.has_extension(&http) {
        return Vec::new();
    }
    let Value::Message(rule) = options.get_extension(&http).into_owned() else {
        return Vec::new();
    };
    let mut bindings = Vec::new();
    collect_binding(&rule, &mut bindings);
    if let Some(Value::List(more)) = rule
        .get_field_by_name("additional_bindings")
        .map(|v| v.into_owned())
    {
        for binding in more {
            if let Value::Message(binding) = binding {
                collect_binding(&binding, &mut bindings);
            }
        }
    }
    bindings
}

fn collect_binding(rule: &DynamicMessage, out: &mut Vec<(reqwest::Method, String)>) {
    for (field, verb) in [
        ("get", reqwest::Method::GET),
        ("post", reqwest::Method::POST),
        ("put", reqwest::Method::PUT),
        ("patch", reqwest::Method::PATCH),
        ("delete", reqwest::Method::DELETE),
    ] {
        if let Some(Value::String(template)) = rule.get_field_by_name(field).map(|v| v.into_owned())
            && !template.is_empty()
        {
            out.push((verb, fill_template(&template)));
        }
    }
}

fn fill_template(template: &str) -> String {
    const ID: &str = "0190c7d6-4c1e-7b3a-9f00-000000000001";
    let mut filled = String::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        filled.push_str(&rest[..open]);
        let close = rest[open..].find('}').unwrap() + open;
        let variable = &rest[open + 1..close];
        match variable.split_once('=') {
            Some((_, pattern)) => filled.push_str(&pattern.replace("**", ID).replace('*', ID)),
            None => filled.push_str(ID),
        }
        rest = &rest[close + 1..];
    }
    filled.push_str(rest);
    filled
}

#[test]
fn templates_are_filled_with_ids() {
    assert_eq!(
        fill_template("/api/v1/{name=users/*}:getStats"),
        "/api/v1/users/0190c7d6-4c1e-7b3a-9f00-000000000001:getStats"
    );
    assert_eq!(
        fill_template("/v1/users/{user_id}"),
        "/v1/users/0190c7d6-4c1e-7b3a-9f00-000000000001"
    );
}

#[tokio::test]
async fn every_rest_binding_of_a_protected_method_is_401_without_credentials() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let table = method_table();
    let mut checked = 0;

    for method in our_methods() {
        let path = format!("/{}/{}", method.parent_service().full_name(), method.name());
        let public = table.get(&path).unwrap().public;
        for (verb, rest_path) in rest_bindings(&method) {
            let mut request = app
                .http()
                .request(verb.clone(), format!("{}{rest_path}", app.base_url()));
            if verb != reqwest::Method::GET && verb != reqwest::Method::DELETE {
                request = request
                    .header("content-type", "application/json")
                    .body("{}");
            }
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap();

            if public {
                assert_ne!(status, 401, "{verb} {rest_path} is public: {body}");
            } else {
                assert_eq!(status, 401, "{verb} {rest_path}: {body}");
                assert_eq!(body["code"], 16, "{verb} {rest_path}: {body}");
                checked += 1;
            }
        }
    }

    assert!(checked >= 5, "every GetUser binding at least: {checked}");
}

/// The gate answers from the headers: an anonymous client cannot make the
/// server wait for (and buffer) a body it will refuse.
#[tokio::test]
async fn anonymous_calls_are_refused_before_their_body_arrives() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let http2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    let http1 = reqwest::Client::builder().http1_only().build().unwrap();

    for (client, content_type) in [
        (&http2, "application/grpc"),
        (&http1, "application/grpc-web+proto"),
    ] {
        // A frame header announcing 1 MiB, then nothing, ever.
        let never_ending = futures_util::stream::once(async {
            Ok::<_, std::io::Error>(bytes::Bytes::from_static(&[0, 0, 16, 0, 0]))
        })
        .chain(futures_util::stream::pending());
        let response = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            client
                .post(format!("{}/goodmem.v1.UserService/GetUser", app.base_url()))
                .header("content-type", content_type)
                .header("content-length", (5 + 1024 * 1024).to_string())
                .body(reqwest::Body::wrap_stream(never_ending))
                .send(),
        )
        .await
        .unwrap_or_else(|_| panic!("{content_type}: no answer while the body was pending"))
        .unwrap();

        assert_eq!(response.headers()["grpc-status"], "16", "{content_type}");
    }
}
