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

pub use crate::telemetry::metrics::{PoolStats, ReadCacheStats};

pub mod call_view;
pub mod credentials;
pub mod entity;
mod errors;
pub mod fresh_cache;
mod instance_settings;
mod keyset;
mod memos;
pub mod migration;
pub mod notifications;
pub mod outbox;
mod sessions;
pub mod sqlite_reads;
mod stats;
pub mod system;
mod tokens;
mod user_catalog;
mod user_filter_sql;
mod user_registry;
mod user_settings;
pub mod users;
mod wal_index;
mod webhooks;

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
    /// Credential uses this process wrote lately (see `record_use`).
    recent_uses: Arc<credentials::RecentUses>,
    /// Woken when this process queues webhook deliveries, so its
    /// dispatcher need not wait for its next poll.
    outbox_signal: Arc<tokio::sync::Notify>,
}

/// How a store bounds the database's time.
#[derive(Clone, Debug)]
pub struct StoreSettings {
    /// The longest one statement may run, or wait for a lock, before the
    /// database cancels it (PostgreSQL `statement_timeout`/`lock_timeout`,
    /// MySQL `innodb_lock_wait_timeout` and the statement time limit,
    /// SQLite's busy timeout). Callers see `DEADLINE_EXCEEDED`.
    pub statement_timeout: Duration,
}

impl Default for StoreSettings {
    fn default() -> Self {
        Self {
            statement_timeout: Duration::from_secs(5),
        }
    }
}

/// Whether the database holds the schema this binary expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SchemaStatus {
    /// Every migration of this binary is applied (newer ones may be too:
    /// a rolling deploy migrates before the old processes stop).
    Current,
    /// The database answers, but its migrations differ (say, it was
    /// recreated without them).
    Mismatch,
    /// The database does not answer.
    Unreachable,
}

const SQLITE_READERS: u32 = 4;
const SERVER_POOL_SIZE: u32 = 16;

