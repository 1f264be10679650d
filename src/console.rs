//! The web console (`console/`): its committed bundle `console/dist/`,
//! embedded in the binary so that serving it needs no Node.js. `/` is the
//! page, `/console/…` its assets — paths that cannot collide with the API's
//! (`/v1`, `/api`, `/{package.Service}/…`, `/docs`, probes). The page talks
//! to the API over gRPC-Web on its own origin, so CORS does not apply to it.

use std::sync::LazyLock;

use axum::{Router, routing::get};
use http::{
    HeaderMap, HeaderValue, Response, StatusCode,
    header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH},
};
use sha2::{Digest, Sha256};

/// No inline scripts or styles, nothing from other origins, never framed.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; connect-src 'self'; img-src 'self' data:; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

struct Asset {
    body: &'static [u8],
    content_type: &'static str,
    etag: HeaderValue,
}

impl Asset {
    fn new(body: &'static [u8], content_type: &'static str) -> Self {
        let digest = Sha256::digest(body);
        let hex: String = digest[..12]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        let etag = HeaderValue::from_str(&format!("\"{hex}\"")).expect("hex is a valid header");
        Self {
            body,
            content_type,
            etag,
        }
    }

    /// The file, or 304 when the browser holds this version. Names are fixed
    /// (the build is deterministic), so every load revalidates (`no-cache`)
    /// and a new binary's bundle is picked up at once.
    fn respond(&self, request_headers: &HeaderMap) -> Response<axum::body::Body> {
        let fresh = request_headers
            .get(IF_NONE_MATCH)
            .is_some_and(|held| held.as_bytes() == self.etag.as_bytes());
        let mut response = if fresh {
            let mut response = Response::new(axum::body::Body::empty());
            *response.status_mut() = StatusCode::NOT_MODIFIED;
            response
        } else {
            Response::new(axum::body::Body::from(self.body))
        };
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(self.content_type));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        headers.insert(ETAG, self.etag.clone());
        headers.insert(
            "content-security-policy",
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        );
        headers.insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        // The page holds credentials: tell no other site where it was, and
        // never be framed (clickjacking).
        headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
        headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
        response
    }
}

static INDEX: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        include_bytes!("../console/dist/index.html"),
        "text/html; charset=utf-8",
    )
});
static SCRIPT: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        include_bytes!("../console/dist/app.js"),
        "text/javascript; charset=utf-8",
    )
});
static STYLE: LazyLock<Asset> = LazyLock::new(|| {
    Asset::new(
        include_bytes!("../console/dist/app.css"),
        "text/css; charset=utf-8",
    )
});

/// `/` and the console's assets, merged into the server's routes.
pub fn routes() -> Router {
    Router::new()
        .route(
            "/",
            get(|headers: HeaderMap| async move { INDEX.respond(&headers) }),
        )
        .route(
            "/console/app.js",
            get(|headers: HeaderMap| async move { SCRIPT.respond(&headers) }),
        )
        .route(
            "/console/app.css",
            get(|headers: HeaderMap| async move { STYLE.respond(&headers) }),
        )
}
