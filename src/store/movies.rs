//! Catalog SQL: the staged, idempotent load of the ETL and the read queries of every reader.
//!
//! A load streams clean movies into a temporary staging table inside the run's one transaction,
//! then settles the catalog with set-based statements: duplicates are ranked away (the dedupe
//! rule below), changed rows updated, new rows inserted in source order. Memory stays flat
//! whatever the input size: SQLite spills the staging table and its sort to disk.

use super::codec::timestamp;
use super::{Store, StoreError};
use crate::domain::audit::{AuditReport, Example};
use crate::domain::catalog::{CatalogQuery, SortKey};
use crate::domain::etl::{EtlRunStatus, LoadCounts, Reject, RunStart};
use crate::domain::movie::{CatalogMovie, Movie};
use crate::domain::{EtlRunId, MovieId, Timestamp};
use rusqlite::{params, OptionalExtension, Row, Transaction, TransactionBehavior};

const COLUMNS: &str = "MovieID, Title, ReleaseYear, Rating, Votes, Genre, Director";

fn catalog_movie(r: &Row<'_>) -> rusqlite::Result<CatalogMovie> {
    Ok(CatalogMovie {
        id: r.get(0)?,
        title: r.get(1)?,
        release_year: r.get(2)?,
        rating: r.get(3)?,
        votes: r.get(4)?,
        genre: r.get(5)?,
        director: r.get(6)?,
    })
}

/// An ETL run's load: one IMMEDIATE transaction holding the run's lineage row, its rejects and
/// every catalog change. Dropped without [`Load::commit`], it leaves the database as it was.
pub struct Load<'s> {
    tx: Transaction<'s>,
    run_id: EtlRunId,
}

/// What settling the staged movies did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadSummary {
    pub counts: LoadCounts,
    /// Movies left after dedupe (what the catalog now holds of this input).
    pub loaded: u64,
    /// Rows merged into another with the same title and year.
    pub duplicates: u64,
    /// The first few of them.
    pub duplicate_examples: Vec<Example>,
}

impl Store {
    /// Starts an ETL run's load: takes the write lock and opens the run's lineage row, which only
    /// becomes visible, as `succeeded`, when the load commits.
    pub fn begin_load(&mut self, run: &RunStart) -> Result<Load<'_>, StoreError> {
        let tx = self
            .owned()?
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO etl_runs (source, source_format, source_sha256, snapshot_path, started_at,
                                   finished_at, status)
             VALUES (?1, ?2, ?3, ?4, ?5, ?5, ?6)",
            params![
                run.source,
                run.format,
                run.sha256,
                run.snapshot,
                timestamp(run.started_at),
                EtlRunStatus::Succeeded
            ],
        )?;
        let run_id = EtlRunId(tx.last_insert_rowid());
        tx.execute_batch(
            "DROP TABLE IF EXISTS temp.etl_stage;
             CREATE TEMP TABLE etl_stage (
                 source_row   INTEGER PRIMARY KEY,
                 title_key    TEXT NOT NULL,
                 year         INTEGER NOT NULL,
                 title        TEXT NOT NULL,
                 rating       REAL NOT NULL,
                 release_date TEXT NOT NULL,
                 votes        INTEGER,
                 genre        TEXT,
                 director     TEXT
             );",
        )?;
        Ok(Load { tx, run_id })
    }

    /// Number of movies in the catalog.
    pub fn movie_count(&self) -> Result<u64, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT COUNT(*) FROM Movies", [], |r| r.get(0))?)
    }

    pub fn movie(&self, id: MovieId) -> Result<Option<CatalogMovie>, StoreError> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM Movies WHERE MovieID = ?1"),
                [id],
                catalog_movie,
            )
            .optional()?)
    }

    /// Movies whose normalised title equals `key` (see [`crate::domain::movie::title_key`]),
    /// oldest first.
    pub fn movies_titled(&self, key: &str) -> Result<Vec<CatalogMovie>, StoreError> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM Movies WHERE TitleKey = ?1 ORDER BY ReleaseYear, MovieID"
        ))?;
        let rows = stmt.query_map([key], catalog_movie)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// (MovieID, title key) of every movie, for closest-title suggestions.
    pub fn title_keys(&self) -> Result<Vec<(MovieId, String)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare("SELECT MovieID, TitleKey FROM Movies ORDER BY MovieID")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One page of movies matching `q`, and how many match in all.
    pub fn movies_page(&self, q: &CatalogQuery) -> Result<(Vec<CatalogMovie>, u64), StoreError> {
        let mut clauses = Vec::new();
        let mut args: Vec<rusqlite::types::Value> = Vec::new();
        if let Some(key) = q.title_key.as_deref().filter(|k| !k.is_empty()) {
            clauses.push("TitleKey LIKE ? ESCAPE '\\'");
            args.push(like_pattern(key).into());
        }
        if let Some(y) = q.year_from {
            clauses.push("ReleaseYear >= ?");
            args.push(i64::from(y).into());
        }
        if let Some(y) = q.year_to {
            clauses.push("ReleaseYear <= ?");
            args.push(i64::from(y).into());
        }
        if let Some(r) = q.min_rating {
            clauses.push("Rating >= ?");
            args.push(r.into());
        }
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let total: u64 = self.conn.query_row(
            &format!("SELECT COUNT(*) FROM Movies {filter}"),
            rusqlite::params_from_iter(&args),
            |r| r.get(0),
        )?;
        let column = match q.sort {
            SortKey::Id => "MovieID",
            SortKey::Title => "TitleKey",
            SortKey::Year => "ReleaseYear",
            SortKey::Rating => "Rating",
            SortKey::Votes => "Votes",
        };
        let direction = if q.descending { "DESC" } else { "ASC" };
        let sql = format!(
            "SELECT {COLUMNS} FROM Movies {filter} ORDER BY {column} {direction} NULLS LAST, MovieID LIMIT ? OFFSET ?"
        );
        args.push(i64::from(q.limit).into());
        args.push(i64::try_from(q.offset).unwrap_or(i64::MAX).into());
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(&args), catalog_movie)?;
        Ok((rows.collect::<rusqlite::Result<_>>()?, total))
    }

    /// Every movie, by MovieID, and the newest succeeded ETL run, read in one transaction so
    /// the two always describe the same catalog: what the serving snapshot is built from.
    pub fn catalog(&self) -> Result<(Vec<CatalogMovie>, Option<EtlRunId>), StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let run_id = latest_succeeded(&tx)?;
        let movies = {
            let mut stmt = tx.prepare(&format!("SELECT {COLUMNS} FROM Movies ORDER BY MovieID"))?;
            let rows = stmt.query_map([], catalog_movie)?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        };
        tx.finish()?;
        Ok((movies, run_id))
    }
}

