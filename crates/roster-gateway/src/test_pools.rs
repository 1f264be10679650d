//! Descriptor pools for unit tests, compiled from the real protos with protox.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use prost_reflect::DescriptorPool;

use crate::json::JsonCodec;

fn compile(files: &[&str]) -> DescriptorPool {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let includes = [crate_dir.join("tests/proto"), crate_dir.join("../../proto")];
    let mut compiler = protox::Compiler::new(includes).expect("proto include paths exist");
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(files).expect("test protos compile");
    DescriptorPool::decode(compiler.encode_file_descriptor_set().as_slice())
        .expect("descriptor set decodes")
}

/// Every file of the goodmem.v1 API, plus the google.rpc error details.
pub(crate) fn goodmem_pool() -> DescriptorPool {
    static POOL: OnceLock<DescriptorPool> = OnceLock::new();
    POOL.get_or_init(|| {
        let api_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto/goodmem/v1");
        let mut files: Vec<String> = std::fs::read_dir(api_dir)
            .expect("goodmem protos exist")
            .filter_map(|entry| entry.ok())
            .map(|entry| entry.file_name().to_string_lossy().into_owned())
            .filter(|name| name.ends_with(".proto"))
            .map(|name| format!("goodmem/v1/{name}"))
            .collect();
        files.sort();
        files.push("google/rpc/error_details.proto".to_owned());
        let files: Vec<&str> = files.iter().map(String::as_str).collect();
        compile(&files)
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

pub(crate) fn goodmem_codec() -> Arc<JsonCodec> {
    static CODEC: OnceLock<Arc<JsonCodec>> = OnceLock::new();
    Arc::clone(CODEC.get_or_init(|| {
        Arc::new(JsonCodec::new(&goodmem_pool(), Some("goodmem.v1.uuid")).expect("codec builds"))
    }))
}

pub(crate) fn library_codec() -> Arc<JsonCodec> {
    static CODEC: OnceLock<Arc<JsonCodec>> = OnceLock::new();
    Arc::clone(CODEC.get_or_init(|| {
        Arc::new(JsonCodec::new(&library_pool(), Some("gatewaytest.v1.id")).expect("codec builds"))
    }))
}
