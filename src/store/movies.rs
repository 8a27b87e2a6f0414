//! Catalog SQL: the read queries of every reader. The load that writes the catalog is in
//! `load.rs`.

use super::{priority_sql, Store, StoreError};
use crate::domain::catalog::{CatalogQuery, SortKey};
use crate::domain::etl::EtlRunStatus;
use crate::domain::identity::normalize::normalize;
use crate::domain::movie::{
    language_name, CatalogMovie, Fact, ImdbId, MovieAttributes, MovieDetail, SourceFacts,
};
use crate::domain::source::{Provider, Providers};
use crate::domain::{EtlRunId, MovieId};
use rusqlite::{OptionalExtension, Row};

/// A catalog movie's columns, with its TMDB and IMDb ids (an index seek each in
/// `movie_ids_by_movie`, made only for the rows a query returns).
const COLUMNS: &str = "MovieID, Title, ReleaseYear, Rating, Votes, Genre, Director, RatingFrom,
    (SELECT external_id FROM movie_ids AS i WHERE i.MovieID = Movies.MovieID AND i.namespace = 'tmdb' LIMIT 1),
    (SELECT external_id FROM movie_ids AS i WHERE i.MovieID = Movies.MovieID AND i.namespace = 'imdb' LIMIT 1)";
/// [`COLUMNS`] without the ids, for reads of the whole catalog, which take them from
/// [`attach_ids`] instead: a seek per movie is a million seeks at a million movies.
const SCAN_COLUMNS: &str =
    "MovieID, Title, ReleaseYear, Rating, Votes, Genre, Director, RatingFrom, NULL, NULL";
/// How many columns [`COLUMNS`] names: further selected columns start at this index.
const COLUMN_COUNT: usize = 10;

