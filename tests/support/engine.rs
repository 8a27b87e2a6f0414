//! The database a test runs against, on either engine, and the tests' own reads of it.
//!
//! `MOVIEREC_TEST_ENGINE=postgres` (with `MOVIEREC_TEST_PG`, a URL of a server whose user may
//! create databases) runs a test file's engine-neutral tests on PostgreSQL, each in a database
//! of its own; unset or `sqlite`, on a SQLite file. `scripts/test` runs those files both ways.
//! SQL given here is written once for both engines (`?N` parameters, standard functions).
#![allow(dead_code)] // each test file uses the part it needs

use std::path::{Path, PathBuf};

/// A database of its own on the test server, dropped when this is.
pub struct PgDb {
    admin: String,
    pub name: String,
    pub url: String,
}

impl PgDb {
    pub fn new() -> Self {
        let admin = std::env::var("MOVIEREC_TEST_PG").expect(
            "MOVIEREC_TEST_PG must name a PostgreSQL server (scripts/test starts one with scripts/pg)",
        );
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let name = format!(
            "movierec_test_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let mut client = postgres::Client::connect(&admin, postgres::NoTls).expect("connect");
        client
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create database");
        let (base, _) = admin.rsplit_once('/').expect("a URL with a database");
        let url = format!("{base}/{name}");
        Self { admin, name, url }
    }

    pub fn location(&self) -> movierec::store::Location {
        self.url.parse().expect("URL")
    }

    pub fn client(&self) -> postgres::Client {
        postgres::Client::connect(&self.url, postgres::NoTls).expect("connect")
    }

    /// Every foreign key some row breaks, as `table: key`: an anti-join per key in
    /// `pg_constraint`, so a key added later is checked too.
    pub fn broken_keys(&self) -> Vec<String> {
        let mut client = self.client();
        let keys = client
            .query(
                "SELECT c.conname::TEXT, c.conrelid::regclass::TEXT, c.confrelid::regclass::TEXT,
                        string_agg('p.' || f.attname || ' = c.' || a.attname, ' AND ' ORDER BY k.ord),
                        string_agg('c.' || a.attname || ' IS NOT NULL', ' AND ' ORDER BY k.ord)
                 FROM pg_constraint AS c
                 CROSS JOIN LATERAL unnest(c.conkey, c.confkey) WITH ORDINALITY AS k(col, ref, ord)
                 JOIN pg_attribute AS a ON a.attrelid = c.conrelid AND a.attnum = k.col
                 JOIN pg_attribute AS f ON f.attrelid = c.confrelid AND f.attnum = k.ref
                 WHERE c.contype = 'f' GROUP BY c.oid, c.conname, c.conrelid, c.confrelid",
                &[],
            )
            .expect("foreign keys");
        assert!(keys.len() > 10, "{} foreign keys", keys.len());
        let mut broken = Vec::new();
        for key in keys {
            let (name, child, parent): (String, String, String) =
                (key.get(0), key.get(1), key.get(2));
            let (matches, present): (String, String) = (key.get(3), key.get(4));
            let orphans: i64 = client
                .query_one(
                    &format!(
                        "SELECT COUNT(*) FROM {child} AS c WHERE {present}
                         AND NOT EXISTS (SELECT 1 FROM {parent} AS p WHERE {matches})"
                    ),
                    &[],
                )
                .expect("orphans")
                .get(0);
            if orphans > 0 {
                broken.push(format!(
                    "{child}: {name} ({orphans} rows name no row of {parent})"
                ));
            }
        }
        broken
    }
}

impl Default for PgDb {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        if let Ok(mut c) = postgres::Client::connect(&self.admin, postgres::NoTls) {
            let _ = c.batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// Which engine `MOVIEREC_TEST_ENGINE` names; anything but the two is a mistake, not SQLite.
pub fn postgres_requested() -> bool {
    match std::env::var("MOVIEREC_TEST_ENGINE").as_deref() {
        Err(_) | Ok("") | Ok("sqlite") => false,
        Ok("postgres") => true,
        Ok(other) => panic!("MOVIEREC_TEST_ENGINE={other}: expected sqlite or postgres"),
    }
}

/// One value a test read, whichever engine stored it.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
}

impl Cell {
    pub fn int(&self) -> i64 {
        match self {
            Cell::Int(v) => *v,
            other => panic!("expected an integer, read {other:?}"),
        }
    }

    pub fn real(&self) -> f64 {
        match self {
            Cell::Real(v) => *v,
            Cell::Int(v) => *v as f64,
            other => panic!("expected a number, read {other:?}"),
        }
    }

