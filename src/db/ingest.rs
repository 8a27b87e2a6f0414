//! Ingest SQL: runs, their checkpoints (windows, pages, detail items), the raw-response index,
//! and the daily request quota.

use crate::ingest::client::Kept;
use crate::ingest::tmdb::Kind;
use crate::ingest::windows::Window;
use chrono::NaiveDate;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;
use std::collections::HashSet;

/// One row of `ingest_runs`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IngestRunRow {
    pub ingest_run_id: i64,
    pub api: String,
    pub mode: String,
    pub params_json: String,
    pub base_url: String,
    pub raw_dir: String,
    pub started_at: String,
    pub finished_at: Option<String>,
    pub status: String,
    pub stop_reason: Option<String>,
    pub etl_run_id: Option<i64>,
}

const RUN_COLUMNS: &str = "ingest_run_id, api, mode, params_json, base_url, raw_dir, started_at,
                           finished_at, status, stop_reason, etl_run_id";

fn run_row(r: &Row<'_>) -> rusqlite::Result<IngestRunRow> {
    Ok(IngestRunRow {
        ingest_run_id: r.get(0)?,
        api: r.get(1)?,
        mode: r.get(2)?,
        params_json: r.get(3)?,
        base_url: r.get(4)?,
        raw_dir: r.get(5)?,
        started_at: r.get(6)?,
        finished_at: r.get(7)?,
        status: r.get(8)?,
        stop_reason: r.get(9)?,
        etl_run_id: r.get(10)?,
    })
}

/// What a new run is.
pub struct NewRun<'a> {
    pub api: &'a str,
    pub mode: &'a str,
    pub params_json: &'a str,
    pub base_url: &'a str,
    pub started_at: &'a str,
}

/// Creates a run and its first windows in one transaction; `raw_dir(id)` names its raw folder.
pub fn create_run(
    conn: &mut Connection,
    run: &NewRun<'_>,
    kind: Kind,
    windows: &[Window],
    raw_dir: impl FnOnce(i64) -> String,
) -> rusqlite::Result<i64> {
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT INTO ingest_runs (api, mode, params_json, base_url, raw_dir, started_at, updated_at, status)
         VALUES (?1, ?2, ?3, ?4, '', ?5, ?5, 'running')",
        params![run.api, run.mode, run.params_json, run.base_url, run.started_at],
    )?;
    let id = tx.last_insert_rowid();
    tx.execute(
        "UPDATE ingest_runs SET raw_dir = ?2 WHERE ingest_run_id = ?1",
        params![id, raw_dir(id)],
    )?;
    insert_windows(&tx, id, kind, windows)?;
    tx.commit()?;
    Ok(id)
}

pub fn run_by_id(conn: &Connection, id: i64) -> rusqlite::Result<Option<IngestRunRow>> {
    conn.query_row(
        &format!("SELECT {RUN_COLUMNS} FROM ingest_runs WHERE ingest_run_id = ?1"),
        [id],
        run_row,
    )
    .optional()
}

/// The newest run of `api` that has not completed: what `--resume` continues.
pub fn latest_unfinished(conn: &Connection, api: &str) -> rusqlite::Result<Option<IngestRunRow>> {
    conn.query_row(
        &format!(
            "SELECT {RUN_COLUMNS} FROM ingest_runs WHERE api = ?1 AND status <> 'completed'
             ORDER BY ingest_run_id DESC LIMIT 1"
        ),
        [api],
        run_row,
    )
    .optional()
}

/// Marks a run as running again (a resume), or ends it with a status and reason.
pub fn set_status(
    conn: &Connection,
    id: i64,
    status: &str,
    stop_reason: Option<&str>,
    now: &str,
) -> rusqlite::Result<()> {
    let finished = (status != "running").then_some(now);
    conn.execute(
        "UPDATE ingest_runs SET status = ?2, stop_reason = ?3, updated_at = ?4, finished_at = ?5
         WHERE ingest_run_id = ?1",
        params![id, status, stop_reason, now, finished],
    )?;
    Ok(())
}

pub fn set_etl_run(conn: &Connection, id: i64, etl_run_id: i64) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE ingest_runs SET etl_run_id = ?2 WHERE ingest_run_id = ?1",
        params![id, etl_run_id],
    )?;
    Ok(())
}

/// A window still to page through, with its page count once known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenWindow {
    pub kind: Kind,
    pub window: Window,
    pub total_pages: Option<u32>,
}

pub fn insert_windows(
    conn: &Connection,
    run: i64,
    kind: Kind,
    windows: &[Window],
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR IGNORE INTO ingest_windows (ingest_run_id, kind, date_from, date_to, state)
         VALUES (?1, ?2, ?3, ?4, 'pending')",
    )?;
    for w in windows {
        stmt.execute(params![
            run,
            kind.as_str(),
            w.from.to_string(),
            w.to.to_string()
        ])?;
    }
    Ok(())
}

