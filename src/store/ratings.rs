//! Ratings, users and tags of a ratings dataset (MovieLens), written inside an ETL run's
//! [`Load`], in the run's one transaction.
//!
//! A rating is keyed by (user, movie). Which one wins is the loader's rule; the store reads a
//! user's ratings in one range scan and writes only what changes, so a re-load of the same file
//! is a no-op.

use super::bulk::{Rows, Ty};
use super::sql::{args, Db, Value};
use super::touched::UPDATED;
use super::{Load, StoreError};
use crate::domain::source::Namespace;
use crate::domain::MovieId;
use std::collections::HashMap;

/// New ratings sent to PostgreSQL per `COPY` (about 2 MB waiting).
const COPY_ROWS: usize = 65_536;

/// Internal id of a dataset's user (`users.user_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserKey(pub i64);

/// The users of the dataset a load is writing: read once, new ones numbered here (the load
/// holds the writer lock: no one else makes users meanwhile) and written in bulk before
/// anything reads them.
pub(super) struct Users {
    dataset: String,
    /// External id → internal id, of every user of the dataset, stored or new.
    known: HashMap<i64, i64>,
    next: i64,
    /// Made and not written yet: (internal id, external id).
    new: Vec<(i64, i64)>,
}

/// One user's rating of one movie, as the loader hands it over.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewRating {
    pub movie: MovieId,
    /// On the dataset's scale (MovieLens 0.5–5).
    pub rating: f64,
    /// Unix seconds.
    pub rated_at: i64,
}

/// A rating already in the store.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StoredRating {
    pub movie: MovieId,
    pub rating: f64,
    pub rated_at: i64,
    /// Written by the run in progress (a user whose rows are not contiguous in the file).
    pub this_run: bool,
}

