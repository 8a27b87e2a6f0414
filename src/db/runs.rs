//! Lineage SQL: `etl_runs` (one row per run, succeeded or failed) and `etl_rejects`.

use crate::etl::audit::AuditReport;
use crate::etl::transform::Reject;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::Serialize;

/// What is known of a run before it loads anything.
#[derive(Debug, Clone)]
pub struct RunStart {
    pub source: String,
    pub format: String,
    pub sha256: Option<String>,
    pub snapshot_path: Option<String>,
    pub started_at: String,
}

/// One row of `etl_runs`, as listed by the CLI and the API.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RunRow {
    pub run_id: i64,
    pub source: String,
    pub source_sha256: Option<String>,
    pub snapshot_path: Option<String>,
    pub started_at: String,
    pub finished_at: String,
    pub status: String,
    pub extracted: u64,
    pub loaded: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub rejected: u64,
    pub error: Option<String>,
}

const RUN_COLUMNS: &str =
    "run_id, source, source_sha256, snapshot_path, started_at, finished_at, status,
                           extracted, loaded, inserted, updated, unchanged, rejected, error";

fn run_row(r: &Row<'_>) -> rusqlite::Result<RunRow> {
    Ok(RunRow {
        run_id: r.get(0)?,
        source: r.get(1)?,
        source_sha256: r.get(2)?,
        snapshot_path: r.get(3)?,
        started_at: r.get(4)?,
        finished_at: r.get(5)?,
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

/// Opens a run inside the load transaction and returns its id. It only becomes visible, as
/// `succeeded`, when that transaction commits together with the data it loaded.
pub fn begin(tx: &Transaction<'_>, run: &RunStart) -> rusqlite::Result<i64> {
    tx.execute(
        "INSERT INTO etl_runs (source, source_format, source_sha256, snapshot_path, started_at,
                               finished_at, status)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5, 'succeeded')",
        params![
            run.source,
            run.format,
            run.sha256,
            run.snapshot_path,
            run.started_at
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

/// Writes the final counts and audit report of a run opened with [`begin`].
pub fn finish(
    tx: &Transaction<'_>,
    report: &AuditReport,
    finished_at: &str,
) -> rusqlite::Result<()> {
    let c = &report.counts;
    let to_json = |e: serde_json::Error| rusqlite::Error::ToSqlConversionFailure(Box::new(e));
    tx.execute(
        "UPDATE etl_runs SET finished_at = ?2, extracted = ?3, loaded = ?4, inserted = ?5, updated = ?6,
                unchanged = ?7, rejected = ?8, rejects_by_reason = ?9, audit_json = ?10
         WHERE run_id = ?1",
        params![
            report.run_id,
            finished_at,
            c.extracted,
            c.loaded,
            c.inserted,
            c.updated,
            c.unchanged,
            c.rejected,
            serde_json::to_string(&report.rejects_by_reason()).map_err(to_json)?,
            serde_json::to_string(report).map_err(to_json)?,
        ],
    )?;
    Ok(())
}

/// Records a run that failed; the catalog itself was rolled back and is untouched.
pub fn record_failure(
    conn: &Connection,
    run: &RunStart,
    finished_at: &str,
    error: &str,
) -> rusqlite::Result<i64> {
    conn.execute(
        "INSERT INTO etl_runs (source, source_format, source_sha256, snapshot_path, started_at,
                               finished_at, status, error)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'failed', ?7)",
        params![
            run.source,
            run.format,
            run.sha256,
            run.snapshot_path,
            run.started_at,
            finished_at,
            error
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Stores every problem of every rejected row.
pub fn insert_rejects(
    tx: &Transaction<'_>,
    run_id: i64,
    rejects: &[Reject],
) -> rusqlite::Result<()> {
    let mut stmt = tx.prepare_cached(
        "INSERT INTO etl_rejects (run_id, source_row, field, reason, raw_value, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for r in rejects {
        stmt.execute(params![
            run_id,
            r.row,
            r.field.as_str(),
            r.reason.as_str(),
            r.raw_value,
            r.detail
        ])?;
    }
    Ok(())
}

pub fn by_id(conn: &Connection, run_id: i64) -> rusqlite::Result<Option<RunRow>> {
    conn.query_row(
        &format!("SELECT {RUN_COLUMNS} FROM etl_runs WHERE run_id = ?1"),
        [run_id],
        run_row,
    )
    .optional()
}

/// The audit report of the newest succeeded run, if any.
pub fn latest_audit(conn: &Connection) -> rusqlite::Result<Option<AuditReport>> {
    let json: Option<String> = conn
        .query_row(
            "SELECT audit_json FROM etl_runs WHERE status = 'succeeded' ORDER BY run_id DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .optional()?
        .flatten();
    json.map(|j| parse_report(&j)).transpose()
}

/// One row of `etl_rejects`.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RejectRow {
    pub source_row: u64,
    pub field: String,
    pub reason: String,
    pub raw_value: Option<String>,
    pub detail: Option<String>,
}

/// A page of the rejects of `run_id`, by source row, and their total.
pub fn rejects(
    conn: &Connection,
    run_id: i64,
    limit: u32,
    offset: u64,
) -> rusqlite::Result<(Vec<RejectRow>, u64)> {
    let total = conn.query_row(
        "SELECT COUNT(*) FROM etl_rejects WHERE run_id = ?1",
        [run_id],
        |r| r.get(0),
    )?;
    let mut stmt = conn.prepare_cached(
        "SELECT source_row, field, reason, raw_value, detail FROM etl_rejects
         WHERE run_id = ?1 ORDER BY source_row, field LIMIT ?2 OFFSET ?3",
    )?;
    let rows = stmt.query_map(
        params![run_id, limit, i64::try_from(offset).unwrap_or(i64::MAX)],
        |r| {
            Ok(RejectRow {
                source_row: r.get(0)?,
                field: r.get(1)?,
                reason: r.get(2)?,
                raw_value: r.get(3)?,
                detail: r.get(4)?,
            })
        },
    )?;
    Ok((rows.collect::<rusqlite::Result<_>>()?, total))
}

/// Number of runs recorded.
pub fn count(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row("SELECT COUNT(*) FROM etl_runs", [], |r| r.get(0))
}

/// Runs, newest first, one page.
pub fn page(conn: &Connection, limit: u32, offset: u64) -> rusqlite::Result<Vec<RunRow>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {RUN_COLUMNS} FROM etl_runs ORDER BY run_id DESC LIMIT ?1 OFFSET ?2"
    ))?;
    let rows = stmt.query_map(
        params![limit, i64::try_from(offset).unwrap_or(i64::MAX)],
        run_row,
    )?;
    rows.collect()
}

/// Id of the newest succeeded run: what the server's model was fitted after.
pub fn latest_succeeded_id(conn: &Connection) -> rusqlite::Result<Option<i64>> {
    conn.query_row(
        "SELECT MAX(run_id) FROM etl_runs WHERE status = 'succeeded'",
        [],
        |r| r.get(0),
    )
}

/// The stored audit report and per-reason reject counts of one run.
pub fn audit(
    conn: &Connection,
    run_id: i64,
) -> rusqlite::Result<Option<(Option<AuditReport>, String)>> {
    conn.query_row(
        "SELECT audit_json, rejects_by_reason FROM etl_runs WHERE run_id = ?1",
        [run_id],
        |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, String>(1)?)),
    )
    .optional()?
    .map(|(audit, reasons)| Ok((audit.map(|j| parse_report(&j)).transpose()?, reasons)))
    .transpose()
}

fn parse_report(json: &str) -> rusqlite::Result<AuditReport> {
    serde_json::from_str(json).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, Box::new(e))
    })
}
