//! Ingest SQL: runs, their checkpoints (windows, pages, detail items), the raw-response index,
//! and the daily request quota.

use super::codec::{date_at, opt_timestamp_at, timestamp, timestamp_at};
use super::sql::{args, Db, Row};
use super::{Store, StoreError};
use crate::domain::ingest::{
    IngestRun, IngestRunStatus, IngestTotals, ItemState, KeptResponse, NewIngestRun, OpenWindow,
    ResponseKind, ResponseOutcome, WindowState,
};
use crate::domain::window::Window;
use crate::domain::{EtlRunId, IngestRunId, Timestamp};
use std::collections::HashSet;

const RUN_COLUMNS: &str = "ingest_run_id, api, mode, params_json, base_url, raw_dir, started_at,
                           finished_at, status, stop_reason, etl_run_id";

fn ingest_run(r: &Row<'_>) -> Result<IngestRun, StoreError> {
    Ok(IngestRun {
        ingest_run_id: r.get(0)?,
        api: r.get(1)?,
        mode: r.get(2)?,
        params_json: r.get(3)?,
        base_url: r.get(4)?,
        raw_dir: r.get(5)?,
        started_at: timestamp_at(r, 6)?,
        finished_at: opt_timestamp_at(r, 7)?,
        status: r.get(8)?,
        stop_reason: r.get(9)?,
        etl_run_id: r.get(10)?,
    })
}

/// One checkpoint of an ingest run: the responses of one job and the progress they make, written
/// in one transaction. Dropped without [`Checkpoint::commit`], it changes nothing.
pub struct Checkpoint<'s> {
    tx: super::WriteTx<'s>,
    run: IngestRunId,
}

impl Store {
    /// Creates a run and its first windows in one transaction; `raw_dir(id)` names its raw
    /// folder (relative to the data directory).
    pub fn create_ingest_run(
        &mut self,
        run: &NewIngestRun<'_>,
        kind: ResponseKind,
        windows: &[Window],
        raw_dir: impl FnOnce(IngestRunId) -> String,
    ) -> Result<IngestRunId, StoreError> {
        let tx = self.begin_write(super::KeyChecks::On)?;
        let db = tx.db();
        let id = db.one(
            "INSERT INTO ingest_runs (api, mode, params_json, base_url, raw_dir, started_at, updated_at, status)
             VALUES (?1, ?2, ?3, ?4, '', ?5, ?5, ?6) RETURNING ingest_run_id",
            args![
                run.api,
                run.mode,
                run.params_json,
                run.base_url,
                timestamp(run.started_at),
                IngestRunStatus::Running
            ],
        )?;
        let id = IngestRunId(id);
        db.execute(
            "UPDATE ingest_runs SET raw_dir = ?2 WHERE ingest_run_id = ?1",
            args![id, raw_dir(id)],
        )?;
        insert_windows(&db, id, kind, windows)?;
        tx.commit()?;
        Ok(id)
    }

    pub fn ingest_run(&self, id: IngestRunId) -> Result<Option<IngestRun>, StoreError> {
        self.db().query_row(
            &format!("SELECT {RUN_COLUMNS} FROM ingest_runs WHERE ingest_run_id = ?1"),
            args![id],
            ingest_run,
        )
    }

    /// The newest run of `api` that has not completed: what `--resume` continues.
    pub fn latest_unfinished_ingest(&self, api: &str) -> Result<Option<IngestRun>, StoreError> {
        self.db().query_row(
            &format!(
                "SELECT {RUN_COLUMNS} FROM ingest_runs WHERE api = ?1 AND status <> ?2
                 ORDER BY ingest_run_id DESC LIMIT 1"
            ),
            args![api, IngestRunStatus::Completed],
            ingest_run,
        )
    }