impl Store {
    /// Connects with default settings, and runs pending migrations.
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        Self::open_with(url, &StoreSettings::default()).await
    }

    /// Connects, and runs pending migrations.
    pub async fn open_with(url: &str, settings: &StoreSettings) -> anyhow::Result<Self> {
        let store = Self::connect_with(url, settings).await?;
        store.migrate().await?;
        Ok(store)
    }

    /// Connects with default settings, without migrating.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        Self::connect_with(url, &StoreSettings::default()).await
    }

    /// Connects without migrating.
    pub async fn connect_with(url: &str, settings: &StoreSettings) -> anyhow::Result<Self> {
        let statement_timeout = settings.statement_timeout;
        let backend = Backend::of_url(url)?;
        let connect = |options: ConnectOptions| async move {
            Database::connect(options)
                .await
                .with_context(|| format!("cannot connect to the {} database", backend.name()))
        };
        match backend {
            Backend::Sqlite => {
                let writer = connect(sqlite_options(url, 1, false, statement_timeout)).await?;
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
                        connect(sqlite_options(url, SQLITE_READERS, true, statement_timeout))
                            .await?,
                        Some(Arc::new(sqlite_reads::SqliteReads::new(&file))),
                    )
                };
                Ok(Self {
                    writer,
                    reader,
                    backend,
                    url: url.to_owned(),
                    sqlite_reads,
                    recent_uses: Arc::default(),
                    outbox_signal: Arc::default(),
                })
            }
            Backend::Postgres | Backend::MySql => {
                let mut options = ConnectOptions::new(url);
                options
                    .max_connections(SERVER_POOL_SIZE)
                    .connect_timeout(Duration::from_secs(5))
                    .acquire_timeout(Duration::from_secs(5))
                    .sqlx_logging(false);
                bound_statements(&mut options, statement_timeout);
                let pool = connect(options).await?;
                Ok(Self {
                    writer: pool.clone(),
                    reader: pool,
                    backend,
                    url: url.to_owned(),
                    sqlite_reads: None,
                    recent_uses: Arc::default(),
                    outbox_signal: Arc::default(),
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

    /// The connection for writes and for reads that must see them. Taking
    /// it ends the current call's view of the cached reads (`call_view`),
    /// so what the call writes, it reads back.
    pub fn writer(&self) -> &DatabaseConnection {
        call_view::forget();
        &self.writer
    }

    /// The in-process SQLite readers, when this is an SQLite file.
    pub fn sqlite_reads(&self) -> Option<&sqlite_reads::SqliteReads> {
        self.sqlite_reads.as_deref()
    }

    /// Notified whenever this process queues webhook deliveries.
    pub fn outbox_signal(&self) -> &tokio::sync::Notify {
        &self.outbox_signal
    }

    /// Which backend this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Begins a write transaction. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`), so a transaction that reads then writes cannot
    /// fail half-way on a lock upgrade.
    pub async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        call_view::forget();
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

    /// Whether the database answers with the migrations this binary has.
    /// Cheap: one aggregate over the migration
    /// table, bounded to two seconds.
    pub async fn schema_status(&self) -> SchemaStatus {
        if !self.ping().await {
            return SchemaStatus::Unreachable;
        }
        let expected = migration::Migrator::migrations();
        let expected_last = expected
            .last()
            .map(|migration| migration.name().to_owned())
            .unwrap_or_default();
        let backend: DbBackend = self.reader.get_database_backend();
        let probe = Statement::from_string(
            backend,
            "SELECT COUNT(*) AS applied, MAX(version) AS last FROM seaql_migrations",
        );
        let row = tokio::time::timeout(Duration::from_secs(2), self.reader.query_one_raw(probe))
            .await
            .ok()
            .and_then(Result::ok)
            .flatten();
        let Some(row) = row else {
            return SchemaStatus::Mismatch;
        };
        let applied: i64 = row.try_get("", "applied").unwrap_or(-1);
        let last: Option<String> = row.try_get("", "last").unwrap_or(None);
        // A newer binary may have migrated ahead during a rolling deploy;
        // migrations are additive, so this one still serves. Names start
        // with their date, so they compare in order.
        let current = usize::try_from(applied).is_ok_and(|applied| applied >= expected.len())
            && last.is_some_and(|last| last.as_str() >= expected_last.as_str());
        if current {
            SchemaStatus::Current
        } else {
            SchemaStatus::Mismatch
        }
    }

    /// The hits and misses of the in-process read caches (SQLite files only),
    /// for the metrics.
    pub fn read_cache_stats(&self) -> Vec<ReadCacheStats> {
        self.sqlite_reads
            .as_deref()
            .map_or_else(Vec::new, sqlite_reads::SqliteReads::cache_stats)
    }

    /// The state of each connection pool, for the metrics.
    pub fn pool_stats(&self) -> Vec<PoolStats> {
        fn stats<DB: sea_orm::sqlx::Database>(
            pool: &'static str,
            sqlx_pool: &sea_orm::sqlx::Pool<DB>,
        ) -> PoolStats {
            PoolStats {
                pool,
                connections: sqlx_pool.size(),
                idle_connections: u32::try_from(sqlx_pool.num_idle()).unwrap_or(u32::MAX),
                max_connections: sqlx_pool.options().get_max_connections(),
            }
        }
        match self.backend {
            Backend::Sqlite => vec![
                stats("writer", self.writer.get_sqlite_connection_pool()),
                stats("reader", self.reader.get_sqlite_connection_pool()),
            ],
            Backend::Postgres => vec![stats("main", self.writer.get_postgres_connection_pool())],
            Backend::MySql => vec![stats("main", self.writer.get_mysql_connection_pool())],
        }
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

/// Every pooled session of a server database gets the statement bounds.
fn bound_statements(options: &mut ConnectOptions, timeout: Duration) {
    let millis = timeout.as_millis().max(1);
    options.map_sqlx_postgres_opts(move |postgres| {
        postgres.options([
            ("statement_timeout", format!("{millis}ms")),
            ("lock_timeout", format!("{millis}ms")),
        ])
    });
    let seconds = timeout.as_secs().max(1);
    options.map_sqlx_mysql_pool_opts(move |pool| {
        pool.after_connect(move |connection, _metadata| {
            Box::pin(async move {
                use sea_orm::sqlx::{AssertSqlSafe, Executor as _};
                // Row locks, then metadata locks (LOCK TABLES, DDL).
                connection
                    .execute(AssertSqlSafe(format!(
                        "SET SESSION innodb_lock_wait_timeout = {seconds}, \
                         lock_wait_timeout = {seconds}"
                    )))
                    .await?;
                // MariaDB calls the statement limit max_statement_time
                // (seconds), MySQL max_execution_time (milliseconds, reads
                // only); each refuses the other's, so try both.
                let mariadb = connection
                    .execute(AssertSqlSafe(format!(
                        "SET SESSION max_statement_time = {seconds}"
                    )))
                    .await;
                if mariadb.is_err() {
                    let _ = connection
                        .execute(AssertSqlSafe(format!(
                            "SET SESSION max_execution_time = {millis}"
                        )))
                        .await;
                }
                Ok(())
            })
        })
    });
}

fn sqlite_options(
    url: &str,
    connections: u32,
    read_only: bool,
    busy_timeout: Duration,
) -> ConnectOptions {
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
                .busy_timeout(busy_timeout)
                .foreign_keys(true)
                .read_only(read_only)
        });
    options
}
