//! Users of the ratings table and their ratings, read for personal recommendations.

use super::sql::{args, Row};
use super::{Store, StoreError};
use crate::domain::user::{User, UserRating};
use crate::domain::{MovieId, UserId};

const USER: &str = "SELECT u.user_id, u.dataset, u.external_id, COUNT(r.MovieID), AVG(r.rating)
                    FROM users AS u LEFT JOIN ratings AS r USING (user_id)";

fn user(r: &Row<'_>) -> Result<User, StoreError> {
    Ok(User {
        id: r.get(0)?,
        dataset: r.get(1)?,
        external_id: r.get(2)?,
        ratings: r.get(3)?,
        mean_rating: r.get(4)?,
    })
}

impl Store {
    /// A page of users by id, with how many users there are.
    pub fn users_page(&self, limit: u32, offset: u64) -> Result<(Vec<User>, u64), StoreError> {
        let db = self.db();
        let rows = db.query(
            &format!("{USER} GROUP BY u.user_id ORDER BY u.user_id LIMIT ?1 OFFSET ?2"),
            args![limit, offset],
            user,
        )?;
        let total = db.one("SELECT COUNT(*) FROM users", args![])?;
        Ok((rows, total))
    }

    pub fn user(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.db().query_row(
            &format!("{USER} WHERE u.user_id = ?1 GROUP BY u.user_id"),
            args![id],
            user,
        )
    }

    /// A user's ratings with their movies' titles, the latest first.
    pub fn user_ratings(&self, id: UserId) -> Result<Vec<UserRating>, StoreError> {
        self.db().query(
            "SELECT r.MovieID, m.Title, m.ReleaseYear, r.rating, r.rated_at
             FROM ratings AS r JOIN Movies AS m USING (MovieID)
             WHERE r.user_id = ?1 ORDER BY r.rated_at DESC, r.MovieID",
            args![id],
            |r| {
                let at: i64 = r.get(4)?;
                Ok(UserRating {
                    movie_id: r.get(0)?,
                    title: r.get(1)?,
                    release_year: r.get(2)?,
                    rating: r.get(3)?,
                    rated_at: chrono::DateTime::from_timestamp(at, 0).unwrap_or_default(),
                })
            },
        )
    }

    /// What a user rated, by movie (one range scan of the ratings' key); `None` for no such
    /// user.
    pub fn user_profile(&self, id: UserId) -> Result<Option<Vec<(MovieId, f64)>>, StoreError> {
        let db = self.db();
        let exists: Option<i64> =
            db.query_row("SELECT 1 FROM users WHERE user_id = ?1", args![id], |r| {
                r.get(0)
            })?;
        if exists.is_none() {
            return Ok(None);
        }
        let rows = db.query(
            "SELECT MovieID, rating FROM ratings WHERE user_id = ?1 ORDER BY MovieID",
            args![id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        Ok(Some(rows))
    }
}
