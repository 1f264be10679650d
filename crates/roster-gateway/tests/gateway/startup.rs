//! `Gateway::new` refuses descriptor pools whose HTTP rules cannot work.

use std::path::PathBuf;

use prost_reflect::DescriptorPool;
use roster_gateway::{Gateway, GatewayConfig, GatewayError};

/// Compiles a one-file API whose single RPC carries `rule`.
fn pool_with_rule(name: &str, rule: &str) -> DescriptorPool {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join("startup-protos")
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    let source = format!(
        r#"syntax = "proto3";
package startup.v1;
import "google/api/annotations.proto";
service Things {{
  rpc GetThing(GetThingRequest) returns (Thing) {{
    option (google.api.http) = {{ {rule} }};
  }}
}}
message GetThingRequest {{ string name = 1; Thing thing = 2; repeated string tags = 3; }}
message Thing {{ string name = 1; }}
"#
    );
    std::fs::write(dir.join("things.proto"), source).unwrap();
    let proto_root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/proto");
    let mut compiler = protox::Compiler::new([dir, proto_root]).unwrap();
    compiler.include_imports(true);
    compiler.open_files(["things.proto"]).unwrap();
    DescriptorPool::decode(compiler.encode_file_descriptor_set().as_slice()).unwrap()
}

fn build(name: &str, rule: &str) -> Result<Gateway, GatewayError> {
    Gateway::new(pool_with_rule(name, rule), GatewayConfig::default())
}

#[test]
fn a_valid_rule_builds() {
    let gateway = build(
        "valid",
        r#"get: "/v1/{name=things/*}" additional_bindings { post: "/v1/things" body: "thing" }"#,
    );
    assert!(gateway.is_ok(), "{gateway:?}");
}

#[test]
fn an_unparsable_template_is_rejected() {
    let error = build("unparsable", r#"get: "/v1/{name=things/*""#).unwrap_err();
    assert!(
        matches!(error, GatewayError::InvalidTemplate { .. }),
        "{error}"
    );
    assert!(
        error.to_string().contains("startup.v1.Things.GetThing"),
        "{error}"
    );
}

#[test]
fn a_template_naming_a_missing_field_is_rejected() {
    let error = build("missing-path-field", r#"get: "/v1/things/{id}""#).unwrap_err();
    assert!(
        matches!(error, GatewayError::InvalidBinding { .. }),
        "{error}"
    );
    assert!(error.to_string().contains("has no field \"id\""), "{error}");
}

#[test]
fn a_template_binding_a_repeated_or_message_field_is_rejected() {
    let error = build("repeated-path-field", r#"get: "/v1/things/{tags}""#).unwrap_err();
    assert!(error.to_string().contains("repeated"), "{error}");
    let error = build("message-path-field", r#"get: "/v1/things/{thing}""#).unwrap_err();
    assert!(
        error.to_string().contains("message field cannot be bound"),
        "{error}"
    );
}

#[test]
fn a_body_or_response_body_naming_a_missing_field_is_rejected() {
    let error = build("missing-body", r#"post: "/v1/things" body: "shape""#).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("body \"shape\" is not a top-level field"),
        "{error}"
    );
    let error = build(
        "missing-response-body",
        r#"get: "/v1/things" response_body: "shape""#,
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("response_body \"shape\""),
        "{error}"
    );
}

#[test]
fn an_unknown_uuid_option_is_rejected() {
    let config = GatewayConfig {
        uuid_field_option: Some("startup.v1.nothing".to_owned()),
        ..GatewayConfig::default()
    };
    let error = Gateway::new(
        pool_with_rule("uuid-option", r#"get: "/v1/things""#),
        config,
    )
    .unwrap_err();
    assert!(
        matches!(error, GatewayError::UnknownUuidOption(_)),
        "{error}"
    );
}

#[test]
fn unknown_format_pattern_or_public_options_are_rejected() {
    for config in [
        GatewayConfig {
            format_field_option: Some("startup.v1.nothing".to_owned()),
            ..GatewayConfig::default()
        },
        GatewayConfig {
            pattern_field_option: Some("startup.v1.nothing".to_owned()),
            ..GatewayConfig::default()
        },
        GatewayConfig {
            public_method_option: Some("startup.v1.nothing".to_owned()),
            ..GatewayConfig::default()
        },
    ] {
        let error = Gateway::new(
            pool_with_rule("unknown-option", r#"get: "/v1/things""#),
            config,
        )
        .unwrap_err();
        assert!(
            matches!(&error, GatewayError::UnknownOption { name, .. } if name == "startup.v1.nothing"),
            "{error}"
        );
    }
}

#[test]
fn an_option_of_the_wrong_kind_is_rejected() {
    let config = GatewayConfig {
        // A bool field option, where a string one is expected.
        format_field_option: Some("gatewaytest.v1.id".to_owned()),
        ..crate::support::config()
    };
    let error = Gateway::new(crate::support::library_pool(), config).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("a string extension of google.protobuf.FieldOptions"),
        "{error}"
    );
}
