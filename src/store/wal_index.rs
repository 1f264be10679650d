//! Whether an SQLite file in WAL mode may have changed, told by the
//! WAL-index header in its `-shm` file, read without taking any lock.
//!
//! Every commit, by any connection of any process, rewrites that header
//! before the commit returns: it is how SQLite's own readers learn of new
//! commits (<https://sqlite.org/walformat.html>, "The WAL-Index Header").
//! Reading it is one `pread` of 96 bytes; asking a connection for `PRAGMA
//! data_version` instead opens a read transaction, whose two `fcntl` calls
//! on the WAL read mark were the largest cost left of a cached read (see
//! bench/README.md).
//!
//! The `-shm` file is deleted when the last connection to the database
//! closes, and a new one is made by the next; a file opened once would then
//! go quiet for good. The watch therefore keeps a connection of its own
//! open: while any connection holds the index, SQLite neither deletes nor
//! rebuilds it (its "DMS" lock), so the file opened is the one every
//! process writes to for as long as the watch lives.
//!
//! The header is held twice, and a writer updates the second copy, then
//! the first. Two equal copies are a settled header; unequal copies, a
//! short read, or a header SQLite has not initialised mean "may have
//! changed", so a surprise can only cost a cache miss, never a stale read.
use std::fs::File;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock, PoisonError};

use rusqlite::{Connection, OpenFlags};

/// The size of one copy of the header (`WalIndexHdr`).
const HEADER_LEN: usize = 48;
/// `iVersion`, the first field: the only WAL-index format there is.
const WAL_INDEX_VERSION: u32 = 3_007_000;
/// `isInit`: non-zero once a connection has built the index.
const IS_INIT_OFFSET: usize = 12;

/// The generation of one database file: a number that grows whenever the
/// file may have changed since it was last asked.
#[derive(Debug)]
pub(crate) struct WalIndexWatch {
    path: PathBuf,
    /// Opened on first use, once the database exists in WAL mode.
    index: OnceLock<OpenIndex>,
    seen: Mutex<Seen>,
}

/// The `-shm` file, and the connection that keeps it in place.
#[derive(Debug)]
struct OpenIndex {
    /// Never used, only held; the mutex makes the watch `Sync`.
    _keeper: Mutex<Connection>,
    shm: File,
}

#[derive(Debug, Default)]
struct Seen {
    /// The settled header of the last check, if it was one.
    header: Option<[u8; HEADER_LEN]>,
    generation: u64,
}

impl WalIndexWatch {
    /// A watch over the database file `path` (its index is `path-shm`).
    pub(crate) fn new(path: &Path) -> Self {
        Self {
            path: path.to_owned(),
            index: OnceLock::new(),
            seen: Mutex::new(Seen::default()),
        }
    }

    /// The current generation: unchanged only if the header is settled and
    /// equal to the one the last check read.
    ///
    /// Why a value cached under generation `g` is never stale: it was read
    /// after a check returned `g`, so any commit it did not see rewrote the
    /// header after that check. The next check reads the new header, which
    /// differs from every header recorded before the commit, and so returns
    /// a larger generation. Checks racing each other can only add bumps.
    pub(crate) fn generation(&self) -> u64 {
        let header = self.settled_header();
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if header.is_none() || seen.header != header {
            seen.generation += 1;
            seen.header = header;
        }
        seen.generation
    }

    /// Both copies of the header, if they are equal and initialised.
    fn settled_header(&self) -> Option<[u8; HEADER_LEN]> {
        let index = match self.index.get() {
            Some(index) => index,
            None => {
                let opened = OpenIndex::open(&self.path)?;
                self.index.get_or_init(|| opened)
            }
        };
        let mut both = [0_u8; 2 * HEADER_LEN];
        index.shm.read_exact_at(&mut both, 0).ok()?;
        let (first, second) = both.split_at(HEADER_LEN);
        let version = u32::from_ne_bytes(first[..4].try_into().ok()?);
        if first != second || version != WAL_INDEX_VERSION || first[IS_INIT_OFFSET] == 0 {
            return None;
        }
        first.try_into().ok()
    }
}

