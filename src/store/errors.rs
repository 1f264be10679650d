//! Database errors in domain terms. What a client may retry is told apart
//! from what is a bug: a lost connection, a pool that cannot hand out a
//! connection or a busy SQLite file are `Unavailable`; a serialization
//! failure or a deadlock is `Aborted`; a statement or lock timeout is
//! `DeadlineExceeded`; everything else is `Internal`. Clients that retry on
//! UNAVAILABLE and ABORTED then do so, and no dashboard counts an outage as a
//! server bug.
use sea_orm::sqlx;

use crate::domain::DomainError;

/// How a database error should be answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Retryable {
    /// The database is gone or busy: try again, maybe elsewhere.
    Unavailable,
    /// A concurrent transaction won: try again.
    Aborted,
    /// A statement or lock wait ran out of time.
    TimedOut,
}

impl From<sea_orm::DbErr> for DomainError {
    fn from(error: sea_orm::DbErr) -> Self {
        match classify(&error) {
            Some(Retryable::Unavailable) => {
                tracing::warn!(%error, "database unavailable");
                Self::Unavailable("database unreachable or busy".to_owned())
            }
            Some(Retryable::Aborted) => {
                tracing::info!(%error, "transaction lost a race");
                Self::Aborted("a concurrent change won; retry".to_owned())
            }
            Some(Retryable::TimedOut) => {
                tracing::warn!(%error, "database statement timed out");
                Self::DeadlineExceeded("database statement timed out".to_owned())
            }
            None => Self::Internal(anyhow::Error::new(error).context("database operation failed")),
        }
    }
}

fn classify(error: &sea_orm::DbErr) -> Option<Retryable> {
    use sea_orm::{DbErr, RuntimeErr};
    match error {
        DbErr::ConnectionAcquire(_) => Some(Retryable::Unavailable),
        DbErr::Conn(RuntimeErr::SqlxError(sqlx_error))
        | DbErr::Exec(RuntimeErr::SqlxError(sqlx_error))
        | DbErr::Query(RuntimeErr::SqlxError(sqlx_error)) => classify_sqlx(sqlx_error),
        DbErr::Conn(_) => Some(Retryable::Unavailable),
        _ => None,
    }
}

fn classify_sqlx(error: &sqlx::Error) -> Option<Retryable> {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => Some(Retryable::Unavailable),
        sqlx::Error::Database(database_error) => {
            let mysql_number = database_error
                .try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>()
                .map(|mysql| mysql.number());
            match mysql_number {
                Some(number) => classify_mysql(number),
                None => classify_sqlstate(database_error.code().as_deref().unwrap_or("")),
            }
        }
        _ => None,
    }
}

/// PostgreSQL SQLSTATEs; SQLite reports its result code in the same place.
fn classify_sqlstate(code: &str) -> Option<Retryable> {
    match code {
        // Connection exceptions; admin or crash shutdown; cannot connect now;
        // database dropped under us.
        _ if code.starts_with("08") => Some(Retryable::Unavailable),
        "57P01" | "57P02" | "57P03" | "3D000" => Some(Retryable::Unavailable),
        "40001" | "40P01" => Some(Retryable::Aborted),
        // statement_timeout / lock_timeout.
        "57014" | "55P03" => Some(Retryable::TimedOut),
        // SQLITE_BUSY, SQLITE_LOCKED and their extended codes.
        "5" | "6" | "261" | "262" | "517" => Some(Retryable::Unavailable),
        _ => None,
    }
}

/// MySQL and MariaDB error numbers.
fn classify_mysql(number: u16) -> Option<Retryable> {
    match number {
        // Server gone away, lost connection, shutdown in progress, too many connections.
        2006 | 2013 | 1053 | 1040 => Some(Retryable::Unavailable),
        // Deadlock.
        1213 => Some(Retryable::Aborted),
        // Lock wait timeout; MySQL max_execution_time; MariaDB max_statement_time.
        1205 | 3024 | 1969 => Some(Retryable::TimedOut),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn query_error(error: sqlx::Error) -> sea_orm::DbErr {
        sea_orm::DbErr::Query(sea_orm::RuntimeErr::SqlxError(Arc::new(error)))
    }

    #[test]
    fn lost_connections_and_exhausted_pools_are_unavailable() {
        let reset = std::io::Error::from(std::io::ErrorKind::ConnectionReset);
        for error in [
            query_error(sqlx::Error::Io(reset)),
            query_error(sqlx::Error::PoolTimedOut),
            query_error(sqlx::Error::PoolClosed),
        ] {
            assert!(
                matches!(DomainError::from(error), DomainError::Unavailable(_)),
                "retryable"
            );
        }
    }

    #[test]
    fn sqlstates_and_mysql_numbers_are_classified() {
        assert_eq!(classify_sqlstate("08006"), Some(Retryable::Unavailable));
        assert_eq!(classify_sqlstate("57P01"), Some(Retryable::Unavailable));
        assert_eq!(classify_sqlstate("40001"), Some(Retryable::Aborted));
        assert_eq!(classify_sqlstate("40P01"), Some(Retryable::Aborted));
        assert_eq!(classify_sqlstate("57014"), Some(Retryable::TimedOut));
        assert_eq!(classify_sqlstate("5"), Some(Retryable::Unavailable));
        assert_eq!(
            classify_sqlstate("23505"),
            None,
            "a unique violation is no outage"
        );
        assert_eq!(classify_mysql(2013), Some(Retryable::Unavailable));
        assert_eq!(classify_mysql(1213), Some(Retryable::Aborted));
        assert_eq!(classify_mysql(1205), Some(Retryable::TimedOut));
        assert_eq!(classify_mysql(1062), None);
    }

    #[test]
    fn other_errors_stay_internal_and_hide_their_text() {
        let error = DomainError::from(sea_orm::DbErr::Custom("SELECT secret".to_owned()));

        assert!(matches!(error, DomainError::Internal(_)));
        assert_eq!(error.to_string(), "internal error");
    }
}
