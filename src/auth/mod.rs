//! Who is calling: the bearer token from the request headers, resolved to a
//! principal by the domain's rules. The same headers are read for gRPC,
//! gRPC-Web and REST (the gateway forwards them); `api::gate` runs this for
//! every call before its body is read.
pub mod authenticator;

pub use authenticator::Authenticator;
