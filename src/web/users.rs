//! `/api/users`: users of the ratings table, their history and their recommendations.

use super::error::{ApiError, Problem};
use super::movies::Page;
use super::params::{checked_filters, in_range, path_id, ApiQuery, MAX_N};
use super::recommendations::personal_json;
use super::state::AppState;
use crate::domain::genre::Genre;
use crate::domain::user::{User, UserRating};
use crate::domain::UserId;
use crate::recommend::{Personal, Rated, SimilarModel, Voice};
use axum::extract::{Path, State};
use axum::response::Response;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// Rows to skip (default 0).
    #[param(minimum = 0, maximum = 1_000_000_000)]
    offset: Option<u64>,
}

/// List users.
///
/// A page of the users of the loaded ratings datasets, by id, with how many movies each rated.
#[utoipa::path(get, path = "/api/users", tag = "users", operation_id = "listUsers", params(ListParams),
    responses((status = 200, description = "One page of users", body = Page<User>),
              (status = 400, description = "A parameter is malformed or out of range", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Json<Page<User>>, ApiError> {
    let limit = in_range("limit", p.limit, 50, 1..=500)?;
    let offset = in_range("offset", p.offset, 0, 0..=1_000_000_000)?;
    let (items, total) = state.db(move |s| s.users_page(limit, offset)).await?;
    Ok(Json(Page {
        items,
        total,
        limit,
        offset,
    }))
}

/// A user and what they rated.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserHistory {
    pub user: User,
    /// The latest first.
    pub ratings: Vec<UserRating>,
}

/// One user's history.
///
/// A user of the ratings table and every rating they gave, the latest first.
#[utoipa::path(get, path = "/api/users/{id}", tag = "users", operation_id = "getUser",
    params(("id" = i64, Path, description = "User id (`users.user_id`)", example = 1)),
    responses((status = 200, description = "The user and their ratings", body = UserHistory),
              (status = 400, description = "The id is not an integer", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No user has this id", body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<UserHistory>, ApiError> {
    let id = UserId(path_id("id", &id)?);
    let found = state
        .db(move |s| {
            let Some(user) = s.user(id)? else {
                return Ok(None);
            };
            Ok(Some(UserHistory {
                user,
                ratings: s.user_ratings(id)?,
            }))
        })
        .await?;
    found
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no user with id {id}")))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecommendParams {
    /// Number of recommendations, 1–100 (default 10).
    #[param(minimum = 1, maximum = 100)]
    n: Option<usize>,
    /// The model: `content`, `content-seed`, or a trained one (`item-knn`, `svd`, `svd++`,
    /// `als`, `ease`, `sparse-ease`; 404 when not trained). Default: the best trained model, else `content`.
    model: Option<SimilarModel>,
    /// Only movies of this genre.
    #[param(inline)]
    genre: Option<Genre>,
    /// Only movies released in or after this year.
    #[param(minimum = 0, maximum = 9999)]
    year_from: Option<i32>,
    /// Only movies released in or before this year.
    #[param(minimum = 0, maximum = 9999)]
    year_to: Option<i32>,
    /// Only movies rated at least this, 0–10.
    #[param(minimum = 0, maximum = 10)]
    min_rating: Option<f64>,
}

/// Recommendations for a user.
///
/// The `n` movies a user of the ratings table should see next, never one they rated, by the
/// chosen model with their ratings folded in (so ratings newer than the model count too), each
/// with its reason ("because they rated Heat 5/5 and The Insider 4.5/5"). A user with no
/// ratings gets the popular list, marked as a fallback.
#[utoipa::path(get, path = "/api/users/{id}/recommendations", tag = "users", operation_id = "userRecommendations",
    params(("id" = i64, Path, description = "User id (`users.user_id`)", example = 1), RecommendParams),
    responses((status = 200, description = "The user's recommendations", body = Personal),
              (status = 400, description = "A parameter is malformed or out of range", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No user has this id, or the model is not trained here", body = Problem, content_type = "application/problem+json")))]
pub async fn recommendations(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<RecommendParams>,
) -> Result<Response, ApiError> {
    let id = UserId(path_id("id", &id)?);
    let n = in_range("n", p.n, 10, 1..=MAX_N)?;
    let filters = checked_filters(p.year_from, p.year_to, p.min_rating, p.genre)?;
    let profile = state
        .db(move |s| s.user_profile(id))
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no user with id {id}")))?;
    let engine = state.engine_for(p.model).await?;
    // A rating of a movie no longer in the catalog (a newer load dropped it) says nothing.
    let rated: Vec<Rated> = profile
        .into_iter()
        .filter(|(movie, _)| engine.movie(*movie).is_some())
        .map(|(movie, rating)| Rated { movie, rating })
        .collect();
    let personal = engine
        .recommend(&rated, n, &filters, p.model, Voice::They, &[])
        .map_err(ApiError::from)?;
    personal_json(&personal)
}
