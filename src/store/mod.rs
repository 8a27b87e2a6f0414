//! The Store: the only module that knows SQL and the database driver. Everything above it calls
//! methods on [`Store`] with domain types and gets domain types and [`StoreError`] back.
//!
//! `movies.rs` (the catalog and its load), `runs.rs` (ETL lineage), `ingest.rs` (ingest runs,
//! checkpoints, the response index and the request quota), `codec.rs` (how domain values are
//! stored). Migrations are versioned under `migrations/` (SQLite, tracked in `PRAGMA
//! user_version`) and `migrations/postgres/` (refinery).
//!
//! **Two engines, one type.** A [`Store`] holds a connection to SQLite or PostgreSQL (a closed
//! set, known at build time: an enum, not a trait); statements shared by both go through
//! [`sql::Db`], written once in SQLite's placeholders. What still speaks rusqlite directly (the
//! ETL's load, ingest checkpoints) asks for the SQLite connection and, on PostgreSQL, fails
//! saying so. PostgreSQL's migrations, writer lock and notifications are in `postgres.rs`;
//! `migrate --to` is `copy.rs`.

mod bulk;
mod codec;
mod copy;
mod export;
mod ingest;
mod load;
mod models;
mod movies;
mod postgres;
mod ratings;
mod repair;
mod runs;
pub(crate) mod sql;
#[cfg(test)]
pub(crate) mod testing;
mod touched;
mod users;

pub use copy::CopiedTable;
pub use ingest::Checkpoint;
pub use load::{Load, LoadSummary};
pub use postgres::PgUrl;
pub use ratings::{NewRating, StoredRating, UserKey};

use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::{Migrations, M};
use std::cell::RefCell;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Schema migrations, applied in order; `PRAGMA user_version` records how far a database is.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_catalog.sql"),
    include_str!("../../migrations/0002_ingest.sql"),
    include_str!("../../migrations/0003_identity.sql"),
    include_str!("../../migrations/0004_models.sql"),
    include_str!("../../migrations/0005_trust.sql"),
    include_str!("../../migrations/0006_set_based_load.sql"),
    include_str!("../../migrations/0007_movie_redirects.sql"),
    include_str!("../../migrations/0008_unread_indexes.sql"),
    include_str!("../../migrations/0009_reject_excerpts.sql"),
    include_str!("../../migrations/0010_rating_sources.sql"),
    include_str!("../../migrations/0011_sparse_ease.sql"),
];

/// `CASE <column> WHEN … END`: providers in `order` rank by position, any other last.
fn priority_sql(column: &str, order: &[crate::domain::source::Provider]) -> String {
    let arms: String = order
        .iter()
        .enumerate()
        .map(|(i, p)| format!(" WHEN '{}' THEN {i}", p.as_str()))
        .collect();
    format!("CASE {column}{arms} ELSE {} END", order.len())
}