pub fn open_windows(conn: &Connection, run: i64) -> rusqlite::Result<Vec<OpenWindow>> {
    let mut stmt = conn.prepare(
        "SELECT kind, date_from, date_to, total_pages FROM ingest_windows
         WHERE ingest_run_id = ?1 AND state = 'pending' ORDER BY date_from, kind",
    )?;
    let rows = stmt.query_map([run], |r| {
        let kind: String = r.get(0)?;
        let date = |i: usize| -> rusqlite::Result<NaiveDate> {
            let s: String = r.get(i)?;
            s.parse().map_err(|e| {
                rusqlite::Error::FromSqlConversionFailure(
                    i,
                    rusqlite::types::Type::Text,
                    Box::new(e),
                )
            })
        };
        Ok(OpenWindow {
            kind: Kind::parse(&kind).unwrap_or(Kind::Discover),
            window: Window {
                from: date(1)?,
                to: date(2)?,
            },
            total_pages: r.get(3)?,
        })
    })?;
    rows.collect()
}

fn window_key(run: i64, kind: Kind, w: Window) -> (i64, &'static str, String, String) {
    (run, kind.as_str(), w.from.to_string(), w.to.to_string())
}

pub fn set_window_state(
    conn: &Connection,
    run: i64,
    kind: Kind,
    w: Window,
    state: &str,
) -> rusqlite::Result<()> {
    let (run, kind, from, to) = window_key(run, kind, w);
    conn.execute(
        "UPDATE ingest_windows SET state = ?5
         WHERE ingest_run_id = ?1 AND kind = ?2 AND date_from = ?3 AND date_to = ?4",
        params![run, kind, from, to, state],
    )?;
    Ok(())
}

pub fn set_total_pages(
    conn: &Connection,
    run: i64,
    kind: Kind,
    w: Window,
    total_pages: u32,
) -> rusqlite::Result<()> {
    let (run, kind, from, to) = window_key(run, kind, w);
    conn.execute(
        "UPDATE ingest_windows SET total_pages = ?5
         WHERE ingest_run_id = ?1 AND kind = ?2 AND date_from = ?3 AND date_to = ?4",
        params![run, kind, from, to, total_pages],
    )?;
    Ok(())
}

/// Records a page as fetched; returns how many pages of its window are now in.
pub fn insert_page(
    conn: &Connection,
    run: i64,
    kind: Kind,
    w: Window,
    page: u32,
) -> rusqlite::Result<u32> {
    let (run, kind, from, to) = window_key(run, kind, w);
    conn.execute(
        "INSERT OR IGNORE INTO ingest_pages (ingest_run_id, kind, date_from, date_to, page)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![run, kind, from, to, page],
    )?;
    conn.query_row(
        "SELECT COUNT(*) FROM ingest_pages
         WHERE ingest_run_id = ?1 AND kind = ?2 AND date_from = ?3 AND date_to = ?4",
        params![run, kind, from, to],
        |r| r.get(0),
    )
}

pub fn done_pages(
    conn: &Connection,
    run: i64,
    kind: Kind,
    w: Window,
) -> rusqlite::Result<HashSet<u32>> {
    let (run, kind, from, to) = window_key(run, kind, w);
    let mut stmt = conn.prepare_cached(
        "SELECT page FROM ingest_pages
         WHERE ingest_run_id = ?1 AND kind = ?2 AND date_from = ?3 AND date_to = ?4",
    )?;
    let rows = stmt.query_map(params![run, kind, from, to], |r| r.get(0))?;
    rows.collect()
}

/// Adds movies whose details are wanted; returns the ids that were new to this run.
pub fn insert_items(conn: &Connection, run: i64, ids: &[i64]) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR IGNORE INTO ingest_items (ingest_run_id, tmdb_id, state) VALUES (?1, ?2, 'pending')",
    )?;
    let mut new = Vec::new();
    for &id in ids {
        if stmt.execute(params![run, id])? == 1 {
            new.push(id);
        }
    }
    Ok(new)
}

pub fn pending_items(conn: &Connection, run: i64) -> rusqlite::Result<Vec<i64>> {
    let mut stmt = conn.prepare(
        "SELECT tmdb_id FROM ingest_items WHERE ingest_run_id = ?1 AND state = 'pending' ORDER BY tmdb_id",
    )?;
    let rows = stmt.query_map([run], |r| r.get(0))?;
    rows.collect()
}

pub fn set_item_state(conn: &Connection, run: i64, id: i64, state: &str) -> rusqlite::Result<()> {
    conn.execute(
        "UPDATE ingest_items SET state = ?3 WHERE ingest_run_id = ?1 AND tmdb_id = ?2",
        params![run, id, state],
    )?;
    Ok(())
}

/// Indexes responses already written to the raw zone.
pub fn insert_responses(conn: &Connection, run: i64, kept: &[Kept]) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR REPLACE INTO ingest_responses
             (ingest_run_id, seq, kind, url, status, fetched_at, outcome, file)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for k in kept {
        stmt.execute(params![
            run,
            k.seq,
            k.kind.as_str(),
            k.url,
            k.status,
            k.fetched_at,
            k.outcome,
            k.file
        ])?;
    }
    Ok(())
}

