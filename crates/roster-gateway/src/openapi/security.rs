//! How the document states authentication: `components.securitySchemes`
//! from the configuration, and each operation's `security`.

use serde_json::{Map, Value as Json, json};

/// One way callers present a credential, stated in the OpenAPI document
/// (`components.securitySchemes`). Every scheme is an alternative: a caller
/// sends one of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SecurityScheme {
    /// The scheme's key in the document, such as `bearerAuth`.
    pub name: String,
    /// Where the credential goes.
    pub kind: CredentialKind,
    /// Shown to readers of the document.
    pub description: String,
}

/// Where a [`SecurityScheme`]'s credential goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialKind {
    /// `authorization: Bearer <token>` (OpenAPI `http`, scheme `bearer`).
    Bearer,
    /// The token alone as the value of this request header, such as
    /// `x-api-key` (OpenAPI `apiKey` in `header`).
    ApiKeyHeader(http::HeaderName),
}

/// `components.securitySchemes`.
pub(super) fn components(schemes: &[SecurityScheme]) -> Json {
    let mut out = Map::new();
    for scheme in schemes {
        let mut entry = match &scheme.kind {
            CredentialKind::Bearer => json!({ "type": "http", "scheme": "bearer" }),
            CredentialKind::ApiKeyHeader(header) => {
                json!({ "type": "apiKey", "in": "header", "name": header.as_str() })
            }
        };
        if !scheme.description.is_empty() {
            entry["description"] = json!(scheme.description);
        }
        out.insert(scheme.name.clone(), entry);
    }
    Json::Object(out)
}

/// The `security` of an operation that needs a credential: any one scheme.
pub(super) fn required(schemes: &[SecurityScheme]) -> Json {
    Json::Array(
        schemes
            .iter()
            .map(|scheme| json!({ scheme.name.clone(): [] }))
            .collect(),
    )
}

/// The `security` of a public operation: `[]`, not the optional form
/// `[{}, {scheme}, …]`, though credentials sent to it are still checked
/// (and may matter, as an admin's do to a sign-up). openapi-python-client
/// treats any non-empty list as "needs `AuthenticatedClient`", so the
/// optional form would make the anonymous first calls (bootstrap, sign-in)
/// ill-typed there; with `[]` those functions take either client, so a
/// caller with a token still sends it. openapi-fetch (openapi-typescript)
/// ignores `security` and sends what its middleware or headers set.
pub(super) fn public() -> Json {
    json!([])
}