fn catalog_movie(r: &Row<'_>) -> rusqlite::Result<CatalogMovie> {
    Ok(CatalogMovie {
        id: r.get(0)?,
        title: r.get(1)?,
        release_year: r.get(2)?,
        rating: r.get(3)?,
        votes: r.get(4)?,
        genre: r.get(5)?,
        director: r.get(6)?,
        rating_from: r
            .get::<_, Option<String>>(7)?
            .map_or_else(Providers::default, |c| Providers::parse(&c)),
        tmdb_id: r
            .get::<_, Option<String>>(8)?
            .and_then(|id| id.parse().ok()),
        imdb_id: r
            .get::<_, Option<String>>(9)?
            .and_then(|id| ImdbId::parse(&id)),
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

    /// The movie a merged-away MovieID is now (see `store::repair`), if it is one.
    pub fn redirect(&self, id: MovieId) -> Result<Option<MovieId>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT MovieID FROM movie_redirects WHERE old_id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?)
    }

    /// One movie with its attributes, tags and per-provider facts.
    pub fn movie_detail(&self, id: MovieId) -> Result<Option<MovieDetail>, StoreError> {
        let found = self
            .conn
            .query_row(
                &format!(
                    "SELECT {COLUMNS}, ReleaseDate, Overview, Runtime, OriginalLanguage, Popularity
                     FROM Movies WHERE MovieID = ?1"
                ),
                [id],
                |r| {
                    Ok(MovieDetail {
                        movie: catalog_movie(r)?,
                        release_date: r.get(COLUMN_COUNT)?,
                        overview: r.get(COLUMN_COUNT + 1)?,
                        runtime: r.get(COLUMN_COUNT + 2)?,
                        language_name: r
                            .get_ref(COLUMN_COUNT + 3)?
                            .as_str_or_null()?
                            .and_then(language_name),
                        original_language: r.get(COLUMN_COUNT + 3)?,
                        popularity: r.get(COLUMN_COUNT + 4)?,
                        genres: Vec::new(),
                        directors: Vec::new(),
                        writers: Vec::new(),
                        cast: Vec::new(),
                        keywords: Vec::new(),
                        tags: Vec::new(),
                        sources: Vec::new(),
                        ids: Vec::new(),
                    })
                },
            )
            .optional()?;
        let Some(mut m) = found else {
            return Ok(None);
        };
        let names = |sql: &str| -> Result<Vec<String>, StoreError> {
            let mut stmt = self.conn.prepare_cached(sql)?;
            let rows = stmt.query_map([id], |r| r.get(0))?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        };
        m.genres = names(
            "SELECT name FROM genres WHERE genre_id IN
                 (SELECT genre_id FROM catalog_genres WHERE MovieID = ?1)
             ORDER BY genre_id",
        )?;
        // People of one role come from the first provider (by attribute priority) that has any.
        let people = |role: &str, limit: u32| {
            names(&format!(
                "SELECT p.name FROM movie_people AS mp JOIN people AS p USING (person_id)
                 WHERE mp.MovieID = ?1 AND mp.role = '{role}'
                   AND mp.provider = (SELECT provider FROM movie_people
                                      WHERE MovieID = ?1 AND role = '{role}'
                                      ORDER BY {prio} LIMIT 1)
                 ORDER BY mp.position LIMIT {limit}",
                prio = priority_sql("provider", &Provider::ATTRIBUTE_PRIORITY)
            ))
        };
        m.directors = people("director", 10)?;
        m.writers = people("writer", 10)?;
        m.cast = people("cast", 10)?;
        m.keywords = names(
            "SELECT DISTINCT k.name FROM movie_keywords AS mk JOIN keywords AS k USING (keyword_id)
             WHERE mk.MovieID = ?1 ORDER BY k.name LIMIT 30",
        )?;
        m.tags = names(
            "SELECT tag FROM tags WHERE MovieID = ?1
             GROUP BY lower(tag) ORDER BY COUNT(*) DESC, lower(tag) LIMIT 10",
        )?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT provider, rating, scale, votes
             FROM movie_sources WHERE MovieID = ?1 ORDER BY {}",
            priority_sql("provider", &Provider::ATTRIBUTE_PRIORITY)
        ))?;
        let rows = stmt.query_map([id], |r| {
            Ok(SourceFacts {
                provider: r.get(0)?,
                rating: r.get(1)?,
                scale: r.get(2)?,
                votes: r.get(3)?,
            })
        })?;
        m.sources = rows.collect::<rusqlite::Result<_>>()?;
        m.ids = names(
            "SELECT namespace || ':' || external_id FROM movie_ids WHERE MovieID = ?1
             ORDER BY namespace, external_id",
        )?;
        Ok(Some(m))
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
            // The title as typed, or its normal form in any provider's title's: "amelie" finds
            // Amélie, "wargames" WarGames, "et the extra" E.T. the Extra-Terrestrial.
            let compact = normalize(key).compact;
            if compact.is_empty() {
                clauses.push("TitleKey LIKE ? ESCAPE '\\'");
            } else {
                clauses.push("(TitleKey LIKE ? ESCAPE '\\' OR SearchKey LIKE ? ESCAPE '\\')");
                args.push(like_pattern(key).into());
            }
            let pattern = if compact.is_empty() {
                key
            } else {
                compact.as_str()
            };
            args.push(like_pattern(pattern).into());
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
        if let Some(g) = q.genre {
            clauses.push("MovieID IN (SELECT MovieID FROM catalog_genres WHERE genre_id = ?)");
            args.push(g.id().into());
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
            let mut stmt = tx.prepare(&format!(
                "SELECT {SCAN_COLUMNS} FROM Movies ORDER BY MovieID"
            ))?;
            let rows = stmt.query_map([], catalog_movie)?;
            let mut movies = rows.collect::<rusqlite::Result<Vec<_>>>()?;
            attach_ids(&tx, &mut movies)?;
            movies
        };
        tx.finish()?;
        Ok((movies, run_id))
    }
}

/// The catalog, its movies' attributes at the same positions, and the newest succeeded run.
pub type ContentCatalog = (Vec<CatalogMovie>, Vec<MovieAttributes>, Option<EtlRunId>);

