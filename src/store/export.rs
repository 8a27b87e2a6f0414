//! Table scans for `movierec export`: one read transaction, rows handed over in column batches.

use super::sql::{args, Owned};
use super::{Store, StoreError};
use crate::domain::export::{ExportTable, Values};

impl Store {
    /// Streams every row of `table`, in key order, as batches of at most `batch` rows; returns
    /// how many rows there were. An error from `on_batch` stops the scan.
    pub fn scan_table<E: From<StoreError>>(
        &self,
        table: ExportTable,
        batch: usize,
        mut on_batch: impl FnMut(Vec<Values>) -> Result<(), E>,
    ) -> Result<u64, E> {
        let columns = table.columns();
        let names: Vec<&str> = columns.iter().map(|c| c.name).collect();
        let key_len = match table {
            ExportTable::Movies
            | ExportTable::Users
            | ExportTable::Genres
            | ExportTable::People
            | ExportTable::Keywords => 1,
            ExportTable::Ratings | ExportTable::MovieSources | ExportTable::MovieIds => 2,
            ExportTable::MovieGenres | ExportTable::Tags | ExportTable::MovieKeywords => 3,
            ExportTable::MoviePeople => 4,
        };
        let sql = format!(
            "SELECT {} FROM {} ORDER BY {}",
            names.join(", "),
            table.name(),
            names[..key_len].join(", ")
        );
        let fresh = || -> Vec<Values> {
            columns
                .iter()
                .map(|c| Values::with_capacity(c.kind, batch))
                .collect()
        };
        let mut values = fresh();
        let mut total = 0;
        // `on_batch`'s own error, kept while the scan stops with `Interrupted`.
        let mut failed: Option<E> = None;
        let scanned = self.db().snapshot(|db| {
            db.for_each(&sql, args![], |row| {
                for (i, column) in values.iter_mut().enumerate() {
                    push(column, row.get(i)?).map_err(|e| {
                        StoreError::Corrupt(format!("{table}.{}: {e}", columns[i].name))
                    })?;
                }
                total += 1;
                if values[0].len() >= batch {
                    if let Err(e) = on_batch(std::mem::replace(&mut values, fresh())) {
                        failed = Some(e);
                        return Err(StoreError::Interrupted);
                    }
                }
                Ok(())
            })
        });
        if let Some(e) = failed {
            return Err(e);
        }
        scanned?;
        if !values[0].is_empty() {
            on_batch(values)?;
        }
        Ok(total)
    }
}

/// Appends one cell to its column, converting the stored type to the column's.
fn push(column: &mut Values, cell: Owned) -> Result<(), String> {
    match (column, cell) {
        (Values::Int(v), Owned::Null) => v.push(None),
        (Values::Float(v), Owned::Null) => v.push(None),
        (Values::Text(v), Owned::Null) => v.push(None),
        (Values::Int(v), Owned::Int(x)) => v.push(Some(x)),
        (Values::Float(v), Owned::Int(x)) => v.push(Some(x as f64)),
        (Values::Float(v), Owned::Real(x)) => v.push(Some(x)),
        (Values::Text(v), Owned::Text(t)) => v.push(Some(t)),
        (_, Owned::Int(_)) => return Err("unexpected integer value".into()),
        (_, Owned::Real(_)) => return Err("unexpected real value".into()),
        (_, Owned::Text(_)) => return Err("unexpected text value".into()),
        (_, Owned::Blob(_)) => return Err("unexpected blob value".into()),
    }
    Ok(())
}

/// The column type a stored value reads as (for the tests).
#[cfg(test)]
fn kind_of(values: &Values) -> crate::domain::export::ColumnType {
    use crate::domain::export::ColumnType;
    match values {
        Values::Int(_) => ColumnType::Int,
        Values::Float(_) => ColumnType::Float,
        Values::Text(_) => ColumnType::Text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::export::ColumnType;

    #[test]
    fn every_table_scans_with_its_declared_types_in_batches() {
        let (_scratch, store) = crate::store::testing::fresh();
        for table in ExportTable::ALL {
            let mut batches = Vec::new();
            let n = store
                .scan_table::<StoreError>(table, 7, |b| {
                    batches.push(b);
                    Ok(())
                })
                .unwrap_or_else(|e| panic!("{table}: {e}"));
            if table == ExportTable::Genres {
                assert_eq!(n, 20);
                assert_eq!(batches.len(), 3, "20 rows in batches of 7");
                let kinds: Vec<ColumnType> = batches[0].iter().map(kind_of).collect();
                let declared: Vec<ColumnType> = table.columns().iter().map(|c| c.kind).collect();
                assert_eq!(kinds, declared);
            } else {
                assert_eq!(n, 0, "{table} is empty in a new database");
            }
        }
    }
}
