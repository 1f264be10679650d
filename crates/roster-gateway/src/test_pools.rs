//! Descriptor pools for unit tests, compiled with protox from the crate's
//! own test protos (`tests/proto`): the gateway is tested without any
//! project's API.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use prost_reflect::DescriptorPool;

use crate::json::JsonCodec;

fn compile(files: &[&str]) -> DescriptorPool {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut compiler =
        protox::Compiler::new([crate_dir.join("tests/proto")]).expect("proto include paths exist");
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(files).expect("test protos compile");
    DescriptorPool::decode(compiler.encode_file_descriptor_set().as_slice())
        .expect("descriptor set decodes")
}

/// The test-only accounts API, plus the google.rpc error details.
pub(crate) fn accounts_pool() -> DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        compile(&[
            "gatewaytest/v1/accounts.proto",
            "google/rpc/error_details.proto",
        ])
    })
    .clone()
}

/// The test-only `gatewaytest.v1` API.
pub(crate) fn library_pool() -> DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        compile(&[
            "gatewaytest/v1/library.proto",
            "google/rpc/error_details.proto",
        ])
    })
    .clone()
}

pub(crate) fn accounts_codec() -> Arc<JsonCodec> {
    static CODEC: OnceLock<Arc<JsonCodec>> = OnceLock::new();
    Arc::clone(CODEC.get_or_init(|| {
        Arc::new(JsonCodec::new(&accounts_pool(), Some("gatewaytest.v1.id")).expect("codec builds"))
    }))
}

pub(crate) fn library_codec() -> Arc<JsonCodec> {
    static CODEC: OnceLock<Arc<JsonCodec>> = OnceLock::new();
    Arc::clone(CODEC.get_or_init(|| {
        Arc::new(JsonCodec::new(&library_pool(), Some("gatewaytest.v1.id")).expect("codec builds"))
    }))
}
