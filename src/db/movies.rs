//! Catalog SQL: the idempotent upsert of the load stage and the read queries of the CLI.

use crate::movie::Movie;
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use serde::Serialize;

/// A catalog row as the CLI (and later the API) shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
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
    let pattern = format!(
        "%{}%",
        key.replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM Movies WHERE TitleKey LIKE ?1 ESCAPE '\\' ORDER BY MovieID LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![pattern, limit], movie_row)?;
    rows.collect()
}

/// (MovieID, TitleKey) of every movie, for closest-match suggestions.
pub fn title_keys(conn: &Connection) -> rusqlite::Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare("SELECT MovieID, TitleKey FROM Movies ORDER BY MovieID")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    rows.collect()
}

/// The movie with the most votes (lowest MovieID on a tie): a well-known example to show.
pub fn most_voted(conn: &Connection) -> rusqlite::Result<Option<MovieRow>> {
    conn.query_row(
        &format!("SELECT {COLUMNS} FROM Movies ORDER BY Votes DESC NULLS LAST, MovieID LIMIT 1"),
        [],
        movie_row,
    )
    .optional()
}