    /// Marks a run as running again (a resume), or ends it with a status and reason.
    pub fn set_ingest_status(
        &self,
        id: IngestRunId,
        status: IngestRunStatus,
        stop_reason: Option<&str>,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let now = timestamp(now);
        let finished = (status != IngestRunStatus::Running).then_some(&now);
        self.db().execute(
            "UPDATE ingest_runs SET status = ?2, stop_reason = ?3, updated_at = ?4, finished_at = ?5
             WHERE ingest_run_id = ?1",
            args![id, status, stop_reason, now, finished],
        )?;
        Ok(())
    }

    /// Links a run to the ETL run that loaded what it fetched.
    pub fn set_ingest_load(&self, id: IngestRunId, etl_run: EtlRunId) -> Result<(), StoreError> {
        self.db().execute(
            "UPDATE ingest_runs SET etl_run_id = ?2 WHERE ingest_run_id = ?1",
            args![id, etl_run],
        )?;
        Ok(())
    }

    /// Windows of a run not yet paged through to the end.
    pub fn open_windows(&self, run: IngestRunId) -> Result<Vec<OpenWindow>, StoreError> {
        self.db().query(
            "SELECT kind, date_from, date_to, total_pages FROM ingest_windows
             WHERE ingest_run_id = ?1 AND state = ?2 ORDER BY date_from, kind",
            args![run, WindowState::Pending],
            |r| {
                Ok(OpenWindow {
                    kind: r.get(0)?,
                    window: Window {
                        from: date_at(r, 1)?,
                        to: date_at(r, 2)?,
                    },
                    total_pages: r.get(3)?,
                })
            },
        )
    }

    /// Pages of a window already fetched.
    pub fn done_pages(
        &self,
        run: IngestRunId,
        kind: ResponseKind,
        w: Window,
    ) -> Result<HashSet<u32>, StoreError> {
        let mut pages = HashSet::new();
        self.db().for_each(
            "SELECT page FROM ingest_pages
             WHERE ingest_run_id = ?1 AND kind = ?2 AND date_from = ?3 AND date_to = ?4",
            args![run, kind, w.from.to_string(), w.to.to_string()],
            |r| {
                pages.insert(r.get(0)?);
                Ok(())
            },
        )?;
        Ok(pages)
    }

    /// Movies whose details are still to fetch, by TMDB id.
    pub fn pending_items(&self, run: IngestRunId) -> Result<Vec<i64>, StoreError> {
        self.db().query(
            "SELECT tmdb_id FROM ingest_items WHERE ingest_run_id = ?1 AND state = ?2 ORDER BY tmdb_id",
            args![run, ItemState::Pending],
            |r| r.get(0),
        )
    }

    /// The sequence number the run's next response gets.
    pub fn next_response_seq(&self, run: IngestRunId) -> Result<u64, StoreError> {
        self.db().one(
            "SELECT COALESCE(MAX(seq) + 1, 0) FROM ingest_responses WHERE ingest_run_id = ?1",
            args![run],
        )
    }

