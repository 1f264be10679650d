//! The process's open-files limit: every connection is a file descriptor.

/// Raises the soft open-files limit to the hard limit and returns the
/// resulting soft limit, `None` when unlimited or unknown. Distributions
/// default the soft limit to 1024, which caps connections far below what
/// the hard limit allows.
#[cfg(unix)]
pub(super) fn raise_open_files_limit() -> Option<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

    let limit = getrlimit(Resource::Nofile);
    if limit.current == limit.maximum {
        return limit.current;
    }
    let raised = Rlimit {
        current: limit.maximum,
        maximum: limit.maximum,
    };
    match setrlimit(Resource::Nofile, raised) {
        Ok(()) => limit.maximum,
        Err(error) => {
            // macOS refuses an unlimited soft limit; the old one still holds.
            tracing::debug!(%error, "cannot raise the open-files limit");
            limit.current
        }
    }
}

#[cfg(not(unix))]
pub(super) fn raise_open_files_limit() -> Option<u64> {
    None
}