fn latest_succeeded(conn: &rusqlite::Connection) -> rusqlite::Result<Option<EtlRunId>> {
    conn.query_row(
        "SELECT MAX(run_id) FROM etl_runs WHERE status = ?1",
        [EtlRunStatus::Succeeded],
        |r| r.get(0),
    )
}

impl Store {
    /// Id of the newest succeeded ETL run: what a served catalog is compared against.
    pub fn latest_succeeded_run(&self) -> Result<Option<EtlRunId>, StoreError> {
        Ok(latest_succeeded(&self.conn)?)
    }
}

impl Load<'_> {
    /// The run this load records.
    pub fn run_id(&self) -> EtlRunId {
        self.run_id
    }

    /// Stages a batch of clean movies.
    pub fn stage(&mut self, movies: &[Movie]) -> Result<(), StoreError> {
        let mut insert = self.tx.prepare_cached(
            "INSERT INTO temp.etl_stage (source_row, title_key, year, title, rating, release_date,
                                         votes, genre, director)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for m in movies {
            let (key, year) = m.natural_key();
            insert.execute(params![
                m.source_row,
                key,
                year,
                m.title.as_str(),
                m.rating.value(),
                m.release_date.date().to_string(),
                m.votes,
                m.genre,
                m.director
            ])?;
        }
        Ok(())
    }

    /// Stores a batch of problems of rejected rows.
    pub fn reject(&mut self, rejects: &[Reject]) -> Result<(), StoreError> {
        let mut stmt = self.tx.prepare_cached(
            "INSERT INTO etl_rejects (run_id, source_row, field, reason, raw_value, detail)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for r in rejects {
            stmt.execute(params![
                self.run_id,
                r.source_row,
                r.field,
                r.reason,
                r.raw_value,
                r.detail
            ])?;
        }
        Ok(())
    }

    /// Settles the staged movies into the catalog: dedupe, update what changed, insert what is
    /// new (in source order, so new MovieIDs follow the input). A row whose stored values already
    /// equal the new ones is left alone, so a rerun writes nothing.
    ///
    /// Dedupe: rows sharing a natural key (normalised title + release year) merge into one; the
    /// survivor is the one with most votes (none counts as zero), then the highest rating, then
    /// the earliest source row — the same whatever the input order. The others become
    /// `duplicate` rejects naming the survivor. `on_loaded(rating, year)` sees every survivor.
    pub fn settle(
        &mut self,
        mut on_loaded: impl FnMut(f64, i32),
    ) -> Result<LoadSummary, StoreError> {
        let tx = &self.tx;
        tx.execute_batch(
            "DROP TABLE IF EXISTS temp.etl_losers;
             CREATE TEMP TABLE etl_losers AS
             SELECT source_row, title, winner_row, winner_votes, winner_rating FROM (
                 SELECT source_row, title,
                        ROW_NUMBER()  OVER w AS rank,
                        FIRST_VALUE(source_row)          OVER w AS winner_row,
                        FIRST_VALUE(COALESCE(votes, 0))  OVER w AS winner_votes,
                        FIRST_VALUE(rating)              OVER w AS winner_rating
                 FROM temp.etl_stage
                 WINDOW w AS (PARTITION BY title_key, year
                              ORDER BY COALESCE(votes, 0) DESC, rating DESC, source_row ASC))
             WHERE rank > 1;
             DELETE FROM temp.etl_stage WHERE source_row IN (SELECT source_row FROM temp.etl_losers);",
        )?;
        let duplicates = tx.execute(
            "INSERT INTO etl_rejects (run_id, source_row, field, reason, raw_value, detail)
             SELECT ?1, source_row, 'title', 'duplicate', title,
                    'same title and year as row ' || winner_row || ' (kept: ' || winner_votes
                    || ' votes, rating ' || winner_rating || ')'
             FROM temp.etl_losers",
            [self.run_id],
        )? as u64;
        let duplicate_examples = {
            let mut stmt = tx.prepare(
                "SELECT source_row, title FROM temp.etl_losers ORDER BY source_row LIMIT 3",
            )?;
            let rows = stmt.query_map([], |r| {
                Ok(Example {
                    row: r.get(0)?,
                    raw_value: r.get(1)?,
                })
            })?;
            rows.collect::<rusqlite::Result<Vec<_>>>()?
        };
        let updated = tx.execute(
            "UPDATE Movies SET Title = s.title, Rating = s.rating, ReleaseDate = s.release_date,
                               Votes = s.votes, Genre = s.genre, Director = s.director,
                               UpdatedRunId = ?1
             FROM temp.etl_stage AS s
             WHERE Movies.TitleKey = s.title_key AND Movies.ReleaseYear = s.year
               AND NOT (Movies.Title IS s.title AND Movies.Rating IS s.rating
                        AND Movies.ReleaseDate IS s.release_date AND Movies.Votes IS s.votes
                        AND Movies.Genre IS s.genre AND Movies.Director IS s.director)",
            [self.run_id],
        )? as u64;
        let inserted = tx.execute(
            "INSERT INTO Movies (Title, ReleaseYear, Rating, TitleKey, ReleaseDate, Votes, Genre,
                                 Director, CreatedRunId, UpdatedRunId)
             SELECT title, year, rating, title_key, release_date, votes, genre, director, ?1, ?1
             FROM temp.etl_stage AS s
             WHERE NOT EXISTS (SELECT 1 FROM Movies AS m
                               WHERE m.TitleKey = s.title_key AND m.ReleaseYear = s.year)
             ORDER BY source_row",
            [self.run_id],
        )? as u64;
        let mut loaded = 0;
        {
            let mut stmt = tx.prepare("SELECT rating, year FROM temp.etl_stage")?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                on_loaded(row.get(0)?, row.get(1)?);
                loaded += 1;
            }
        }
        tx.execute_batch("DROP TABLE temp.etl_losers; DROP TABLE temp.etl_stage;")?;
        Ok(LoadSummary {
            counts: LoadCounts {
                inserted,
                updated,
                unchanged: loaded - inserted - updated,
            },
            loaded,
            duplicates,
            duplicate_examples,
        })
    }

    /// Writes the run's final lineage (the input's hash and snapshot are known only once it has
    /// streamed past), counts and audit report, then commits everything at once.
    pub fn commit(
        self,
        run: &RunStart,
        report: &AuditReport,
        finished_at: Timestamp,
    ) -> Result<(), StoreError> {
        let c = &report.counts;
        let json = |e: serde_json::Error| StoreError::Corrupt(e.to_string());
        self.tx.execute(
            "UPDATE etl_runs SET finished_at = ?2, extracted = ?3, loaded = ?4, inserted = ?5,
                    updated = ?6, unchanged = ?7, rejected = ?8, rejects_by_reason = ?9,
                    audit_json = ?10, source_sha256 = ?11, snapshot_path = ?12
             WHERE run_id = ?1",
            params![
                self.run_id,
                timestamp(finished_at),
                c.extracted,
                c.loaded,
                c.inserted,
                c.updated,
                c.unchanged,
                c.rejected,
                serde_json::to_string(&report.rejects_by_reason()).map_err(json)?,
                serde_json::to_string(report).map_err(json)?,
                run.sha256,
                run.snapshot,
            ],
        )?;
        self.tx.commit()?;
        Ok(())
    }
}

/// `LIKE` pattern matching `key` anywhere, with `%`, `_` and `\` escaped.
fn like_pattern(key: &str) -> String {
    format!(
        "%{}%",
        key.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}
