//! One way to send SQL to either engine: a connection ([`Db`]), the values bound to a statement
//! ([`Arg`], [`args!`]) and read from a row ([`Row::get`], [`Column`]).
//!
//! Statements are written once, in SQLite's placeholders (`?1`, `?`); on PostgreSQL they are
//! renumbered to `$1` ([`postgres_sql`]). Values cross as SQLite's five storage classes
//! ([`Value`]): PostgreSQL's stricter types are met at the boundary (an integer bound to a
//! `DOUBLE PRECISION` parameter is sent as one; a `BOOLEAN` column reads as 0 or 1), so the
//! codecs of domain values (`codec.rs`) are written once too.

use super::StoreError;
use postgres::types::{IsNull, ToSql, Type};
use std::cell::RefCell;

/// A value as both engines can hold it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Null,
    Int(i64),
    Real(f64),
    Text(&'a str),
    Blob(&'a [u8]),
}

/// Something bound to a statement's parameter.
pub trait Arg {
    fn value(&self) -> Value<'_>;
}

/// Something read from a row's column.
pub trait Column: Sized {
    fn column(value: Value<'_>) -> Result<Self, String>;
}

/// The arguments of one statement, as `&[&dyn Arg]`.
macro_rules! args {
    ($($a:expr),* $(,)?) => { &[$(&$a as &dyn $crate::store::sql::Arg),*] as &[&dyn $crate::store::sql::Arg] };
}
pub(crate) use args;

macro_rules! int_arg {
    ($($t:ty),+) => {$(
        impl Arg for $t {
            fn value(&self) -> Value<'_> {
                Value::Int(i64::from(*self))
            }
        }
        impl Column for $t {
            fn column(value: Value<'_>) -> Result<Self, String> {
                let i = i64::column(value)?;
                <$t>::try_from(i).map_err(|_| format!("{i} is out of range for {}", stringify!($t)))
            }
        }
    )+};
}
int_arg!(i32, u32, u16, u8);

impl Arg for i64 {
    fn value(&self) -> Value<'_> {
        Value::Int(*self)
    }
}
impl Column for i64 {
    fn column(value: Value<'_>) -> Result<Self, String> {
        match value {
            Value::Int(i) => Ok(i),
            other => Err(format!("expected an integer, found {other:?}")),
        }
    }
}
impl Arg for u64 {
    fn value(&self) -> Value<'_> {
        Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}
impl Column for u64 {
    fn column(value: Value<'_>) -> Result<Self, String> {
        let i = i64::column(value)?;
        u64::try_from(i).map_err(|_| format!("{i} is negative"))
    }
}
impl Arg for usize {
    fn value(&self) -> Value<'_> {
        Value::Int(i64::try_from(*self).unwrap_or(i64::MAX))
    }
}
impl Arg for bool {
    fn value(&self) -> Value<'_> {
        Value::Int(i64::from(*self))
    }
}
impl Column for bool {
    fn column(value: Value<'_>) -> Result<Self, String> {
        Ok(i64::column(value)? != 0)
    }
}
impl Arg for f64 {
    fn value(&self) -> Value<'_> {
        Value::Real(*self)
    }
}
impl Column for f64 {
    fn column(value: Value<'_>) -> Result<Self, String> {
        match value {
            Value::Real(f) => Ok(f),
            Value::Int(i) => Ok(i as f64),
            other => Err(format!("expected a number, found {other:?}")),
        }
    }
}
impl Arg for str {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}
impl Arg for String {
    fn value(&self) -> Value<'_> {
        Value::Text(self)
    }
}
impl Column for String {
    fn column(value: Value<'_>) -> Result<Self, String> {
        match value {
            Value::Text(s) => Ok(s.to_owned()),
            other => Err(format!("expected text, found {other:?}")),
        }
    }
}
impl Arg for [u8] {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}
impl Arg for Vec<u8> {
    fn value(&self) -> Value<'_> {
        Value::Blob(self)
    }
}
impl Column for Vec<u8> {
    fn column(value: Value<'_>) -> Result<Self, String> {
        match value {
            Value::Blob(b) => Ok(b.to_vec()),
            other => Err(format!("expected bytes, found {other:?}")),
        }
    }
}
impl<T: Arg + ?Sized> Arg for &T {
    fn value(&self) -> Value<'_> {
        (**self).value()
    }
}
impl<T: Arg> Arg for Option<T> {
    fn value(&self) -> Value<'_> {
        self.as_ref().map_or(Value::Null, Arg::value)
    }
}
impl<T: Column> Column for Option<T> {
    fn column(value: Value<'_>) -> Result<Self, String> {
        match value {
            Value::Null => Ok(None),
            v => T::column(v).map(Some),
        }
    }
}