    pub fn text(&self) -> String {
        self.opt_text()
            .unwrap_or_else(|| panic!("expected text, read NULL"))
    }

    pub fn opt_int(&self) -> Option<i64> {
        (*self != Cell::Null).then(|| self.int())
    }

    pub fn opt_real(&self) -> Option<f64> {
        (*self != Cell::Null).then(|| self.real())
    }

    pub fn opt_text(&self) -> Option<String> {
        match self {
            Cell::Text(v) => Some(v.clone()),
            Cell::Null => None,
            other => panic!("expected text, read {other:?}"),
        }
    }
}

/// The database under test: a SQLite file, or a PostgreSQL database of the test's own.
pub enum TestDb {
    Sqlite(PathBuf),
    Postgres(PgDb),
}

impl TestDb {
    /// The engine the run asked for; `file` is the SQLite file's path when that is SQLite.
    pub fn new(file: PathBuf) -> Self {
        if postgres_requested() {
            TestDb::Postgres(PgDb::new())
        } else {
            TestDb::Sqlite(file)
        }
    }

    /// What `--db` and `MOVIEREC_DB` take.
    pub fn arg(&self) -> String {
        match self {
            TestDb::Sqlite(p) => p.to_str().expect("a UTF-8 path").to_owned(),
            TestDb::Postgres(pg) => pg.url.clone(),
        }
    }

    /// Where movierec keeps its files for this database when `--data-dir` is not given,
    /// relative to `cwd`, the directory the command runs in.
    pub fn default_data_dir(&self, cwd: &Path) -> PathBuf {
        match self {
            TestDb::Sqlite(p) => {
                let stem = p.file_stem().and_then(|s| s.to_str()).expect("a file name");
                p.with_file_name(format!("{stem}-data"))
            }
            TestDb::Postgres(_) => cwd.join("movierec-data"),
        }
    }

    /// Every row of `sql` (parameters `?1`, `?2`, … bound as text).
    pub fn rows(&self, sql: &str, params: &[&str]) -> Vec<Vec<Cell>> {
        match self {
            TestDb::Sqlite(path) => {
                let conn = rusqlite::Connection::open(path).expect("open db");
                let mut stmt = conn.prepare(sql).expect("prepare");
                let width = stmt.column_count();
                let rows = stmt
                    .query_map(rusqlite::params_from_iter(params), |r| {
                        (0..width)
                            .map(|i| {
                                Ok(match r.get_ref(i)? {
                                    rusqlite::types::ValueRef::Null => Cell::Null,
                                    rusqlite::types::ValueRef::Integer(v) => Cell::Int(v),
                                    rusqlite::types::ValueRef::Real(v) => Cell::Real(v),
                                    rusqlite::types::ValueRef::Text(v) => {
                                        Cell::Text(String::from_utf8_lossy(v).into_owned())
                                    }
                                    rusqlite::types::ValueRef::Blob(_) => {
                                        panic!("a test read a blob: {sql}")
                                    }
                                })
                            })
                            .collect::<Result<Vec<_>, _>>()
                    })
                    .expect("query");
                rows.collect::<Result<_, _>>().expect("rows")
            }
            TestDb::Postgres(pg) => {
                let params: Vec<&(dyn postgres::types::ToSql + Sync)> = params
                    .iter()
                    .map(|p| p as &(dyn postgres::types::ToSql + Sync))
                    .collect();
                let rows = pg
                    .client()
                    .query(&dollar_params(sql), &params)
                    .unwrap_or_else(|e| panic!("{sql}: {e}"));
                rows.iter()
                    .map(|row| (0..row.len()).map(|i| pg_cell(row, i)).collect())
                    .collect()
            }
        }
    }

    /// The one row of `sql`.
    pub fn row(&self, sql: &str, params: &[&str]) -> Vec<Cell> {
        let mut rows = self.rows(sql, params);
        assert_eq!(rows.len(), 1, "one row expected of {sql}");
        rows.remove(0)
    }

    /// The one value of `sql`.
    pub fn value(&self, sql: &str, params: &[&str]) -> Cell {
        let mut row = self.row(sql, params);
        assert_eq!(row.len(), 1, "one column expected of {sql}");
        row.remove(0)
    }

    /// The one integer of `sql`, or `None` while it cannot be read yet (no database, no table);
    /// reads SQLite read-only, so polling never creates the file.
    pub fn poll_int(&self, sql: &str) -> Option<i64> {
        match self {
            TestDb::Sqlite(path) => rusqlite::Connection::open_with_flags(
                path,
                rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
            )
            .and_then(|c| c.query_row(sql, [], |r| r.get(0)))
            .ok(),
            TestDb::Postgres(pg) => postgres::Client::connect(&pg.url, postgres::NoTls)
                .and_then(|mut c| c.query_one(sql, &[]))
                .ok()
                .map(|r| r.get(0)),
        }
    }

