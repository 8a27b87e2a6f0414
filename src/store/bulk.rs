//! Many rows per statement. SQLite parses, plans and steps a statement once for up to [`ROWS`]
//! rows instead of once per row; with the rows in one `VALUES` list a batch's insert, upsert,
//! delete or join is one set-based statement per 64 rows, on either engine.

use super::sql::{Arg, Db, Row, Value};
use super::StoreError;

/// Rows per statement: 64 rows of up to 500 columns stay under SQLite's 32,766 parameters.
const ROWS: usize = 64;

/// A column's type, which PostgreSQL must be told for a `VALUES` list that is not an insert's
/// (`$1::BIGINT`): a parameter it cannot place would be text. SQLite needs no telling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ty {
    Int,
    Real,
    Text,
}

impl Ty {
    fn postgres(self) -> &'static str {
        match self {
            Ty::Int => "BIGINT",
            Ty::Real => "DOUBLE PRECISION",
            Ty::Text => "TEXT",
        }
    }
}

/// A value of a row: borrowed where it can be, owned text where it must be.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Cell<'a> {
    Value(Value<'a>),
    Owned(String),
}

impl Arg for Cell<'_> {
    fn value(&self) -> Value<'_> {
        match self {
            Cell::Value(v) => *v,
            Cell::Owned(s) => Value::Text(s),
        }
    }
}

macro_rules! int_cell {
    ($($t:ty),+) => {$(
        impl From<$t> for Cell<'_> {
            fn from(i: $t) -> Self {
                Cell::Value(Value::Int(i64::from(i)))
            }
        }
    )+};
}
int_cell!(i64, i32, u32, u16, u8);

impl From<f64> for Cell<'_> {
    fn from(f: f64) -> Self {
        Cell::Value(Value::Real(f))
    }
}

impl<'a> From<&'a str> for Cell<'a> {
    fn from(s: &'a str) -> Self {
        Cell::Value(Value::Text(s))
    }
}

impl From<String> for Cell<'_> {
    fn from(s: String) -> Self {
        Cell::Owned(s)
    }
}

/// The values of rows of one shape, in row order.
pub(super) struct Rows<'a> {
    types: &'static [Ty],
    values: Vec<Cell<'a>>,
}

/// NULL for `None`.
pub(super) fn nullable<'a, T: Into<Cell<'a>>>(value: Option<T>) -> Cell<'a> {
    value.map_or(Cell::Value(Value::Null), Into::into)
}

/// A text that may be borrowed for as long as the rows live; NULL for `None`.
pub(super) fn text<'a>(value: Option<std::borrow::Cow<'a, str>>) -> Cell<'a> {
    match value {
        Some(std::borrow::Cow::Borrowed(s)) => s.into(),
        Some(std::borrow::Cow::Owned(s)) => Cell::Owned(s),
        None => Cell::Value(Value::Null),
    }
}

impl<'a> Rows<'a> {
    /// Rows whose columns have `types`.
    pub(super) fn new(types: &'static [Ty]) -> Self {
        Self {
            types,
            values: Vec::new(),
        }
    }

    /// Adds a row; it must have the shape's width.
    pub(super) fn push<const N: usize>(&mut self, row: [Cell<'a>; N]) {
        debug_assert_eq!(N, self.types.len(), "a row of the wrong width");
        self.values.extend(row);
    }

    /// Runs `{head} VALUES (?, …), (?, …) {tail}` over the rows, [`ROWS`] at a time, and hands
    /// every row the statements return to `each` (which must not use `db`: PostgreSQL's
    /// connection is busy streaming them). In `head` and `tail` the list's columns are
    /// `column1`, `column2`… (both engines' names for a `VALUES` list used as a table).
    pub(super) fn run(
        &self,
        db: &Db<'_>,
        head: &str,
        tail: &str,
        mut each: impl FnMut(&Row<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        let placeholders: Vec<String> = self
            .types
            .iter()
            .map(|t| match db {
                Db::Sqlite(_) => "?".to_owned(),
                Db::Postgres(_) => format!("?::{}", t.postgres()),
            })
            .collect();
        let row = format!("({})", placeholders.join(", "));
        let sql = |n: usize| format!("{head} VALUES {} {tail}", vec![row.as_str(); n].join(", "));
        let full = sql(ROWS);
        let width = self.types.len();
        let mut rest = &self.values[..];
        let mut args: Vec<&dyn Arg> = Vec::with_capacity(ROWS * width);
        while !rest.is_empty() {
            // Full chunks, then the rest in chunks of 32, 16, … 1 rows: every statement is one
            // of seven lengths, each prepared once and cached, where a statement of the rest's
            // exact length would be prepared and thrown away on every call.
            let n = chunk_rows(rest.len() / width);
            let (chunk, next) = rest.split_at(n * width);
            args.clear();
            args.extend(chunk.iter().map(|c| c as &dyn Arg));
            if n == ROWS {
                db.for_each(&full, &args, &mut each)?;
            } else {
                db.for_each(&sql(n), &args, &mut each)?;
            }
            rest = next;
        }
        Ok(())
    }

    /// [`Rows::run`] for a statement that returns nothing.
    pub(super) fn execute(&self, db: &Db<'_>, head: &str, tail: &str) -> Result<(), StoreError> {
        self.run(db, head, tail, |_| Ok(()))
    }
}

/// Rows in the next statement when `left` rows are left: [`ROWS`], or the largest power of two
/// not above `left`.
fn chunk_rows(left: usize) -> usize {
    if left >= ROWS {
        ROWS
    } else {
        1 << left.ilog2()
    }
}

/// Statements [`Rows::run`] may prepare per shape of rows: one per chunk length.
pub(super) const STATEMENTS_PER_SHAPE: usize = ROWS.ilog2() as usize + 1;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sql::args;

    #[test]
    fn every_row_is_written_once_in_order_whatever_the_count() {
        let conn = rusqlite::Connection::open_in_memory().expect("open");
        let db = Db::Sqlite(&conn);
        db.batch("CREATE TABLE t (seq INTEGER, name TEXT)")
            .expect("table");
        for count in [0, 1, 63, 64, 65, 100, 200] {
            db.batch("DELETE FROM t").expect("clear");
            let names: Vec<String> = (0..count).map(|i| format!("row {i}")).collect();
            let mut rows = Rows::new(&[Ty::Int, Ty::Text]);
            for (i, name) in names.iter().enumerate() {
                rows.push([(i as i64).into(), name.as_str().into()]);
            }
            rows.execute(&db, "INSERT INTO t (seq, name)", "")
                .expect("insert");
            let back: Vec<(i64, String)> = db
                .query("SELECT seq, name FROM t ORDER BY rowid", args![], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .expect("read");
            let expected: Vec<(i64, String)> = names
                .iter()
                .enumerate()
                .map(|(i, n)| (i as i64, n.clone()))
                .collect();
            assert_eq!(back, expected, "{count} rows");
        }
        // 100 rows: 64 + 32 + 4, so the lengths stay few and are prepared once.
        assert_eq!(chunk_rows(100), 64);
        assert_eq!(chunk_rows(36), 32);
        assert_eq!(chunk_rows(4), 4);
        assert_eq!(chunk_rows(1), 1);
    }
}
