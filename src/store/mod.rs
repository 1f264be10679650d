//! The database: connection set-up per backend, migrations, and the
//! repositories that turn rows into domain types. The database is the only
//! state, so any number of server processes may share one PostgreSQL.
use std::str::FromStr as _;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use sea_orm::sqlx::sqlite::SqliteConnectOptions;
use sea_orm::{
    AccessMode, ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction,
    DbBackend, DbErr, SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};
use sea_orm_migration::MigratorTrait as _;

pub mod credentials;
pub mod entity;
mod errors;
pub mod migration;
pub mod sqlite_reads;
pub mod system;
pub mod users;

/// Which database a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Embedded, one process.
    Sqlite,
    /// PostgreSQL (and protocol-compatible servers).
    Postgres,
    /// MySQL or MariaDB.
    MySql,
}

impl Backend {
    /// The backend of a sea-orm URL.
    pub fn of_url(url: &str) -> anyhow::Result<Self> {
        let scheme = url.split_once(':').map(|(scheme, _)| scheme).unwrap_or("");
        match scheme {
            "sqlite" => Ok(Self::Sqlite),
            "postgres" | "postgresql" => Ok(Self::Postgres),
            "mysql" | "mariadb" => Ok(Self::MySql),
            _ => anyhow::bail!(
                "unsupported database url scheme {scheme:?}: use sqlite://, postgres:// or mysql://"
            ),
        }
    }

    /// The short name shown by `GetSystemInfo`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Postgres => "postgres",
            Self::MySql => "mysql",
        }
    }
}

/// Connections to the database. SQLite gets one writer connection (SQLite
/// serializes writers anyway; one connection avoids `SQLITE_BUSY` between
/// our own writers) and a pool of read-only connections beside it, which WAL
/// lets run concurrently with the writer. Server databases use one pool.
#[derive(Clone, Debug)]
pub struct Store {
    writer: DatabaseConnection,
    reader: DatabaseConnection,
    backend: Backend,
    /// Kept to open a dedicated session for the migration lock.
    url: String,
    /// In-process readers for the hot path; SQLite files only.
    sqlite_reads: Option<Arc<sqlite_reads::SqliteReads>>,
}

const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);
const SQLITE_READERS: u32 = 4;
const SERVER_POOL_SIZE: u32 = 16;

impl Store {
    /// Connects, and runs pending migrations.
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let store = Self::connect(url).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects without migrating.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let backend = Backend::of_url(url)?;
        let connect = |options: ConnectOptions| async move {
            Database::connect(options)
                .await
                .with_context(|| format!("cannot connect to the {} database", backend.name()))
        };
        match backend {
            Backend::Sqlite => {
                let writer = connect(sqlite_options(url, 1, false)).await?;
                let in_memory = url.contains(":memory:") || url.contains("mode=memory");
                // An in-memory database exists per connection: readers would
                // see another, empty one.
                let (reader, sqlite_reads) = if in_memory {
                    (writer.clone(), None)
                } else {
                    let file = SqliteConnectOptions::from_str(url)
                        .context("invalid sqlite url")?
                        .get_filename()
                        .to_owned();
                    (
                        connect(sqlite_options(url, SQLITE_READERS, true)).await?,
                        Some(Arc::new(sqlite_reads::SqliteReads::new(&file))),
                    )
                };
                Ok(Self {
                    writer,
                    reader,
                    backend,
                    url: url.to_owned(),
                    sqlite_reads,
                })
            }
            Backend::Postgres | Backend::MySql => {
                let mut options = ConnectOptions::new(url);
                options
                    .max_connections(SERVER_POOL_SIZE)
                    .connect_timeout(Duration::from_secs(5))
                    .acquire_timeout(Duration::from_secs(5))
                    .sqlx_logging(false);
                let pool = connect(options).await?;
                Ok(Self {
                    writer: pool.clone(),
                    reader: pool,
                    backend,
                    url: url.to_owned(),
                    sqlite_reads: None,
                })
            }
        }
    }

    /// Applies pending migrations. On server databases a session lock keeps
    /// two processes starting at once from migrating at once.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        let (lock, unlock) = match self.backend {
            Backend::Sqlite => (None, None),
            Backend::Postgres => (
                Some("SELECT pg_advisory_lock(7265637374657201)"),
                Some("SELECT pg_advisory_unlock(7265637374657201)"),
            ),
            Backend::MySql => (
                Some("SELECT GET_LOCK('roster_migrate', 60)"),
                Some("SELECT RELEASE_LOCK('roster_migrate')"),
            ),
        };
        // Session locks need one session: hold one connection throughout.
        let session = if lock.is_some() {
            let mut options = ConnectOptions::new(self.url.as_str());
            options.max_connections(1).sqlx_logging(false);
            Database::connect(options).await?
        } else {
            self.writer.clone()
        };
        if let Some(sql) = lock {
            session
                .execute_unprepared(sql)
                .await
                .context("cannot take the migration lock")?;
        }
        let outcome = migration::Migrator::up(&session, None).await;
        if let Some(sql) = unlock {
            session.execute_unprepared(sql).await.ok();
        }
        outcome.context("database migration failed")
    }

    /// The connection for reads that may be slightly behind a concurrent write.
    pub fn reader(&self) -> &DatabaseConnection {
        &self.reader
    }

    /// The connection for writes and for reads that must see them.
    pub fn writer(&self) -> &DatabaseConnection {
        &self.writer
    }

    /// The in-process SQLite readers, when this is an SQLite file.
    pub fn sqlite_reads(&self) -> Option<&sqlite_reads::SqliteReads> {
        self.sqlite_reads.as_deref()
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Begins a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a transaction that reads then writes cannot
    /// fail half-way on a lock upgrade.
    pub async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        let options = TransactionOptions {
            isolation_level: None,
            access_mode: match self.backend {
                Backend::Sqlite => None,
                Backend::Postgres | Backend::MySql => Some(AccessMode::ReadWrite),
            },
            sqlite_transaction_mode: match self.backend {
                Backend::Sqlite => Some(SqliteTransactionMode::Immediate),
                Backend::Postgres | Backend::MySql => None,
            },
        };
        self.writer.begin_with_options(options).await
    }

    /// Whether the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        let backend: DbBackend = self.reader.get_database_backend();
        let probe = Statement::from_string(backend, "SELECT 1");
        tokio::time::timeout(Duration::from_secs(2), self.reader.query_one_raw(probe))
            .await
            .is_ok_and(|result| result.is_ok())
    }

    /// Closes every connection; pending writes are finished first.
    pub async fn close(self) {
        self.reader.close().await.ok();
        self.writer.close().await.ok();
    }
}

fn sqlite_options(url: &str, connections: u32, read_only: bool) -> ConnectOptions {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(move |sqlite| {
            use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
            sqlite
                .journal_mode(SqliteJournalMode::Wal)
                // WAL with NORMAL never corrupts; a power cut may lose the last commits only.
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
                .foreign_keys(true)
                .read_only(read_only)
        });
    options
}
