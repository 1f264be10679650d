//! Webhooks beyond storage: delivering the outbox (`dispatcher`), signing
//! (`signature`), and resolving hosts for the SSRF guard (`resolver`, at
//! creation; the dispatcher checks again when it connects).
pub mod dispatcher;
pub mod resolver;
pub mod signature;
