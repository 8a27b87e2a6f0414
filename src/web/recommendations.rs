//! `POST /api/recommendations`: recommendations for someone who is not in the database, from
//! the ratings they send. Folded into the model, never stored.

use super::error::{ApiError, Problem};
use super::params::{checked_filters, in_range, ApiJson, MAX_N};
use super::state::AppState;
use crate::domain::genre::Genre;
use crate::domain::MovieId;
use crate::recommend::{Engine, Personal, Rated, SimilarModel, Voice};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::HashMap;
use utoipa::ToSchema;

/// The most ratings one request may send.
pub const MAX_RATINGS: usize = 1000;

/// One rating of a movie.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingIn {
    /// MovieID, as the catalog lists it.
    movie_id: MovieId,
    /// Stars, 0.5–5 in halves.
    #[schema(minimum = 0.5, maximum = 5, multiple_of = 0.5)]
    rating: f64,
}

/// What a person rated and what they want.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"ratings": [{"movie_id": 1, "rating": 4.5}], "n": 10}))]
pub struct RecommendRequest {
    /// The movies rated, each at most once; at most 1,000. None (or empty): the popular list.
    #[serde(default)]
    #[schema(max_items = 1000)]
    ratings: Vec<RatingIn>,
    /// Number of recommendations, 1–100 (default 10).
    #[schema(minimum = 1, maximum = 100)]
    n: Option<usize>,
    /// The model: `content`, `content-seed`, or a trained one (`item-knn`, `svd`, `svd++`,
    /// `als`, `ease`, `sparse-ease`). Default: the best trained model, else `content`.
    model: Option<SimilarModel>,
    /// Only movies of this genre.
    genre: Option<Genre>,
    /// Only movies released in or after this year.
    #[schema(minimum = 0, maximum = 9999)]
    year_from: Option<i32>,
    /// Only movies released in or before this year.
    #[schema(minimum = 0, maximum = 9999)]
    year_to: Option<i32>,
    /// Only movies rated at least this, 0–10.
    #[schema(minimum = 0, maximum = 10)]
    min_rating: Option<f64>,
    /// Movies the person is not interested in: never recommended; at most 1,000.
    #[serde(default)]
    #[schema(max_items = 1000)]
    exclude: Vec<MovieId>,
}

/// Recommendations from a set of ratings.
///
/// For someone who is not in the database: their ratings are folded into the chosen model
/// (matrix factorisation solves their vector against the fixed item factors; item-kNN and
/// EASE^R score from the rated movies; content models build a profile), nothing retrained and
/// nothing stored. The `n` best movies they did not rate, each with its reason. No ratings:
/// the popular list, marked as a fallback.
#[utoipa::path(post, path = "/api/recommendations", tag = "users", operation_id = "recommend",
    request_body(content = RecommendRequest, content_type = "application/json"),
    responses((status = 200, description = "The recommendations", body = Personal),
              (status = 400, description = "The body is not JSON, or a field is malformed or out of range (named in `parameter`)", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "The model is not trained here", body = Problem, content_type = "application/problem+json"),
              (status = 413, description = "The body is larger than the server accepts", body = Problem, content_type = "application/problem+json"),
              (status = 415, description = "The body is not sent as JSON", body = Problem, content_type = "application/problem+json")))]
pub async fn recommend(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<RecommendRequest>,
) -> Result<Response, ApiError> {
    let n = in_range("n", request.n, 10, 1..=MAX_N).map_err(ApiError::in_body)?;
    let filters = checked_filters(
        request.year_from,
        request.year_to,
        request.min_rating,
        request.genre,
    )
    .map_err(ApiError::in_body)?;
    if request.exclude.len() > MAX_RATINGS {
        return Err(ApiError::bad_body(
            "exclude",
            format!(
                "at most {MAX_RATINGS} excluded movies per request, got {}",
                request.exclude.len()
            ),
        ));
    }
    let engine = state.engine_for(request.model).await?;
    let profile = checked_profile(&engine, &request.ratings)?;
    let personal = engine
        .recommend(
            &profile,
            n,
            &filters,
            request.model,
            Voice::You,
            &request.exclude,
        )
        .map_err(ApiError::from)?;
    personal_json(&personal)
}

/// The ratings as a profile, or a 400 naming the first problem: too many, a rating off the
/// scale, a movie rated twice, movies the catalog does not have (all of them named).
fn checked_profile(engine: &Engine, ratings: &[RatingIn]) -> Result<Vec<Rated>, ApiError> {
    if ratings.len() > MAX_RATINGS {
        return Err(ApiError::bad_body(
            "ratings",
            format!(
                "at most {MAX_RATINGS} ratings per request, got {}",
                ratings.len()
            ),
        ));
    }
    let mut seen: HashMap<MovieId, usize> = HashMap::with_capacity(ratings.len());
    for (i, r) in ratings.iter().enumerate() {
        if !(0.5..=5.0).contains(&r.rating) || (r.rating * 2.0).fract() != 0.0 {
            return Err(ApiError::bad_body(
                &format!("ratings[{i}].rating"),
                format!(
                    "`ratings[{i}].rating` must be 0.5–5 stars in halves, got {}",
                    r.rating
                ),
            ));
        }
        if let Some(first) = seen.insert(r.movie_id, i) {
            return Err(ApiError::bad_body(
                &format!("ratings[{i}].movie_id"),
                format!(
                    "movie {} is rated twice (ratings[{first}] and ratings[{i}]); send each movie once",
                    r.movie_id
                ),
            ));
        }
    }
    let unknown: Vec<String> = ratings
        .iter()
        .filter(|r| engine.movie(r.movie_id).is_none())
        .map(|r| r.movie_id.to_string())
        .collect();
    if let Some(first) = ratings
        .iter()
        .position(|r| engine.movie(r.movie_id).is_none())
    {
        return Err(ApiError::bad_body(
            &format!("ratings[{first}].movie_id"),
            format!("no movie with id {} in the catalog", unknown.join(", ")),
        ));
    }
    Ok(ratings
        .iter()
        .map(|r| Rated {
            movie: r.movie_id,
            rating: r.rating,
        })
        .collect())
}

/// A personal list as a JSON response.
pub(super) fn personal_json(personal: &Personal<'_>) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(personal).map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}
