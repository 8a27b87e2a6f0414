//! Stores for tests, on the engine the run asks for: a SQLite file in a temporary directory, or,
//! with `MOVIEREC_TEST_ENGINE=postgres` and `MOVIEREC_TEST_PG` (a server whose user may create
//! databases), a PostgreSQL database of the test's own, dropped afterwards. `scripts/test` runs
//! the store's tests both ways.

use super::sql::Db;
use super::{Location, Store, StoreError};

/// What keeps a test's database alive; dropping it removes the database.
pub(crate) enum Scratch {
    /// Holds the SQLite file, removed with the directory.
    Dir {
        _dir: tempfile::TempDir,
    },
    Postgres {
        admin: String,
        name: String,
    },
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if let Scratch::Postgres { admin, name } = self {
            if let Ok(mut c) = ::postgres::Client::connect(admin, ::postgres::NoTls) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// A new, migrated, empty store; keep the [`Scratch`] for as long as the store.
pub(crate) fn fresh() -> (Scratch, Store) {
    match std::env::var("MOVIEREC_TEST_ENGINE").as_deref() {
        Err(_) | Ok("") | Ok("sqlite") => {
            let dir = tempfile::tempdir().expect("tempdir");
            let store = Store::open(&dir.path().join("m.db")).expect("open");
            (Scratch::Dir { _dir: dir }, store)
        }
        Ok("postgres") => {
            let admin = std::env::var("MOVIEREC_TEST_PG")
                .expect("MOVIEREC_TEST_ENGINE=postgres needs MOVIEREC_TEST_PG, a server's URL");
            static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
            let name = format!(
                "movierec_unit_{}_{}",
                std::process::id(),
                NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            );
            ::postgres::Client::connect(&admin, ::postgres::NoTls)
                .and_then(|mut c| c.batch_execute(&format!("CREATE DATABASE {name}")))
                .expect("create a test database");
            let (base, _) = admin.rsplit_once('/').expect("a URL with a database");
            let location: Location = format!("{base}/{name}").parse().expect("URL");
            let scratch = Scratch::Postgres { admin, name };
            let store = Store::connect(&location).expect("migrate");
            (scratch, store)
        }
        Ok(other) => panic!("MOVIEREC_TEST_ENGINE={other}: expected sqlite or postgres"),
    }
}

/// Whether the connection checks foreign keys again (a load turns them off while it writes).
pub(crate) fn key_checks_on(db: &Db<'_>) -> Result<bool, StoreError> {
    if db.is_postgres() {
        Ok(db.one::<String>("SHOW session_replication_role", &[])? == "origin")
    } else {
        Ok(db.one::<i64>("PRAGMA foreign_keys", &[])? == 1)
    }
}

/// Every foreign key some row breaks, by the name of its table.
pub(crate) fn broken_keys(db: &Db<'_>) -> Result<Vec<String>, StoreError> {
    if !db.is_postgres() {
        return db.query("PRAGMA foreign_key_check", &[], |r| r.get(0));
    }
    let keys = db.query(
        "SELECT c.conrelid::regclass::TEXT, c.confrelid::regclass::TEXT,
                string_agg('p.' || f.attname || ' = c.' || a.attname, ' AND ' ORDER BY k.ord),
                string_agg('c.' || a.attname || ' IS NOT NULL', ' AND ' ORDER BY k.ord)
         FROM pg_constraint AS c
         CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(col, ref, ord)
         JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = k.col
         JOIN pg_attribute AS f ON f.attrelid = c.confrelid AND f.attnum = k.ref
         WHERE c.contype = 'f' GROUP BY c.oid, c.conrelid, c.confrelid",
        &[],
        |r| {
            Ok((
                r.get::<String>(0)?,
                r.get::<String>(1)?,
                r.get::<String>(2)?,
                r.get::<String>(3)?,
            ))
        },
    )?;
    let mut broken = Vec::new();
    for (child, parent, matches, present) in keys {
        let orphans: i64 = db.one(
            &format!(
                "SELECT COUNT(*) FROM {child} AS c WHERE {present}
                 AND NOT EXISTS (SELECT 1 FROM {parent} AS p WHERE {matches})"
            ),
            &[],
        )?;
        if orphans > 0 {
            broken.push(child);
        }
    }
    Ok(broken)
}
