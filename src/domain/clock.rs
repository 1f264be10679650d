//! Time as the service stores it: milliseconds since the Unix epoch, UTC.
//! Integers compare, index and paginate the same on every database backend.
use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EpochMillis(pub i64);

impl EpochMillis {
    /// The current time.
    pub fn now() -> Self {
        let elapsed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Self(i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
    }

    /// This instant moved back by `millis`.
    pub fn minus_millis(self, millis: i64) -> Self {
        Self(self.0.saturating_sub(millis))
    }
}
