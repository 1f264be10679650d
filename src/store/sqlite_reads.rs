//! The hot-path reads of an SQLite store, done in process.
//!
//! sqlx runs every SQLite connection on a worker thread of its own, so each
//! query costs two thread hand-offs; on a busy core those context switches,
//! not SQLite, dominated a GetUser call (see bench/README.md). The two reads
//! every authenticated call makes — a credential with its owner, and a user
//! — therefore run here on read-only rusqlite connections with cached
//! prepared statements, inline on the calling task: an indexed lookup in the
//! page cache takes microseconds, less than one hand-off. They produce the
//! same entity `Model`s as sea-orm, so rows become domain values through one
//! mapping. Writes, and every other read, stay on sea-orm. WAL mode lets
//! these readers run beside the writer without blocking it.
//!
//! Both reads are cached, and the cache is exactly as fresh as the file:
//! before each lookup, the WAL-index header tells whether any connection of
//! any process has committed since the last look (see `wal_index`); if one
//! has, every cached entry is dropped (see `fresh_cache`). The look is one
//! `pread` and takes no lock, so a hit needs no connection at all, and a
//! token revoked or a user archived by another process is seen at once.
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension as _, Row};

use super::call_view;
use super::entity::{credential, user};
use super::fresh_cache::FreshCache;
use super::wal_index::WalIndexWatch;
use crate::domain::DomainError;
use crate::domain::credential::PresentedCredential;
use crate::domain::user::User;
use crate::domain::users::UserLookup;
use crate::telemetry::metrics::ReadCacheStats;

/// Idle connections kept for reuse; more are opened under load and closed
/// when returned to a full pool.
const MAX_IDLE_CONNECTIONS: usize = 8;
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// Entries per cache: a few MiB at most. Past it the cache starts over.
const CACHED_ENTRIES: usize = 4_096;

static NEXT_WATCH_ID: AtomicU64 = AtomicU64::new(1);

/// The user columns in `user_from_row` order. A macro, so the statements
/// below are `concat!`ed at compile time: the hot path builds no SQL text.
macro_rules! user_columns {
    () => {
        "u.id, u.email, u.email_key, u.username, u.username_key, u.tombstone, u.display_name, \
         u.role, u.state, u.avatar_url, u.description, u.password_hash, u.labels_json, \
         u.version, u.created_at, u.updated_at, u.deleted_at, u.created_by, u.updated_by, \
         u.deleted_by"
    };
}
const USER_COLUMN_COUNT: usize = 20;

const CREDENTIAL_WITH_OWNER: &str = concat!(
    "SELECT ",
    user_columns!(),
    ", c.id, c.user_id, c.kind, c.token_hash, c.description, c.created_at, c.expires_at, \
     c.revoked_at, c.last_used_at, c.scopes \
     FROM credentials c JOIN users u ON u.id = c.user_id WHERE c.token_hash = ?1"
);

/// One statement per lookup column, live users only or tombstones too.
macro_rules! user_lookup {
    ($column:literal, $filter:literal) => {
        concat!(
            "SELECT ",
            user_columns!(),
            " FROM users u WHERE ",
            $column,
            " = ?1",
            $filter,
            " ORDER BY u.tombstone ASC, u.deleted_at DESC LIMIT 1"
        )
    };
}

/// A pool of read-only connections to one SQLite file, and the caches of
/// the two hot-path reads.
#[derive(Debug)]
pub struct SqliteReads {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// Whether the file changed: entries of an older generation are stale.
    changes: WalIndexWatch,
    /// Tells this watch's generations from another store's in a call view.
    watch_id: u64,
    credentials: FreshCache<String, PresentedCredential>,
    users: FreshCache<(UserLookup, bool), Option<User>>,
}

impl SqliteReads {
    /// Readers for the file `path` (which the writer has created).
    pub fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
            changes: WalIndexWatch::new(path),
            watch_id: NEXT_WATCH_ID.fetch_add(1, Ordering::Relaxed),
            credentials: FreshCache::new(CACHED_ENTRIES),
            users: FreshCache::new(CACHED_ENTRIES),
        }
    }

    /// Hits and misses of the credential and user caches, for the metrics.
    pub fn cache_stats(&self) -> Vec<ReadCacheStats> {
        vec![
            self.credentials.stats("credentials"),
            self.users.stats("users"),
        ]
    }

    /// The generation to read under, taken before the row is read (see
    /// `WalIndexWatch::generation`): once per unary call (`call_view`).
    fn generation(&self) -> u64 {
        call_view::generation(self.watch_id, || self.changes.generation())
    }

    fn open_connection(&self) -> rusqlite::Result<Connection> {
        let connection = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        connection.busy_timeout(BUSY_TIMEOUT)?;
        Ok(connection)
    }

    fn with_reader<T>(
        &self,
        read: impl FnOnce(&Connection) -> Result<T, DomainError>,
    ) -> Result<T, DomainError> {
        let pooled = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let reader = match pooled {
            Some(reader) => reader,
            None => self.open_connection().map_err(storage_error)?,
        };
        let result = read(&reader);
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE_CONNECTIONS
        {
            idle.push(reader);
        }
        result
    }

    /// The credential with this token hash and its owner, from the cache
    /// when nothing has been committed since it was read. Unknown hashes
    /// are not cached: forged tokens cannot fill the cache.
    pub fn presented_credential(
        &self,
        token_hash: &str,
        present: impl FnOnce(credential::Model, user::Model) -> Result<PresentedCredential, DomainError>,
    ) -> Result<Option<PresentedCredential>, DomainError> {
        let generation = self.generation();
        if let Some(hit) = self.credentials.get(token_hash, generation) {
            return Ok(Some(hit));
        }
        self.with_reader(|reader| {
            let Some((credential, owner)) =
                credential_with_owner(reader, token_hash).map_err(storage_error)?
            else {
                return Ok(None);
            };
            let presented = present(credential, owner)?;
            self.credentials
                .put(token_hash.to_owned(), presented.clone(), generation);
            Ok(Some(presented))
        })
    }

    /// One user (or its absence), from the cache when nothing has been
    /// committed since it was read; otherwise with the same selection and
    /// ordering rules as `users::find` on sea-orm.
    pub fn user(
        &self,
        lookup: &UserLookup,
        include_deleted: bool,
        into_domain: impl FnOnce(user::Model) -> Result<User, DomainError>,
    ) -> Result<Option<User>, DomainError> {
        let generation = self.generation();
        let key = (lookup.clone(), include_deleted);
        if let Some(hit) = self.users.get(&key, generation) {
            return Ok(hit);
        }
        self.with_reader(|reader| {
            let found = user_row(reader, lookup, include_deleted)
                .map_err(storage_error)?
                .map(into_domain)
                .transpose()?;
            self.users.put(key, found.clone(), generation);
            Ok(found)
        })
    }
}

