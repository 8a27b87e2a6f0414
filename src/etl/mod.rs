//! The ETL pipeline: read → extract → transform → load, streaming, with lineage and an audit
//! report. Records flow one at a time from the source into bounded batches that the store stages
//! inside the run's one transaction; the raw snapshot is hashed and compressed on the way.
//!
//! I/O happens only in this module's [`run`] and [`run_records`]; [`extract`] and [`transform`]
//! are plain functions over records, [`audit`] accumulates the report.

pub mod audit;
pub mod bounded;
pub mod extract;
pub mod movielens;
pub mod snapshot;
pub mod transform;

use crate::domain::audit::AuditReport;
use crate::domain::etl::{Reject, RunStart, Source, SourceFormat};
use crate::domain::identity::overrides::{OverrideError, Overrides};
use crate::domain::identity::Batch;
use crate::domain::movie::Movie;
use crate::domain::record::{Field, RawRecord};
use crate::domain::source::RatingPolicy;
use crate::domain::EtlRunId;
use crate::store::{Load, Store, StoreError};
use audit::AuditBuilder;
use chrono::{Datelike, Utc};
use extract::Format;
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use transform::Rules;

/// The embedded default dataset: vega-datasets `movies.json` (BSD-3-Clause, see `data/vega-movies`).
pub const EMBEDDED_MOVIES: &[u8] = include_bytes!("../../data/vega-movies/movies.json");