/// A value owned: a bound argument built at run time (a filter's), or a cell read to be kept.
#[derive(Debug, Clone, PartialEq)]
pub enum Owned {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Arg for Owned {
    fn value(&self) -> Value<'_> {
        match self {
            Owned::Null => Value::Null,
            Owned::Int(i) => Value::Int(*i),
            Owned::Real(f) => Value::Real(*f),
            Owned::Text(t) => Value::Text(t),
            Owned::Blob(b) => Value::Blob(b),
        }
    }
}

impl Column for Owned {
    fn column(value: Value<'_>) -> Result<Self, String> {
        Ok(match value {
            Value::Null => Owned::Null,
            Value::Int(i) => Owned::Int(i),
            Value::Real(f) => Owned::Real(f),
            Value::Text(t) => Owned::Text(t.to_owned()),
            Value::Blob(b) => Owned::Blob(b.to_vec()),
        })
    }
}

/// One row of a result, from either engine.
pub enum Row<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r postgres::Row),
}

impl Row<'_> {
    /// Column `i`, converted to `T`.
    pub fn get<T: Column>(&self, i: usize) -> Result<T, StoreError> {
        let value = self.value(i)?;
        T::column(value).map_err(|e| StoreError::Corrupt(format!("column {i}: {e}")))
    }

    fn value(&self, i: usize) -> Result<Value<'_>, StoreError> {
        match self {
            Row::Sqlite(r) => Ok(match r.get_ref(i)? {
                rusqlite::types::ValueRef::Null => Value::Null,
                rusqlite::types::ValueRef::Integer(i) => Value::Int(i),
                rusqlite::types::ValueRef::Real(f) => Value::Real(f),
                rusqlite::types::ValueRef::Text(t) => Value::Text(
                    std::str::from_utf8(t)
                        .map_err(|e| StoreError::Corrupt(format!("column {i}: {e}")))?,
                ),
                rusqlite::types::ValueRef::Blob(b) => Value::Blob(b),
            }),
            Row::Postgres(r) => postgres_value(r, i),
        }
    }
}

fn postgres_value(row: &postgres::Row, i: usize) -> Result<Value<'_>, StoreError> {
    let Some(column) = row.columns().get(i) else {
        return Err(StoreError::Corrupt(format!("no column {i}")));
    };
    let ty = column.type_();
    let value = if *ty == Type::INT8 {
        row.try_get::<_, Option<i64>>(i)?.map(Value::Int)
    } else if *ty == Type::INT4 {
        row.try_get::<_, Option<i32>>(i)?
            .map(|v| Value::Int(v.into()))
    } else if *ty == Type::INT2 {
        row.try_get::<_, Option<i16>>(i)?
            .map(|v| Value::Int(v.into()))
    } else if *ty == Type::BOOL {
        row.try_get::<_, Option<bool>>(i)?
            .map(|v| Value::Int(v.into()))
    } else if *ty == Type::FLOAT8 {
        row.try_get::<_, Option<f64>>(i)?.map(Value::Real)
    } else if *ty == Type::FLOAT4 {
        row.try_get::<_, Option<f32>>(i)?
            .map(|v| Value::Real(v.into()))
    } else if *ty == Type::BYTEA {
        row.try_get::<_, Option<&[u8]>>(i)?.map(Value::Blob)
    } else if [
        Type::TEXT,
        Type::VARCHAR,
        Type::BPCHAR,
        Type::NAME,
        Type::UNKNOWN,
    ]
    .contains(ty)
    {
        row.try_get::<_, Option<&str>>(i)?.map(Value::Text)
    } else {
        return Err(StoreError::Corrupt(format!(
            "column {} has type {ty}, which movierec does not read (cast it in the query)",
            column.name()
        )));
    };
    Ok(value.unwrap_or(Value::Null))
}

/// An argument as PostgreSQL receives it: converted to the type the server inferred for its
/// parameter, the way SQLite would have stored it.
#[derive(Debug)]
pub struct PgArg<'a>(pub Value<'a>);

