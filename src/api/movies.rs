//! `/api/movies`: catalog pages, one movie, similar movies.

use super::error::{ApiError, Problem};
use super::params::{in_range, optional_in_range, path_id, ApiQuery};
use super::state::AppState;
use crate::db::movies::{self, MovieRow, PageQuery, SortKey};
use crate::movie::title_key;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

const MAX_LIMIT: u32 = 500;
const MAX_N: usize = 100;

/// Sort order of a catalog page; a leading `-` sorts descending.
#[derive(Debug, Clone, Copy, Default, Deserialize, ToSchema)]
pub enum Sort {
    #[default]
    #[serde(rename = "id")]
    Id,
    #[serde(rename = "-id")]
    IdDesc,
    #[serde(rename = "title")]
    Title,
    #[serde(rename = "-title")]
    TitleDesc,
    #[serde(rename = "year")]
    Year,
    #[serde(rename = "-year")]
    YearDesc,
    #[serde(rename = "rating")]
    Rating,
    #[serde(rename = "-rating")]
    RatingDesc,
    #[serde(rename = "votes")]
    Votes,
    #[serde(rename = "-votes")]
    VotesDesc,
}

impl Sort {
    fn key(self) -> (SortKey, bool) {
        match self {
            Sort::Id => (SortKey::Id, false),
            Sort::IdDesc => (SortKey::Id, true),
            Sort::Title => (SortKey::Title, false),
            Sort::TitleDesc => (SortKey::Title, true),
            Sort::Year => (SortKey::Year, false),
            Sort::YearDesc => (SortKey::Year, true),
            Sort::Rating => (SortKey::Rating, false),
            Sort::RatingDesc => (SortKey::Rating, true),
            Sort::Votes => (SortKey::Votes, false),
            Sort::VotesDesc => (SortKey::Votes, true),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// Case-insensitive substring of the title.
    q: Option<String>,
    /// Earliest release year, inclusive.
    #[param(minimum = 0, maximum = 9999)]
    year_from: Option<i32>,
    /// Latest release year, inclusive.
    #[param(minimum = 0, maximum = 9999)]
    year_to: Option<i32>,
    /// Minimum rating, 0–10.
    #[param(minimum = 0, maximum = 10)]
    min_rating: Option<f64>,
    /// Sort order (default `id`).
    #[param(inline)]
    sort: Option<Sort>,
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// Rows to skip (default 0).
    #[param(minimum = 0, maximum = 1_000_000_000)]
    offset: Option<u64>,
}

/// The optional filters shared by the catalog list and the recommendations, each checked.
struct Filters {
    year_from: Option<i32>,
    year_to: Option<i32>,
    min_rating: Option<f64>,
}

impl Filters {
    fn checked(
        year_from: Option<i32>,
        year_to: Option<i32>,
        min_rating: Option<f64>,
    ) -> Result<Self, ApiError> {
        Ok(Self {
            year_from: optional_in_range("year_from", year_from, 0..=9999)?,
            year_to: optional_in_range("year_to", year_to, 0..=9999)?,
            min_rating: optional_in_range("min_rating", min_rating, 0.0..=10.0)?,
        })
    }
}

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub limit: u32,
    pub offset: u64,
}

/// List and search the catalog.
#[utoipa::path(get, path = "/api/movies", tag = "movies", params(ListParams),
    responses((status = 200, body = Page<MovieRow>), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Json<Page<MovieRow>>, ApiError> {
    let (sort, descending) = p.sort.unwrap_or_default().key();
    let filters = Filters::checked(p.year_from, p.year_to, p.min_rating)?;
    let query = PageQuery {
        title_key: p.q.as_deref().map(title_key),
        year_from: filters.year_from,
        year_to: filters.year_to,
        min_rating: filters.min_rating,
        sort,
        descending,
        limit: in_range("limit", p.limit, 50, 1..=MAX_LIMIT)?,
        offset: in_range("offset", p.offset, 0, 0..=1_000_000_000)?,
    };
    let (limit, offset) = (query.limit, query.offset);
    let (items, total) = state.db(move |conn| movies::page(conn, &query)).await?;
    Ok(Json(Page {
        items,
        total,
        limit,
        offset,
    }))
}

/// One movie.
#[utoipa::path(get, path = "/api/movies/{id}", tag = "movies",
    params(("id" = i64, Path, description = "MovieID")),
    responses((status = 200, body = MovieRow),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<MovieRow>, ApiError> {
    let id = path_id("id", &id)?;
    state
        .catalog
        .load()
        .movie(id)
        .cloned()
        .map(Json)
        .ok_or_else(|| ApiError::not_found(format!("no movie with id {id}")))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SimilarParams {
    /// Number of recommendations, 1–100 (default 10).
    #[param(minimum = 1, maximum = 100)]
    n: Option<usize>,
    /// Recommend only movies released in or after this year.
    #[param(minimum = 0, maximum = 9999)]
    year_from: Option<i32>,
    /// Recommend only movies released in or before this year.
    #[param(minimum = 0, maximum = 9999)]
    year_to: Option<i32>,
    /// Recommend only movies rated at least this, 0–10.
    #[param(minimum = 0, maximum = 10)]
    min_rating: Option<f64>,
}

/// A recommended movie with its cosine similarity to the query movie.
/// Borrowed from the catalog snapshot: a response is serialised without copying any row.
#[derive(Debug, Serialize, ToSchema)]
pub struct Scored<'a> {
    #[serde(flatten)]
    pub movie: &'a MovieRow,
    pub score: f64,
}

/// The query movie and its neighbours, best first.
#[derive(Debug, Serialize, ToSchema)]
pub struct Similar<'a> {
    pub movie: &'a MovieRow,
    pub recommendations: Vec<Scored<'a>>,
}

/// Movies most similar to one movie (content model: rating + release year, cosine); ties by id.
#[utoipa::path(get, path = "/api/movies/{id}/similar", tag = "movies",
    params(("id" = i64, Path, description = "MovieID"), SimilarParams),
    responses((status = 200, body = Similar),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn similar(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<SimilarParams>,
) -> Result<Response, ApiError> {
    let id = path_id("id", &id)?;
    let n = in_range("n", p.n, 10, 1..=MAX_N)?;
    let filters = Filters::checked(p.year_from, p.year_to, p.min_rating)?;
    let years = filters.year_from.unwrap_or(0)..=filters.year_to.unwrap_or(9999);
    let min_rating = filters.min_rating.unwrap_or(0.0);
    let catalog = state.catalog.load();
    let movie = catalog
        .movie(id)
        .ok_or_else(|| ApiError::not_found(format!("no movie with id {id}")))?;
    // The catalog's rows are in the model's (ascending id) order, so positions line up.
    let keep = |i: usize| {
        let m = &catalog.movies[i];
        years.contains(&m.release_year) && m.rating >= min_rating
    };
    let neighbours = catalog
        .model
        .recommend_where(id, n, keep)
        .map_err(|e| ApiError::not_found(e.to_string()))?;
    let recommendations = neighbours
        .into_iter()
        .filter_map(|nb| {
            catalog.movie(nb.id).map(|movie| Scored {
                movie,
                score: nb.score,
            })
        })
        .collect();
    // Serialised while the snapshot guard is held, so the rows are borrowed, not cloned.
    let body = serde_json::to_vec(&Similar {
        movie,
        recommendations,
    })
    .map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// Every movie's model features, as parallel arrays (compact enough for a chart of the catalog).
#[derive(Debug, Serialize, ToSchema)]
pub struct Points {
    pub id: Vec<i64>,
    pub title: Vec<String>,
    pub release_year: Vec<i32>,
    pub rating: Vec<f64>,
}

/// The model's two features for the whole catalog, by id: what the dashboard's scatter chart draws.
#[utoipa::path(get, path = "/api/catalog/points", tag = "movies", responses((status = 200, body = Points)))]
pub async fn points(State(state): State<AppState>) -> Json<Points> {
    let catalog = state.catalog.load();
    Json(Points {
        id: catalog.movies.iter().map(|m| m.id).collect(),
        title: catalog.movies.iter().map(|m| m.title.clone()).collect(),
        release_year: catalog.movies.iter().map(|m| m.release_year).collect(),
        rating: catalog.movies.iter().map(|m| m.rating).collect(),
    })
}
