//! Catalog SQL: the read queries of every reader. The load that writes the catalog is in
//! `load.rs`.

use super::sql::{args, Arg, Db, Owned, Row};
use super::{priority_sql, Store, StoreError};
use crate::domain::catalog::{CatalogQuery, SortKey};
use crate::domain::etl::EtlRunStatus;
use crate::domain::identity::normalize::normalize;
use crate::domain::movie::{
    language_name, CatalogMovie, Fact, ImdbId, MovieAttributes, MovieDetail, SourceFacts,
};
use crate::domain::source::{Provider, Providers};
use crate::domain::{EtlRunId, MovieId};

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

fn catalog_movie(r: &Row<'_>) -> Result<CatalogMovie, StoreError> {
    Ok(CatalogMovie {
        id: r.get(0)?,
        title: r.get(1)?,
        release_year: r.get(2)?,
        rating: r.get(3)?,
        votes: r.get(4)?,
        genre: r.get(5)?,
        director: r.get(6)?,
        rating_from: r
            .get::<Option<String>>(7)?
            .map_or_else(Providers::default, |c| Providers::parse(&c)),
        tmdb_id: r.get::<Option<String>>(8)?.and_then(|id| id.parse().ok()),
        imdb_id: r
            .get::<Option<String>>(9)?
            .and_then(|id| ImdbId::parse(&id)),
    })
}

impl Store {
    /// Number of movies in the catalog.
    pub fn movie_count(&self) -> Result<u64, StoreError> {
        self.db().one("SELECT COUNT(*) FROM Movies", args![])
    }

    pub fn movie(&self, id: MovieId) -> Result<Option<CatalogMovie>, StoreError> {
        self.db().query_row(
            &format!("SELECT {COLUMNS} FROM Movies WHERE MovieID = ?1"),
            args![id],
            catalog_movie,
        )
    }

    /// The movie a merged-away MovieID is now (see `store::repair`), if it is one.
    pub fn redirect(&self, id: MovieId) -> Result<Option<MovieId>, StoreError> {
        self.db().query_row(
            "SELECT MovieID FROM movie_redirects WHERE old_id = ?1",
            args![id],
            |r| r.get(0),
        )
    }