impl OpenIndex {
    /// A read-only connection that has read the schema (so it holds the
    /// index), then the index file itself. `None` if the database is not
    /// in WAL mode or cannot be opened; the caller asks again next time.
    fn open(path: &Path) -> Option<Self> {
        let keeper = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .ok()?;
        let mode: String = keeper
            .query_row("PRAGMA journal_mode", [], |row| row.get(0))
            .ok()?;
        if !mode.eq_ignore_ascii_case("wal") {
            return None;
        }
        let mut shm_path = path.as_os_str().to_owned();
        shm_path.push("-shm");
        let shm = File::open(shm_path).ok()?;
        Some(Self {
            _keeper: Mutex::new(keeper),
            shm,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database with one table `t`, in `journal_mode`.
    fn database(dir: &Path, journal_mode: &str) -> (PathBuf, Connection) {
        let path = dir.join("watched.db");
        let connection = Connection::open(&path).expect("open");
        connection
            .pragma_update(None, "journal_mode", journal_mode)
            .expect("journal mode");
        connection
            .execute_batch("CREATE TABLE t (x INTEGER)")
            .expect("create");
        (path, connection)
    }

    fn wal_database(dir: &Path) -> (PathBuf, Connection) {
        database(dir, "WAL")
    }

    #[test]
    fn a_commit_on_another_connection_moves_the_generation() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, writer) = wal_database(dir.path());
        let watch = WalIndexWatch::new(&path);
        let first = watch.generation();
        assert_eq!(watch.generation(), first, "nothing committed");

        let other = Connection::open(&path).expect("second connection");
        other
            .execute("INSERT INTO t VALUES (1)", [])
            .expect("insert");
        let after_insert = watch.generation();
        assert!(after_insert > first);
        assert_eq!(watch.generation(), after_insert);

        // A read changes nothing; a commit by the first connection does.
        let _: i64 = writer
            .query_row("SELECT count(*) FROM t", [], |row| row.get(0))
            .expect("count");
        assert_eq!(watch.generation(), after_insert);
        writer.execute("DELETE FROM t", []).expect("delete");
        assert!(watch.generation() > after_insert);
    }

    #[test]
    fn every_commit_moves_it_even_after_a_checkpoint_restarts_the_log() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, writer) = wal_database(dir.path());
        let watch = WalIndexWatch::new(&path);
        let mut last = watch.generation();
        for round in 0..5 {
            writer
                .execute("INSERT INTO t VALUES (?1)", [round])
                .expect("insert");
            let now = watch.generation();
            assert!(now > last, "commit {round} went unseen");
            last = now;
            writer
                .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
                .expect("checkpoint");
            last = last.max(watch.generation());
        }
    }

    #[test]
    fn the_watch_keeps_the_index_when_every_other_connection_closes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, writer) = wal_database(dir.path());
        let watch = WalIndexWatch::new(&path);
        let first = watch.generation();
        drop(writer);
        // Had the last connection closed, this one would build a new index
        // the watch's open file would never see.
        let reopened = Connection::open(&path).expect("reopen");
        reopened
            .execute("INSERT INTO t VALUES (1)", [])
            .expect("insert");
        assert!(watch.generation() > first);
    }

    #[test]
    fn a_database_not_in_wal_mode_is_never_vouched_for() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, _connection) = database(dir.path(), "DELETE");
        let watch = WalIndexWatch::new(&path);
        let first = watch.generation();
        assert!(watch.generation() > first);
    }

    #[test]
    fn without_an_index_every_check_is_a_change() {
        let dir = tempfile::tempdir().expect("tempdir");
        let watch = WalIndexWatch::new(&dir.path().join("missing.db"));
        let first = watch.generation();
        assert!(watch.generation() > first);
    }
}