/// The credential with this token hash and its owner: one joined read.
fn credential_with_owner(
    connection: &Connection,
    token_hash: &str,
) -> rusqlite::Result<Option<(credential::Model, user::Model)>> {
    connection
        .prepare_cached(CREDENTIAL_WITH_OWNER)?
        .query_row([token_hash], |row| {
            let owner = user_from_row(row)?;
            let at = USER_COLUMN_COUNT;
            let credential = credential::Model {
                id: uuid_at(row, at)?,
                user_id: uuid_at(row, at + 1)?,
                kind: row.get(at + 2)?,
                token_hash: row.get(at + 3)?,
                description: row.get(at + 4)?,
                created_at: row.get(at + 5)?,
                expires_at: row.get(at + 6)?,
                revoked_at: row.get(at + 7)?,
                last_used_at: row.get(at + 8)?,
                scopes: row.get(at + 9)?,
            };
            Ok((credential, owner))
        })
        .optional()
}

/// One user row, with the same selection and ordering rules as
/// `users::find` on sea-orm.
fn user_row(
    connection: &Connection,
    lookup: &UserLookup,
    include_deleted: bool,
) -> rusqlite::Result<Option<user::Model>> {
    let id_bytes;
    let (sql, key): (&str, &dyn rusqlite::ToSql) = match (lookup, include_deleted) {
        (UserLookup::Id(id), deleted) => {
            id_bytes = *id.0.as_bytes();
            let sql = if deleted {
                user_lookup!("u.id", "")
            } else {
                user_lookup!("u.id", " AND u.deleted_at IS NULL")
            };
            (sql, &id_bytes)
        }
        (UserLookup::EmailKey(key), false) => (
            user_lookup!("u.email_key", " AND u.deleted_at IS NULL"),
            key,
        ),
        (UserLookup::EmailKey(key), true) => (user_lookup!("u.email_key", ""), key),
        (UserLookup::UsernameKey(key), false) => (
            user_lookup!("u.username_key", " AND u.deleted_at IS NULL"),
            key,
        ),
        (UserLookup::UsernameKey(key), true) => (user_lookup!("u.username_key", ""), key),
    };
    connection
        .prepare_cached(sql)?
        .query_row([key], user_from_row)
        .optional()
}

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<user::Model> {
    Ok(user::Model {
        id: uuid_at(row, 0)?,
        email: row.get(1)?,
        email_key: row.get(2)?,
        username: row.get(3)?,
        username_key: row.get(4)?,
        tombstone: row.get(5)?,
        display_name: row.get(6)?,
        role: row.get(7)?,
        state: row.get(8)?,
        avatar_url: row.get(9)?,
        description: row.get(10)?,
        password_hash: row.get(11)?,
        labels_json: row.get(12)?,
        version: row.get(13)?,
        created_at: row.get(14)?,
        updated_at: row.get(15)?,
        deleted_at: row.get(16)?,
        created_by: optional_uuid_at(row, 17)?,
        updated_by: optional_uuid_at(row, 18)?,
        deleted_by: optional_uuid_at(row, 19)?,
    })
}

/// UUIDs are stored as 16-byte blobs (as sqlx writes them); read in place.
fn uuid_at(row: &Row<'_>, index: usize) -> rusqlite::Result<uuid::Uuid> {
    let bytes = row.get_ref(index)?.as_blob().map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Blob,
            Box::new(error),
        )
    })?;
    uuid::Uuid::from_slice(bytes).map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(
            index,
            rusqlite::types::Type::Blob,
            Box::new(error),
        )
    })
}

fn optional_uuid_at(row: &Row<'_>, index: usize) -> rusqlite::Result<Option<uuid::Uuid>> {
    match row.get_ref(index)? {
        rusqlite::types::ValueRef::Null => Ok(None),
        _ => uuid_at(row, index).map(Some),
    }
}

fn storage_error(error: rusqlite::Error) -> DomainError {
    match error {
        rusqlite::Error::SqliteFailure(code, _)
            if matches!(
                code.code,
                rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::DatabaseBusy
            ) =>
        {
            tracing::warn!(%error, "sqlite unavailable");
            DomainError::Unavailable("database unreachable".to_owned())
        }
        other => DomainError::Internal(anyhow::Error::new(other).context("sqlite read failed")),
    }
}
