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
        for chunk in self.values.chunks(ROWS * self.width) {
            let n = chunk.len() / self.width;
            // The last, shorter chunk's statement is not cached: its length varies.
            if n == ROWS {
                step(&mut *conn.prepare_cached(&full)?, chunk, &mut each)?;
            } else {
                step(&mut conn.prepare(&sql(n))?, chunk, &mut each)?;
            }
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