impl ToSql for PgArg<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(i) if *ty == Type::INT8 => i.to_sql(ty, out),
            Value::Int(i) if *ty == Type::INT4 => i32::try_from(i)?.to_sql(ty, out),
            Value::Int(i) if *ty == Type::INT2 => i16::try_from(i)?.to_sql(ty, out),
            Value::Int(i) if *ty == Type::FLOAT8 => (i as f64).to_sql(ty, out),
            Value::Int(i) if *ty == Type::BOOL => (i != 0).to_sql(ty, out),
            Value::Int(i) if *ty == Type::TEXT => i.to_string().to_sql(ty, out),
            Value::Real(f) if *ty == Type::FLOAT8 => f.to_sql(ty, out),
            Value::Real(f) if *ty == Type::FLOAT4 => (f as f32).to_sql(ty, out),
            Value::Text(s) => s.to_sql(ty, out),
            Value::Blob(b) => b.to_sql(ty, out),
            v => Err(format!("cannot send {v:?} as a {ty} parameter").into()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

impl rusqlite::ToSql for dyn Arg + '_ {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::ValueRef;
        Ok(rusqlite::types::ToSqlOutput::Borrowed(match self.value() {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Integer(i),
            Value::Real(f) => ValueRef::Real(f),
            Value::Text(s) => ValueRef::Text(s.as_bytes()),
            Value::Blob(b) => ValueRef::Blob(b),
        }))
    }
}

/// `sql` with SQLite's placeholders (`?NNN`, `?`) as PostgreSQL's (`$NNN`); string literals and
/// quoted names are left as they are.
pub fn postgres_sql(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut next = 0;
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => {
                quote = None;
                out.push(c);
            }
            (Some(_), c) => out.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                out.push(c);
            }
            (None, '?') => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                if digits.is_empty() {
                    next += 1;
                    digits = next.to_string();
                }
                out.push('$');
                out.push_str(&digits);
            }
            (None, c) => out.push(c),
        }
    }
    out
}

/// The channel a committed change of the catalog or the models is announced on.
pub const CHANGES: &str = "movierec_changes";

/// A PostgreSQL connection and the statements prepared on it, so a statement is parsed and
/// planned once per connection rather than on every call (one round trip instead of two).
pub struct PgConn {
    client: std::mem::ManuallyDrop<postgres::Client>,
    statements: std::collections::HashMap<String, postgres::Statement>,
}

impl Drop for PgConn {
    /// The synchronous client closes by blocking on a runtime of its own, which panics on a
    /// thread that is driving async tasks (a server's pool dropped there): there it is closed
    /// on a thread of its own, so no caller needs to know where it drops.
    fn drop(&mut self) {
        // SAFETY: taken once, here, and never used again.
        let client = unsafe { std::mem::ManuallyDrop::take(&mut self.client) };
        if tokio::runtime::Handle::try_current().is_err() {
            return drop(client);
        }
        if std::thread::Builder::new()
            .name("pg-close".into())
            .spawn(move || drop(client))
            .is_err()
        {
            tracing::warn!("cannot start a thread to close a PostgreSQL connection; leaking it");
        }
    }
}

impl PgConn {
    /// Statements kept per connection at most (the catalog's filters make a few dozen shapes).
    const MAX_STATEMENTS: usize = 512;

    pub fn new(client: postgres::Client) -> Self {
        Self {
            client: std::mem::ManuallyDrop::new(client),
            statements: std::collections::HashMap::new(),
        }
    }

    pub fn client(&mut self) -> &mut postgres::Client {
        &mut self.client
    }

    /// `sql` (SQLite's placeholders) prepared on this connection, once.
    fn prepare_cached(&mut self, sql: &str) -> Result<postgres::Statement, StoreError> {
        if let Some(stmt) = self.statements.get(sql) {
            return Ok(stmt.clone());
        }
        let stmt = self.client.prepare(&postgres_sql(sql))?;
        if self.statements.len() >= Self::MAX_STATEMENTS {
            self.statements.clear();
        }
        self.statements.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }
}

/// Pooled [`PgConn`]s (r2d2's manager for them).
pub struct PgManager(pub postgres::Config);

impl r2d2::ManageConnection for PgManager {
    type Connection = PgConn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<PgConn, postgres::Error> {
        Ok(PgConn::new(self.0.connect(postgres::NoTls)?))
    }

