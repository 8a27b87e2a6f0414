//! Catalog SQL: the staged, idempotent load of the ETL and the read queries of every reader.
//!
//! A load streams clean movies into a temporary staging table inside the run's one transaction,
//! then settles the catalog with set-based statements: duplicates are ranked away (the dedupe
//! rule below), changed rows updated, new rows inserted in source order. SQLite spills the
//! staging table to disk; the load keeps only a compact key per movie in memory (an 8-byte
//! fingerprint of its natural key), so that the ranking — a sort — runs over the rows whose key
//! was seen more than once, not over the whole input.

use super::codec::timestamp;
use super::{Store, StoreError};
use crate::domain::audit::{AuditReport, Example};
use crate::domain::catalog::{CatalogQuery, SortKey};
use crate::domain::etl::{EtlRunStatus, LoadCounts, Reject, RunStart};
use crate::domain::movie::{CatalogMovie, Movie};
use crate::domain::{EtlRunId, MovieId, Timestamp};
use rusqlite::{params, OptionalExtension, Row, Transaction, TransactionBehavior};
use std::collections::HashSet;
use std::hash::{Hash, Hasher};

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
    /// Fingerprints of the natural keys staged so far.
    seen: HashSet<u64>,
    /// Fingerprints staged more than once: the only keys dedupe has to rank. (Two different keys
    /// sharing a fingerprint land here too, harmlessly: the ranking partitions by the key itself.)
    contested: HashSet<u64>,
}

/// An 8-byte fingerprint of a natural key; SipHash with fixed keys, the same in every run.
fn fingerprint(title_key: &str, year: i32) -> i64 {
    let mut h = std::hash::DefaultHasher::new();
    (title_key, year).hash(&mut h);
    h.finish() as i64
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
                 fingerprint  INTEGER NOT NULL,
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
        Ok(Load {
            tx,
            run_id,
            seen: HashSet::new(),
            contested: HashSet::new(),
        })
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
            "INSERT INTO temp.etl_stage (source_row, fingerprint, title_key, year, title, rating,
                                         release_date, votes, genre, director)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        )?;
        for m in movies {
            let (key, year) = m.natural_key();
            let fp = fingerprint(&key, year);
            if !self.seen.insert(fp as u64) {
                self.contested.insert(fp as u64);
            }
            insert.execute(params![
                m.source_row,
                fp,
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
            "DROP TABLE IF EXISTS temp.etl_contested;
             CREATE TEMP TABLE etl_contested (fingerprint INTEGER PRIMARY KEY);",
        )?;
        {
            let mut insert =
                tx.prepare("INSERT INTO temp.etl_contested (fingerprint) VALUES (?1)")?;
            for fp in &self.contested {
                insert.execute([*fp as i64])?;
            }
        }
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
                 WHERE fingerprint IN (SELECT fingerprint FROM temp.etl_contested)
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
        tx.execute_batch(
            "DROP TABLE temp.etl_losers; DROP TABLE temp.etl_contested; DROP TABLE temp.etl_stage;",
        )?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::etl::{Reason, SourceFormat};
    use crate::domain::movie::{Rating, ReleaseDate, Title};
    use chrono::NaiveDate;

    fn movie(row: u64, title: &str, year: i32, rating: f64, votes: Option<u64>) -> Movie {
        Movie {
            title: Title::parse(title).expect("title"),
            release_date: ReleaseDate::new(
                NaiveDate::from_ymd_opt(year, 1, 1).expect("date"),
                2030,
            )
            .expect("year"),
            rating: Rating::new(rating).expect("rating"),
            votes,
            genre: None,
            director: None,
            source_row: row,
        }
    }

    fn start() -> RunStart {
        RunStart {
            source: "test".into(),
            format: SourceFormat::Csv,
            sha256: None,
            snapshot: None,
            started_at: chrono::Utc::now(),
        }
    }

    /// Loads `movies` as one run; returns what settling did and the catalog's (title, votes).
    fn load(store: &mut Store, movies: &[Movie]) -> (LoadSummary, Vec<(String, Option<u64>)>) {
        let mut load = store.begin_load(&start()).expect("begin");
        load.stage(movies).expect("stage");
        let summary = load.settle(|_, _| {}).expect("settle");
        load.commit(&start(), &AuditReport::default(), chrono::Utc::now())
            .expect("commit");
        let (rows, _) = store
            .movies_page(&CatalogQuery {
                limit: 100,
                ..CatalogQuery::default()
            })
            .expect("page");
        let catalog = rows.into_iter().map(|m| (m.title, m.votes)).collect();
        (summary, catalog)
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("m.db")).expect("open");
        (dir, store)
    }

    #[test]
    fn dedupe_keeps_the_row_with_most_votes_and_rejects_the_others() {
        let (_dir, mut store) = store();
        let (summary, catalog) = load(
            &mut store,
            &[
                movie(1, "Heat", 1995, 8.2, Some(10)),
                movie(2, "HEAT ", 1995, 8.0, Some(500)),
                movie(3, "Heat", 1986, 5.0, Some(1)),
            ],
        );
        assert_eq!(summary.duplicates, 1);
        assert_eq!(summary.loaded, 2);
        assert_eq!(
            catalog,
            [("HEAT".to_owned(), Some(500)), ("Heat".to_owned(), Some(1))],
            "the survivor keeps its source position among new rows"
        );
        let (rejects, _) = store.etl_rejects(EtlRunId(1), 10, 0).expect("rejects");
        assert_eq!(rejects.len(), 1);
        assert_eq!(
            (rejects[0].source_row, rejects[0].reason),
            (1, Reason::Duplicate)
        );
        assert!(rejects[0]
            .detail
            .as_deref()
            .is_some_and(|d| d.contains("row 2")));
    }

    #[test]
    fn dedupe_survivor_does_not_depend_on_input_order() {
        for order in [[1, 2], [2, 1]] {
            let (_dir, mut store) = store();
            let rows: Vec<Movie> = order
                .iter()
                .map(|&r| movie(r, if r == 1 { "Crash" } else { "crash" }, 2004, 7.0, None))
                .collect();
            let (_, catalog) = load(&mut store, &rows);
            assert_eq!(catalog, [("Crash".to_owned(), None)], "order {order:?}");
        }
    }

    #[test]
    fn a_reload_counts_unchanged_and_updated_rows_and_writes_only_changes() {
        let (_dir, mut store) = store();
        let first = [
            movie(1, "Alien", 1979, 8.5, Some(10)),
            movie(2, "Aliens", 1986, 8.4, Some(9)),
        ];
        let (summary, _) = load(&mut store, &first);
        assert_eq!(
            summary.counts,
            LoadCounts {
                inserted: 2,
                updated: 0,
                unchanged: 0
            }
        );
        let second = [
            movie(1, "Alien", 1979, 8.5, Some(10)),
            movie(2, "Aliens", 1986, 8.3, Some(9)),
            movie(3, "Alien 3", 1992, 6.4, None),
        ];
        let (summary, catalog) = load(&mut store, &second);
        assert_eq!(
            summary.counts,
            LoadCounts {
                inserted: 1,
                updated: 1,
                unchanged: 1
            }
        );
        assert_eq!(catalog.len(), 3);
        let alien = store.movie(MovieId(1)).expect("query").expect("movie");
        assert_eq!(alien.rating, 8.5);
    }
}
