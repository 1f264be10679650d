//! Log set-up: `RUST_LOG` filters (default `info`), text or JSON lines.
//!
//! Lines are written by a dedicated thread through a buffer flushed after
//! each batch it drains, not by the
//! thread that logs: with one access line per call, a `write` system call on
//! every request cost the hot path about a fifth of its throughput. Under an
//! overload the writer cannot keep up with, lines are dropped (and counted
//! by tracing-appender) rather than slowing calls down.
use std::io::IsTerminal as _;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// Flushes the log when dropped: the access lines still batched, then
/// every line still queued.
#[must_use = "dropping the guard flushes the log; keep it until the process ends"]
pub struct LogGuard {
    _queued: WorkerGuard,
}

impl Drop for LogGuard {
    fn drop(&mut self) {
        crate::telemetry::access_log::flush();
    }
}

impl std::fmt::Debug for LogGuard {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str("LogGuard")
    }
}

/// Installs the global subscriber. Keep the guard until the process ends:
/// dropping it flushes the lines still buffered.
pub fn init(format: LogFormat) -> LogGuard {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,sea_orm=warn,h2=warn,hyper=warn"));
    let (writer, guard) = tracing_appender::non_blocking(std::io::BufWriter::with_capacity(
        64 * 1024,
        std::io::stderr(),
    ));
    crate::telemetry::access_log::install(writer.clone(), format);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(use_colour(
            std::io::stderr().is_terminal(),
            std::env::var_os("NO_COLOR").as_deref(),
        ));
    let _already_set = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    LogGuard { _queued: guard }
}

/// Colour only for a person at a terminal: escape codes garble files and
/// log collectors, and a non-empty `NO_COLOR` opts out (no-color.org).
fn use_colour(stderr_is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    stderr_is_terminal && no_color.is_none_or(|value| value.is_empty())
}

#[cfg(test)]
mod tests {
    use std::ffi::OsStr;

    use super::*;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        assert!(use_colour(true, None));
        assert!(use_colour(true, Some(OsStr::new(""))));
        assert!(!use_colour(true, Some(OsStr::new("1"))));
        assert!(!use_colour(false, None));
    }
}
