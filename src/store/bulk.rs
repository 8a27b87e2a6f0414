//! Many rows per statement. SQLite parses, plans and steps a statement once for up to [`ROWS`]
//! rows instead of once per row; with the rows in one `VALUES` list a batch's insert, upsert,
//! delete or join is one set-based statement per 64 rows.

use super::StoreError;
use rusqlite::types::{ToSqlOutput, Value};
use rusqlite::{params_from_iter, Connection, Row, Statement};

/// Rows per statement: 64 rows of up to 500 columns stay under SQLite's 32,766 parameters.
const ROWS: usize = 64;

/// The values of rows of one shape, in row order, borrowed where they can be.
pub(super) struct Rows<'a> {
    width: usize,
    values: Vec<ToSqlOutput<'a>>,
}

/// NULL for `None`.
pub(super) fn nullable<'a, T: Into<ToSqlOutput<'a>>>(value: Option<T>) -> ToSqlOutput<'a> {
    value.map_or(ToSqlOutput::Owned(Value::Null), Into::into)
}

/// A text that may be borrowed for as long as the rows live; NULL for `None`.
pub(super) fn text<'a>(value: Option<std::borrow::Cow<'a, str>>) -> ToSqlOutput<'a> {
    match value {
        Some(std::borrow::Cow::Borrowed(s)) => s.into(),
        Some(std::borrow::Cow::Owned(s)) => ToSqlOutput::Owned(Value::Text(s)),
        None => ToSqlOutput::Owned(Value::Null),
    }
}

impl<'a> Rows<'a> {
    pub(super) fn new(width: usize) -> Self {
        Self {
            width,
            values: Vec::new(),
        }
    }

    /// Adds a row; it must have the shape's width.
    pub(super) fn push<const N: usize>(&mut self, row: [ToSqlOutput<'a>; N]) {
        debug_assert_eq!(N, self.width, "a row of the wrong width");
        self.values.extend(row);
    }

    /// Runs `{head} VALUES (?, …), (?, …) {tail}` over the rows, [`ROWS`] at a time, and hands
    /// every row the statements return to `each`. In `head` and `tail` the list's columns are
    /// `column1`, `column2`… (SQLite's names for a `VALUES` list used as a table).
    pub(super) fn run(
        &self,
        conn: &Connection,
        head: &str,
        tail: &str,
        mut each: impl FnMut(&Row<'_>) -> rusqlite::Result<()>,
    ) -> Result<(), StoreError> {
        let row = format!("({})", vec!["?"; self.width].join(", "));
        let sql = |n: usize| format!("{head} VALUES {} {tail}", vec![row.as_str(); n].join(", "));
        let full = sql(ROWS);
        let mut rest = &self.values[..];
        while !rest.is_empty() {
            // Full chunks, then the rest in chunks of 32, 16, … 1 rows: every statement is one
            // of seven lengths, each prepared once and cached, where a statement of the rest's
            // exact length would be prepared and thrown away on every call.
            let n = chunk_rows(rest.len() / self.width);
            let (chunk, next) = rest.split_at(n * self.width);
            let mut stmt = if n == ROWS {
                conn.prepare_cached(&full)?
            } else {
                conn.prepare_cached(&sql(n))?
            };
            step(&mut stmt, chunk, &mut each)?;
            rest = next;
        }
        Ok(())
    }

    /// [`Rows::run`] for a statement that returns nothing.
    pub(super) fn execute(
        &self,
        conn: &Connection,
        head: &str,
        tail: &str,
    ) -> Result<(), StoreError> {
        self.run(conn, head, tail, |_| Ok(()))
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

fn step(
    stmt: &mut Statement<'_>,
    values: &[ToSqlOutput<'_>],
    each: &mut impl FnMut(&Row<'_>) -> rusqlite::Result<()>,
) -> Result<(), StoreError> {
    let mut rows = stmt.query(params_from_iter(values))?;
    while let Some(r) = rows.next()? {
        each(r)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_row_is_written_once_in_order_whatever_the_count() {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch("CREATE TABLE t (seq INTEGER, name TEXT)")
            .expect("table");
        for count in [0, 1, 63, 64, 65, 100, 200] {
            conn.execute_batch("DELETE FROM t").expect("clear");
            let names: Vec<String> = (0..count).map(|i| format!("row {i}")).collect();
            let mut rows = Rows::new(2);
            for (i, name) in names.iter().enumerate() {
                rows.push([(i as i64).into(), name.as_str().into()]);
            }
            rows.execute(&conn, "INSERT INTO t (seq, name)", "")
                .expect("insert");
            let mut stmt = conn
                .prepare("SELECT seq, name FROM t ORDER BY rowid")
                .expect("q");
            let back: Vec<(i64, String)> = stmt
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .expect("rows")
                .collect::<Result<_, _>>()
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
