//! Lineage SQL: `etl_runs` (one row per run, succeeded or failed) and `etl_rejects`.

use super::codec::{timestamp, timestamp_at};
use super::sql::{args, Row};
use super::{Store, StoreError};
use crate::domain::audit::AuditReport;
use crate::domain::etl::{EtlRun, EtlRunStatus, Reject, RejectsByReason, RunStart};
use crate::domain::{EtlRunId, Timestamp};

const RUN_COLUMNS: &str = "run_id, source, source_sha256, snapshot_path, started_at, finished_at,
                           status, extracted, loaded, inserted, updated, unchanged, rejected, error";

fn etl_run(r: &Row<'_>) -> Result<EtlRun, StoreError> {
    Ok(EtlRun {
        run_id: r.get(0)?,
        source: r.get(1)?,
        source_sha256: r.get(2)?,
        snapshot: r.get::<Option<String>>(3)?.map(relative_snapshot),
        started_at: timestamp_at(r, 4)?,
        finished_at: timestamp_at(r, 5)?,
        status: r.get(6)?,
        extracted: r.get(7)?,
        loaded: r.get(8)?,
        inserted: r.get(9)?,
        updated: r.get(10)?,
        unchanged: r.get(11)?,
        rejected: r.get(12)?,
        error: r.get(13)?,
    })
}

/// A snapshot path relative to the data directory. Databases written before snapshots were
/// named that way hold absolute paths: their `raw/…` tail is what the data directory still has.
fn relative_snapshot(stored: String) -> String {
    if !std::path::Path::new(&stored).is_absolute() {
        return stored;
    }
    match stored.rfind("/raw/") {
        Some(i) => stored[i + 1..].to_owned(),
        None => stored,
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(what: &str, json: &str) -> Result<T, StoreError> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("{what}: {e}")))
}

impl Store {
    /// Records a run that failed; the catalog itself was rolled back and is untouched.
    pub fn record_failed_run(
        &self,
        run: &RunStart,
        finished_at: Timestamp,
        error: &str,
    ) -> Result<EtlRunId, StoreError> {
        self.db().one(
            "INSERT INTO etl_runs (source, source_format, source_sha256, snapshot_path, started_at,
                                   finished_at, status, error)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING run_id",
            args![
                run.source,
                run.format,
                run.sha256,
                run.snapshot,
                timestamp(run.started_at),
                timestamp(finished_at),
                EtlRunStatus::Failed,
                error
            ],
        )
    }

    pub fn etl_run(&self, run_id: EtlRunId) -> Result<Option<EtlRun>, StoreError> {
        self.db().query_row(
            &format!("SELECT {RUN_COLUMNS} FROM etl_runs WHERE run_id = ?1"),
            args![run_id],
            etl_run,
        )
    }

    /// Runs, newest first, one page.
    pub fn etl_runs(&self, limit: u32, offset: u64) -> Result<Vec<EtlRun>, StoreError> {
        self.db().query(
            &format!("SELECT {RUN_COLUMNS} FROM etl_runs ORDER BY run_id DESC LIMIT ?1 OFFSET ?2"),
            args![limit, offset],
            etl_run,
        )
    }

    /// The newest run, whatever its status.
    pub fn last_etl_run(&self) -> Result<Option<EtlRun>, StoreError> {
        Ok(self.etl_runs(1, 0)?.into_iter().next())
    }

    /// Number of runs recorded.
    pub fn etl_run_count(&self) -> Result<u64, StoreError> {
        self.db().one("SELECT COUNT(*) FROM etl_runs", args![])
    }

    /// The audit report of the newest succeeded run, if any.
    pub fn latest_audit(&self) -> Result<Option<AuditReport>, StoreError> {
        let json: Option<String> = self
            .db()
            .query_row(
                "SELECT audit_json FROM etl_runs WHERE status = ?1 ORDER BY run_id DESC LIMIT 1",
                args![EtlRunStatus::Succeeded],
                |r| r.get(0),
            )?
            .flatten();
        json.map(|j| parse_json("audit report", &j)).transpose()
    }

    /// The audit report (absent for a failed run) and the reject counts by reason of one run;
    /// `None` when there is no such run.
    pub fn etl_audit(
        &self,
        run_id: EtlRunId,
    ) -> Result<Option<(Option<AuditReport>, RejectsByReason)>, StoreError> {
        let stored = self.db().query_row(
            "SELECT audit_json, rejects_by_reason FROM etl_runs WHERE run_id = ?1",
            args![run_id],
            |r| Ok((r.get::<Option<String>>(0)?, r.get::<String>(1)?)),
        )?;
        stored
            .map(|(audit, reasons)| {
                Ok((
                    audit.map(|j| parse_json("audit report", &j)).transpose()?,
                    parse_json("rejects by reason", &reasons)?,
                ))
            })
            .transpose()
    }

    /// A page of the rejects of `run_id`, by source row, and their total.
    pub fn etl_rejects(
        &self,
        run_id: EtlRunId,
        limit: u32,
        offset: u64,
    ) -> Result<(Vec<Reject>, u64), StoreError> {
        let db = self.db();
        let total = db.one(
            "SELECT COUNT(*) FROM etl_rejects WHERE run_id = ?1",
            args![run_id],
        )?;
        let rows = db.query(
            "SELECT source_row, field, reason, raw_value, detail, file, raw_bytes, raw_sha256
             FROM etl_rejects
             WHERE run_id = ?1 ORDER BY file, source_row, field LIMIT ?2 OFFSET ?3",
            args![run_id, limit, offset],
            |r| {
                Ok(Reject {
                    file: r.get(5)?,
                    source_row: r.get(0)?,
                    field: r.get(1)?,
                    reason: r.get(2)?,
                    raw_value: r.get(3)?,
                    raw_bytes: r.get(6)?,
                    raw_sha256: r.get(7)?,
                    detail: r.get(4)?,
                })
            },
        )?;
        Ok((rows, total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legacy_absolute_snapshot_paths_read_as_relative() {
        assert_eq!(
            relative_snapshot("/home/u/movierec-data/raw/ab12.json.gz".into()),
            "raw/ab12.json.gz"
        );
        assert_eq!(
            relative_snapshot("raw/ab12.csv.gz".into()),
            "raw/ab12.csv.gz"
        );
    }
}
