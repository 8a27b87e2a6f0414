//! Movie-API ingest runs and their checkpoints: the states the ingest moves through, as enums,
//! and the rows the store keeps of them.

use super::window::Window;
use super::{EtlRunId, IngestRunId, Timestamp};
use serde::Serialize;

coded_enum!(
    /// How an ingest run stands.
    IngestRunStatus {
        /// Fetching now (or killed while it was: `--resume` continues it).
        Running = "running",
        /// Ended cleanly before the end: quota, `--max-requests`, or requests skipped after retries.
        Stopped = "stopped",
        Completed = "completed",
        Failed = "failed",
    }
);

coded_enum!(
    /// What an ingest run pages through.
    IngestMode {
        /// Every movie released in a date range.
        Discover = "discover",
        /// Movies changed in a date range.
        Changes = "changes",
    }
);

coded_enum!(
    /// What a request is for; stored with every response it produced.
    ResponseKind {
        Genres = "genres",
        Discover = "discover",
        Details = "details",
        Changes = "changes",
    }
);

coded_enum!(
    /// How far a date window has been paged through.
    WindowState {
        Pending = "pending",
        /// Over the API's page cap: replaced by its two halves.
        Split = "split",
        Done = "done",
    }
);

coded_enum!(
    /// The details request of one movie.
    ItemState {
        Pending = "pending",
        Done = "done",
        NotFound = "not_found",
        Skipped = "skipped",
    }
);

coded_enum!(
    /// What a kept response turned out to be.
    ResponseOutcome {
        /// The expected shape: it feeds the load.
        Ok = "ok",
        Malformed = "malformed",
        NotFound = "not_found",
        /// Any other status (401, 429, 5xx): kept as evidence.
        Error = "error",
    }
);

/// One ingest run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IngestRun {
    pub ingest_run_id: IngestRunId,
    pub api: String,
    pub mode: IngestMode,
    /// What the run covers, as JSON (never credentials).
    pub params_json: String,
    pub base_url: String,
    /// Where its responses are kept, relative to the data directory.
    pub raw_dir: String,
    pub started_at: Timestamp,
    pub finished_at: Option<Timestamp>,
    pub status: IngestRunStatus,
    pub stop_reason: Option<String>,
    /// The last load of what it fetched.
    pub etl_run_id: Option<EtlRunId>,
}

/// What a new run is.
#[derive(Debug, Clone)]
pub struct NewIngestRun<'a> {
    pub api: &'a str,
    pub mode: IngestMode,
    pub params_json: &'a str,
    pub base_url: &'a str,
    pub started_at: Timestamp,
}

/// A window still to page through, with its page count once known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenWindow {
    pub kind: ResponseKind,
    pub window: Window,
    pub total_pages: Option<u32>,
}

/// One response received and written to the raw zone, as the response index records it.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptResponse {
    pub seq: u64,
    pub kind: ResponseKind,
    /// Without credentials.
    pub url: String,
    pub status: u16,
    pub fetched_at: Timestamp,
    pub outcome: ResponseOutcome,
    /// File name within the run's raw directory.
    pub file: String,
}

/// Totals of a whole run (all its invocations), from its checkpoints and response index.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IngestTotals {
    pub responses: u64,
    pub responses_not_ok: u64,
    pub pages: u64,
    pub windows_split: u64,
    pub windows_open: u64,
    pub details_done: u64,
    pub details_not_found: u64,
    pub details_pending: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_codes_read_back() {
        for s in [
            IngestRunStatus::Running,
            IngestRunStatus::Stopped,
            IngestRunStatus::Completed,
            IngestRunStatus::Failed,
        ] {
            assert_eq!(IngestRunStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(ItemState::parse("not_found"), Some(ItemState::NotFound));
        assert_eq!(ResponseKind::parse("bogus"), None);
        assert_eq!(
            serde_json::to_string(&ResponseKind::Details).expect("json"),
            "\"details\""
        );
    }
}
