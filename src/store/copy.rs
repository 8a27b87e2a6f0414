//! `movierec migrate --to postgres://…`: a SQLite database copied into an empty PostgreSQL
//! one, every table streamed through `COPY … FROM STDIN (FORMAT binary)` in one transaction,
//! then checked — each table's row count and content checksum read back from PostgreSQL must
//! equal SQLite's — before it commits. A failed copy or check leaves PostgreSQL as it was.

use super::postgres::PgUrl;
use super::sql::{args, Arg, Db, Owned, PgArg, Row, Value};
use super::{Store, StoreError};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::fallible_iterator::FallibleIterator;
use postgres::types::ToSql;
use sha2::{Digest, Sha256};

/// Every table, parents before children (the order foreign keys need), with its identity
/// column if PostgreSQL makes its ids.
const TABLES: &[(&str, Option<&str>)] = &[
    ("etl_runs", Some("run_id")),
    ("ingest_runs", Some("ingest_run_id")),
    ("ingest_windows", None),
    ("ingest_pages", None),
    ("ingest_items", None),
    ("ingest_responses", None),
    ("api_quota", None),
    ("movies", Some("movieid")),
    ("movie_ids", None),
    ("movie_sources", None),
    ("genres", Some("genre_id")),
    ("movie_genres", None),
    ("keywords", Some("keyword_id")),
    ("movie_keywords", None),
    ("people", Some("person_id")),
    ("movie_people", None),
    ("users", Some("user_id")),
    ("ratings", None),
    ("tags", None),
    ("etl_rejects", None),
    ("models", Some("model_id")),
    ("catalog_genres", None),
    ("movie_keys", None),
    ("movie_redirects", None),
];

/// One table as copied: its rows and checksum on both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopiedTable {
    pub table: &'static str,
    pub rows: u64,
    /// Of the rows in SQLite, order-independent (see [`Checksum`]).
    pub checksum: String,
    /// Whether PostgreSQL's count and checksum, read back, are the same.
    pub matches: bool,
}

/// An order-independent checksum of a table's rows: the wrapping sum of each row's SHA-256
/// (first 16 bytes), over a rendering of its values that both engines give alike. Order-free,
/// so no collation or scan order can make equal tables differ.
#[derive(Default)]
struct Checksum {
    rows: u64,
    sum: u128,
    buf: Vec<u8>,
}

impl Checksum {
    fn add_value(&mut self, v: Value<'_>) {
        match v {
            Value::Null => self.buf.push(b'n'),
            Value::Int(i) => {
                self.buf.push(b'i');
                self.buf.extend_from_slice(&i.to_le_bytes());
            }
            Value::Real(f) => {
                self.buf.push(b'r');
                self.buf.extend_from_slice(&f.to_bits().to_le_bytes());
            }
            Value::Text(t) => {
                self.buf.push(b't');
                self.buf.extend_from_slice(&(t.len() as u64).to_le_bytes());
                self.buf.extend_from_slice(t.as_bytes());
            }
            Value::Blob(b) => {
                self.buf.push(b'b');
                self.buf.extend_from_slice(&(b.len() as u64).to_le_bytes());
                self.buf.extend_from_slice(b);
            }
        }
    }

    fn end_row(&mut self) {
        let digest = Sha256::digest(&self.buf);
        let mut head = [0u8; 16];
        head.copy_from_slice(&digest[..16]);
        self.sum = self.sum.wrapping_add(u128::from_le_bytes(head));
        self.rows += 1;
        self.buf.clear();
    }

    fn hex(&self) -> String {
        format!("{:032x}", self.sum)
    }
}

/// The columns of `table` as SQLite declares them, in order (lower-cased, as PostgreSQL
/// names them).
fn columns(source: &Db<'_>, table: &str) -> Result<Vec<String>, StoreError> {
    source.query(
        "SELECT lower(name) FROM pragma_table_info(?1) ORDER BY cid",
        args![table],
        |r| r.get(0),
    )
}