impl Load<'_> {
    /// MovieIDs of every external id in `namespace`, for resolving a dataset's movie ids.
    pub fn movie_ids_in(
        &self,
        namespace: Namespace,
    ) -> Result<HashMap<String, MovieId>, StoreError> {
        let mut ids = HashMap::new();
        self.tx.db().for_each(
            "SELECT external_id, MovieID FROM movie_ids WHERE namespace = ?1",
            args![namespace],
            |r| {
                ids.insert(r.get(0)?, r.get(1)?);
                Ok(())
            },
        )?;
        Ok(ids)
    }

    /// The internal id of `dataset`'s user `external`, made if new (and whether it was).
    pub fn user(&mut self, dataset: &str, external: i64) -> Result<(UserKey, bool), StoreError> {
        if self.users.as_ref().is_none_or(|u| u.dataset != dataset) {
            self.flush_users()?;
            let db = self.tx.db();
            let mut known = HashMap::new();
            db.for_each(
                "SELECT external_id, user_id FROM users WHERE dataset = ?1",
                args![dataset],
                |r| {
                    known.insert(r.get(0)?, r.get(1)?);
                    Ok(())
                },
            )?;
            let next = db.one("SELECT COALESCE(MAX(user_id), 0) + 1 FROM users", args![])?;
            self.users = Some(Users {
                dataset: dataset.to_owned(),
                known,
                next,
                new: Vec::new(),
            });
        }
        let Some(users) = self.users.as_mut() else {
            return Err(StoreError::Corrupt("no users read".into()));
        };
        if let Some(&id) = users.known.get(&external) {
            return Ok((UserKey(id), false));
        }
        let id = users.next;
        users.next += 1;
        users.known.insert(external, id);
        users.new.push((id, external));
        Ok((UserKey(id), true))
    }

    /// Writes the users made since the last time, before anything that reads them.
    fn flush_users(&mut self) -> Result<(), StoreError> {
        let Some(users) = self.users.as_mut().filter(|u| !u.new.is_empty()) else {
            return Ok(());
        };
        let db = self.tx.db();
        let run = self.run_id.0;
        if db.is_postgres() {
            let mut cells = Vec::with_capacity(users.new.len() * 4);
            for (id, external) in &users.new {
                cells.extend([
                    Value::Int(*id),
                    Value::Text(&users.dataset),
                    Value::Int(*external),
                    Value::Int(run),
                ]);
            }
            db.copy_in(
                "users",
                &["user_id", "dataset", "external_id", "run_id"],
                &cells,
            )?;
            // The identity column's sequence moves past the ids given here.
            db.one::<i64>(
                "SELECT setval(pg_get_serial_sequence('users', 'user_id'), MAX(user_id))
                 FROM users",
                args![],
            )?;
        } else {
            let mut rows = Rows::new(&[Ty::Int, Ty::Text, Ty::Int, Ty::Int]);
            for (id, external) in &users.new {
                rows.push([
                    (*id).into(),
                    users.dataset.as_str().into(),
                    (*external).into(),
                    run.into(),
                ]);
            }
            rows.execute(
                &db,
                "INSERT INTO users (user_id, dataset, external_id, run_id)",
                "",
            )?;
        }
        users.new.clear();
        Ok(())
    }

    /// Inserts ratings of a user who has none stored yet (one first seen in this run): no row
    /// can conflict, so they go in many rows per statement on SQLite, and on PostgreSQL by
    /// `COPY`, [`COPY_ROWS`] at a time.
    pub fn insert_new_ratings(
        &mut self,
        user: UserKey,
        ratings: &[NewRating],
    ) -> Result<(), StoreError> {
        let db = self.tx.db();
        let conn = match db {
            Db::Sqlite(conn) => conn,
            Db::Postgres(_) => {
                self.copying.extend(ratings.iter().map(|r| (user, *r)));
                if self.copying.len() >= COPY_ROWS {
                    self.flush_ratings()?;
                }
                return Ok(());
            }
        };
        // SQLite: 64 rows per statement, one statement prepared once for the whole load.
        const ROWS: usize = 64;
        let mut chunks = ratings.chunks_exact(ROWS);
        if chunks.len() > 0 {
            let values = vec!["(?, ?, ?, ?, ?)"; ROWS].join(", ");
            let mut stmt = conn.prepare_cached(&format!(
                "INSERT INTO ratings (user_id, MovieID, rating, rated_at, run_id) VALUES {values}"
            ))?;
            let mut args: Vec<rusqlite::types::Value> = Vec::with_capacity(ROWS * 5);
            for chunk in chunks.by_ref() {
                args.clear();
                for r in chunk {
                    args.extend([
                        user.0.into(),
                        r.movie.0.into(),
                        r.rating.into(),
                        r.rated_at.into(),
                        self.run_id.0.into(),
                    ]);
                }
                stmt.execute(rusqlite::params_from_iter(&args))?;
            }
        }
        for r in chunks.remainder() {
            db.execute(
                "INSERT INTO ratings (user_id, MovieID, rating, rated_at, run_id)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                args![user.0, r.movie, r.rating, r.rated_at, self.run_id],
            )?;
        }
        Ok(())
    }

    /// Writes the ratings waiting for `COPY`: before anything reads ratings, and at the end.
    pub(super) fn flush_ratings(&mut self) -> Result<(), StoreError> {
        self.flush_users()?;
        if self.copying.is_empty() {
            return Ok(());
        }
        let run = self.run_id.0;
        let mut cells = Vec::with_capacity(self.copying.len() * 5);
        for (user, r) in &self.copying {
            cells.extend([
                Value::Int(user.0),
                Value::Int(r.movie.0),
                Value::Real(r.rating),
                Value::Int(r.rated_at),
                Value::Int(run),
            ]);
        }
        self.tx.db().copy_in(
            "ratings",
            &["user_id", "MovieID", "rating", "rated_at", "run_id"],
            &cells,
        )?;
        self.copying.clear();
        Ok(())
    }

    /// A user's stored ratings by movie: (movie, rating, rated_at, whether this run wrote it).
    pub fn stored_ratings(&mut self, user: UserKey) -> Result<Vec<StoredRating>, StoreError> {
        self.flush_ratings()?;
        self.tx.db().query(
            "SELECT MovieID, rating, rated_at, run_id = ?2 FROM ratings WHERE user_id = ?1
             ORDER BY MovieID",
            args![user.0, self.run_id],
            |r| {
                Ok(StoredRating {
                    movie: r.get(0)?,
                    rating: r.get(1)?,
                    rated_at: r.get(2)?,
                    this_run: r.get(3)?,
                })
            },
        )
    }

    /// Replaces a stored rating.
    pub fn update_rating(&mut self, user: UserKey, r: &NewRating) -> Result<(), StoreError> {
        self.tx.db().execute(
            "UPDATE ratings SET rating = ?3, rated_at = ?4, run_id = ?5
             WHERE user_id = ?1 AND MovieID = ?2",
            args![user.0, r.movie, r.rating, r.rated_at, self.run_id],
        )?;
        Ok(())
    }

    /// Stores one tag; a tag already given by the user to the movie is kept as it was.
    pub fn put_tag(
        &mut self,
        user: UserKey,
        movie: MovieId,
        tag: &str,
        tagged_at: i64,
    ) -> Result<bool, StoreError> {
        Ok(self.tx.db().execute(
            "INSERT INTO tags (user_id, MovieID, tag, tagged_at, run_id)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
            args![user.0, movie, tag, tagged_at, self.run_id],
        )? == 1)
    }

    /// Sets the MovieLens fact of each movie to its users' mean rating and count (from the
    /// ratings this run loaded); a movie whose fact changes counts as updated.
    pub fn set_rating_facts(
        &mut self,
        facts: &HashMap<MovieId, (f64, u64)>,
    ) -> Result<(), StoreError> {
        // Many movies per statement, in MovieID order (the table's): the facts that change,
        // then what the run touched of them.
        let mut sorted: Vec<(&MovieId, &(f64, u64))> = facts.iter().collect();
        sorted.sort_unstable_by_key(|(movie, _)| **movie);
        let mut rows = Rows::new(&[Ty::Int, Ty::Real, Ty::Int]);
        for (movie, (sum, n)) in sorted {
            let mean = (sum / *n as f64 * 1000.0).round() / 1000.0;
            rows.push([movie.0.into(), mean.into(), (*n as i64).into()]);
        }
        let mut changed = Rows::new(&[Ty::Int]);
        let db = self.tx.db();
        rows.run(
            &db,
            &format!(
                "UPDATE movie_sources SET rating = v.column2, votes = v.column3, run_id = {run}
                 FROM (",
                run = self.run_id.0
            ),
            ") AS v
             WHERE movie_sources.MovieID = v.column1 AND movie_sources.provider = 'movielens'
               AND NOT (movie_sources.rating IS NOT DISTINCT FROM v.column2
                        AND movie_sources.votes IS NOT DISTINCT FROM v.column3)
             RETURNING movie_sources.MovieID",
            |r| {
                changed.push([r.get::<i64>(0)?.into()]);
                Ok(())
            },
        )?;
        changed.execute(
            &db,
            &format!(
                "UPDATE etl_touched SET settled = 0,
                        outcome = CASE WHEN outcome > {UPDATED} THEN outcome ELSE {UPDATED} END
                 WHERE provider = 'movielens' AND MovieID IN ("
            ),
            ")",
        )?;
        Ok(())
    }
}
