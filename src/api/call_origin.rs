//! Where a call came from, as the bootstrap rules need to know it: from this
//! machine, and from a browser page of another origin or not. Read from the
//! outermost HTTP request — by the REST gateway's preflight for REST, by the
//! gate for gRPC and gRPC-Web — and carried in the request extensions.
use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use http::{HeaderMap, Uri};

/// See the module documentation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CallOrigin {
    /// The peer is a loopback address, no proxy says it forwarded the
    /// request, and the request names a loopback host. The last rule stops a
    /// DNS-rebinding page (`evil.example` resolving to 127.0.0.1) from
    /// passing for a local client.
    pub on_this_machine: bool,
    /// A browser sent it from a page whose origin is not this server's.
    pub from_foreign_web_page: bool,
    /// The peer's address (IPv4-mapped IPv6 as IPv4), which sign-in
    /// throttling counts by. Proxy headers are not trusted for it.
    pub peer: Option<IpAddr>,
}

impl CallOrigin {
    /// Reads the peer address (axum's `ConnectInfo`) and the headers.
    pub fn of(headers: &HeaderMap, uri: &Uri, extensions: &http::Extensions) -> Self {
        let host = headers
            .get(http::header::HOST)
            .and_then(|value| value.to_str().ok())
            .or_else(|| uri.authority().map(|authority| authority.as_str()))
            .unwrap_or("");
        let peer = extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip().to_canonical());
        let peer_is_loopback = peer.is_some_and(is_loopback);
        let forwarded = ["forwarded", "x-forwarded-for", "x-real-ip"]
            .iter()
            .any(|name| headers.contains_key(*name));
        Self {
            on_this_machine: peer_is_loopback && !forwarded && is_loopback_host(host),
            from_foreign_web_page: is_foreign_web_page(headers, host),
            peer,
        }
    }
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// `localhost`, `*.localhost`, a loopback IP literal; any port.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(bracketed) => bracketed.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _port)| name),
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name.parse::<IpAddr>().is_ok_and(is_loopback)
}

/// Browsers send `Origin` on every cross-origin request and on every POST,
/// and `Sec-Fetch-Site` when they support Fetch Metadata. A request whose
/// origin is not `host` came from another site's page.
fn is_foreign_web_page(headers: &HeaderMap, host: &str) -> bool {
    let fetch_site_foreign = headers
        .get("sec-fetch-site")
        .is_some_and(|site| site != "same-origin" && site != "none");
    let origin_foreign = headers.get(http::header::ORIGIN).is_some_and(|origin| {
        let origin = origin.to_str().unwrap_or("null");
        let authority = origin
            .split_once("://")
            .map_or("", |(_scheme, authority)| authority);
        authority.is_empty() || !authority.eq_ignore_ascii_case(host)
    });
    fetch_site_foreign || origin_foreign
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin_of(peer: &str, pairs: &[(&'static str, &'static str)]) -> CallOrigin {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, value.parse().unwrap());
        }
        let mut extensions = http::Extensions::new();
        extensions.insert(ConnectInfo(peer.parse::<SocketAddr>().unwrap()));
        CallOrigin::of(&headers, &Uri::from_static("/v1/system/init"), &extensions)
    }

    #[test]
    fn local_clients_are_on_this_machine() {
        for host in [
            "localhost:8080",
            "127.0.0.1:8080",
            "[::1]:8080",
            "app.localhost",
        ] {
            let origin = origin_of("127.0.0.1:5000", &[("host", host)]);
            assert!(origin.on_this_machine, "{host}");
            assert!(!origin.from_foreign_web_page, "{host}");
        }
        assert!(origin_of("[::ffff:127.0.0.1]:5000", &[("host", "localhost")]).on_this_machine);
    }

    #[test]
    fn remote_peers_proxies_and_rebinding_are_not_local() {
        assert!(!origin_of("10.1.2.3:5000", &[("host", "localhost:8080")]).on_this_machine);
        let proxied = [
            ("host", "localhost:8080"),
            ("x-forwarded-for", "203.0.113.9"),
        ];
        assert!(!origin_of("127.0.0.1:5000", &proxied).on_this_machine);
        let rebound = [
            ("host", "evil.example:8080"),
            ("origin", "http://evil.example:8080"),
        ];
        let origin = origin_of("127.0.0.1:5000", &rebound);
        assert!(!origin.on_this_machine);
        assert!(!origin.from_foreign_web_page, "same-origin, yet not local");
    }

    #[test]
    fn pages_of_other_origins_are_foreign() {
        let cases: [&[(&'static str, &'static str)]; 4] = [
            &[
                ("host", "localhost:8080"),
                ("origin", "https://evil.example"),
            ],
            &[("host", "localhost:8080"), ("origin", "null")],
            &[
                ("host", "localhost:8080"),
                ("origin", "http://localhost:3000"),
            ],
            &[("host", "localhost:8080"), ("sec-fetch-site", "cross-site")],
        ];
        for headers in cases {
            assert!(
                origin_of("127.0.0.1:1", headers).from_foreign_web_page,
                "{headers:?}"
            );
        }
        let own = [
            ("host", "localhost:8080"),
            ("origin", "http://localhost:8080"),
            ("sec-fetch-site", "same-origin"),
        ];
        assert!(!origin_of("127.0.0.1:1", &own).from_foreign_web_page);
    }
}
