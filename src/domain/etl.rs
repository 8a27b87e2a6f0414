//! ETL lineage: where a run read from, how it ended, and the problems of the rows it rejected.

use super::record::Field;
use super::{EtlRunId, IngestRunId, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// Where a run reads its input from. Its [`fmt::Display`] form is what the lineage records, and
/// [`Source::parse`] reads it back: `embedded`, `tmdb:<ingest run>`, `replay:<etl run>`, or a path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The dataset compiled into the binary.
    Embedded,
    /// A `.json` or `.csv` file, optionally `.gz`-compressed.
    File(PathBuf),
    /// The raw snapshot kept by an earlier run.
    Replay(EtlRunId),
    /// The responses a movie-API ingest run kept in its raw zone (no network).
    Tmdb(IngestRunId),
    /// A MovieLens dataset directory (ml-100k, ml-1m, ml-latest, ml-latest-small, ml-25m,
    /// ml-32m): movies, links, ratings, tags.
    Movielens(PathBuf),
}

impl Source {
    /// Reads the `--source` form (and the lineage's): `embedded`, `tmdb:N`, `replay:N` or a path.
    pub fn parse(text: &str) -> Result<Self, String> {
        let id = |rest: &str, expected: &str| {
            rest.parse::<i64>().map_err(|_| {
                format!(
                    "{text:?}: expected {expected}, e.g. {}1",
                    &expected[..expected.find(':').unwrap_or(0) + 1]
                )
            })
        };
        if text == "embedded" {
            Ok(Source::Embedded)
        } else if let Some(rest) = text.strip_prefix("tmdb:") {
            id(rest, "tmdb:<ingest run id>").map(|n| Source::Tmdb(IngestRunId(n)))
        } else if let Some(rest) = text.strip_prefix("movielens:") {
            Ok(Source::Movielens(PathBuf::from(rest)))
        } else if let Some(rest) = text.strip_prefix("replay:") {
            id(rest, "replay:<etl run id>").map(|n| Source::Replay(EtlRunId(n)))
        } else {
            Ok(Source::File(PathBuf::from(text)))
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Embedded => f.write_str("embedded"),
            Source::File(path) => write!(f, "{}", path.display()),
            Source::Replay(run) => write!(f, "replay:{run}"),
            Source::Tmdb(run) => write!(f, "tmdb:{run}"),
            Source::Movielens(dir) => write!(f, "movielens:{}", dir.display()),
        }
    }
}

/// The shape of a run's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SourceFormat {
    /// A JSON array of objects (the vega layout).
    Json,
    /// CSV with a header row.
    Csv,
    /// Records assembled from a movie-API ingest's raw responses.
    Tmdb,
    /// A MovieLens dataset directory.
    Movielens,
    /// Not known: the run failed before its input was recognised.
    Unknown,
}

impl SourceFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceFormat::Json => "json",
            SourceFormat::Csv => "csv",
            SourceFormat::Tmdb => "tmdb",
            SourceFormat::Movielens => "movielens",
            SourceFormat::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::Json,
            Self::Csv,
            Self::Tmdb,
            Self::Movielens,
            Self::Unknown,
        ]
        .into_iter()
        .find(|f| f.as_str() == s)
    }
}

/// How an ETL run ended. A run is only visible once it ended: the load and its lineage row commit
/// together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EtlRunStatus {
    Succeeded,
    Failed,
}

impl EtlRunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EtlRunStatus::Succeeded => "succeeded",
            EtlRunStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Succeeded, Self::Failed]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

/// What is known of a run before it loads anything.
#[derive(Debug, Clone)]
pub struct RunStart {
    /// [`Source`] in its lineage form.
    pub source: String,
    pub format: SourceFormat,
    pub sha256: Option<String>,
    /// The raw snapshot, relative to the data directory.
    pub snapshot: Option<String>,
    pub started_at: Timestamp,
}

/// One ETL run, as listed by the CLI and the API.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EtlRun {
    pub run_id: EtlRunId,
    pub source: String,
    pub source_sha256: Option<String>,
    /// The raw snapshot of the input, relative to the data directory.
    #[serde(rename = "snapshot_path")]
    pub snapshot: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub started_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub finished_at: Timestamp,
    pub status: EtlRunStatus,
    pub extracted: u64,
    pub loaded: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    pub error: Option<String>,
}

/// Rejected rows per reason.
pub type RejectsByReason = BTreeMap<Reason, u64>;

