//! Code generated from `proto/` at build time (see `build.rs`), and the
//! descriptor set that reflection and the REST gateway read at start-up.
#![allow(clippy::all, clippy::pedantic, missing_docs, unreachable_pub)]

pub mod goodmem {
    pub mod v1 {
        tonic::include_proto!("goodmem.v1");
    }
}

pub mod google {
    pub mod rpc {
        tonic::include_proto!("google.rpc");
    }
}

/// The serialized `FileDescriptorSet` of every API file and its imports,
/// with source comments and extension options kept.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/goodmem_descriptor.bin"));
