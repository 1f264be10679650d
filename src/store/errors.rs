//! Database errors in domain terms: what a client may retry
//! (`Unavailable`, `Aborted`, `DeadlineExceeded`) is told apart from what is
//! a bug (`Internal`).
use crate::domain::DomainError;

impl From<sea_orm::DbErr> for DomainError {
    fn from(error: sea_orm::DbErr) -> Self {
        match error {
            sea_orm::DbErr::ConnectionAcquire(_) | sea_orm::DbErr::Conn(_) => {
                tracing::warn!(error = %error, "database unavailable");
                Self::Unavailable("database unreachable".to_owned())
            }
            other => Self::Internal(anyhow::Error::new(other).context("database operation failed")),
        }
    }
}
