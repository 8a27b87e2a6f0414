//! How domain values are stored: ids as integers, states and codes as their text codes,
//! timestamps as RFC 3339 UTC text with milliseconds (so they sort as text).

use super::sql::{self, Arg, Column, Value};
use super::StoreError;
use crate::domain::etl::{EtlRunStatus, Reason, SourceFormat};
use crate::domain::ingest::{
    IngestMode, IngestRunStatus, ItemState, ResponseKind, ResponseOutcome, WindowState,
};
use crate::domain::record::Field;
use crate::domain::source::{Namespace, Provider};
use crate::domain::trained::ModelKind;
use crate::domain::{EtlRunId, IngestRunId, MovieId, Timestamp, UserId};
use chrono::{NaiveDate, SecondsFormat};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};

macro_rules! id_sql {
    ($($t:ty),+) => {$(
        impl ToSql for $t {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.0))
            }
        }
        impl FromSql for $t {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                i64::column_result(value).map(Self)
            }
        }
        impl Arg for $t {
            fn value(&self) -> Value<'_> {
                Value::Int(self.0)
            }
        }
        impl Column for $t {
            fn column(value: Value<'_>) -> Result<Self, String> {
                i64::column(value).map(Self)
            }
        }
    )+};
}

id_sql!(MovieId, EtlRunId, IngestRunId, UserId);

macro_rules! code_sql {
    ($($t:ty),+) => {$(
        impl ToSql for $t {
            fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
                Ok(ToSqlOutput::from(self.as_str()))
            }
        }
        impl FromSql for $t {
            fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
                let code = value.as_str()?;
                <$t>::parse(code).ok_or_else(|| {
                    FromSqlError::Other(format!("unknown {} code {code:?}", stringify!($t)).into())
                })
            }
        }
        impl Arg for $t {
            fn value(&self) -> Value<'_> {
                Value::Text(self.as_str())
            }
        }
        impl Column for $t {
            fn column(value: Value<'_>) -> Result<Self, String> {
                let code = String::column(value)?;
                <$t>::parse(&code)
                    .ok_or_else(|| format!("unknown {} code {code:?}", stringify!($t)))
            }
        }
    )+};
}

code_sql!(
    Provider,
    Namespace,
    EtlRunStatus,
    SourceFormat,
    Reason,
    Field,
    IngestRunStatus,
    IngestMode,
    ResponseKind,
    WindowState,
    ItemState,
    ResponseOutcome,
    ModelKind
);

/// The stored form of a timestamp.
pub fn timestamp(t: Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_timestamp(text: &str, i: usize) -> rusqlite::Result<Timestamp> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.to_utc())
        .map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
}

/// Reads a stored timestamp from column `i` of a row of either engine.
pub fn timestamp_at(row: &sql::Row<'_>, i: usize) -> Result<Timestamp, StoreError> {
    let text: String = row.get(i)?;
    Ok(parse_timestamp(&text, i)?)
}

/// Reads an optional stored timestamp from column `i` of a row of either engine.
pub fn opt_timestamp_at(row: &sql::Row<'_>, i: usize) -> Result<Option<Timestamp>, StoreError> {
    let text: Option<String> = row.get(i)?;
    Ok(text.map(|t| parse_timestamp(&t, i)).transpose()?)
}

/// Reads a stored ISO date from column `i` of a row of either engine.
pub fn date_at(row: &sql::Row<'_>, i: usize) -> Result<NaiveDate, StoreError> {
    let text: String = row.get(i)?;
    text.parse()
        .map_err(|e| StoreError::Corrupt(format!("column {i}: {text:?} is not a date: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn timestamps_keep_milliseconds_and_read_back() {
        let t = chrono::Utc
            .timestamp_millis_opt(1_764_285_904_123)
            .single()
            .expect("instant");
        let stored = timestamp(t);
        assert!(stored.ends_with(".123Z"), "{stored}");
        assert_eq!(parse_timestamp(&stored, 0).expect("parse"), t);
    }
}