    /// One movie with its attributes, tags and per-provider facts.
    pub fn movie_detail(&self, id: MovieId) -> Result<Option<MovieDetail>, StoreError> {
        let db = self.db();
        let found = db.query_row(
            &format!(
                "SELECT {COLUMNS}, ReleaseDate, Overview, Runtime, OriginalLanguage, Popularity
                     FROM Movies WHERE MovieID = ?1"
            ),
            args![id],
            |r| {
                Ok(MovieDetail {
                    movie: catalog_movie(r)?,
                    release_date: r.get(COLUMN_COUNT)?,
                    overview: r.get(COLUMN_COUNT + 1)?,
                    runtime: r.get(COLUMN_COUNT + 2)?,
                    language_name: r
                        .get::<Option<String>>(COLUMN_COUNT + 3)?
                        .as_deref()
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
        )?;
        let Some(mut m) = found else {
            return Ok(None);
        };
        let names = |sql: &str| -> Result<Vec<String>, StoreError> {
            db.query(sql, args![id], |r| r.get(0))
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
            "SELECT MIN(tag) FROM tags WHERE MovieID = ?1
             GROUP BY lower(tag) ORDER BY COUNT(*) DESC, lower(tag) LIMIT 10",
        )?;
        m.sources = db.query(
            &format!(
                "SELECT provider, rating, scale, votes
                 FROM movie_sources WHERE MovieID = ?1 ORDER BY {}",
                priority_sql("provider", &Provider::ATTRIBUTE_PRIORITY)
            ),
            args![id],
            |r| {
                Ok(SourceFacts {
                    provider: r.get(0)?,
                    rating: r.get(1)?,
                    scale: r.get(2)?,
                    votes: r.get(3)?,
                })
            },
        )?;
        m.ids = names(
            "SELECT namespace || ':' || external_id FROM movie_ids WHERE MovieID = ?1
             ORDER BY namespace, external_id",
        )?;
        Ok(Some(m))
    }

    /// Movies whose normalised title equals `key` (see [`crate::domain::movie::title_key`]),
    /// oldest first.
    pub fn movies_titled(&self, key: &str) -> Result<Vec<CatalogMovie>, StoreError> {
        self.db().query(
            &format!(
                "SELECT {COLUMNS} FROM Movies WHERE TitleKey = ?1 ORDER BY ReleaseYear, MovieID"
            ),
            args![key],
            catalog_movie,
        )
    }

    /// (MovieID, title key) of every movie, for closest-title suggestions.
    pub fn title_keys(&self) -> Result<Vec<(MovieId, String)>, StoreError> {
        self.db().query(
            "SELECT MovieID, TitleKey FROM Movies ORDER BY MovieID",
            args![],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
    }

    /// One page of movies matching `q`, and how many match in all.
    pub fn movies_page(&self, q: &CatalogQuery) -> Result<(Vec<CatalogMovie>, u64), StoreError> {
        let mut clauses = Vec::new();
        let mut params: Vec<Owned> = Vec::new();
        if let Some(key) = q.title_key.as_deref().filter(|k| !k.is_empty()) {
            // The title as typed, or its normal form in any provider's title's: "amelie" finds
            // Amélie, "wargames" WarGames, "et the extra" E.T. the Extra-Terrestrial.
            let compact = normalize(key).compact;
            if compact.is_empty() {
                clauses.push("TitleKey LIKE ? ESCAPE '\\'");
            } else {
                clauses.push("(TitleKey LIKE ? ESCAPE '\\' OR SearchKey LIKE ? ESCAPE '\\')");
                params.push(Owned::Text(like_pattern(key)));
            }
            let pattern = if compact.is_empty() {
                key
            } else {
                compact.as_str()
            };
            params.push(Owned::Text(like_pattern(pattern)));
        }
        if let Some(y) = q.year_from {
            clauses.push("ReleaseYear >= ?");
            params.push(Owned::Int(i64::from(y)));
        }
        if let Some(y) = q.year_to {
            clauses.push("ReleaseYear <= ?");
            params.push(Owned::Int(i64::from(y)));
        }
        if let Some(r) = q.min_rating {
            clauses.push("Rating >= ?");
            params.push(Owned::Real(r));
        }
        if let Some(g) = q.genre {
            clauses.push("MovieID IN (SELECT MovieID FROM catalog_genres WHERE genre_id = ?)");
            params.push(Owned::Int(g.id()));
        }
        let filter = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        let db = self.db();
        let bound: Vec<&dyn Arg> = params.iter().map(|p| p as &dyn Arg).collect();
        let total: u64 = db.one(&format!("SELECT COUNT(*) FROM Movies {filter}"), &bound)?;
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
        let (limit, offset) = (q.limit, q.offset);
        let mut bound = bound;
        bound.extend([&limit as &dyn Arg, &offset]);
        Ok((db.query(&sql, &bound, catalog_movie)?, total))
    }

    /// Every movie, by MovieID, and the newest succeeded ETL run, read in one transaction so
    /// the two always describe the same catalog: what the serving snapshot is built from.
    pub fn catalog(&self) -> Result<(Vec<CatalogMovie>, Option<EtlRunId>), StoreError> {
        self.db().snapshot(|db| {
            let run_id = latest_succeeded(db)?;
            let mut movies = db.query(
                &format!("SELECT {SCAN_COLUMNS} FROM Movies ORDER BY MovieID"),
                args![],
                catalog_movie,
            )?;
            attach_ids(db, &mut movies)?;
            Ok((movies, run_id))
        })
    }
}

/// The catalog, its movies' attributes at the same positions, and the newest succeeded run.
pub type ContentCatalog = (Vec<CatalogMovie>, Vec<MovieAttributes>, Option<EtlRunId>);

impl Store {
    /// The catalog with every movie's attributes (same order: by id) and the newest succeeded
    /// run, in one read transaction: one ordered scan per attribute table.
    pub fn content_catalog(&self) -> Result<ContentCatalog, StoreError> {
        self.db().snapshot(content_catalog)
    }
}

fn content_catalog(db: &Db<'_>) -> Result<ContentCatalog, StoreError> {
    let run_id = latest_succeeded(db)?;
    let mut movies = Vec::new();
    let mut attributes = Vec::new();
    db.for_each(
            &format!(
                "SELECT {SCAN_COLUMNS}, Overview, Runtime, OriginalLanguage FROM Movies ORDER BY MovieID"
            ),
            args![],
            |row| {
                let movie = catalog_movie(row)?;
                let n = COLUMN_COUNT;
                attributes.push(MovieAttributes {
                    overview: row.get(n)?,
                    runtime: row.get(n + 1)?,
                    language: row.get(n + 2)?,
                    ..MovieAttributes::default()
                });
                movies.push(movie);
                Ok(())
            },
        )?;
    attach_ids(db, &mut movies)?;
    let position = |id: i64| movies.binary_search_by_key(&MovieId(id), |m| m.id).ok();
    let mut each = |sql: &str,
                    put: &mut dyn FnMut(&mut MovieAttributes, String, String)|
     -> Result<(), StoreError> {
        db.for_each(sql, args![], |row| {
            let id: i64 = row.get(0)?;
            let (a, b): (String, Option<String>) = (row.get(1)?, row.get(2)?);
            if let Some(p) = position(id) {
                put(&mut attributes[p], a, b.unwrap_or_default());
            }
            Ok(())
        })
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
    Ok((movies, attributes, run_id))
}

/// Sets every movie's TMDB and IMDb ids (`movies` by ascending id) from one pass over the
/// `tmdb` and `imdb` ranges of `movie_ids`'s key; a movie with several keeps the first.
fn attach_ids(db: &Db<'_>, movies: &mut [CatalogMovie]) -> Result<(), StoreError> {
    db.for_each(
        "SELECT MovieID, namespace, external_id FROM movie_ids WHERE namespace IN ('tmdb', 'imdb')",
        args![],
        |row| {
            let id: MovieId = row.get(0)?;
            let Ok(p) = movies.binary_search_by_key(&id, |m| m.id) else {
                return Ok(());
            };
            let (namespace, value): (String, String) = (row.get(1)?, row.get(2)?);
            let m = &mut movies[p];
            match namespace.as_str() {
                "tmdb" => m.tmdb_id = m.tmdb_id.or_else(|| value.parse().ok()),
                _ => m.imdb_id = m.imdb_id.or_else(|| ImdbId::parse(&value)),
            }
            Ok(())
        },
    )
}

fn latest_succeeded(db: &Db<'_>) -> Result<Option<EtlRunId>, StoreError> {
    db.one(
        "SELECT MAX(run_id) FROM etl_runs WHERE status = ?1",
        args![EtlRunStatus::Succeeded],
    )
}

impl Store {
    /// Id of the newest succeeded ETL run: what a served catalog is compared against.
    pub fn latest_succeeded_run(&self) -> Result<Option<EtlRunId>, StoreError> {
        latest_succeeded(&self.db())
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