impl Store {
    /// The catalog with every movie's attributes (same order: by id) and the newest succeeded
    /// run, in one read transaction: one ordered scan per attribute table.
    pub fn content_catalog(&self) -> Result<ContentCatalog, StoreError> {
        let tx = self.conn.unchecked_transaction()?;
        let run_id = latest_succeeded(&tx)?;
        let mut movies = Vec::new();
        let mut attributes = Vec::new();
        {
            let mut stmt = tx.prepare(&format!(
                "SELECT {SCAN_COLUMNS}, Overview, Runtime, OriginalLanguage FROM Movies ORDER BY MovieID"
            ))?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let movie = catalog_movie(row)?;
                let n = COLUMN_COUNT;
                attributes.push(MovieAttributes {
                    overview: row.get(n)?,
                    runtime: row.get(n + 1)?,
                    language: row.get(n + 2)?,
                    ..MovieAttributes::default()
                });
                movies.push(movie);
            }
        }
        attach_ids(&tx, &mut movies)?;
        let position = |id: i64| movies.binary_search_by_key(&MovieId(id), |m| m.id).ok();
        let mut each = |sql: &str,
                        put: &mut dyn FnMut(&mut MovieAttributes, String, String)|
         -> Result<(), StoreError> {
            let mut stmt = tx.prepare(sql)?;
            let mut rows = stmt.query([])?;
            while let Some(row) = rows.next()? {
                let id: i64 = row.get(0)?;
                let (a, b): (String, Option<String>) = (row.get(1)?, row.get(2)?);
                if let Some(p) = position(id) {
                    put(&mut attributes[p], a, b.unwrap_or_default());
                }
            }
            Ok(())
        };
        let push = |list: &mut Vec<String>, value: String| {
            if !value.is_empty() && !list.contains(&value) {
                list.push(value);
            }
        };
        each(
            "SELECT mg.MovieID, g.name, NULL FROM catalog_genres AS mg JOIN genres AS g USING (genre_id)
              ORDER BY mg.MovieID, g.genre_id",
            &mut |a, name, _| push(&mut a.genres, name),
        )?;
        each(
            "SELECT mk.MovieID, k.name, NULL FROM movie_keywords AS mk JOIN keywords AS k USING (keyword_id)
              ORDER BY mk.MovieID",
            &mut |a, name, _| push(&mut a.keywords, name),
        )?;
        each(
            "SELECT mp.MovieID, mp.role, p.name FROM movie_people AS mp JOIN people AS p USING (person_id)
              ORDER BY mp.MovieID, mp.provider, mp.role, mp.position",
            &mut |a, role, name| match role.as_str() {
                "director" => push(&mut a.directors, name),
                "writer" => push(&mut a.writers, name),
                _ => push(&mut a.cast, name),
            },
        )?;
        each(
            "SELECT MovieID, lower(tag), NULL FROM tags GROUP BY MovieID, lower(tag) ORDER BY MovieID",
            &mut |a, tag, _| push(&mut a.tags, tag),
        )?;
        each(
            "SELECT MovieID, coalesce(certification, ''), creative_type FROM movie_sources
              WHERE certification IS NOT NULL OR creative_type IS NOT NULL ORDER BY MovieID",
            &mut |a, certification, creative| {
                for fact in [
                    Fact::Certification(certification),
                    Fact::CreativeType(creative),
                ] {
                    if !fact.text().is_empty() && !a.facts.contains(&fact) {
                        a.facts.push(fact);
                    }
                }
            },
        )?;
        tx.finish()?;
        Ok((movies, attributes, run_id))
    }
}

/// Sets every movie's TMDB and IMDb ids (`movies` by ascending id) from one pass over the
/// `tmdb` and `imdb` ranges of `movie_ids`'s key; a movie with several keeps the first.
fn attach_ids(conn: &rusqlite::Connection, movies: &mut [CatalogMovie]) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(
        "SELECT MovieID, namespace, external_id FROM movie_ids WHERE namespace IN ('tmdb', 'imdb')",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let id: MovieId = row.get(0)?;
        let Ok(p) = movies.binary_search_by_key(&id, |m| m.id) else {
            continue;
        };
        let (namespace, value): (String, String) = (row.get(1)?, row.get(2)?);
        let m = &mut movies[p];
        match namespace.as_str() {
            "tmdb" => m.tmdb_id = m.tmdb_id.or_else(|| value.parse().ok()),
            _ => m.imdb_id = m.imdb_id.or_else(|| ImdbId::parse(&value)),
        }
    }
    Ok(())
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
