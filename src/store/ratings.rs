//! Ratings, users and tags of a ratings dataset (MovieLens), written inside an ETL run's
//! [`Load`]: one prepared statement per row, in the run's one transaction.
//!
//! A rating is keyed by (user, movie). Which one wins is the loader's rule; the store reads a
//! user's ratings in one range scan and writes only what changes, so a re-load of the same file
//! is a no-op.

use super::bulk::Rows;
use super::{Load, StoreError};
use crate::domain::source::Namespace;
use crate::domain::MovieId;
use rusqlite::{params, OptionalExtension};
use std::collections::HashMap;

/// Internal id of a dataset's user (`users.user_id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct UserKey(pub i64);

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
        let mut stmt = self
            .tx
            .prepare("SELECT external_id, MovieID FROM movie_ids WHERE namespace = ?1")?;
        let rows = stmt.query_map([namespace.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The internal id of `dataset`'s user `external`, created if new (and whether it was).
    pub fn user(&mut self, dataset: &str, external: i64) -> Result<(UserKey, bool), StoreError> {
        let found = self
            .tx
            .prepare_cached("SELECT user_id FROM users WHERE dataset = ?1 AND external_id = ?2")?
            .query_row(params![dataset, external], |r| r.get(0))
            .optional()?;
        if let Some(id) = found {
            return Ok((UserKey(id), false));
        }
        self.tx
            .prepare_cached("INSERT INTO users (dataset, external_id, run_id) VALUES (?1, ?2, ?3)")?
            .execute(params![dataset, external, self.run_id])?;
        Ok((UserKey(self.tx.last_insert_rowid()), true))
    }

    /// Inserts ratings of a user who has none stored yet (one first seen in this run): no row
    /// can conflict, so they go in many rows per statement.
    pub fn insert_new_ratings(
        &mut self,
        user: UserKey,
        ratings: &[NewRating],
    ) -> Result<(), StoreError> {
        const ROWS: usize = 64;
        let mut chunks = ratings.chunks_exact(ROWS);
        if chunks.len() > 0 {
            let values = vec!["(?, ?, ?, ?, ?)"; ROWS].join(", ");
            let mut stmt = self.tx.prepare_cached(&format!(
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
        let mut one = self.tx.prepare_cached(
            "INSERT INTO ratings (user_id, MovieID, rating, rated_at, run_id) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for r in chunks.remainder() {
            one.execute(params![user.0, r.movie, r.rating, r.rated_at, self.run_id])?;
        }
        Ok(())
    }

    /// A user's stored ratings by movie: (movie, rating, rated_at, whether this run wrote it).
    pub fn stored_ratings(&self, user: UserKey) -> Result<Vec<StoredRating>, StoreError> {
        let mut stmt = self.tx.prepare_cached(
            "SELECT MovieID, rating, rated_at, run_id = ?2 FROM ratings WHERE user_id = ?1
             ORDER BY MovieID",
        )?;
        let rows = stmt.query_map(params![user.0, self.run_id], |r| {
            Ok(StoredRating {
                movie: r.get(0)?,
                rating: r.get(1)?,
                rated_at: r.get(2)?,
                this_run: r.get(3)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Replaces a stored rating.
    pub fn update_rating(&mut self, user: UserKey, r: &NewRating) -> Result<(), StoreError> {
        self.tx
            .prepare_cached(
                "UPDATE ratings SET rating = ?3, rated_at = ?4, run_id = ?5
                 WHERE user_id = ?1 AND MovieID = ?2",
            )?
            .execute(params![user.0, r.movie, r.rating, r.rated_at, self.run_id])?;
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
        Ok(self
            .tx
            .prepare_cached(
                "INSERT INTO tags (user_id, MovieID, tag, tagged_at, run_id)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
            )?
            .execute(params![user.0, movie, tag, tagged_at, self.run_id])?
            == 1)
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
        let mut rows = Rows::new(3);
        for (movie, (sum, n)) in sorted {
            let mean = (sum / *n as f64 * 1000.0).round() / 1000.0;
            rows.push([movie.0.into(), mean.into(), (*n as i64).into()]);
        }
        let mut changed = Rows::new(1);
        rows.run(
            &self.tx,
            &format!(
                "UPDATE movie_sources SET rating = v.column2, votes = v.column3, run_id = {run}
                 FROM (",
                run = self.run_id.0
            ),
            ") AS v
             WHERE movie_sources.MovieID = v.column1 AND movie_sources.provider = 'movielens'
               AND NOT (movie_sources.rating IS v.column2 AND movie_sources.votes IS v.column3)
             RETURNING movie_sources.MovieID",
            |r| {
                changed.push([r.get::<_, i64>(0)?.into()]);
                Ok(())
            },
        )?;
        changed.execute(
            &self.tx,
            "UPDATE temp.etl_touched SET outcome = MAX(outcome, 1), settled = 0
             WHERE provider = 'movielens' AND MovieID IN (",
            ")",
        )?;
        Ok(())
    }
}