/// The sequence number the run's next response gets.
pub fn next_seq(conn: &Connection, run: i64) -> rusqlite::Result<u64> {
    conn.query_row(
        "SELECT COALESCE(MAX(seq) + 1, 0) FROM ingest_responses WHERE ingest_run_id = ?1",
        [run],
        |r| r.get(0),
    )
}

/// (kind, file) of every successful response of a run, in the order they arrived.
pub fn ok_responses(conn: &Connection, run: i64) -> rusqlite::Result<Vec<(Kind, String)>> {
    let mut stmt = conn.prepare(
        "SELECT kind, file FROM ingest_responses
         WHERE ingest_run_id = ?1 AND outcome = 'ok' ORDER BY seq",
    )?;
    let rows = stmt.query_map([run], |r| {
        let kind: String = r.get(0)?;
        Ok((Kind::parse(&kind).unwrap_or(Kind::Changes), r.get(1)?))
    })?;
    rows.collect()
}

pub fn has_ok_response(conn: &Connection, run: i64, kind: Kind) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM ingest_responses
                        WHERE ingest_run_id = ?1 AND kind = ?2 AND outcome = 'ok')",
        params![run, kind.as_str()],
        |r| r.get(0),
    )
}

/// Totals of a whole run (all its invocations), from its checkpoints and index.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunTotals {
    pub responses: u64,
    pub responses_not_ok: u64,
    pub pages: u64,
    pub windows_split: u64,
    pub windows_open: u64,
    pub details_done: u64,
    pub details_not_found: u64,
    pub details_pending: u64,
}

pub fn totals(conn: &Connection, run: i64) -> rusqlite::Result<RunTotals> {
    conn.query_row(
        "SELECT
           (SELECT COUNT(*) FROM ingest_responses WHERE ingest_run_id = ?1),
           (SELECT COUNT(*) FROM ingest_responses WHERE ingest_run_id = ?1 AND outcome <> 'ok'),
           (SELECT COUNT(*) FROM ingest_pages WHERE ingest_run_id = ?1),
           (SELECT COUNT(*) FROM ingest_windows WHERE ingest_run_id = ?1 AND state = 'split'),
           (SELECT COUNT(*) FROM ingest_windows WHERE ingest_run_id = ?1 AND state = 'pending'),
           (SELECT COUNT(*) FROM ingest_items WHERE ingest_run_id = ?1 AND state = 'done'),
           (SELECT COUNT(*) FROM ingest_items WHERE ingest_run_id = ?1 AND state = 'not_found'),
           (SELECT COUNT(*) FROM ingest_items WHERE ingest_run_id = ?1 AND state = 'pending')",
        [run],
        |r| {
            Ok(RunTotals {
                responses: r.get(0)?,
                responses_not_ok: r.get(1)?,
                pages: r.get(2)?,
                windows_split: r.get(3)?,
                windows_open: r.get(4)?,
                details_done: r.get(5)?,
                details_not_found: r.get(6)?,
                details_pending: r.get(7)?,
            })
        },
    )
}

/// Reserves one request against `quota` for `day`; `Ok(None)` when the quota is used up,
/// else the count used so far including this one. One statement, so concurrent processes
/// can never overshoot together.
pub fn reserve_quota(
    conn: &Connection,
    api: &str,
    day: &str,
    quota: u64,
) -> rusqlite::Result<Option<u64>> {
    if quota == 0 {
        return Ok(None);
    }
    conn.query_row(
        "INSERT INTO api_quota (api, day, used) VALUES (?1, ?2, 1)
         ON CONFLICT (api, day) DO UPDATE SET used = used + 1 WHERE used < ?3
         RETURNING used",
        params![api, day, quota],
        |r| r.get(0),
    )
    .optional()
}

pub fn quota_used(conn: &Connection, api: &str, day: &str) -> rusqlite::Result<u64> {
    conn.query_row(
        "SELECT COALESCE((SELECT used FROM api_quota WHERE api = ?1 AND day = ?2), 0)",
        params![api, day],
        |r| r.get(0),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quota_stops_at_its_limit_per_day() {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = crate::db::open_rw(&dir.path().join("q.db")).expect("open");
        let got: Vec<_> = (0..5)
            .map(|_| reserve_quota(&conn, "tmdb", "2026-01-01", 3).expect("reserve"))
            .collect();
        assert_eq!(got, [Some(1), Some(2), Some(3), None, None]);
        assert_eq!(
            reserve_quota(&conn, "tmdb", "2026-01-02", 3).expect("reserve"),
            Some(1)
        );
        assert_eq!(quota_used(&conn, "tmdb", "2026-01-01").expect("used"), 3);
        assert_eq!(
            reserve_quota(&conn, "tmdb", "2026-01-03", 0).expect("reserve"),
            None
        );
    }
}
