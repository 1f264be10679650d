//! Webhooks beyond storage: resolving their hosts (for the SSRF guard, at
//! creation and again at delivery).
pub mod resolver;
