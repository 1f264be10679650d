//! The table of every RPC this server answers, built once at start-up from
//! the descriptor sets: its service and method names, its streaming kind and
//! whether it is public. The authentication layer denies every method the
//! table does not mark public, metrics label calls from it (so a client
//! cannot grow the label set with made-up paths), and shutdown ends the
//! streaming ones.
use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, OnceLock};

use anyhow::Context as _;
use prost_reflect::{DescriptorPool, MethodDescriptor, Value};

/// Full name of the method option that declares a method public.
const PUBLIC_OPTION: &str = "goodmem.v1.public";

/// How requests and responses flow, as `grpc_type` labels name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RpcKind {
    /// One request, one response.
    Unary,
    /// One request, a stream of responses.
    ServerStreaming,
    /// A stream of requests, one response.
    ClientStreaming,
    /// Streams both ways.
    BidiStreaming,
}

impl RpcKind {
    /// The `grpc_type` label value used by go-grpc-prometheus dashboards.
    pub fn label(self) -> &'static str {
        match self {
            Self::Unary => "unary",
            Self::ServerStreaming => "server_stream",
            Self::ClientStreaming => "client_stream",
            Self::BidiStreaming => "bidi_stream",
        }
    }

    pub(crate) fn of(method: &MethodDescriptor) -> Self {
        match (method.is_client_streaming(), method.is_server_streaming()) {
            (false, false) => Self::Unary,
            (false, true) => Self::ServerStreaming,
            (true, false) => Self::ClientStreaming,
            (true, true) => Self::BidiStreaming,
        }
    }

    /// Whether responses stream (and so can outlive a drain).
    pub fn streams_responses(self) -> bool {
        matches!(self, Self::ServerStreaming | Self::BidiStreaming)
    }
}

/// One RPC. The names are interned `'static` strings, so labelling a call
/// with them allocates nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MethodInfo {
    /// `/package.Service/Method`.
    pub path: &'static str,
    /// `package.Service`.
    pub service: &'static str,
    /// `Method`.
    pub method: &'static str,
    /// Streaming kind.
    pub kind: RpcKind,
    /// Answered without credentials.
    pub public: bool,
}

/// Every RPC of the server, by request path.
#[derive(Debug, Default)]
pub struct MethodTable {
    by_path: HashMap<&'static str, MethodInfo>,
}

impl MethodTable {
    /// Reads every service of the encoded `FileDescriptorSet`s. A method is
    /// public when its options set `(goodmem.v1.public)`, or when its whole
    /// service is listed in `public_services` (infrastructure services such
    /// as health and reflection, whose protos are not ours to annotate).
    pub fn from_descriptor_sets(
        encoded_sets: &[&[u8]],
        public_services: &[&str],
    ) -> anyhow::Result<Self> {
        let mut table = Self::default();
        for encoded in encoded_sets {
            let pool = DescriptorPool::decode(*encoded).context("cannot read a descriptor set")?;
            let public_option = pool.get_extension_by_name(PUBLIC_OPTION);
            for service in pool.services() {
                let whole_service_public = public_services.contains(&service.full_name());
                for method in service.methods() {
                    let declared_public = public_option.as_ref().is_some_and(|option| {
                        let options = method.options();
                        options.has_extension(option)
                            && matches!(*options.get_extension(option), Value::Bool(true))
                    });
                    let path = format!("/{}/{}", service.full_name(), method.name());
                    let info = MethodInfo {
                        path: intern(&path),
                        service: intern(service.full_name()),
                        method: intern(method.name()),
                        kind: RpcKind::of(&method),
                        public: whole_service_public || declared_public,
                    };
                    table.by_path.insert(info.path, info);
                }
            }
        }
        Ok(table)
    }

    /// The method a request path names, if the server has it.
    pub fn get(&self, path: &str) -> Option<&MethodInfo> {
        self.by_path.get(path)
    }

    /// Every service (`package.Service`) with a method in the table, once.
    pub fn services(&self) -> Vec<&'static str> {
        let mut services: Vec<&'static str> =
            self.by_path.values().map(|method| method.service).collect();
        services.sort_unstable();
        services.dedup();
        services
    }

    /// Every method, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &MethodInfo> {
        self.by_path.values()
    }
}

/// The one `'static` copy of a name. Names come from compiled-in descriptor
/// sets only, so the set is bounded however many servers a process builds.
fn intern(name: &str) -> &'static str {
    static NAMES: OnceLock<Mutex<HashSet<&'static str>>> = OnceLock::new();
    let mut names = NAMES
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(existing) = names.get(name) {
        return existing;
    }
    let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(leaked);
    leaked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> MethodTable {
        MethodTable::from_descriptor_sets(
            &[
                crate::proto::FILE_DESCRIPTOR_SET,
                tonic_health::pb::FILE_DESCRIPTOR_SET,
            ],
            &["grpc.health.v1.Health"],
        )
        .unwrap()
    }

    #[test]
    fn only_declared_methods_are_public() {
        let table = table();
        let initialize = table
            .get("/goodmem.v1.UserService/InitializeSystem")
            .unwrap();
        let get_user = table.get("/goodmem.v1.UserService/GetUser").unwrap();
        assert!(initialize.public);
        assert!(!get_user.public);
        assert_eq!(
            (get_user.service, get_user.method, get_user.kind),
            ("goodmem.v1.UserService", "GetUser", RpcKind::Unary)
        );
        assert!(table.get("/goodmem.v1.UserService/Nope").is_none());
    }

    #[test]
    fn infrastructure_services_are_public_with_their_stream_kinds() {
        let table = table();
        let watch = table.get("/grpc.health.v1.Health/Watch").unwrap();
        assert!(watch.public);
        assert_eq!(watch.kind, RpcKind::ServerStreaming);
        assert!(watch.kind.streams_responses());
    }

    #[test]
    fn names_are_interned_once() {
        assert!(std::ptr::eq(intern("x.Y"), intern("x.Y")));
    }
}
