//! Users of a loaded ratings dataset and what they rated.

use super::{MovieId, Timestamp, UserId};
use serde::Serialize;

/// A user of the ratings table.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct User {
    pub id: UserId,
    /// The dataset the user comes from (`ml-latest-small`).
    pub dataset: String,
    /// The user's id in that dataset.
    pub external_id: i64,
    /// How many movies they rated.
    pub ratings: u64,
    /// Their mean rating, in stars; `null` with no ratings.
    #[serde(serialize_with = "super::round::rating_opt")]
    pub mean_rating: Option<f64>,
}

/// One of a user's ratings, with the movie's title.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UserRating {
    pub movie_id: MovieId,
    pub title: String,
    pub release_year: i32,
    /// In stars, 0.5–5.
    pub rating: f64,
    #[schema(value_type = String, format = DateTime)]
    pub rated_at: Timestamp,
}