/// Count and checksum of `table` (`columns` of it) as PostgreSQL holds it in `tx`.
fn checksum_postgres(
    tx: &mut postgres::Transaction<'_>,
    table: &str,
    columns: &[String],
) -> Result<Checksum, StoreError> {
    let mut sum = Checksum::default();
    let none: [&(dyn ToSql + Sync); 0] = [];
    let mut rows = tx.query_raw(&format!("SELECT {} FROM {table}", columns.join(", ")), none)?;
    while let Some(row) = FallibleIterator::next(&mut rows)? {
        let row = Row::Postgres(&row);
        for i in 0..columns.len() {
            let cell: Owned = row.get(i)?;
            sum.add_value(cell.value());
        }
        sum.end_row();
    }
    Ok(sum)
}

impl Store {
    /// Copies this (SQLite) database into the empty PostgreSQL database at `to` and checks it;
    /// `progress` hears of each table as it is done.
    pub fn copy_to_postgres(
        &self,
        to: &PgUrl,
        mut progress: impl FnMut(&CopiedTable),
    ) -> Result<Vec<CopiedTable>, StoreError> {
        let source = self.db();
        if source.is_postgres() {
            return Err(StoreError::Unsupported {
                what: "copying from PostgreSQL",
            });
        }
        let mut target = super::postgres::connect_migrated(to)?;
        let already: i64 = target
            .query_one(
                "SELECT (SELECT COUNT(*) FROM etl_runs) + (SELECT COUNT(*) FROM movies)
                      + (SELECT COUNT(*) FROM models)",
                &[],
            )?
            .get(0);
        if already > 0 {
            return Err(StoreError::NotEmpty {
                url: to.to_string(),
            });
        }
        source.snapshot(|source| {
            let mut tx = target.transaction()?;
            // The schema's own genre rows are the source's too: the source's are copied.
            tx.batch_execute("DELETE FROM genres")?;
            let mut copied = Vec::with_capacity(TABLES.len());
            for &(table, identity) in TABLES {
                let columns = columns(source, table)?;
                let list = columns.join(", ");
                let types: Vec<_> = tx
                    .prepare(&format!("SELECT {list} FROM {table} LIMIT 0"))?
                    .columns()
                    .iter()
                    .map(|c| c.type_().clone())
                    .collect();
                let writer =
                    tx.copy_in(&format!("COPY {table} ({list}) FROM STDIN (FORMAT binary)"))?;
                let mut writer = BinaryCopyInWriter::new(writer, &types);
                let mut sum = Checksum::default();
                let mut cells: Vec<Owned> = Vec::with_capacity(columns.len());
                source.for_each(&format!("SELECT {list} FROM {table}"), args![], |row| {
                    cells.clear();
                    for i in 0..columns.len() {
                        let cell: Owned = row.get(i)?;
                        sum.add_value(cell.value());
                        cells.push(cell);
                    }
                    sum.end_row();
                    let pg: Vec<PgArg<'_>> = cells.iter().map(|c| PgArg(c.value())).collect();
                    let refs: Vec<&(dyn ToSql + Sync)> =
                        pg.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
                    writer.write(&refs).map_err(|e| copy_error(table, sum.rows, e))?;
                    Ok(())
                })?;
                writer.finish().map_err(|e| copy_error(table, sum.rows, e))?;
                if let Some(column) = identity {
                    tx.execute(
                        &format!(
                            "SELECT setval(pg_get_serial_sequence('{table}', '{column}'),
                                           COALESCE(MAX({column}), 0) + 1, false) FROM {table}"
                        ),
                        &[],
                    )?;
                }
                let back = checksum_postgres(&mut tx, table, &columns)?;
                let done = CopiedTable {
                    table,
                    rows: sum.rows,
                    checksum: sum.hex(),
                    matches: back.rows == sum.rows && back.sum == sum.sum,
                };
                progress(&done);
                copied.push(done);
            }
            if let Some(bad) = copied.iter().find(|t| !t.matches) {
                return Err(StoreError::Corrupt(format!(
                    "{}: PostgreSQL holds other rows than SQLite after the copy; nothing was committed",
                    bad.table
                )));
            }
            tx.commit()?;
            Ok(copied)
        })
    }
}

fn copy_error(table: &str, row: u64, e: postgres::Error) -> StoreError {
    StoreError::Corrupt(format!(
        "copying {table}, row {}: {}",
        row,
        super::postgres::describe(&e)
    ))
}