/// How long a writer waits for another writer's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Everything that can go wrong below the services.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create database {path}: directory {dir} does not exist")]
    MissingDirectory { path: PathBuf, dir: PathBuf },
    #[error("database {path} is read-only (file permissions forbid writing)")]
    ReadOnly { path: PathBuf },
    #[error("database {path} does not exist; run `movierec etl` or `movierec up` first")]
    NotFound { path: PathBuf },
    #[error("database {path}: schema migration failed: {source}")]
    Migration {
        path: PathBuf,
        #[source]
        source: rusqlite_migration::Error,
    },
    #[error("database {path} has schema version {found}, newer than this movierec knows ({known}); upgrade movierec")]
    TooNew {
        path: PathBuf,
        found: i64,
        known: usize,
    },
    #[error("database {path} has schema version {found}, older than this movierec reads ({known}); a read-only open cannot migrate it: run `movierec --db {path} migrate` once")]
    TooOld {
        path: PathBuf,
        found: i64,
        known: usize,
    },
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("PostgreSQL: {}", postgres::describe(.0))]
    Postgres(#[from] ::postgres::Error),
    #[error("PostgreSQL {url}: schema migration failed: {source}")]
    PostgresMigration {
        /// Without its password.
        url: String,
        #[source]
        source: Box<refinery::Error>,
    },
    #[error("{0}")]
    BadUrl(String),
    #[error("{url} already holds a catalog; `migrate --to` copies into an empty database only")]
    NotEmpty { url: String },
    /// The server did not answer (down, starting, unreachable): worth trying again.
    #[error("{0}")]
    Unreachable(String),
    #[error("{what}: not on PostgreSQL yet; use a SQLite database (--db FILE) for it")]
    Unsupported { what: &'static str },
    #[error("database connection pool: {0}")]
    Pool(#[from] r2d2::Error),
    #[error("database holds a value this movierec cannot read: {0}")]
    Corrupt(String),
    #[error("the scan was stopped by its consumer")]
    Interrupted,
    #[error("a read-only connection was asked to write")]
    ReadOnlyConnection,
    #[error("database {path} is still locked by {holder} after waiting {waited:?} for it (raise --lock-wait to wait longer)")]
    Locked {
        path: String,
        holder: String,
        waited: Duration,
    },
}

/// How a writer waits for another writer's lock (an ETL run, an ingest, a train): up to
/// `timeout`, telling `notify` once, with who holds it, that it waits — instead of failing
/// after SQLite's few seconds.
pub struct LockWait {
    pub timeout: Duration,
    /// Called with the holder's note (e.g. "movierec etl --source x.csv (pid 42, since …)").
    pub notify: Box<dyn Fn(&str) + Send + Sync>,
    /// What this writer is, as others' messages will name it.
    pub label: String,
}

/// The file beside a database that names the writer holding its lock (SQLite cannot say):
/// written when a write transaction begins, removed when it ends.
struct WriterNote {
    path: Option<PathBuf>,
    text: String,
}

impl WriterNote {
    fn path(conn: &Connection) -> Option<PathBuf> {
        conn.path()
            .filter(|p| !p.is_empty())
            .map(|p| PathBuf::from(format!("{p}.writer")))
    }

    fn write(conn: &Connection, label: &str) -> Self {
        let text = format!(
            "{label} (pid {}, since {})",
            std::process::id(),
            chrono::Utc::now().format("%H:%M:%S UTC")
        );
        let path = Self::path(conn).filter(|p| std::fs::write(p, &text).is_ok());
        Self { path, text }
    }

    /// Who holds the lock, as its note at `path` says.
    fn holder(path: Option<&Path>) -> String {
        path.and_then(|p| std::fs::read_to_string(p).ok())
            .unwrap_or_else(|| "another writer".to_owned())
    }
}

impl Drop for WriterNote {
    fn drop(&mut self) {
        // Only our own note: the next writer may already have written its own.
        if let Some(path) = &self.path {
            if std::fs::read_to_string(path).is_ok_and(|t| t == self.text) {
                let _ = std::fs::remove_file(path);
            }
        }
    }
}

/// A SQLite write transaction and the note that names its writer while it lasts.
pub(crate) struct SqliteTx<'c> {
    tx: rusqlite::Transaction<'c>,
    key_checks: KeyChecks,
    /// Dropped after the transaction (fields drop in order).
    _note: WriterNote,
}

/// Whether a write transaction checks foreign keys. The ETL's load does not: it writes only
/// movie ids it resolved or made, and run, person and keyword ids it read or made, all in its
/// own transaction, and the checks (a probe of each parent, per row) cost 12% of a load. A
/// test runs `PRAGMA foreign_key_check` after loads of every kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeyChecks {
    On,
    Off,
}

impl Drop for SqliteTx<'_> {
    /// Ends an unchecked transaction (rolled back unless committed) and turns the connection's
    /// checks back on: SQLite changes them only between transactions.
    fn drop(&mut self) {
        if self.key_checks == KeyChecks::Off {
            if !self.tx.is_autocommit() {
                let _ = self.tx.execute_batch("ROLLBACK");
            }
            let _ = self.tx.pragma_update(None, "foreign_keys", true);
        }
    }
}

impl<'c> Deref for SqliteTx<'c> {
    type Target = rusqlite::Transaction<'c>;
    fn deref(&self) -> &Self::Target {
        &self.tx
    }
}

impl SqliteTx<'_> {
    pub(crate) fn commit(self) -> Result<(), StoreError> {
        Ok(self.tx.execute_batch("COMMIT")?)
    }
}

/// A PostgreSQL write transaction holding [`postgres::WRITER_LOCK`]; rolled back when dropped
/// uncommitted.
pub(crate) struct PgTx<'c> {
    client: &'c RefCell<sql::PgClient>,
    open: bool,
}

impl Drop for PgTx<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = sql::Db::Postgres(self.client).batch("ROLLBACK");
        }
    }
}

