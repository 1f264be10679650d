//! Logs, metrics and request ids.
mod access_log;
pub mod exposition;
pub mod logging;
pub mod metrics;
#[cfg(target_os = "linux")]
mod process;
pub mod request_id;