/// Movies (or rejects) handed to the store at once: bounds the pipeline's memory. 1,024 rather
/// than 4,096: a smaller batch stays in the CPU caches (1M movies: 50 s at 30 MiB against 60 s
/// at 59 MiB).
const BATCH: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum EtlError {
    #[error("{path}: no such file")]
    NotFound { path: PathBuf },
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: unsupported file type; use a .json (array of objects) or .csv (with header) file, optionally .gz-compressed")]
    UnsupportedFormat { path: PathBuf },
    #[error(
        "{source_name}: not valid UTF-8 at byte offset {offset} (line {line}, column {column})"
    )]
    NotUtf8 {
        source_name: String,
        offset: usize,
        line: usize,
        column: usize,
    },
    #[error(
        "{source_name}: record {record} is longer than {limit} bytes, the longest a record may be"
    )]
    RecordTooLong {
        source_name: String,
        /// 1-based, as the rejects count rows.
        record: u64,
        limit: usize,
    },
    #[error("{source_name}: contains no records")]
    Empty { source_name: String },
    /// The reading thread's view of a load that failed: the load's own error is reported.
    #[error("the load stopped")]
    LoadStopped,
    #[error("{source_name}: malformed JSON at line {line}, column {column}: {message}")]
    Json {
        source_name: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{source_name}: malformed CSV at line {line}: {message}")]
    Csv {
        source_name: String,
        line: u64,
        message: String,
    },
    #[error(
        "{source_name}: missing required column for `{field}` (accepted names: \"{accepted}\")"
    )]
    MissingColumn {
        source_name: String,
        field: Field,
        accepted: String,
    },
    #[error("{dir}: not a MovieLens dataset (expected u.item, movies.dat or movies.csv in it)")]
    NotMovielens { dir: PathBuf },
    #[error("{dir}: missing {file}, which this MovieLens layout needs")]
    MissingFile { dir: PathBuf, file: String },
    #[error("cannot replay run {0}: no such run")]
    UnknownRun(EtlRunId),
    #[error("cannot replay run {0}: it kept no raw snapshot")]
    NoSnapshot(EtlRunId),
    #[error("raw snapshot {path}: {source}")]
    Snapshot {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("raw snapshot {path} is corrupt: its content hashes to {actual}")]
    CorruptSnapshot { path: PathBuf, actual: String },
    #[error("audit report {path}: {source}")]
    Report {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} is not read as a single file")]
    NotAFile(Source),
    /// The message is the source's (`line N: …`), after the path.
    #[error("{path}")]
    Overrides {
        path: PathBuf,
        #[source]
        source: OverrideError,
    },
    #[error("{path}: line {line}: {id} is no movie's id (not in the catalog nor in this input)")]
    UnknownOverrideId {
        path: PathBuf,
        line: u64,
        id: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The identity overrides file a load applies when it exists (see
/// [`crate::domain::identity::overrides`]), relative to the data directory.
pub const OVERRIDES_FILE: &str = "identity-overrides.csv";

/// What a successful run produced.
#[derive(Debug, Clone)]
pub struct EtlOutcome {
    pub report: AuditReport,
    /// The raw snapshot of the input, relative to the data directory.
    pub snapshot: Option<PathBuf>,
    pub report_path: PathBuf,
}

/// An input already made of records (a movie-API ingest's), with the lineage it keeps.
#[derive(Debug, Clone)]
pub struct RecordInput {
    pub source: Source,
    /// Hash of the raw responses the records were built from.
    pub sha256: String,
    /// Where those responses are kept, relative to the data directory.
    pub snapshot: PathBuf,
}

/// Runs the whole pipeline from a byte source (embedded, file or replay) into the store.
///
/// The catalog changes in one transaction together with the run's lineage row, so a failure or a
/// kill at any point leaves it exactly as it was; a failed run is then recorded as `failed`.
pub fn run(
    store: &mut Store,
    data_dir: &Path,
    source: &Source,
    policy: &RatingPolicy,
) -> Result<EtlOutcome, EtlError> {
    let mut lineage = RunStart {
        source: source.to_string(),
        format: SourceFormat::Unknown,
        sha256: None,
        snapshot: None,
        started_at: Utc::now(),
    };
    let result = match source {
        Source::Movielens(dir) => {
            lineage.format = SourceFormat::Movielens;
            movielens::run(store, data_dir, dir, policy, &mut lineage)
        }
        _ => run_bytes(store, data_dir, source, policy, &mut lineage),
    };
    record_failure(store, &lineage, result)
}

/// Runs the pipeline over records handed over as typed values (no serialisation round trip).
pub fn run_records(
    store: &mut Store,
    data_dir: &Path,
    input: &RecordInput,
    policy: &RatingPolicy,
    records: impl IntoIterator<Item = RawRecord>,
) -> Result<EtlOutcome, EtlError> {
    let lineage = RunStart {
        source: input.source.to_string(),
        format: SourceFormat::Tmdb,
        sha256: Some(input.sha256.clone()),
        snapshot: Some(input.snapshot.display().to_string()),
        started_at: Utc::now(),
    };
    let result = load_records(store, data_dir, &lineage, policy, records);
    record_failure(store, &lineage, result)
}

fn load_records(
    store: &mut Store,
    data_dir: &Path,
    lineage: &RunStart,
    policy: &RatingPolicy,
    records: impl IntoIterator<Item = RawRecord>,
) -> Result<EtlOutcome, EtlError> {
    let mut pipeline = Pipeline::start(store, data_dir, lineage, policy)?;
    let mut extracted = 0;
    for record in records {
        extracted += 1;
        pipeline.push(record)?;
    }
    if extracted == 0 {
        return Err(EtlError::Empty {
            source_name: lineage.source.clone(),
        });
    }
    pipeline.finish(data_dir, lineage, extracted)
}

/// Records a failed run (best effort: the database may be the very thing that failed).
fn record_failure(
    store: &Store,
    lineage: &RunStart,
    result: Result<EtlOutcome, EtlError>,
) -> Result<EtlOutcome, EtlError> {
    if let Err(e) = &result {
        let _ = store.record_failed_run(lineage, Utc::now(), &e.to_string());
    }
    result
}

fn run_bytes(
    store: &mut Store,
    data_dir: &Path,
    source: &Source,
    policy: &RatingPolicy,
    lineage: &mut RunStart,
) -> Result<EtlOutcome, EtlError> {
    let (reader, format, expected) = open_source(store, data_dir, source)?;
    lineage.format = match format {
        Format::Json => SourceFormat::Json,
        Format::Csv => SourceFormat::Csv,
    };
    let raw_dir = data_dir.join("raw");
    let writer =
        snapshot::SnapshotWriter::start(data_dir, format.extension()).map_err(|source| {
            EtlError::Snapshot {
                path: raw_dir.clone(),
                source,
            }
        })?;
    let mut pipeline = Pipeline::start(store, data_dir, lineage, policy)?;
    let mut tee = snapshot::Tee::new(reader, &writer);
    let name = lineage.source.clone();
    let extracted = pipeline.read_beside(|records, out| {
        extract::extract(&name, &mut tee, format, |record| records.push(record, out))
    });
    // A bad input is kept whole, as evidence: the rest of it goes to the snapshot unparsed. If
    // even that fails (a truncated .gz), no snapshot is kept rather than a part of one.
    let complete = extracted.is_ok() || std::io::copy(&mut tee, &mut std::io::sink()).is_ok();
    let kept = if complete {
        let kept = writer.finish().map_err(|source| EtlError::Snapshot {
            path: raw_dir,
            source,
        })?;
        if let Some(path) = expected {
            if snapshot::expected_sha(&path) != Some(kept.sha256.as_str()) {
                return Err(EtlError::CorruptSnapshot {
                    path,
                    actual: kept.sha256,
                });
            }
        }
        lineage.sha256 = Some(kept.sha256.clone());
        lineage.snapshot = Some(kept.path.display().to_string());
        Some(kept.path)
    } else {
        writer.abandon();
        None
    };
    let extracted = extracted?;
    let mut outcome = pipeline.finish(data_dir, lineage, extracted)?;
    outcome.snapshot = kept;
    Ok(outcome)
}

/// A byte source opened for reading: its bytes, its format, and (for a replay) the snapshot the
/// bytes must hash to.
type Opened = (Box<dyn Read + Send>, Format, Option<PathBuf>);

fn open_source(store: &Store, data_dir: &Path, source: &Source) -> Result<Opened, EtlError> {
    match source {
        Source::Embedded => Ok((Box::new(EMBEDDED_MOVIES), Format::Json, None)),
        Source::File(path) => {
            let format = Format::of_file(&path.to_string_lossy())
                .ok_or_else(|| EtlError::UnsupportedFormat { path: path.clone() })?;
            let file = std::fs::File::open(path).map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => EtlError::NotFound { path: path.clone() },
                _ => EtlError::Read {
                    path: path.clone(),
                    source: e,
                },
            })?;
            Ok((decompressed(path, file), format, None))
        }
        Source::Replay(run_id) => {
            let run = store
                .etl_run(*run_id)?
                .ok_or(EtlError::UnknownRun(*run_id))?;
            let snapshot = run.snapshot.ok_or(EtlError::NoSnapshot(*run_id))?;
            // Older databases stored absolute paths; `join` keeps those as they are.
            let path = data_dir.join(&snapshot);
            let format = Format::of_file(&snapshot)
                .ok_or_else(|| EtlError::UnsupportedFormat { path: path.clone() })?;
            let file = std::fs::File::open(&path).map_err(|source| EtlError::Snapshot {
                path: path.clone(),
                source,
            })?;
            Ok((decompressed(&path, file), format, Some(path)))
        }
        Source::Tmdb(_) | Source::Movielens(_) => Err(EtlError::NotAFile(source.clone())),
    }
}

