//! Whether the server can serve calls, as `/readyz` and gRPC health report
//! it. The bring-up task and the database probe set it; the probes read it
//! without touching the database, so probing cannot load the database.
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

/// Why the server is or is not ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadinessState {
    /// Connecting to the database for the first time.
    Starting,
    /// The database answers with the expected schema.
    Ready,
    /// The database does not answer.
    DatabaseUnreachable,
    /// The database answers but its schema is not the one this binary
    /// expects (say, it was recreated without migrations).
    SchemaMismatch,
    /// Shutdown has begun; nothing new should be routed here.
    ShuttingDown,
}

impl ReadinessState {
    /// What `/readyz` says when not ready.
    pub fn reason(self) -> &'static str {
        match self {
            Self::Starting => "starting: connecting to the database",
            Self::Ready => "ready",
            Self::DatabaseUnreachable => "database unreachable",
            Self::SchemaMismatch => "database schema is not at the version this server expects",
            Self::ShuttingDown => "shutting down",
        }
    }

    fn number(self) -> u8 {
        match self {
            Self::Starting => 0,
            Self::Ready => 1,
            Self::DatabaseUnreachable => 2,
            Self::SchemaMismatch => 3,
            Self::ShuttingDown => 4,
        }
    }

    fn from_number(number: u8) -> Self {
        match number {
            1 => Self::Ready,
            2 => Self::DatabaseUnreachable,
            3 => Self::SchemaMismatch,
            4 => Self::ShuttingDown,
            _ => Self::Starting,
        }
    }
}

/// The shared readiness cell, with a way to wait for a state.
#[derive(Clone, Debug)]
pub struct Readiness {
    state: Arc<AtomicU8>,
    changed: Arc<tokio::sync::Notify>,
}

impl Default for Readiness {
    fn default() -> Self {
        Self::new()
    }
}

impl Readiness {
    /// Starting.
    pub fn new() -> Self {
        Self {
            state: Arc::new(AtomicU8::new(ReadinessState::Starting.number())),
            changed: Arc::new(tokio::sync::Notify::new()),
        }
    }

    /// The current state.
    pub fn get(&self) -> ReadinessState {
        ReadinessState::from_number(self.state.load(Ordering::Acquire))
    }

    /// Moves to `state`; shutting down is final.
    pub fn set(&self, state: ReadinessState) {
        let _ = self
            .state
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |current| {
                (current != ReadinessState::ShuttingDown.number()).then_some(state.number())
            });
        self.changed.notify_waiters();
    }

    /// Resolves once the state is `wanted`.
    pub async fn wait_for(&self, wanted: ReadinessState) {
        loop {
            let changed = self.changed.notified();
            if self.get() == wanted {
                return;
            }
            changed.await;
        }
    }
}
