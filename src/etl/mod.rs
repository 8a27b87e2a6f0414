//! The ETL pipeline: read → snapshot → extract → transform → dedupe → load, with lineage and an
//! audit report. I/O happens only in [`run`]; every stage in between is a plain function.

pub mod audit;
pub mod dedupe;
pub mod extract;
pub mod record;
pub mod snapshot;
pub mod transform;

use crate::db::{movies, runs};
use audit::{AuditBuilder, AuditReport};
use chrono::{Datelike, SecondsFormat, Utc};
use extract::Format;
use indicatif::{ProgressBar, ProgressStyle};
use rusqlite::{Connection, TransactionBehavior};
use std::io::Read;
use std::path::{Path, PathBuf};
use transform::Rules;

/// The embedded default dataset: vega-datasets `movies.json` (BSD-3-Clause, see `data/vega-movies`).
pub const EMBEDDED_MOVIES: &[u8] = include_bytes!("../../data/vega-movies/movies.json");

/// Where a run reads its input from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The dataset compiled into the binary.
    Embedded,
    /// A `.json` or `.csv` file.
    File(PathBuf),
    /// The raw snapshot kept by an earlier run.
    Replay(i64),
    /// The responses a TMDB ingest run kept in its raw zone (no network).
    Tmdb(i64),
}

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
    #[error("{source_name}: contains no records")]
    Empty { source_name: String },
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
        field: record::Field,
        accepted: String,
    },
    #[error("cannot replay run {0}: no such run")]
    UnknownRun(i64),
    #[error("cannot replay run {0}: it kept no raw snapshot")]
    NoSnapshot(i64),
    #[error("raw snapshot {path}: {source}")]
    Snapshot {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("audit report {path}: {source}")]
    Report {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot rebuild the input of a TMDB ingest run: {0}")]
    Ingest(#[from] crate::ingest::AssembleError),
    #[error("database: {0}")]
    Db(#[from] rusqlite::Error),
}

/// What a successful run produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub report: AuditReport,
    pub snapshot_path: PathBuf,
    pub report_path: PathBuf,
}

/// The data directory beside a database: `./movierec.db` → `./movierec-data`.
pub fn default_data_dir(db_path: &Path) -> PathBuf {
    let stem = db_path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("movierec");
    db_path.with_file_name(format!("{stem}-data"))
}

/// Runs the whole pipeline from `source` into the database behind `conn`.
///
/// The catalog changes in one transaction together with the run's lineage row, so a failure or a
/// kill at any point leaves it exactly as it was; a failed run is then recorded as `failed`.
pub fn run(conn: &mut Connection, data_dir: &Path, source: &Source) -> Result<Outcome, EtlError> {
    let mut lineage = runs::RunStart {
        source: source_name(source),
        format: "unknown".to_owned(),
        sha256: None,
        snapshot_path: None,
        started_at: now(),
    };
    let result = run_stages(conn, data_dir, source, &mut lineage);
    if let Err(e) = &result {
        // Best effort: the database may be the very thing that failed.
        let _ = runs::record_failure(conn, &lineage, &now(), &e.to_string());
    }
    result
}

fn run_stages(
    conn: &mut Connection,
    data_dir: &Path,
    source: &Source,
    lineage: &mut runs::RunStart,
) -> Result<Outcome, EtlError> {
    let format = source_format(conn, source)?;
    lineage.format = format.extension().to_owned();
    let bytes = read_source(conn, source)?;
    // Hashing and compressing the snapshot run on the second core while the records are parsed.
    let (snapshot, staged) = std::thread::scope(|s| {
        let snapshot = s.spawn(|| keep_snapshot(data_dir, format, &bytes));
        let staged = stage(&lineage.source, &bytes, format);
        let snapshot = snapshot
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (snapshot, staged)
    });
    let (sha, snapshot_path) = snapshot?;
    lineage.sha256 = Some(sha);
    lineage.snapshot_path = Some(snapshot_path.display().to_string());
    let (report, report_path) = load(conn, data_dir, lineage, staged?)?;
    Ok(Outcome {
        report,
        snapshot_path,
        report_path,
    })
}

fn keep_snapshot(
    data_dir: &Path,
    format: Format,
    bytes: &[u8],
) -> Result<(String, PathBuf), EtlError> {
    let sha = snapshot::sha256_hex(bytes);
    snapshot::store(data_dir, &sha, format.extension(), bytes)
        .map(|path| (sha.clone(), path))
        .map_err(|source| EtlError::Snapshot {
            path: snapshot::path_for(data_dir, &sha, format.extension()),
            source,
        })
}

/// What the in-memory stages hand to the load.
struct Staged {
    movies: Vec<crate::movie::Movie>,
    rejects: Vec<transform::Reject>,
    report: AuditReport,
}

/// Extract → transform → dedupe, all in memory; no I/O.
fn stage(name: &str, bytes: &[u8], format: Format) -> Result<Staged, EtlError> {
    let rules = Rules {
        max_year: Utc::now().year() + 1,
    };
    let mut audit = AuditBuilder::default();
    let mut clean = Vec::new();
    let mut rejects = Vec::new();
    let progress = spinner("extracting", "records");
    let extracted = extract::extract(name, bytes, format, |record| {
        audit.observe(&record);
        match transform::transform(&record, rules) {
            Ok(movie) => clean.push(movie),
            Err(problems) => {
                audit.reject_row(&problems);
                rejects.extend(problems);
            }
        }
        progress.inc(1);
    })?;
    progress.finish_and_clear();
    let (movies, duplicates) = dedupe::dedupe(clean);
    for dup in &duplicates {
        audit.reject_row(std::slice::from_ref(dup));
    }
    rejects.extend(duplicates);
    rejects.sort_by_key(|r| r.row);
    let mut report = audit.finish(extracted, &movies);
    report.source = name.to_owned();
    Ok(Staged {
        movies,
        rejects,
        report,
    })
}

/// Loads staged movies and rejects, the lineage row and the report in one transaction.
fn load(
    conn: &mut Connection,
    data_dir: &Path,
    lineage: &runs::RunStart,
    staged: Staged,
) -> Result<(AuditReport, PathBuf), EtlError> {
    let Staged {
        movies,
        rejects,
        mut report,
    } = staged;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let run_id = runs::begin(&tx, lineage)?;
    let progress = bar("loading", movies.len() as u64);
    let counts = movies::upsert(&tx, run_id, &movies, || progress.inc(1))?;
    progress.finish_and_clear();
    runs::insert_rejects(&tx, run_id, &rejects)?;
    report.run_id = run_id;
    report.source_sha256 = lineage.sha256.clone().unwrap_or_default();
    report.counts.inserted = counts.inserted;
    report.counts.updated = counts.updated;
    report.counts.unchanged = counts.unchanged;
    runs::finish(&tx, &report, &now())?;
    let report_path = write_report(data_dir, &report)?;
    tx.commit()?;
    Ok((report, report_path))
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
    std::fs::write(&md, report.to_markdown()).map_err(io(&md))?;
    let body = serde_json::to_vec_pretty(report).map_err(|e| io(&json)(e.into()))?;
    std::fs::write(&json, body).map_err(io(&json))?;
    Ok(md)
}

fn source_name(source: &Source) -> String {
    match source {
        Source::Embedded => "embedded:vega-movies.json".to_owned(),
        Source::File(path) => path.display().to_string(),
        Source::Replay(run_id) => format!("replay:run-{run_id}"),
        Source::Tmdb(run_id) => format!("tmdb:ingest-run-{run_id}"),
    }
}

fn source_format(conn: &Connection, source: &Source) -> Result<Format, EtlError> {
    let path = match source {
        Source::Embedded | Source::Tmdb(_) => return Ok(Format::Json),
        Source::File(path) => path.clone(),
        Source::Replay(run_id) => replay_snapshot(conn, *run_id)?,
    };
    let name = path.to_string_lossy().to_lowercase();
    if name.ends_with(".json") || name.ends_with(".json.gz") {
        Ok(Format::Json)
    } else if name.ends_with(".csv") || name.ends_with(".csv.gz") {
        Ok(Format::Csv)
    } else {
        Err(EtlError::UnsupportedFormat { path })
    }
}

fn replay_snapshot(conn: &Connection, run_id: i64) -> Result<PathBuf, EtlError> {
    let run = runs::by_id(conn, run_id)?.ok_or(EtlError::UnknownRun(run_id))?;
    run.snapshot_path
        .map(PathBuf::from)
        .ok_or(EtlError::NoSnapshot(run_id))
}

fn read_source(conn: &Connection, source: &Source) -> Result<Vec<u8>, EtlError> {
    match source {
        Source::Embedded => Ok(EMBEDDED_MOVIES.to_vec()),
        Source::File(path) => {
            let bytes = std::fs::read(path).and_then(|bytes| {
                if path
                    .extension()
                    .is_some_and(|e| e.eq_ignore_ascii_case("gz"))
                {
                    let mut out = Vec::new();
                    flate2::read::GzDecoder::new(bytes.as_slice()).read_to_end(&mut out)?;
                    Ok(out)
                } else {
                    Ok(bytes)
                }
            });
            bytes.map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => EtlError::NotFound { path: path.clone() },
                _ => EtlError::Read {
                    path: path.clone(),
                    source: e,
                },
            })
        }
        Source::Replay(run_id) => {
            let path = replay_snapshot(conn, *run_id)?;
            snapshot::load(&path).map_err(|source| EtlError::Snapshot { path, source })
        }
        Source::Tmdb(run_id) => Ok(crate::ingest::assemble(conn, *run_id)?),
    }
}

fn now() -> String {
    Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A record counter on stderr; indicatif draws nothing when stderr is not a terminal.
fn spinner(verb: &str, unit: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner();
    if let Ok(style) =
        ProgressStyle::with_template(&format!("{{spinner}} {verb} {{pos}} {unit} ({{per_sec}})"))
    {
        bar.set_style(style);
    }
    bar
}

fn bar(verb: &str, len: u64) -> ProgressBar {
    let bar = ProgressBar::new(len);
    if let Ok(style) =
        ProgressStyle::with_template(&format!("{verb} {{bar:40}} {{pos}}/{{len}} ({{eta}})"))
    {
        bar.set_style(style);
    }
    bar
}