/// The file's bytes, gunzipped when its name ends in `.gz`.
fn decompressed(path: &Path, file: std::fs::File) -> Box<dyn Read + Send> {
    let file = BufReader::with_capacity(64 * 1024, file);
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
    {
        Box::new(flate2::bufread::MultiGzDecoder::new(file))
    } else {
        Box::new(file)
    }
}

/// The data directory's identity overrides and their SHA-256, when the file exists.
fn read_overrides(data_dir: &Path) -> Result<Option<(Overrides, String)>, EtlError> {
    let path = data_dir.join(OVERRIDES_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(EtlError::Read { path, source }),
    };
    let overrides =
        Overrides::parse(&text).map_err(|source| EtlError::Overrides { path, source })?;
    Ok(Some((
        overrides,
        format!("{:x}", Sha256::digest(text.as_bytes())),
    )))
}

/// What the records' side of a run hands the load.
enum Handoff {
    Movies(Batch),
    Rejects(Vec<Reject>),
}

/// Where the records' side hands its batches: the load, directly or through a channel.
type Sink<'a> = dyn FnMut(Handoff) -> Result<(), EtlError> + 'a;

/// The records' side of a run: the audit, the transform and identity's per-record work, in
/// bounded batches. It needs no database, so a file's records are read on a thread of their
/// own while the load writes the batch before ([`Pipeline::read_beside`]).
struct Records {
    rules: Rules,
    audit: AuditBuilder,
    clean: Vec<Movie>,
    rejects: Vec<Reject>,
    progress: ProgressBar,
}