/// Why a field (or a whole record) was rejected. The `as_str` codes are stored in `etl_rejects`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    /// Required field absent, null or blank.
    Missing,
    /// A JSON type that cannot mean this field (e.g. a boolean title).
    WrongType,
    /// Not a date in any accepted format.
    InvalidDate,
    /// A real date, but before 1874 or after next year.
    YearOutOfRange,
    /// Not a finite number.
    NotANumber,
    /// A number outside the field's range (rating 0–10, votes ≥ 0 and whole).
    OutOfRange,
    /// The record is not an object.
    NotAnObject,
    /// The same film as another row of the input, which was kept.
    Duplicate,
    /// A row with more or fewer fields than the file's layout.
    WrongFieldCount,
    /// Bytes that are not text in the file's encoding.
    InvalidEncoding,
    /// A rating or tag for a movie the dataset's movie list does not have.
    UnknownMovie,
    /// A value (or a whole record) longer than its documented maximum (see
    /// [`Field::max_bytes`] and [`super::record::MAX_RECORD_BYTES`]).
    TooLong,
}

impl Reason {
    const ALL: [Reason; 12] = [
        Reason::Missing,
        Reason::WrongType,
        Reason::InvalidDate,
        Reason::YearOutOfRange,
        Reason::NotANumber,
        Reason::OutOfRange,
        Reason::NotAnObject,
        Reason::Duplicate,
        Reason::WrongFieldCount,
        Reason::InvalidEncoding,
        Reason::UnknownMovie,
        Reason::TooLong,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Missing => "missing",
            Reason::WrongType => "wrong_type",
            Reason::InvalidDate => "invalid_date",
            Reason::YearOutOfRange => "year_out_of_range",
            Reason::NotANumber => "not_a_number",
            Reason::OutOfRange => "out_of_range",
            Reason::NotAnObject => "not_an_object",
            Reason::Duplicate => "duplicate",
            Reason::WrongFieldCount => "wrong_field_count",
            Reason::InvalidEncoding => "invalid_encoding",
            Reason::UnknownMovie => "unknown_movie",
            Reason::TooLong => "too_long",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem with one field of one row, as stored in `etl_rejects`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Reject {
    /// The file of a multi-file input (a MovieLens directory) the row is in; empty otherwise.
    /// Filled in by the store, which knows which file is being loaded.
    pub file: String,
    /// 1-based position of the record in its source (in its file: data rows, header excluded).
    pub source_row: u64,
    pub field: Field,
    pub reason: Reason,
    /// The raw value, whole up to [`RAW_PREFIX_BYTES`]; beyond that, its first
    /// [`RAW_PREFIX_BYTES`] (cut at a character boundary), with the whole value's size and hash.
    pub raw_value: Option<String>,
    /// Bytes of the whole raw value, when `raw_value` holds only its start (no value read is
    /// longer than a record, [`super::record::MAX_RECORD_BYTES`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_bytes: Option<u32>,
    /// SHA-256 of the whole raw value, when `raw_value` holds only its start: with the run's
    /// snapshot it finds the value again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raw_sha256: Option<String>,
    /// Human-readable context, e.g. which row a duplicate was merged into.
    pub detail: Option<String>,
}

/// The most bytes of a rejected raw value kept (in the database, reports and tables): a
/// reject of a 100 MB field must not cost 100 MB anywhere.
pub const RAW_PREFIX_BYTES: usize = 256;

impl Reject {
    /// The problem `reason` with `field` of row `source_row`; `raw` is kept as
    /// [`Reject::raw_value`] says.
    pub fn new(
        source_row: u64,
        field: Field,
        reason: Reason,
        raw: Option<&str>,
        detail: Option<String>,
    ) -> Self {
        let (raw_value, raw_bytes, raw_sha256) = match raw {
            None => (None, None, None),
            Some(raw) if raw.len() <= RAW_PREFIX_BYTES => (Some(raw.to_owned()), None, None),
            Some(raw) => {
                use sha2::{Digest, Sha256};
                let cut = (0..=RAW_PREFIX_BYTES)
                    .rev()
                    .find(|&i| raw.is_char_boundary(i))
                    .unwrap_or(0);
                (
                    Some(raw[..cut].to_owned()),
                    Some(u32::try_from(raw.len()).unwrap_or(u32::MAX)),
                    Some(format!("{:x}", Sha256::digest(raw.as_bytes()))),
                )
            }
        };
        Self {
            file: String::new(),
            source_row,
            field,
            reason,
            raw_value,
            raw_bytes,
            raw_sha256,
            detail,
        }
    }
}

/// What the load did to the catalog.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_lineage_form_reads_back_as_the_same_source() {
        for source in [
            Source::Embedded,
            Source::Tmdb(IngestRunId(4)),
            Source::Replay(EtlRunId(2)),
            Source::File(PathBuf::from("data/movies.csv")),
        ] {
            assert_eq!(Source::parse(&source.to_string()), Ok(source));
        }
        assert!(Source::parse("tmdb:x").is_err());
    }

    #[test]
    fn status_and_reason_codes_round_trip() {
        for r in Reason::ALL {
            assert_eq!(Reason::parse(r.as_str()), Some(r));
        }
        assert_eq!(EtlRunStatus::parse("failed"), Some(EtlRunStatus::Failed));
        assert_eq!(EtlRunStatus::parse("running"), None);
    }
}
