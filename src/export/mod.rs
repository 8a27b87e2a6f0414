//! `movierec export`: a table of the database as Parquet (the `parquet` crate's Arrow writer,
//! Snappy-compressed) or CSV, streamed in batches so memory stays bounded whatever the table's
//! size. The file is written beside its destination and renamed into place when complete, so a
//! failed export leaves nothing that looks like a result. Only regular files are written: a
//! device, FIFO, socket or directory at the destination is refused, and an existing file or
//! symbolic link is replaced (the link itself, never what it points to) only with `force`.

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
    #[error("{path}: {problem}")]
    Destination { path: PathBuf, problem: String },
}

/// Whether an existing file (or symbolic link) at the destination may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    Refuse,
    Replace,
}

/// Refuses a destination that is not (or would not become) a regular file of ours.
fn check_destination(out: &Path, existing: Existing) -> Result<(), ExportError> {
    let refuse = |problem: &str| {
        Err(ExportError::Destination {
            path: out.to_owned(),
            problem: problem.to_owned(),
        })
    };
    let meta = match std::fs::symlink_metadata(out) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(ExportError::Io {
                path: out.to_owned(),
                source,
            })
        }
    };
    let kind = meta.file_type();
    use std::os::unix::fs::FileTypeExt;
    let what = if kind.is_dir() {
        "is a directory"
    } else if kind.is_char_device() || kind.is_block_device() {
        "is a device"
    } else if kind.is_fifo() {
        "is a FIFO"
    } else if kind.is_socket() {
        "is a socket"
    } else if existing == Existing::Replace {
        return Ok(());
    } else if kind.is_symlink() {
        return refuse("is a symbolic link; export does not write through links (--force replaces the link itself with the file)");
    } else {
        return refuse("exists; pass --force to replace it");
    };
    refuse(&format!("{what}; export writes only regular files"))
}

/// Writes `table` to `out` in `format`; returns the number of rows. See the module's
/// documentation for what may be at `out`.
pub fn to_file(
    store: &Store,
    table: ExportTable,
    format: Format,
    out: &Path,
    existing: Existing,
) -> Result<u64, ExportError> {
    check_destination(out, existing)?;
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let io = |source| ExportError::Io {
        path: out.to_owned(),
        source,
    };
    let name = out
        .file_name()
        .map_or_else(|| "export".into(), |n| n.to_string_lossy().into_owned());
    let file = crate::files::temp_file(&dir, &name, ".tmp").map_err(io)?;
    let rows = write(store, table, format, file.as_file())?;
    file.as_file().sync_all().map_err(io)?;
    match existing {
        // Atomic: fails if anything appeared at `out` meanwhile.
        Existing::Refuse => file.persist_noclobber(out).map_err(|e| io(e.error))?,
        Existing::Replace => file.persist(out).map_err(|e| io(e.error))?,
    };
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
        let (_scratch, store) = crate::store::testing::fresh();
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("genres.parquet");
        assert_eq!(
            to_file(
                &store,
                ExportTable::Genres,
                Format::Parquet,
                &path,
                Existing::Refuse
            )
            .expect("export"),
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
        assert!(to_file(
            &store,
            ExportTable::Movies,
            Format::Parquet,
            &out,
            Existing::Refuse
        )
        .is_err());
        assert!(!out.exists());
    }

    #[test]
    fn only_regular_files_are_written_and_links_and_files_only_with_force() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("m.db")).expect("open");
        let export =
            |out: &Path, existing| to_file(&store, ExportTable::Genres, Format::Csv, out, existing);
        let message = |r: Result<u64, ExportError>| r.expect_err("refused").to_string();
        // A FIFO, a device and a directory: refused even with force, left as they were.
        let fifo = dir.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo");
        for (path, what) in [
            (fifo.as_path(), "is a FIFO"),
            (Path::new("/dev/null"), "is a device"),
            (dir.path(), "is a directory"),
        ] {
            for existing in [Existing::Refuse, Existing::Replace] {
                let got = message(export(path, existing));
                assert!(
                    got.ends_with(&format!("{what}; export writes only regular files")),
                    "{got}"
                );
            }
        }
        use std::os::unix::fs::FileTypeExt;
        assert!(std::fs::symlink_metadata(&fifo)
            .expect("fifo")
            .file_type()
            .is_fifo());
        assert!(std::fs::metadata("/dev/null")
            .expect("null")
            .file_type()
            .is_char_device());
        // A link: not followed; --force replaces the link, not its target.
        let target = dir.path().join("target.txt");
        std::fs::write(&target, "keep me").expect("target");
        let link = dir.path().join("link.csv");
        symlink(&target, &link).expect("symlink");
        assert!(message(export(&link, Existing::Refuse)).contains("is a symbolic link"));
        assert_eq!(export(&link, Existing::Replace).expect("forced"), 20);
        assert!(std::fs::symlink_metadata(&link).expect("link").is_file());
        assert_eq!(std::fs::read_to_string(&target).expect("target"), "keep me");
        // An existing file: refused, then replaced with force.
        assert!(message(export(&link, Existing::Refuse))
            .ends_with("exists; pass --force to replace it"));
        assert_eq!(export(&link, Existing::Replace).expect("forced"), 20);
        // Nothing is left beside the results.
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .expect("dir")
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(names.is_empty(), "{names:?}");
    }
}
