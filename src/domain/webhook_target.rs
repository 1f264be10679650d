//! Where a webhook may point: an http(s) URL whose host is not on this
//! machine or its private networks. Without this guard a user could make
//! the server POST to `http://169.254.169.254/` or an admin port on
//! localhost (server-side request forgery). Every address a host name
//! resolves to must be public; IPv4 addresses hidden in IPv6 ones (mapped,
//! compatible, NAT64, 6to4) are judged as the IPv4 address they carry.
//! Delivery repeats the check when it connects, since DNS answers change.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::DomainError;

/// Longest URL accepted.
pub const MAX_URL_CHARS: usize = 2048;

/// Resolving host names: the system resolver in the server, a table in
/// unit tests.
pub trait HostResolver: Send + Sync {
    /// The addresses `host` resolves to; an error says why there are none.
    fn resolve(
        &self,
        host: &str,
        port: u16,
    ) -> impl Future<Output = Result<Vec<IpAddr>, String>> + Send;
}

/// Whether private targets are allowed (`--allow-private-webhooks`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TargetPolicy {
    /// Lift the guard: for webhooks to services on the same network.
    pub allow_private: bool,
}

/// A checked webhook URL, normalized (`HTTP://Example.COM` →
/// `http://example.com/`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    /// A URL read back from storage, where only checked ones are written.
    pub fn from_storage(text: String) -> Self {
        Self(text)
    }

    /// The URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Checks `text` as a webhook target under `policy`, naming `field`.
pub async fn check_target(
    field: &str,
    text: &str,
    policy: TargetPolicy,
    resolver: &impl HostResolver,
) -> Result<WebhookUrl, DomainError> {
    let invalid = |description: String| DomainError::invalid(field, description);
    if text.trim().is_empty() {
        return Err(invalid("is required".to_owned()));
    }
    if text.chars().count() > MAX_URL_CHARS {
        return Err(invalid(format!(
            "must be at most {MAX_URL_CHARS} characters"
        )));
    }
    let url = url::Url::parse(text.trim())
        .map_err(|error| invalid(format!("must be an absolute http or https url ({error})")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "must use http or https, not {}",
            url.scheme()
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "must not carry credentials; the signature authenticates deliveries".to_owned(),
        ));
    }
    // Normalizing percent-encodes and punycodes, which can lengthen a URL
    // past what was checked above (and past the column).
    if url.as_str().len() > MAX_URL_CHARS {
        return Err(invalid(format!(
            "must be at most {MAX_URL_CHARS} characters once encoded"
        )));
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let checked = WebhookUrl(url.as_str().to_owned());
    if policy.allow_private {
        return Ok(checked);
    }
    let refuse = |address: IpAddr, reason: &str, via: Option<&str>| {
        invalid(format!(
            "{} a {reason} address; webhooks to this machine or private networks are refused",
            match via {
                Some(host) => format!("host {host} resolves to {address},"),
                None => format!("{address} is"),
            }
        ))
    };
    match url.host() {
        None => Err(invalid("must name a host".to_owned())),
        Some(url::Host::Ipv4(address)) => match forbidden(IpAddr::V4(address)) {
            Some(reason) => Err(refuse(IpAddr::V4(address), reason, None)),
            None => Ok(checked),
        },
        Some(url::Host::Ipv6(address)) => match forbidden(IpAddr::V6(address)) {
            Some(reason) => Err(refuse(IpAddr::V6(address), reason, None)),
            None => Ok(checked),
        },
        Some(url::Host::Domain(host)) => {
            let addresses = resolver
                .resolve(host, port)
                .await
                .map_err(|error| invalid(format!("host {host} does not resolve: {error}")))?;
            if addresses.is_empty() {
                return Err(invalid(format!("host {host} does not resolve")));
            }
            for address in addresses {
                if let Some(reason) = forbidden(address) {
                    return Err(refuse(address, reason, Some(host)));
                }
            }
            Ok(checked)
        }
    }
}