/// A write transaction on either engine: committed by [`WriteTx::commit`], rolled back when
/// dropped without it.
pub(crate) enum WriteTx<'c> {
    Sqlite(SqliteTx<'c>),
    Postgres(PgTx<'c>),
}

impl WriteTx<'_> {
    /// The transaction's connection, for statements written for both engines.
    pub(crate) fn db(&self) -> sql::Db<'_> {
        match self {
            WriteTx::Sqlite(tx) => sql::Db::Sqlite(&tx.tx),
            WriteTx::Postgres(tx) => sql::Db::Postgres(tx.client),
        }
    }

    pub(crate) fn commit(self) -> Result<(), StoreError> {
        match self {
            WriteTx::Sqlite(tx) => tx.commit(),
            WriteTx::Postgres(mut tx) => {
                sql::Db::Postgres(tx.client).batch("COMMIT")?;
                tx.open = false;
                Ok(())
            }
        }
    }
}

fn is_busy(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DatabaseBusy)
}

/// How long a durable write may take: `Full` syncs every commit (the catalog's loads);
/// `Normal` survives a killed process but not a power cut (ingest checkpoints, one per response,
/// which a resume simply fetches again).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    Full,
    Normal,
}

/// A SQLite connection, owned or borrowed from a [`ReadPool`].
enum SqliteConn {
    Owned(Connection),
    Pooled(r2d2::PooledConnection<SqliteConnectionManager>),
}

impl Deref for SqliteConn {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        match self {
            SqliteConn::Owned(c) => c,
            SqliteConn::Pooled(c) => c,
        }
    }
}

/// The connection of a [`Store`], to one of the two engines. (The PostgreSQL client needs
/// `&mut` for every statement; a store is used by one thread at a time, so a `RefCell`.)
enum Conn {
    Sqlite(SqliteConn),
    Postgres(Box<RefCell<sql::PgClient>>),
}

/// Where the database is: a SQLite file (the embedded default) or a PostgreSQL server, as
/// `--db` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(PgUrl),
}

impl std::str::FromStr for Location {
    type Err = StoreError;
    /// A `postgres://` or `postgresql://` URL names a server; anything else is a file path.
    fn from_str(s: &str) -> Result<Self, StoreError> {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            Ok(Location::Postgres(s.parse()?))
        } else {
            Ok(Location::Sqlite(PathBuf::from(s)))
        }
    }
}

impl std::fmt::Display for Location {
    /// The file's path, or the URL without its password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Sqlite(p) => write!(f, "{}", p.display()),
            Location::Postgres(url) => write!(f, "{url}"),
        }
    }
}

/// The database: catalog, lineage, ingest checkpoints. Read methods work on every store; the
/// write methods need one opened with [`Store::open`].
pub struct Store {
    conn: Conn,
    wait: Option<LockWait>,
}

impl Store {
    /// Opens the database at `location` for writing, bringing its schema up to date.
    pub fn connect(location: &Location) -> Result<Self, StoreError> {
        match location {
            Location::Sqlite(path) => Self::open(path),
            Location::Postgres(url) => Ok(Self::postgres(postgres::open(url)?)),
        }
    }

    /// Opens the database at `location` to read; it must already be at this version.
    pub fn connect_read_only(location: &Location) -> Result<Self, StoreError> {
        match location {
            Location::Sqlite(path) => Self::open_read_only(path),
            Location::Postgres(url) => Ok(Self::postgres(postgres::open_read_only(url)?)),
        }
    }

    fn postgres(client: sql::PgClient) -> Self {
        Self {
            conn: Conn::Postgres(Box::new(RefCell::new(client))),
            wait: None,
        }
    }

