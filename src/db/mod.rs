//! SQLite access: opening, versioned migrations, and every SQL statement of the project
//! (`movies.rs` for the catalog, `runs.rs` for ETL lineage, `ingest.rs` for API ingest runs,
//! their checkpoints and the request quota).

pub mod ingest;
pub mod movies;
pub mod runs;

use rusqlite::{Connection, OpenFlags};
use rusqlite_migration::{Migrations, M};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Schema migrations, applied in order; `PRAGMA user_version` records how far a database is.
const MIGRATIONS: &[&str] = &[
    include_str!("../../migrations/0001_catalog.sql"),
    include_str!("../../migrations/0002_ingest.sql"),
];

/// How long a writer waits for another writer's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("cannot create database {path}: directory {dir} does not exist")]
    MissingDirectory { path: PathBuf, dir: PathBuf },
    #[error("database {path} is read-only (file permissions forbid writing)")]
    ReadOnly { path: PathBuf },
    #[error("database {path} does not exist; run `movierec etl` or `movierec up` first")]
    NotFound { path: PathBuf },
    #[error("database {path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
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
}

/// Opens (creating if needed) a database for writing and brings its schema up to date.
///
/// Refuses a read-only file up front, even for root, whom SQLite would let write anyway.
pub fn open_rw(path: &Path) -> Result<Connection, DbError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(DbError::MissingDirectory {
            path: path.to_owned(),
            dir,
        });
    }
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().readonly() {
            return Err(DbError::ReadOnly {
                path: path.to_owned(),
            });
        }
    }
    let sqlite = |source| DbError::Sqlite {
        path: path.to_owned(),
        source,
    };
    let mut conn = Connection::open(path).map_err(sqlite)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(sqlite)?;
    conn.pragma_update(None, "journal_mode", "WAL")
        .map_err(sqlite)?;
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(sqlite)?;
    conn.pragma_update(None, "foreign_keys", true)
        .map_err(sqlite)?;
    migrate(&mut conn, path)?;
    Ok(conn)
}

/// Opens an existing database read-only; it must already be migrated to this version.
pub fn open_ro(path: &Path) -> Result<Connection, DbError> {
    if !path.exists() {
        return Err(DbError::NotFound {
            path: path.to_owned(),
        });
    }
    let sqlite = |source| DbError::Sqlite {
        path: path.to_owned(),
        source,
    };
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let conn = Connection::open_with_flags(path, flags).map_err(sqlite)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(sqlite)?;
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(sqlite)?;
    if version == 0 {
        return Err(DbError::NotFound {
            path: path.to_owned(),
        });
    }
    check_not_newer(path, version)?;
    Ok(conn)
}

fn migrations() -> Migrations<'static> {
    Migrations::new(MIGRATIONS.iter().map(|sql| M::up(sql)).collect())
}

fn check_not_newer(path: &Path, found: i64) -> Result<(), DbError> {
    if found > MIGRATIONS.len() as i64 {
        return Err(DbError::TooNew {
            path: path.to_owned(),
            found,
            known: MIGRATIONS.len(),
        });
    }
    Ok(())
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), DbError> {
    let found: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|source| DbError::Sqlite {
            path: path.to_owned(),
            source,
        })?;
    check_not_newer(path, found)?;
    migrations()
        .to_latest(conn)
        .map_err(|source| DbError::Migration {
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
        let conn = open_rw(&path).expect("open");
        let cols: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info('Movies')")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .expect("columns");
        assert_eq!(&cols[..4], ["MovieID", "Title", "ReleaseYear", "Rating"]);
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .expect("mode");
        assert_eq!(mode, "wal");
        drop(conn);
        assert!(open_ro(&path).is_ok());
    }

    #[test]
    fn missing_directory_is_a_clear_error() {
        let err = open_rw(Path::new("/nonexistent-dir/x/movies.db")).unwrap_err();
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
        assert!(matches!(open_ro(&path), Err(DbError::NotFound { .. })));
        assert!(!path.exists());
    }
}
