//! The system resolver, bounded in time so a slow DNS server cannot hold a
//! call past its deadline.
use std::net::IpAddr;
use std::time::Duration;

use crate::domain::webhook_target::HostResolver;

/// How long one resolution may take.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(3);

/// Resolves through the operating system (`getaddrinfo`, on tokio's
/// blocking pool).
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemResolver;

impl HostResolver for SystemResolver {
    async fn resolve(&self, host: &str, port: u16) -> Result<Vec<IpAddr>, String> {
        let lookup = tokio::net::lookup_host((host, port));
        match tokio::time::timeout(RESOLVE_TIMEOUT, lookup).await {
            Err(_) => Err(format!(
                "no answer within {} seconds",
                RESOLVE_TIMEOUT.as_secs()
            )),
            Ok(Err(error)) => Err(error.to_string().to_lowercase()),
            Ok(Ok(addresses)) => Ok(addresses.map(|address| address.ip()).collect()),
        }
    }
}