    fn is_valid(&self, conn: &mut PgConn) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(drop)
    }

    fn has_broken(&self, conn: &mut PgConn) -> bool {
        conn.client.is_closed()
    }
}

/// A PostgreSQL connection, owned or borrowed from a pool.
pub enum PgClient {
    Owned(PgConn),
    Pooled(r2d2::PooledConnection<PgManager>),
}

impl PgClient {
    fn conn(&mut self) -> &mut PgConn {
        match self {
            PgClient::Owned(c) => c,
            PgClient::Pooled(c) => c,
        }
    }

    fn client(&mut self) -> &mut postgres::Client {
        &mut self.conn().client
    }
}

/// Runs `f`, which blocks on the PostgreSQL driver's runtime of its own. On a worker thread of a
/// multi-threaded tokio runtime (ingest's store calls) the worker is told first
/// (`block_in_place`), since the driver cannot start its runtime inside another.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

/// A connection to either engine, for the statements written once for both.
pub enum Db<'c> {
    Sqlite(&'c rusqlite::Connection),
    Postgres(&'c RefCell<PgClient>),
}

impl Db<'_> {
    /// Which engine this is.
    pub fn is_postgres(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }

    /// Runs a statement that returns no rows; how many rows it changed.
    pub fn execute(&self, sql: &str, args: &[&dyn Arg]) -> Result<u64, StoreError> {
        match self {
            Db::Sqlite(c) => {
                Ok(c.prepare_cached(sql)?
                    .execute(rusqlite::params_from_iter(args.iter()))? as u64)
            }
            Db::Postgres(c) => blocking(|| {
                let mut c = c.borrow_mut();
                let stmt = c.conn().prepare_cached(sql)?;
                let pg: Vec<PgArg<'_>> = args.iter().map(|a| PgArg(a.value())).collect();
                let refs: Vec<&(dyn ToSql + Sync)> =
                    pg.iter().map(|a| a as &(dyn ToSql + Sync)).collect();
                Ok(c.client().execute(&stmt, &refs)?)
            }),
        }
    }

    /// Tells every server listening on PostgreSQL (`LISTEN movierec_changes`) that the catalog
    /// or the models changed, when this transaction commits; SQLite's servers poll instead.
    pub fn notify_change(&self) -> Result<(), StoreError> {
        if self.is_postgres() {
            self.batch(&format!("NOTIFY {CHANGES}"))?;
        }
        Ok(())
    }

    /// Runs statements without arguments, separated by `;`.
    pub fn batch(&self, sql: &str) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Db::Postgres(c) => blocking(|| Ok(c.borrow_mut().client().batch_execute(sql)?)),
        }
    }

    /// Calls `each` on every row, as the rows arrive (none are collected). `each` must not
    /// query the same connection: PostgreSQL's is busy streaming the rows.
    pub fn for_each(
        &self,
        sql: &str,
        args: &[&dyn Arg],
        mut each: impl FnMut(&Row<'_>) -> Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        match self {
            Db::Sqlite(c) => {
                let mut stmt = c.prepare_cached(sql)?;
                let mut rows = stmt.query(rusqlite::params_from_iter(args.iter()))?;
                while let Some(row) = rows.next()? {
                    each(&Row::Sqlite(row))?;
                }
                Ok(())
            }
            Db::Postgres(c) => blocking(|| {
                let mut c = c.borrow_mut();
                let stmt = c.conn().prepare_cached(sql)?;
                let pg: Vec<PgArg<'_>> = args.iter().map(|a| PgArg(a.value())).collect();
                let mut rows = c.client().query_raw(&stmt, pg.iter())?;
                while let Some(row) =
                    postgres::fallible_iterator::FallibleIterator::next(&mut rows)?
                {
                    each(&Row::Postgres(&row))?;
                }
                Ok(())
            }),
        }
    }

    /// Every row, each made into a `T` by `map`.
    pub fn query<T>(
        &self,
        sql: &str,
        args: &[&dyn Arg],
        mut map: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Vec<T>, StoreError> {
        let mut out = Vec::new();
        self.for_each(sql, args, |r| {
            out.push(map(r)?);
            Ok(())
        })?;
        Ok(out)
    }

    /// The first row, if any, made into a `T` by `map`.
    pub fn query_row<T>(
        &self,
        sql: &str,
        args: &[&dyn Arg],
        map: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<Option<T>, StoreError> {
        let mut map = Some(map);
        let mut out = None;
        self.for_each(sql, args, |r| {
            if let Some(map) = map.take() {
                out = Some(map(r)?);
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// The first column of the first row (which must be there: an aggregate's, say).
    pub fn one<T: Column>(&self, sql: &str, args: &[&dyn Arg]) -> Result<T, StoreError> {
        self.query_row(sql, args, |r| r.get(0))?
            .ok_or_else(|| StoreError::Corrupt(format!("no row from {sql}")))
    }

    /// Appends rows to `table` by `COPY … FROM STDIN (FORMAT binary)`, PostgreSQL's bulk path:
    /// `cells` holds the rows one after another, `columns.len()` values each.
    pub fn copy_in(
        &self,
        table: &str,
        columns: &[&str],
        cells: &[Value<'_>],
    ) -> Result<(), StoreError> {
        let Db::Postgres(c) = self else {
            return Err(StoreError::Unsupported {
                what: "COPY into SQLite",
            });
        };
        blocking(|| copy_rows(c, table, columns, cells))
    }

    /// Runs `read` in one read-only transaction, so every query in it sees the same data.
    pub fn snapshot<T>(
        &self,
        read: impl FnOnce(&Self) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.batch(if self.is_postgres() {
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        } else {
            "BEGIN DEFERRED"
        })?;
        let out = read(self);
        match &out {
            Ok(_) => self.batch("COMMIT")?,
            Err(_) => {
                let _ = self.batch("ROLLBACK");
            }
        }
        out
    }
}

/// [`Db::copy_in`] on PostgreSQL.
fn copy_rows(
    c: &RefCell<PgClient>,
    table: &str,
    columns: &[&str],
    cells: &[Value<'_>],
) -> Result<(), StoreError> {
    let mut c = c.borrow_mut();
    let list = columns.join(", ");
    let types: Vec<Type> = c
        .conn()
        .prepare_cached(&format!("SELECT {list} FROM {table} LIMIT 0"))?
        .columns()
        .iter()
        .map(|c| c.type_().clone())
        .collect();
    let writer = c
        .client()
        .copy_in(&format!("COPY {table} ({list}) FROM STDIN (FORMAT binary)"))?;
    let mut writer = postgres::binary_copy::BinaryCopyInWriter::new(writer, &types);
    for row in cells.chunks_exact(types.len()) {
        writer.write_raw(row.iter().map(|v| PgArg(*v)))?;
    }
    writer.finish()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_renumbered_outside_literals() {
        assert_eq!(
            postgres_sql("SELECT '?', \"a?\" FROM t WHERE a = ?1 AND b = ?12 OR c = ?"),
            "SELECT '?', \"a?\" FROM t WHERE a = $1 AND b = $12 OR c = $1"
        );
        assert_eq!(
            postgres_sql("VALUES (?, ?), (?, ?)"),
            "VALUES ($1, $2), ($3, $4)"
        );
    }

    #[test]
    fn sqlite_reads_and_binds_through_the_same_values() {
        let conn = rusqlite::Connection::open_in_memory().expect("open");
        let db = Db::Sqlite(&conn);
        db.batch("CREATE TABLE t (i INTEGER, f REAL, s TEXT, b BLOB)")
            .expect("create");
        let none: Option<i64> = None;
        conn.execute(
            "INSERT INTO t VALUES (?1, ?2, ?3, ?4), (?5, 2, 'x', NULL)",
            rusqlite::params_from_iter(args![7_i64, 1.5, "é", vec![1_u8, 2], none].iter()),
        )
        .expect("insert");
        let rows = db
            .query("SELECT i, f, s, b FROM t ORDER BY s DESC", args![], |r| {
                Ok((
                    r.get::<Option<i64>>(0)?,
                    r.get::<f64>(1)?,
                    r.get::<String>(2)?,
                    r.get::<Option<Vec<u8>>>(3)?,
                ))
            })
            .expect("query");
        assert_eq!(
            rows,
            [
                (Some(7), 1.5, "é".to_owned(), Some(vec![1, 2])),
                (None, 2.0, "x".to_owned(), None)
            ]
        );
        let err = db.one::<i64>("SELECT s FROM t", args![]).expect_err("text");
        assert!(err.to_string().contains("expected an integer"), "{err}");
    }
}
