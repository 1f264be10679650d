//! Who is calling: the bearer token from the request headers, resolved to a
//! principal, and what that principal's role allows. The same headers are
//! read for gRPC, gRPC-Web and REST (the gateway forwards them).
pub mod authenticator;
pub mod permission;
pub mod principal;

pub use authenticator::Authenticator;
pub use permission::Permission;
pub use principal::Principal;