    /// The connection, for statements written once for both engines.
    pub(crate) fn db(&self) -> sql::Db<'_> {
        match &self.conn {
            Conn::Sqlite(c) => sql::Db::Sqlite(c),
            Conn::Postgres(c) => sql::Db::Postgres(c),
        }
    }

    /// The SQLite connection, for tests' own checks (`what`, as the error names it).
    #[cfg(test)]
    pub(crate) fn sqlite(&self, what: &'static str) -> Result<&Connection, StoreError> {
        match &self.conn {
            Conn::Sqlite(c) => Ok(c),
            Conn::Postgres(_) => Err(StoreError::Unsupported { what }),
        }
    }

    /// Opens (creating if needed) a database for writing and brings its schema up to date.
    ///
    /// Refuses a read-only file up front, even for root, whom SQLite would let write anyway.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if !dir.is_dir() {
            return Err(StoreError::MissingDirectory {
                path: path.to_owned(),
                dir,
            });
        }
        if let Ok(meta) = std::fs::metadata(path) {
            if meta.permissions().readonly() {
                return Err(StoreError::ReadOnly {
                    path: path.to_owned(),
                });
            }
        }
        let mut conn = Connection::open(path)?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        migrate(&mut conn, path)?;
        Ok(Self {
            conn: Conn::Sqlite(SqliteConn::Owned(conn)),
            wait: None,
        })
    }

    /// Opens an existing database read-only; it must already be migrated to this version.
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        check_readable(path)?;
        let conn = Connection::open_with_flags(path, read_only_flags())?;
        conn.busy_timeout(BUSY_TIMEOUT)?;
        check_version(&conn, path)?;
        Ok(Self {
            conn: Conn::Sqlite(SqliteConn::Owned(conn)),
            wait: None,
        })
    }

    /// The schema version the database is at (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        match &self.conn {
            Conn::Sqlite(c) => Ok(c.pragma_query_value(None, "user_version", |r| r.get(0))?),
            Conn::Postgres(_) => postgres::schema_version(&self.db()),
        }
    }

    /// Sets how durable each commit of this connection is (on PostgreSQL, `Normal` commits
    /// without waiting for the WAL to reach the disk: a crash of the server may lose the last
    /// ones, never half of one).
    pub fn set_durability(&self, durability: Durability) -> Result<(), StoreError> {
        let (sqlite, postgres) = match durability {
            Durability::Full => ("FULL", "on"),
            Durability::Normal => ("NORMAL", "off"),
        };
        match &self.conn {
            Conn::Sqlite(c) => c.pragma_update(None, "synchronous", sqlite)?,
            Conn::Postgres(_) => self
                .db()
                .batch(&format!("SET synchronous_commit = {postgres}"))?,
        }
        Ok(())
    }

    /// Makes this store's writes wait for another writer's lock as `wait` says (every write:
    /// [`Store::begin_write`] also says for whom).
    pub fn wait_for_writers(&mut self, wait: LockWait) -> Result<(), StoreError> {
        if let Conn::Sqlite(c) = &self.conn {
            c.busy_timeout(wait.timeout)?;
        }
        self.wait = Some(wait);
        Ok(())
    }

    /// Runs `write` in one write transaction, on either engine: committed if it returns `Ok`,
    /// rolled back otherwise. Writers take turns (SQLite's write lock; PostgreSQL's
    /// [`postgres::WRITER_LOCK`] advisory lock), waiting as [`Store::wait_for_writers`] says.
    pub(crate) fn write<T, E: From<StoreError>>(
        &mut self,
        write: impl FnOnce(&sql::Db<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        let tx = self.begin_write(KeyChecks::On)?;
        let out = write(&tx.db())?;
        tx.commit()?;
        Ok(out)
    }

    /// Begins a write transaction on either engine: SQLite's IMMEDIATE (write-locked) one, or
    /// PostgreSQL's holding [`postgres::WRITER_LOCK`]. A lock another writer holds is waited
    /// for as [`Store::wait_for_writers`] says, after telling who holds it. `key_checks` is
    /// SQLite's (PostgreSQL checks every key).
    pub(crate) fn begin_write(&mut self, key_checks: KeyChecks) -> Result<WriteTx<'_>, StoreError> {
        if matches!(self.conn, Conn::Sqlite(_)) {
            return Ok(WriteTx::Sqlite(self.begin_sqlite_write(key_checks)?));
        }
        let Conn::Postgres(client) = &self.conn else {
            return Err(StoreError::ReadOnlyConnection);
        };
        let db = sql::Db::Postgres(client);
        db.batch("BEGIN")?;
        let tx = PgTx { client, open: true };
        postgres::take_writer_lock(&db, self.wait.as_ref())?;
        Ok(WriteTx::Postgres(tx))
    }

    /// Begins an IMMEDIATE (write-locked) SQLite transaction, checking foreign keys or not.
    fn begin_sqlite_write(&mut self, key_checks: KeyChecks) -> Result<SqliteTx<'_>, StoreError> {
        let wait = self.wait.take();
        let result = self.owned().and_then(|conn| {
            if let Some(wait) = &wait {
                conn.busy_timeout(Duration::ZERO)?;
                match conn.execute_batch("BEGIN IMMEDIATE; COMMIT") {
                    Ok(()) => {}
                    Err(e) if is_busy(&e) => {
                        (wait.notify)(&WriterNote::holder(WriterNote::path(conn).as_deref()))
                    }
                    Err(e) => return Err(e.into()),
                }
                conn.busy_timeout(wait.timeout)?;
            }
            Ok(())
        });
        let label = wait.as_ref().map(|w| (w.label.clone(), w.timeout));
        self.wait = wait;
        result?;
        let conn: &Connection = self.owned()?;
        let (db, note) = (
            conn.path().unwrap_or_default().to_owned(),
            WriterNote::path(conn),
        );
        // Set between transactions only; a transaction that does not begin leaves them on.
        conn.pragma_update(None, "foreign_keys", key_checks == KeyChecks::On)?;
        let begun =
            rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate);
        let tx = match begun {
            Ok(tx) => tx,
            Err(e) => {
                conn.pragma_update(None, "foreign_keys", true)?;
                if is_busy(&e) {
                    return Err(StoreError::Locked {
                        path: db,
                        holder: WriterNote::holder(note.as_deref()),
                        waited: label.map_or(BUSY_TIMEOUT, |(_, t)| t),
                    });
                }
                return Err(e.into());
            }
        };
        let note = WriterNote::write(&tx, label.as_ref().map_or("movierec", |(l, _)| l));
        Ok(SqliteTx {
            tx,
            key_checks,
            _note: note,
        })
    }

    fn owned(&mut self) -> Result<&mut Connection, StoreError> {
        match &mut self.conn {
            Conn::Sqlite(SqliteConn::Owned(c)) => Ok(c),
            Conn::Sqlite(SqliteConn::Pooled(_)) => Err(StoreError::ReadOnlyConnection),
            Conn::Postgres(_) => Err(StoreError::Unsupported {
                what: "SQLite's write transaction",
            }),
        }
    }
}

