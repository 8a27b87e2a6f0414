//! Catalog SQL: the read queries of every reader. The load that writes the catalog is in
//! `load.rs`.

use super::{Store, StoreError};
use crate::domain::catalog::{CatalogQuery, SortKey};
use crate::domain::etl::EtlRunStatus;
use crate::domain::movie::CatalogMovie;
use crate::domain::{EtlRunId, MovieId};
use rusqlite::{OptionalExtension, Row};

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

impl Store {
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

/// `LIKE` pattern matching `key` anywhere, with `%`, `_` and `\` escaped.
fn like_pattern(key: &str) -> String {
    format!(
        "%{}%",
        key.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    )
}
