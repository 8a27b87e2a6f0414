//! Catalog SQL: the idempotent upsert of the load stage and the read queries of the CLI.

use crate::movie::Movie;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::Serialize;

/// A catalog row as the CLI and the API show it.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MovieRow {
    pub id: i64,
    pub title: String,
    pub release_year: i32,
    pub rating: f64,
    pub votes: Option<u64>,
    pub genre: Option<String>,
    pub director: Option<String>,
}

const COLUMNS: &str = "MovieID, Title, ReleaseYear, Rating, Votes, Genre, Director";

fn movie_row(r: &Row<'_>) -> rusqlite::Result<MovieRow> {
    Ok(MovieRow {
        id: r.get(0)?,
        title: r.get(1)?,
        release_year: r.get(2)?,
        rating: r.get(3)?,
        votes: r.get(4)?,
        genre: r.get(5)?,
        director: r.get(6)?,
    })
}

/// What the load did to the catalog.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LoadCounts {
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// Upserts `movies` on the natural key (TitleKey, ReleaseYear) inside the caller's transaction.
/// A row whose stored values already equal the new ones is left alone, so a rerun writes nothing.
pub fn upsert(
    tx: &Transaction<'_>,
    run_id: i64,
    movies: &[Movie],
    mut on_progress: impl FnMut(),
) -> rusqlite::Result<LoadCounts> {
    let mut find = tx.prepare_cached(
        "SELECT MovieID, Title, Rating, ReleaseDate, Votes, Genre, Director
         FROM Movies WHERE TitleKey = ?1 AND ReleaseYear = ?2",
    )?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO Movies (Title, ReleaseYear, Rating, TitleKey, ReleaseDate, Votes, Genre, Director,
                             CreatedRunId, UpdatedRunId)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
    )?;
    let mut update = tx.prepare_cached(
        "UPDATE Movies SET Title = ?2, Rating = ?3, ReleaseDate = ?4, Votes = ?5, Genre = ?6,
                           Director = ?7, UpdatedRunId = ?8
         WHERE MovieID = ?1",
    )?;
    let mut counts = LoadCounts::default();
    for m in movies {
        let (key, year) = m.natural_key();
        let date = m.release_date.date().to_string();
        let new = (
            m.title.as_str().to_owned(),
            m.rating.value(),
            date.clone(),
            m.votes,
            m.genre.clone(),
            m.director.clone(),
        );
        let existing = find
            .query_row(params![key, year], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    (
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ),
                ))
            })
            .optional()?;
        match existing {
            None => {
                insert.execute(params![
                    new.0, year, new.1, key, date, new.3, new.4, new.5, run_id
                ])?;
                counts.inserted += 1;
            }
            Some((_, old)) if old == new => counts.unchanged += 1,
            Some((id, _)) => {
                update.execute(params![id, new.0, new.1, date, new.3, new.4, new.5, run_id])?;
                counts.updated += 1;
            }
        }
        on_progress();
    }
    Ok(counts)
}

/// Number of movies in the catalog.
pub fn count(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row("SELECT COUNT(*) FROM Movies", [], |r| r.get(0))
}

/// The model's input: (MovieID, Rating, ReleaseYear) for every movie, by MovieID.
pub fn features(conn: &Connection) -> rusqlite::Result<Vec<(i64, f64, f64)>> {
    let mut stmt =
        conn.prepare("SELECT MovieID, Rating, ReleaseYear FROM Movies ORDER BY MovieID")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, f64>(2)?)))?;
    rows.collect()
}

pub fn by_id(conn: &Connection, id: i64) -> rusqlite::Result<Option<MovieRow>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM Movies WHERE MovieID = ?1"),
        [id],
        movie_row,
    )
    .optional()
}

/// Movies whose normalised title equals `key` (see [`crate::movie::title_key`]), oldest first.
pub fn by_title_key(conn: &Connection, key: &str) -> rusqlite::Result<Vec<MovieRow>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM Movies WHERE TitleKey = ?1 ORDER BY ReleaseYear, MovieID"
    ))?;
    let rows = stmt.query_map([key], movie_row)?;
    rows.collect()
}

/// Movies whose normalised title contains `key`, by MovieID; all movies when `key` is empty.
pub fn search(conn: &Connection, key: &str, limit: u32) -> rusqlite::Result<Vec<MovieRow>> {
    let query = PageQuery {
        title_key: Some(key.to_owned()),
        limit,
        ..PageQuery::default()
    };
    Ok(page(conn, &query)?.0)
}

/// (MovieID, TitleKey) of every movie, for closest-match suggestions.
pub fn title_keys(conn: &Connection) -> rusqlite::Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare("SELECT MovieID, TitleKey FROM Movies ORDER BY MovieID")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// Columns a catalog page can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Id,
    Title,
    Year,
    Rating,
    Votes,
}

/// A filtered, sorted page of the catalog.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PageQuery {
    /// Substring of the normalised title key (see [`crate::movie::title_key`]).
    pub title_key: Option<String>,
    pub year_from: Option<i32>,
    pub year_to: Option<i32>,
    pub min_rating: Option<f64>,
    pub sort: SortKey,
    pub descending: bool,
    pub limit: u32,
    pub offset: u64,
}

/// One page of movies matching `q`, and how many match in all.
pub fn page(conn: &Connection, q: &PageQuery) -> rusqlite::Result<(Vec<MovieRow>, u64)> {
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
    let total: u64 = conn.query_row(
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
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(&args), movie_row)?;
    Ok((rows.collect::<rusqlite::Result<_>>()?, total))
}

/// Every movie, by MovieID: what the server keeps in memory beside the model.
pub fn all(conn: &Connection) -> rusqlite::Result<Vec<MovieRow>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM Movies ORDER BY MovieID"))?;
    let rows = stmt.query_map([], movie_row)?;
    rows.collect()
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
