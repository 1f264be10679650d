//! The one error type of the domain. `api::status` maps it to a gRPC status
//! by a full match, and the REST gateway maps that status to HTTP by one
//! table: there is no second error table to drift.

/// A request field that failed validation, reported to clients as a
/// `google.rpc.BadRequest.FieldViolation`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldViolation {
    /// The field's path in the request, in proto names (`user.email`).
    pub field: String,
    /// What is wrong with it, lowercase.
    pub description: String,
}

/// Why a domain operation did not happen. Messages are lowercase, specific,
/// and never contain secrets, SQL or internals.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// A request field is malformed or out of range.
    #[error("{}: {}", .0.field, .0.description)]
    InvalidArgument(FieldViolation),
    /// No credential, or one that is unknown, expired, revoked or whose user
    /// cannot sign in. One message for all, so callers learn nothing more.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// The caller is known but may not do this.
    #[error("{0}")]
    PermissionDenied(String),
    /// The addressed record does not exist (or is invisible to the caller).
    #[error("{0}")]
    NotFound(String),
    /// A unique value is already taken.
    #[error("{0}")]
    AlreadyExists(String),
    /// The system is not in a state that allows this.
    #[error("{0}")]
    FailedPrecondition(String),
    /// A concurrent change won (etag mismatch).
    #[error("{0}")]
    Aborted(String),
    /// The database is unreachable or overloaded; retrying may help.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// The call's deadline, or a database statement's, ran out.
    #[error("deadline exceeded: {0}")]
    DeadlineExceeded(String),
    /// A bug or an unexpected storage failure. The cause is logged, never sent.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

impl DomainError {
    /// An `InvalidArgument` for one field.
    pub fn invalid(field: impl Into<String>, description: impl Into<String>) -> Self {
        Self::InvalidArgument(FieldViolation {
            field: field.into(),
            description: description.into(),
        })
    }
}