impl Records {
    fn push(&mut self, record: RawRecord, out: &mut Sink<'_>) -> Result<(), EtlError> {
        self.audit.observe(&record);
        match transform::transform(&record, self.rules) {
            Ok(clean) => {
                self.audit.repaired(&clean.repairs);
                self.clean.push(clean.movie);
                if self.clean.len() >= BATCH {
                    self.flush_movies(out)?;
                }
            }
            Err(problems) => self.reject_row(problems, out)?,
        }
        self.progress.inc(1);
        Ok(())
    }

    /// Keeps the problems of one rejected row of the current file.
    fn reject_row(&mut self, problems: Vec<Reject>, out: &mut Sink<'_>) -> Result<(), EtlError> {
        self.audit.reject_row(&problems);
        self.rejects.extend(problems);
        if self.rejects.len() >= BATCH {
            out(Handoff::Rejects(std::mem::take(&mut self.rejects)))?;
        }
        Ok(())
    }

    fn flush_movies(&mut self, out: &mut Sink<'_>) -> Result<(), EtlError> {
        if self.clean.is_empty() {
            return Ok(());
        }
        let movies = std::mem::replace(&mut self.clean, Vec::with_capacity(BATCH));
        out(Handoff::Movies(Batch::new(movies)))
    }

    /// Hands over everything still held.
    fn flush(&mut self, out: &mut Sink<'_>) -> Result<(), EtlError> {
        self.flush_movies(out)?;
        if !self.rejects.is_empty() {
            out(Handoff::Rejects(std::mem::take(&mut self.rejects)))?;
        }
        Ok(())
    }
}

/// Stores what the records' side handed over.
fn hand(load: &mut Load<'_>, handoff: Handoff) -> Result<(), EtlError> {
    match handoff {
        Handoff::Movies(batch) => load.put_movies(&batch)?,
        Handoff::Rejects(rejects) => load.reject(&rejects)?,
    }
    Ok(())
}

/// The streaming middle of a run: transform each record and hand batches to the load.
struct Pipeline<'s> {
    data_dir: PathBuf,
    load: Load<'s>,
    records: Records,
    /// Set by a ratings dataset's load.
    ratings: Option<crate::domain::audit::RatingsCounts>,
}

impl<'s> Pipeline<'s> {
    fn start(
        store: &'s mut Store,
        data_dir: &Path,
        lineage: &RunStart,
        policy: &RatingPolicy,
    ) -> Result<Self, EtlError> {
        let overrides = read_overrides(data_dir)?;
        let mut load = store.begin_load(lineage, policy)?;
        if let Some((overrides, sha256)) = overrides {
            load.apply_overrides(overrides, OVERRIDES_FILE.to_owned(), sha256);
        }
        Ok(Self {
            data_dir: data_dir.to_owned(),
            load,
            records: Records {
                rules: Rules {
                    max_year: Utc::now().year() + 1,
                },
                audit: AuditBuilder::default(),
                clean: Vec::with_capacity(BATCH),
                rejects: Vec::new(),
                progress: spinner(),
            },
            ratings: None,
        })
    }

    fn push(&mut self, record: RawRecord) -> Result<(), EtlError> {
        let load = &mut self.load;
        self.records.push(record, &mut |h| hand(load, h))
    }