/// Calls `on_change` whenever a writer commits a new catalog or model to the database at
/// `location`, from a thread of its own, for as long as `wanted` says. On PostgreSQL it
/// `LISTEN`s, reconnecting with backoff when the connection drops (a server's polling covers
/// the gap); SQLite has no notifications, and its servers poll.
pub fn listen_for_changes(
    location: &Location,
    wanted: impl Fn() -> bool + Send + 'static,
    on_change: impl Fn() + Send + 'static,
) {
    if let Location::Postgres(url) = location {
        postgres::listen(url.clone(), wanted, on_change);
    }
}

/// Read-only connections shared by the server's handlers.
#[derive(Clone)]
pub enum ReadPool {
    Sqlite(r2d2::Pool<SqliteConnectionManager>),
    Postgres(r2d2::Pool<sql::PgManager>),
}

impl ReadPool {
    /// Opens `size` connections to the database at `location` (read-only on SQLite, where
    /// the file must exist and be migrated; on PostgreSQL the schema must be at this version).
    pub fn connect(location: &Location, size: u32) -> Result<Self, StoreError> {
        match location {
            Location::Sqlite(path) => Self::open(path, size),
            Location::Postgres(url) => Ok(ReadPool::Postgres(postgres::pool(url, size)?)),
        }
    }

    /// Opens `size` read-only connections to an existing, migrated database.
    pub fn open(path: &Path, size: u32) -> Result<Self, StoreError> {
        check_readable(path)?;
        check_version(&Connection::open_with_flags(path, read_only_flags())?, path)?;
        let manager = SqliteConnectionManager::file(path)
            .with_flags(read_only_flags())
            .with_init(|c| c.busy_timeout(BUSY_TIMEOUT));
        let pool = r2d2::Pool::builder()
            .max_size(size)
            .connection_timeout(BUSY_TIMEOUT)
            .build(manager)?;
        Ok(ReadPool::Sqlite(pool))
    }

    /// A store on one pooled connection, returned to the pool when dropped.
    pub fn get(&self) -> Result<Store, StoreError> {
        Ok(match self {
            ReadPool::Sqlite(pool) => Store {
                conn: Conn::Sqlite(SqliteConn::Pooled(pool.get()?)),
                wait: None,
            },
            ReadPool::Postgres(pool) => Store::postgres(sql::PgClient::Pooled(pool.get()?)),
        })
    }
}

fn read_only_flags() -> OpenFlags {
    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI
}

fn check_readable(path: &Path) -> Result<(), StoreError> {
    if path.exists() {
        Ok(())
    } else {
        Err(StoreError::NotFound {
            path: path.to_owned(),
        })
    }
}

