//! The one error type of the domain. `api::status` maps it to a gRPC status
//! by a full match, and the REST gateway maps that status to HTTP by one
//! table: there is no second error table to drift.
use std::time::Duration;

/// A request field that failed validation, reported to clients as a
/// `google.rpc.BadRequest.FieldViolation`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldViolation {
    /// The field's path in the request, in proto names (`user.email`).
    pub field: String,
    /// What is wrong with it, lowercase.
    pub description: String,
}

/// Every field violation of one request (never empty), so a client fixes
/// them all in one round trip.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldViolations(Vec<FieldViolation>);

impl FieldViolations {
    /// The violations; at least one.
    pub fn all(&self) -> &[FieldViolation] {
        &self.0
    }
}

impl std::fmt::Display for FieldViolations {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (index, violation) in self.0.iter().enumerate() {
            if index > 0 {
                formatter.write_str("; ")?;
            }
            write!(formatter, "{}: {}", violation.field, violation.description)?;
        }
        Ok(())
    }
}

/// Collects the violations of a request while every field is checked.
#[derive(Debug, Default)]
pub struct Validation(Vec<FieldViolation>);

impl Validation {
    /// Records the error of `result` if it is a field error and returns its
    /// value; any other error is kept as a violation of `field` too.
    pub fn check<T>(&mut self, result: Result<T, DomainError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(DomainError::InvalidArgument(violations)) => {
                self.0.extend(violations.0);
                None
            }
            Err(other) => {
                self.0.push(FieldViolation {
                    field: String::new(),
                    description: other.to_string(),
                });
                None
            }
        }
    }

    /// Records one violation.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        self.0.push(FieldViolation {
            field: field.into(),
            description: description.into(),
        });
    }

    /// Whether nothing was recorded.
    pub fn is_clean(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok` when nothing was recorded, else all violations in one error.
    pub fn finish(self) -> Result<(), DomainError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DomainError::InvalidArgument(FieldViolations(self.0)))
        }
    }
}

/// Why a domain operation did not happen. Messages are lowercase, specific,
/// and never contain secrets, SQL or internals.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    /// Request fields are malformed or out of range: all of them.
    #[error("{0}")]
    InvalidArgument(FieldViolations),
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
    /// Too many attempts: try again after `retry_after`.
    #[error("{message}")]
    ResourceExhausted {
        /// What was refused, lowercase.
        message: String,
        /// When trying again may succeed.
        retry_after: Duration,
    },
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
        Self::InvalidArgument(FieldViolations(vec![FieldViolation {
            field: field.into(),
            description: description.into(),
        }]))
    }

    /// An `Internal` error from any cause.
    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Self::Internal(cause.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_validation_reports_every_violation_in_order() {
        let mut validation = Validation::default();
        validation.check::<()>(Err(DomainError::invalid("user.email", "must be set")));
        validation.add("user.username", "too long");

        let error = validation.finish().unwrap_err();

        assert_eq!(
            error.to_string(),
            "user.email: must be set; user.username: too long"
        );
    }
}