    /// Runs `read`, which pushes records, on a thread of its own, and stores the batches it
    /// hands over here, each as the load is ready for it (none waits in between: a waiting
    /// batch cost 9 MB of peak memory and no time): reading, transforming and profiling the
    /// next batch overlaps writing this one. A failed load stops the reading; its error
    /// is the one returned.
    fn read_beside(
        &mut self,
        read: impl FnOnce(&mut Records, &mut Sink<'_>) -> Result<u64, EtlError> + Send,
    ) -> Result<u64, EtlError> {
        let (records, load) = (&mut self.records, &mut self.load);
        std::thread::scope(|s| {
            let (sender, batches) = std::sync::mpsc::sync_channel(0);
            let reader = s.spawn(move || {
                let mut send = |h| sender.send(h).map_err(|_| EtlError::LoadStopped);
                let read = read(records, &mut send)?;
                records.flush(&mut send)?;
                Ok(read)
            });
            let mut loaded = Ok(());
            for handoff in batches.iter() {
                loaded = hand(load, handoff);
                if loaded.is_err() {
                    break;
                }
            }
            drop(batches);
            let read = reader
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            loaded.and(read)
        })
    }

    /// Keeps the problems of one rejected row of the current file.
    fn reject_row(&mut self, problems: Vec<Reject>) -> Result<(), EtlError> {
        let load = &mut self.load;
        self.records.reject_row(problems, &mut |h| hand(load, h))
    }

    /// Starts on another file of a multi-file input: what came from the last one is stored
    /// under its name first.
    fn set_file(&mut self, file: &str) -> Result<(), EtlError> {
        self.flush()?;
        self.load.set_file(file);
        Ok(())
    }

    /// Stores the movies and rejects still held.
    fn flush(&mut self) -> Result<(), EtlError> {
        let load = &mut self.load;
        self.records.flush(&mut |h| hand(load, h))
    }

    /// Settles the load, writes the report, and commits.
    fn finish(
        mut self,
        data_dir: &Path,
        lineage: &RunStart,
        extracted: u64,
    ) -> Result<EtlOutcome, EtlError> {
        self.flush()?;
        if let Some((line, id)) = self.load.unknown_override_ids()?.into_iter().next() {
            return Err(EtlError::UnknownOverrideId {
                path: self.data_dir.join(OVERRIDES_FILE),
                line,
                id: format!("{}:{}", id.namespace.as_str(), id.value),
            });
        }
        self.records.progress.set_message("settling the catalog");
        let audit = &mut self.records.audit;
        let summary = self
            .load
            .settle(|rating, year| audit.loaded(rating, year))?;
        let mut report = self.records.audit.finish(extracted, &summary);
        report.run_id = self.load.run_id();
        report.source = lineage.source.clone();
        report.source_sha256 = lineage.sha256.clone().unwrap_or_default();
        report.ratings = self.ratings.take();
        let report_path = write_report(data_dir, &report)?;
        self.load.commit(lineage, &report, Utc::now())?;
        self.records.progress.finish_and_clear();
        Ok(EtlOutcome {
            report,
            snapshot: lineage.snapshot.as_ref().map(PathBuf::from),
            report_path,
        })
    }
}

/// Writes `reports/run-<id>.md` and `.json` in the data directory.
fn write_report(data_dir: &Path, report: &AuditReport) -> Result<PathBuf, EtlError> {
    let dir = data_dir.join("reports");
    let md = dir.join(format!("run-{}.md", report.run_id));
    let json = dir.join(format!("run-{}.json", report.run_id));
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| EtlError::Report { path, source }
    };
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    std::fs::write(&md, audit::to_markdown(report)).map_err(io(&md))?;
    let body = serde_json::to_vec_pretty(report).map_err(|e| io(&json)(e.into()))?;
    std::fs::write(&json, body).map_err(io(&json))?;
    Ok(md)
}

/// A record counter on stderr; indicatif draws nothing when stderr is not a terminal.
fn spinner() -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    if let Ok(style) =
        ProgressStyle::with_template("{spinner} loading {pos} records ({per_sec}) {msg}")
    {
        bar.set_style(style);
    }
    bar
}