    /// (kind, file) of every successful response of a run, in the order they arrived.
    pub fn ok_responses(
        &self,
        run: IngestRunId,
    ) -> Result<Vec<(ResponseKind, String)>, StoreError> {
        self.db().query(
            "SELECT kind, file FROM ingest_responses
             WHERE ingest_run_id = ?1 AND outcome = ?2 ORDER BY seq",
            args![run, ResponseOutcome::Ok],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    pub fn has_ok_response(
        &self,
        run: IngestRunId,
        kind: ResponseKind,
    ) -> Result<bool, StoreError> {
        self.db().one(
            "SELECT EXISTS (SELECT 1 FROM ingest_responses
                            WHERE ingest_run_id = ?1 AND kind = ?2 AND outcome = ?3)",
            args![run, kind, ResponseOutcome::Ok],
        )
    }

    /// Totals of a whole run (all its invocations), from its checkpoints and index.
    pub fn ingest_totals(&self, run: IngestRunId) -> Result<IngestTotals, StoreError> {
        self.db()
            .query_row(
                "SELECT
               (SELECT COUNT(*) FROM ingest_responses WHERE ingest_run_id = ?1),
               (SELECT COUNT(*) FROM ingest_responses WHERE ingest_run_id = ?1 AND outcome <> ?2),
               (SELECT COUNT(*) FROM ingest_pages WHERE ingest_run_id = ?1),
               (SELECT COUNT(*) FROM ingest_windows WHERE ingest_run_id = ?1 AND state = ?3),
               (SELECT COUNT(*) FROM ingest_windows WHERE ingest_run_id = ?1 AND state = ?4),
               (SELECT COUNT(*) FROM ingest_items WHERE ingest_run_id = ?1 AND state = ?5),
               (SELECT COUNT(*) FROM ingest_items WHERE ingest_run_id = ?1 AND state = ?6),
               (SELECT COUNT(*) FROM ingest_items WHERE ingest_run_id = ?1 AND state = ?7)",
                args![
                    run,
                    ResponseOutcome::Ok,
                    WindowState::Split,
                    WindowState::Pending,
                    ItemState::Done,
                    ItemState::NotFound,
                    ItemState::Pending
                ],
                |r| {
                    Ok(IngestTotals {
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
            )?
            .ok_or_else(|| StoreError::Corrupt("no totals".into()))
    }

    /// Reserves one request against `quota` for `day` (UTC); `None` when the quota is used up,
    /// else the count used so far including this one. One statement, so concurrent processes
    /// can never overshoot together.
    pub fn reserve_quota(
        &self,
        api: &str,
        day: chrono::NaiveDate,
        quota: u64,
    ) -> Result<Option<u64>, StoreError> {
        if quota == 0 {
            return Ok(None);
        }
        self.db().query_row(
            "INSERT INTO api_quota (api, day, used) VALUES (?1, ?2, 1)
             ON CONFLICT (api, day) DO UPDATE SET used = api_quota.used + 1
             WHERE api_quota.used < ?3
             RETURNING used",
            args![api, day.to_string(), quota],
            |r| r.get(0),
        )
    }

    /// Requests reserved for `api` on `day` (UTC).
    pub fn quota_used(&self, api: &str, day: chrono::NaiveDate) -> Result<u64, StoreError> {
        self.db().one(
            "SELECT COALESCE((SELECT used FROM api_quota WHERE api = ?1 AND day = ?2), 0)",
            args![api, day.to_string()],
        )
    }

    /// Starts the checkpoint of one job of `run`.
    pub fn checkpoint(&mut self, run: IngestRunId) -> Result<Checkpoint<'_>, StoreError> {
        Ok(Checkpoint {
            tx: self.begin_write(super::KeyChecks::On)?,
            run,
        })
    }
}

fn insert_windows(
    db: &Db<'_>,
    run: IngestRunId,
    kind: ResponseKind,
    windows: &[Window],
) -> Result<(), StoreError> {
    for w in windows {
        db.execute(
            "INSERT INTO ingest_windows (ingest_run_id, kind, date_from, date_to, state)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
            args![
                run,
                kind,
                w.from.to_string(),
                w.to.to_string(),
                WindowState::Pending
            ],
        )?;
    }
    Ok(())
}

impl Checkpoint<'_> {
    /// Indexes responses already written to the raw zone.
    pub fn insert_responses(&self, kept: &[KeptResponse]) -> Result<(), StoreError> {
        let db = self.tx.db();
        for k in kept {
            db.execute(
                "INSERT INTO ingest_responses
                     (ingest_run_id, seq, kind, url, status, fetched_at, outcome, file)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
                 ON CONFLICT (ingest_run_id, seq) DO UPDATE SET kind = excluded.kind,
                     url = excluded.url, status = excluded.status,
                     fetched_at = excluded.fetched_at, outcome = excluded.outcome,
                     file = excluded.file",
                args![
                    self.run,
                    k.seq,
                    k.kind,
                    k.url,
                    k.status,
                    timestamp(k.fetched_at),
                    k.outcome,
                    k.file
                ],
            )?;
        }
        Ok(())
    }

    pub fn insert_windows(&self, kind: ResponseKind, windows: &[Window]) -> Result<(), StoreError> {
        insert_windows(&self.tx.db(), self.run, kind, windows)
    }

    pub fn set_window_state(
        &self,
        kind: ResponseKind,
        w: Window,
        state: WindowState,
    ) -> Result<(), StoreError> {
        self.tx.db().execute(
            "UPDATE ingest_windows SET state = ?5
             WHERE ingest_run_id = ?1 AND kind = ?2 AND date_from = ?3 AND date_to = ?4",
            args![self.run, kind, w.from.to_string(), w.to.to_string(), state],
        )?;
        Ok(())
    }

    pub fn set_total_pages(
        &self,
        kind: ResponseKind,
        w: Window,
        total_pages: u32,
    ) -> Result<(), StoreError> {
        self.tx.db().execute(
            "UPDATE ingest_windows SET total_pages = ?5
             WHERE ingest_run_id = ?1 AND kind = ?2 AND date_from = ?3 AND date_to = ?4",
            args![
                self.run,
                kind,
                w.from.to_string(),
                w.to.to_string(),
                total_pages
            ],
        )?;
        Ok(())
    }

    /// Records a page as fetched; returns how many pages of its window are now in.
    pub fn insert_page(&self, kind: ResponseKind, w: Window, page: u32) -> Result<u32, StoreError> {
        let (from, to) = (w.from.to_string(), w.to.to_string());
        let db = self.tx.db();
        db.execute(
            "INSERT INTO ingest_pages (ingest_run_id, kind, date_from, date_to, page)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
            args![self.run, kind, from, to, page],
        )?;
        db.one(
            "SELECT COUNT(*) FROM ingest_pages
             WHERE ingest_run_id = ?1 AND kind = ?2 AND date_from = ?3 AND date_to = ?4",
            args![self.run, kind, from, to],
        )
    }

    /// Adds movies whose details are wanted; returns the ids that were new to this run.
    pub fn insert_items(&self, ids: &[i64]) -> Result<Vec<i64>, StoreError> {
        let db = self.tx.db();
        let mut new = Vec::new();
        for &id in ids {
            let inserted = db.execute(
                "INSERT INTO ingest_items (ingest_run_id, tmdb_id, state) VALUES (?1, ?2, ?3)
                 ON CONFLICT DO NOTHING",
                args![self.run, id, ItemState::Pending],
            )?;
            if inserted == 1 {
                new.push(id);
            }
        }
        Ok(new)
    }

    pub fn set_item_state(&self, tmdb_id: i64, state: ItemState) -> Result<(), StoreError> {
        self.tx.db().execute(
            "UPDATE ingest_items SET state = ?3 WHERE ingest_run_id = ?1 AND tmdb_id = ?2",
            args![self.run, tmdb_id, state],
        )?;
        Ok(())
    }

    pub fn commit(self) -> Result<(), StoreError> {
        self.tx.commit()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn quota_stops_at_its_limit_per_day() {
        let (_scratch, store) = crate::store::testing::fresh();
        let day = |d| chrono::NaiveDate::from_ymd_opt(2026, 1, d).expect("date");
        let got: Vec<_> = (0..5)
            .map(|_| store.reserve_quota("tmdb", day(1), 3).expect("reserve"))
            .collect();
        assert_eq!(got, [Some(1), Some(2), Some(3), None, None]);
        assert_eq!(
            store.reserve_quota("tmdb", day(2), 3).expect("reserve"),
            Some(1)
        );
        assert_eq!(store.quota_used("tmdb", day(1)).expect("used"), 3);
        assert_eq!(
            store.reserve_quota("tmdb", day(3), 0).expect("reserve"),
            None
        );
    }
}
