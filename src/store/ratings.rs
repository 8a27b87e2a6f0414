//! Ratings, users and tags of a ratings dataset (MovieLens), written inside an ETL run's
//! [`Load`]: one prepared statement per row, in the run's one transaction.
//!
//! A rating is keyed by (user, movie): the latest one given wins (a later `rated_at`, or at the
//! same time the later row). A row equal to the stored one writes nothing, so a re-load of the
//! same file is a no-op.

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

/// What storing one rating did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RatingWrite {
    Inserted,
    /// Replaced an older rating of an earlier run.
    Updated,
    /// The stored rating is this one, or later: nothing written. Carries the stored value.
    Unchanged(f64),
    /// This run already stored a rating for the same user and movie (a user whose rows are
    /// not contiguous in the file): the later one is kept. Carries the value it replaced, if it
    /// replaced one.
    Duplicate(Option<f64>),
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

    /// Stores one rating (see the module docs for which one wins).
    pub fn put_rating(&mut self, user: UserKey, r: &NewRating) -> Result<RatingWrite, StoreError> {
        let inserted = self
            .tx
            .prepare_cached(
                "INSERT INTO ratings (user_id, MovieID, rating, rated_at, run_id)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
            )?
            .execute(params![user.0, r.movie, r.rating, r.rated_at, self.run_id])?;
        if inserted == 1 {
            return Ok(RatingWrite::Inserted);
        }
        let (rating, rated_at, run_id): (f64, i64, i64) = self
            .tx
            .prepare_cached(
                "SELECT rating, rated_at, run_id FROM ratings WHERE user_id = ?1 AND MovieID = ?2",
            )?
            .query_row(params![user.0, r.movie], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })?;
        let this_run = run_id == self.run_id.0;
        let newer =
            r.rated_at > rated_at || (r.rated_at == rated_at && (this_run || r.rating != rating));
        if newer {
            self.tx
                .prepare_cached(
                    "UPDATE ratings SET rating = ?3, rated_at = ?4, run_id = ?5
                     WHERE user_id = ?1 AND MovieID = ?2",
                )?
                .execute(params![user.0, r.movie, r.rating, r.rated_at, self.run_id])?;
        }
        Ok(match (this_run, newer) {
            (true, true) => RatingWrite::Duplicate(Some(rating)),
            (true, false) => RatingWrite::Duplicate(None),
            (false, true) => RatingWrite::Updated,
            (false, false) => RatingWrite::Unchanged(rating),
        })
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
        let mut update = self.tx.prepare_cached(
            "UPDATE movie_sources SET rating = ?2, votes = ?3, run_id = ?4
             WHERE MovieID = ?1 AND provider = 'movielens'
               AND NOT (rating IS ?2 AND votes IS ?3)",
        )?;
        let mut touched = self.tx.prepare_cached(
            "UPDATE temp.etl_touched SET outcome = MAX(outcome, 1)
             WHERE MovieID = ?1 AND provider = 'movielens'",
        )?;
        for (movie, (sum, n)) in facts {
            let mean = (sum / *n as f64 * 1000.0).round() / 1000.0;
            if update.execute(params![movie, mean, n, self.run_id])? == 1 {
                touched.execute([movie])?;
            }
        }
        Ok(())
    }
}
