//! `movierec export`: a table of the database as Parquet (the `parquet` crate's Arrow writer,
//! Snappy-compressed) or CSV, streamed in batches so memory stays bounded whatever the table's
//! size. The file is written beside its destination and renamed into place when complete, so a
//! failed export leaves nothing that looks like a result.

use crate::domain::export::{ColumnType, ExportFormat as Format, ExportTable, Values};
use crate::store::{Store, StoreError};
use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Rows per batch (one Parquet row group holds several).
const BATCH: usize = 65_536;

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("writing parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("building an Arrow batch: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    #[error("writing CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Writes `table` to `out` in `format`; returns the number of rows.
pub fn to_file(
    store: &Store,
    table: ExportTable,
    format: Format,
    out: &Path,
) -> Result<u64, ExportError> {
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let io = |source| ExportError::Io {
        path: out.to_owned(),
        source,
    };
    let file = tempfile::NamedTempFile::new_in(&dir).map_err(io)?;
    let rows = write(store, table, format, file.as_file())?;
    file.persist(out).map_err(|e| io(e.error))?;
    Ok(rows)
}

/// Writes `table` to any writer in `format`; returns the number of rows.
pub fn write(
    store: &Store,
    table: ExportTable,
    format: Format,
    out: impl Write + Send,
) -> Result<u64, ExportError> {
    match format {
        Format::Parquet => {
            let schema = Arc::new(schema(table));
            let props = WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .build();
            let mut writer = ArrowWriter::try_new(out, schema.clone(), Some(props))?;
            let rows = store.scan_table(table, BATCH, |values| -> Result<(), ExportError> {
                let columns: Vec<ArrayRef> = values.into_iter().map(array).collect();
                writer.write(&RecordBatch::try_new(schema.clone(), columns)?)?;
                Ok(())
            })?;
            writer.close()?;
            Ok(rows)
        }
        Format::Csv => {
            let mut writer = csv::Writer::from_writer(out);
            writer.write_record(table.columns().iter().map(|c| c.name))?;
            let rows = store.scan_table(table, BATCH, |values| -> Result<(), ExportError> {
                for i in 0..values[0].len() {
                    writer.write_record(values.iter().map(|v| v.text_at(i)))?;
                }
                Ok(())
            })?;
            writer.flush().map_err(|source| ExportError::Io {
                path: PathBuf::from("-"),
                source,
            })?;
            Ok(rows)
        }
    }
}

/// The Arrow schema of a table: its columns, every one nullable.
fn schema(table: ExportTable) -> Schema {
    Schema::new(
        table
            .columns()
            .iter()
            .map(|c| {
                let kind = match c.kind {
                    ColumnType::Int => DataType::Int64,
                    ColumnType::Float => DataType::Float64,
                    ColumnType::Text => DataType::Utf8,
                };
                Field::new(c.name, kind, true)
            })
            .collect::<Vec<_>>(),
    )
}

fn array(values: Values) -> ArrayRef {
    match values {
        Values::Int(v) => Arc::new(Int64Array::from(v)),
        Values::Float(v) => Arc::new(Float64Array::from(v)),
        Values::Text(v) => Arc::new(StringArray::from(v)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    #[test]
    fn a_table_round_trips_through_parquet_and_csv() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("m.db")).expect("open");
        let path = dir.path().join("genres.parquet");
        assert_eq!(
            to_file(&store, ExportTable::Genres, Format::Parquet, &path).expect("export"),
            20
        );
        let reader =
            ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&path).expect("file"))
                .expect("parquet")
                .build()
                .expect("reader");
        let batches: Vec<RecordBatch> = reader.map(|b| b.expect("batch")).collect();
        let names = batches[0]
            .column(1)
            .as_any()
            .downcast_ref::<StringArray>()
            .expect("names");
        assert_eq!(names.value(15), "Science Fiction");
        assert_eq!(batches.iter().map(RecordBatch::num_rows).sum::<usize>(), 20);
        let mut csv = Vec::new();
        write(&store, ExportTable::Genres, Format::Csv, &mut csv).expect("csv");
        let text = String::from_utf8(csv).expect("utf-8");
        assert!(text.starts_with("genre_id,name\n1,Action\n"), "{text}");
        assert_eq!(text.lines().count(), 21);
    }

    #[test]
    fn a_failed_export_leaves_no_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("m.db")).expect("open");
        let out = dir.path().join("missing-dir").join("movies.parquet");
        assert!(to_file(&store, ExportTable::Movies, Format::Parquet, &out).is_err());
        assert!(!out.exists());
    }
}
