//! The API reference page: a small HTML page, its script and its style,
//! embedded in the binary, which render the OpenAPI document in the browser
//! and send requests from it. Nothing is fetched from elsewhere, and the
//! content security policy allows nothing else: no inline script or style,
//! no other origin.
//!
//! The script and style are served under names that carry a hash of their
//! content, so they can be cached for good while the page itself (which
//! names them) is revalidated on every load.

use bytes::Bytes;
use http::header::{CACHE_CONTROL, CONTENT_TYPE};
use http::{HeaderValue, Method, StatusCode};

use crate::errors::RestError;
use crate::transcode::read_only_body;

const PAGE: &str = include_str!("page.html");
const SCRIPT: &str = include_str!("page.js");
const STYLE: &str = include_str!("page.css");

/// `connect-src 'self'`: "try it" calls this server and nothing else.
const PAGE_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
frame-ancestors 'none'";

type Response = http::Response<axum::body::Body>;

pub(crate) struct DocsPage {
    path: String,
    page: Bytes,
    script_path: String,
    style_path: String,
}

impl DocsPage {
    pub(crate) fn new(path: &str, openapi_path: &str, title: &str) -> DocsPage {
        let base = path.trim_end_matches('/');
        let script_path = format!("{base}/page-{}.js", content_hash(SCRIPT));
        let style_path = format!("{base}/page-{}.css", content_hash(STYLE));
        let title = if title.is_empty() { "API" } else { title };
        let page = PAGE
            .replace("{{TITLE}}", &escape_html(title))
            .replace("{{OPENAPI_PATH}}", &escape_html(openapi_path))
            .replace("{{SCRIPT_PATH}}", &escape_html(&script_path))
            .replace("{{STYLE_PATH}}", &escape_html(&style_path));
        DocsPage {
            path: path.to_owned(),
            page: Bytes::from(page),
            script_path,
            style_path,
        }
    }

    /// The answer for `path` if it is the page or one of its files.
    pub(crate) fn response(
        &self,
        method: &Method,
        path: &str,
    ) -> Option<Result<Response, RestError>> {
        let (body, content_type, cache) = if path == self.path {
            (self.page.clone(), "text/html; charset=utf-8", "no-cache")
        } else if path == self.script_path {
            (
                Bytes::from_static(SCRIPT.as_bytes()),
                "text/javascript; charset=utf-8",
                IMMUTABLE,
            )
        } else if path == self.style_path {
            (
                Bytes::from_static(STYLE.as_bytes()),
                "text/css; charset=utf-8",
                IMMUTABLE,
            )
        } else {
            return None;
        };
        let body = match read_only_body(method, body) {
            Ok(body) => body,
            Err(error) => return Some(Err(error)),
        };
        let mut response = http::Response::new(axum::body::Body::from(body));
        *response.status_mut() = StatusCode::OK;
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
        headers.insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        if path == self.path {
            headers.insert(
                "content-security-policy",
                HeaderValue::from_static(PAGE_POLICY),
            );
            // The page holds a credential field: never tell other sites
            // where it was, and never be framed (clickjacking).
            headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
            headers.insert("x-frame-options", HeaderValue::from_static("DENY"));
        }
        Some(Ok(response))
    }
}

/// Files named by their content's hash never change under that name.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// FNV-1a, 64 bits, as 16 hex digits: stable across builds and platforms
/// (unlike `DefaultHasher`), and enough to tell versions of a file apart.
fn content_hash(text: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{hash:016x}")
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_names_its_files_and_the_document() {
        let docs = DocsPage::new("/docs", "/openapi.json", "A <b> API");
        let page = std::str::from_utf8(&docs.page).unwrap();
        assert!(page.contains(r#"content="/openapi.json""#), "{page}");
        assert!(page.contains(&format!(r#"src="{}""#, docs.script_path)));
        assert!(page.contains(&format!(r#"href="{}""#, docs.style_path)));
        assert!(page.contains("A &lt;b&gt; API"));
        assert!(!page.contains("{{"), "every placeholder is filled");
        assert!(!page.contains("<script>"), "no inline script");
        assert!(!page.contains("style="), "no inline style");
    }

    #[test]
    fn file_names_change_with_their_content() {
        assert_eq!(content_hash(""), "cbf29ce484222325");
        assert_ne!(content_hash("a"), content_hash("b"));
        assert_eq!(content_hash(SCRIPT).len(), 16);
    }
}