fn check_version(conn: &Connection, path: &Path) -> Result<(), StoreError> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version == 0 {
        return Err(StoreError::NotFound {
            path: path.to_owned(),
        });
    }
    check_not_newer(path, version)?;
    if version < MIGRATIONS.len() as i64 {
        return Err(StoreError::TooOld {
            path: path.to_owned(),
            found: version,
            known: MIGRATIONS.len(),
        });
    }
    Ok(())
}

fn migrations() -> Migrations<'static> {
    Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect())
}

fn check_not_newer(path: &Path, found: i64) -> Result<(), StoreError> {
    if found > MIGRATIONS.len() as i64 {
        return Err(StoreError::TooNew {
            path: path.to_owned(),
            found,
            known: MIGRATIONS.len(),
        });
    }
    Ok(())
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StoreError> {
    let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    check_not_newer(path, found)?;
    migrations()
        .to_latest(conn)
        .map_err(|source| StoreError::Migration {
            path: path.to_owned(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() {
        assert!(migrations().validate().is_ok());
    }

    #[test]
    fn creates_seed_schema_and_reopens_read_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m.db");
        let store = Store::open(&path).expect("open");
        let cols: Vec<String> = store
            .sqlite("test")
            .expect("sqlite")
            .prepare("SELECT name FROM pragma_table_info('Movies')")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .expect("columns");
        assert_eq!(&cols[..4], ["MovieID", "Title", "ReleaseYear", "Rating"]);
        let mode: String = store
            .sqlite("test")
            .expect("sqlite")
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .expect("mode");
        assert_eq!(mode, "wal");
        drop(store);
        assert!(Store::open_read_only(&path).is_ok());
        assert!(ReadPool::open(&path, 1).and_then(|p| p.get()).is_ok());
    }

    #[test]
    fn a_version_2_catalog_becomes_provider_facts_keyed_by_its_natural_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("m.db");
        {
            let mut conn = Connection::open(&path).expect("open");
            Migrations::new(MIGRATIONS[..2].iter().map(|sql| M::up(sql)).collect())
                .to_latest(&mut conn)
                .expect("version 2");
            conn.execute_batch(
                "INSERT INTO etl_runs (run_id, source, source_format, started_at, finished_at, status)
                 VALUES (1, 'embedded', 'json', '2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.000Z', 'succeeded'),
                        (2, 'mine.csv', 'csv', '2026-01-02T00:00:00.000Z', '2026-01-02T00:00:00.000Z', 'succeeded');
                 INSERT INTO Movies (MovieID, Title, ReleaseYear, Rating, TitleKey, ReleaseDate, Votes,
                                     Genre, Director, CreatedRunId, UpdatedRunId)
                 VALUES (1, 'Heat', 1995, 8.2, 'heat', '1995-12-15', 500, 'Action', 'Michael Mann', 1, 1),
                        (2, 'Mine', 2001, 5.0, 'mine', '2001-01-01', NULL, NULL, NULL, 2, 2);",
            )
            .expect("version 2 rows");
        }
        let store = Store::open(&path).expect("migrate");
        let facts: Vec<(i64, String, f64, String)> = store
            .sqlite("test")
            .expect("sqlite")
            .prepare(
                "SELECT s.MovieID, s.provider, s.rating, i.namespace || ':' || i.external_id
                 FROM movie_sources AS s JOIN movie_ids AS i USING (MovieID) ORDER BY s.MovieID",
            )
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                    .collect()
            })
            .expect("facts");
        assert_eq!(
            facts,
            [
                (1, "vega".into(), 8.2, "vega:heat (1995)".into()),
                (2, "file".into(), 5.0, "file:mine (2001)".into())
            ]
        );
        let heat = store
            .movie(crate::domain::MovieId(1))
            .expect("q")
            .expect("kept");
        assert_eq!(
            (heat.rating, heat.genre.as_deref()),
            (Some(8.2), Some("Action"))
        );
    }

    #[test]
    fn missing_directory_is_a_clear_error() {
        let err = Store::open(Path::new("/nonexistent-dir/x/movies.db"))
            .err()
            .expect("refused");
        assert!(
            err.to_string()
                .contains("directory /nonexistent-dir/x does not exist"),
            "{err}"
        );
    }

    #[test]
    fn read_only_open_of_absent_file_does_not_create_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("absent.db");
        assert!(matches!(
            Store::open_read_only(&path),
            Err(StoreError::NotFound { .. })
        ));
        assert!(!path.exists());
    }
}