    /// Every `table.column` whose value somewhere holds `needle`'s bytes (text, JSON or blob).
    pub fn columns_containing(&self, needle: &str) -> Vec<String> {
        // (table, column, whether it holds bytes)
        let columns: Vec<(String, String, bool)> = match self {
            TestDb::Sqlite(_) => self.rows(
                "SELECT m.name, p.name, 0 FROM sqlite_master AS m, pragma_table_info(m.name) AS p
                 WHERE m.type = 'table'",
                &[],
            ),
            TestDb::Postgres(_) => self.rows(
                "SELECT table_name::TEXT, column_name::TEXT, CAST(data_type = 'bytea' AS INT)
                 FROM information_schema.columns
                 WHERE table_schema = 'public' AND data_type IN ('text', 'bytea', 'jsonb')",
                &[],
            ),
        }
        .iter()
        .map(|r| (r[0].text(), r[1].text(), r[2].int() == 1))
        .collect();
        let mut hits = Vec::new();
        for (table, column, bytes) in columns {
            let holds = match (self, bytes) {
                (TestDb::Sqlite(_), _) => "instr(CAST(\"{c}\" AS BLOB), CAST(?1 AS BLOB)) > 0",
                (TestDb::Postgres(_), true) => "position(convert_to(?1, 'UTF8') IN \"{c}\") > 0",
                (TestDb::Postgres(_), false) => "strpos(\"{c}\"::TEXT, ?1) > 0",
            }
            .replace("{c}", &column);
            let sql = format!("SELECT COUNT(*) FROM \"{table}\" WHERE {holds}");
            if self.value(&sql, &[needle]).int() > 0 {
                hits.push(format!("{table}.{column}"));
            }
        }
        hits
    }

    /// Every foreign key some row breaks, as `table: key` (empty when every reference holds).
    pub fn broken_keys(&self) -> Vec<String> {
        match self {
            TestDb::Sqlite(_) => self
                .rows(
                    "SELECT \"table\", parent FROM pragma_foreign_key_check",
                    &[],
                )
                .iter()
                .map(|r| format!("{} -> {}", r[0].text(), r[1].text()))
                .collect(),
            TestDb::Postgres(pg) => pg.broken_keys(),
        }
    }

    /// Whether the database is whole: SQLite's integrity check, and every reference holds.
    pub fn assert_intact(&self) {
        if let TestDb::Sqlite(_) = self {
            assert_eq!(
                self.value("PRAGMA integrity_check", &[]).text(),
                "ok",
                "integrity_check"
            );
        }
        assert_eq!(
            self.broken_keys(),
            Vec::<String>::new(),
            "broken references"
        );
    }

    /// Runs statements that return nothing (the engine's own dialect where they differ).
    pub fn execute(&self, sqlite: &str, postgres: &str) {
        match self {
            TestDb::Sqlite(path) => rusqlite::Connection::open(path)
                .and_then(|c| c.execute_batch(sqlite))
                .expect("execute"),
            TestDb::Postgres(pg) => pg.client().batch_execute(postgres).expect("execute"),
        }
    }
}

/// `?N` → `$N`: PostgreSQL's spelling of numbered parameters.
fn dollar_params(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '?' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('$');
        } else {
            out.push(c);
        }
    }
    out
}

fn pg_cell(row: &postgres::Row, i: usize) -> Cell {
    use postgres::types::Type;
    let ty = row.columns()[i].type_().clone();
    let cell = if ty == Type::INT8 {
        row.get::<_, Option<i64>>(i).map(Cell::Int)
    } else if ty == Type::INT4 {
        row.get::<_, Option<i32>>(i).map(|v| Cell::Int(v.into()))
    } else if ty == Type::INT2 {
        row.get::<_, Option<i16>>(i).map(|v| Cell::Int(v.into()))
    } else if ty == Type::FLOAT8 {
        row.get::<_, Option<f64>>(i).map(Cell::Real)
    } else if ty == Type::FLOAT4 {
        row.get::<_, Option<f32>>(i).map(|v| Cell::Real(v.into()))
    } else if ty == Type::BOOL {
        row.get::<_, Option<bool>>(i).map(|v| Cell::Int(v.into()))
    } else if ty == Type::TEXT || ty == Type::VARCHAR || ty == Type::NAME {
        row.get::<_, Option<String>>(i).map(Cell::Text)
    } else {
        panic!("a test read a column of type {ty}: cast it")
    };
    cell.unwrap_or(Cell::Null)
}