/// Why `address` may not be a webhook target; `None` if it is public.
pub fn forbidden(address: IpAddr) -> Option<&'static str> {
    match address {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(address: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = address.octets();
    match (a, b, c) {
        (0, _, _) => Some("unspecified"),
        (127, _, _) => Some("loopback"),
        (10, _, _) | (192, 168, _) => Some("private"),
        (172, 16..=31, _) => Some("private"),
        // Carrier-grade NAT: private to the provider's network.
        (100, 64..=127, _) => Some("private"),
        (169, 254, _) => Some("link-local"),
        (192, 0, 0) | (198, 18..=19, _) => Some("reserved"),
        (224..=239, _, _) => Some("multicast"),
        (240..=255, _, _) => Some("reserved"),
        _ => None,
    }
}

fn forbidden_v6(address: Ipv6Addr) -> Option<&'static str> {
    if address.is_unspecified() {
        return Some("unspecified");
    }
    if address.is_loopback() {
        return Some("loopback");
    }
    let segments = address.segments();
    let embedded = |high: u16, low: u16| {
        let [a, b] = high.to_be_bytes();
        let [c, d] = low.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    // IPv4-mapped (::ffff:a.b.c.d) and the deprecated IPv4-compatible
    // (::a.b.c.d) forms reach the IPv4 address they carry.
    if segments[..5] == [0; 5] && (segments[5] == 0xffff || segments[5] == 0) {
        return forbidden_v4(embedded(segments[6], segments[7]));
    }
    match segments[0] {
        // NAT64 (64:ff9b::/96) translates to the IPv4 address inside;
        // 64:ff9b:1::/48 is for local use.
        0x0064 if segments[1] == 0xff9b && segments[2..6] == [0; 4] => {
            forbidden_v4(embedded(segments[6], segments[7]))
        }
        0x0064 if segments[1] == 0xff9b && segments[2] == 1 => Some("private"),
        // 6to4 (2002:AABB:CCDD::/48) tunnels to the IPv4 address AABBCCDD.
        0x2002 => forbidden_v4(embedded(segments[1], segments[2])),
        0x0100 if segments[1..4] == [0; 3] => Some("reserved"),
        first if first & 0xfe00 == 0xfc00 => Some("unique-local"),
        first if first & 0xffc0 == 0xfe80 => Some("link-local"),
        first if first & 0xffc0 == 0xfec0 => Some("site-local"),
        first if first & 0xff00 == 0xff00 => Some("multicast"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Resolves every name to one address.
    struct OneAddress(IpAddr);

    impl HostResolver for OneAddress {
        async fn resolve(&self, _host: &str, _port: u16) -> Result<Vec<IpAddr>, String> {
            Ok(vec![self.0])
        }
    }

    fn check(text: &str, resolves_to: &str) -> Result<WebhookUrl, DomainError> {
        let resolver = OneAddress(resolves_to.parse().unwrap());
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(check_target(
            "webhook.url",
            text,
            TargetPolicy::default(),
            &resolver,
        ))
    }

    #[test]
    fn private_and_local_addresses_are_refused() {
        for address in [
            "0.0.0.0",
            "127.0.0.1",
            "127.255.0.9",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "100.64.0.1",
            "169.254.169.254",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "fec0::1",
            "ff02::1",
        ] {
            assert!(
                forbidden(address.parse().unwrap()).is_some(),
                "{address} must be refused"
            );
        }
        for address in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "203.0.113.7",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
            "2002:0808:0808::",
        ] {
            assert_eq!(forbidden(address.parse().unwrap()), None, "{address}");
        }
    }

    #[test]
    fn urls_are_http_without_credentials_and_judged_by_what_they_resolve_to() {
        assert_eq!(
            check("HTTPS://Hooks.Example.COM/x?y=1", "8.8.8.8")
                .unwrap()
                .as_str(),
            "https://hooks.example.com/x?y=1"
        );
        for (url, expected) in [
            ("ftp://example.com/", "http or https"),
            ("/relative", "absolute"),
            ("https://user:pass@example.com/", "credentials"),
            ("https://example.com/", "loopback"),
            ("http://0x7f.1/", "loopback"),
            ("http://2130706433/", "loopback"),
            ("http://[::ffff:7f00:1]/", "loopback"),
            (
                &*format!("https://8.8.8.8/{}", "é".repeat(1000)),
                "once encoded",
            ),
            ("", "required"),
        ] {
            let error = check(url, "127.0.0.1").unwrap_err().to_string();
            assert!(error.contains(expected), "{url}: {error}");
        }
    }
}
