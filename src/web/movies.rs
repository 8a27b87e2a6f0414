//! `/api/movies`: catalog pages, one movie, similar movies.

use super::error::{ApiError, Problem};
use super::params::{checked_filters, in_range, path_id, ApiQuery, MAX_N};
use super::state::AppState;
use crate::domain::catalog::check_search;
use crate::domain::catalog::{CatalogQuery, SortKey};
use crate::domain::genre::Genre;
use crate::domain::movie::{title_key, CatalogMovie, MovieDetail};
use crate::domain::round;
use crate::domain::MovieId;
use crate::recommend::{RecommendError, Similar, SimilarModel};
use axum::extract::{OriginalUri, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

const MAX_LIMIT: u32 = 500;

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
    /// Case-insensitive substring of the title (accents, spacing and punctuation forgiven).
    #[param(max_length = 200)]
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
    /// Only movies of this genre (a name of the vocabulary, as `/api/genres` lists them).
    #[param(inline)]
    genre: Option<Genre>,
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

/// One page of a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: u64,
    pub limit: u32,
    pub offset: u64,
}

/// List and search the catalog.
///
/// A page of catalog movies, optionally filtered by a title substring, a release-year range and
/// a minimum rating, sorted by any column; `total` counts every match.
#[utoipa::path(get, path = "/api/movies", tag = "movies", operation_id = "listMovies", params(ListParams),
    responses((status = 200, description = "One page of movies", body = Page<CatalogMovie>),
              (status = 400, description = "A parameter is malformed or out of range", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Json<Page<CatalogMovie>>, ApiError> {
    let (sort, descending) = p.sort.unwrap_or_default().key();
    let filters = checked_filters(p.year_from, p.year_to, p.min_rating, p.genre)?;
    if let Some(q) = &p.q {
        check_search(q).map_err(|e| {
            ApiError::bad_parameter("q", format!("query parameter `q`: {e}"), "a shorter search")
        })?;
    }
    let query = CatalogQuery {
        title_key: p.q.as_deref().map(title_key),
        year_from: filters.year_from,
        year_to: filters.year_to,
        min_rating: filters.min_rating,
        genre: filters.genre,
        sort,
        descending,
        limit: in_range("limit", p.limit, 50, 1..=MAX_LIMIT)?,
        offset: in_range("offset", p.offset, 0, 0..=1_000_000_000)?,
    };
    let (limit, offset) = (query.limit, query.offset);
    let (items, total) = state.db(move |store| store.movies_page(&query)).await?;
    Ok(Json(Page {
        items,
        total,
        limit,
        offset,
    }))
}

/// One movie.
///
/// One movie by its MovieID, with everything the catalog knows of it: genres, directors,
/// writers, top cast, keywords, MovieLens tags, overview, runtime, each provider's rating on its
/// own scale, and the movie's external ids.
#[utoipa::path(get, path = "/api/movies/{id}", tag = "movies", operation_id = "getMovie",
    params(("id" = i64, Path, description = "MovieID", example = 1)),
    responses((status = 200, description = "The movie", body = MovieDetail),
              (status = 308, description = "The id was merged into another movie of the same film: `Location` names it"),
              (status = 400, description = "The id is not an integer", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No movie has this id, or the model is not trained here", body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
) -> Result<Response, ApiError> {
    let id = MovieId(path_id("id", &id)?);
    match state.db(move |store| store.movie_detail(id)).await? {
        Some(movie) => Ok(Json(movie).into_response()),
        None => moved(&state, id, &uri, format!("no movie with id {id}")).await,
    }
}

/// The answer for a MovieID no movie has: when a load merged it into another movie of the same
/// film, a permanent redirect to the same resource of that movie (the query kept); otherwise a
/// 404 saying `missing`.
async fn moved(
    state: &AppState,
    id: MovieId,
    uri: &axum::http::Uri,
    missing: String,
) -> Result<Response, ApiError> {
    let Some(to) = state.db(move |store| store.redirect(id)).await? else {
        return Err(ApiError::not_found(missing));
    };
    // `/api/movies/{id}` and what follows the id.
    let rest = uri.path().splitn(5, '/').nth(4);
    let mut location = format!("/api/movies/{to}");
    if let Some(rest) = rest {
        location = format!("{location}/{rest}");
    }
    if let Some(query) = uri.query() {
        location = format!("{location}?{query}");
    }
    Ok((
        StatusCode::PERMANENT_REDIRECT,
        [(header::LOCATION, location)],
    )
        .into_response())
}

/// A genre of the vocabulary and how many movies have it.
#[derive(Debug, Serialize, ToSchema)]
pub struct GenreCount {
    pub name: String,
    pub movies: u64,
}

/// The genres.
///
/// The one genre vocabulary every source's labels map onto, in its order, with how many catalog
/// movies have each genre.
#[utoipa::path(get, path = "/api/genres", tag = "movies", operation_id = "listGenres",
    responses((status = 200, description = "Every genre of the vocabulary", body = Vec<GenreCount>)))]
pub async fn genres(State(state): State<AppState>) -> Json<Vec<GenreCount>> {
    // Counted once per catalog, when the engine is built: a million movies' genre rows are too
    // many to count per request.
    let engine = state.engine.load();
    Json(
        engine
            .genre_counts()
            .iter()
            .map(|(g, movies)| GenreCount {
                name: g.name().to_owned(),
                movies: *movies,
            })
            .collect(),
    )
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
    /// Recommend only movies of this genre.
    #[param(inline)]
    genre: Option<Genre>,
    /// `content` (default: genres, keywords and tags, people, overview, facts, rating and year,
    /// popularity), `content-seed` (the seed's rating + release year model), or a model trained
    /// with `movierec train` (`item-knn`, `svd`, `svd++`, `als`, `ease`, `sparse-ease`; 404 when not trained).
    model: Option<SimilarModel>,
}

/// Movies most similar to one movie.
///
/// By content model v2 (attributes in weighted blocks; default) or the seed's model (rating and
/// release year, standardised, cosine): the `n` most similar movies among those passing the
/// filters, best first, ties by id, each with the reason in words. Filters select before
/// ranking, so `n` stays `n` while enough movies pass.
#[utoipa::path(get, path = "/api/movies/{id}/similar", tag = "movies", operation_id = "similarMovies",
    params(("id" = i64, Path, description = "MovieID", example = 1), SimilarParams),
    responses((status = 200, description = "The movie and its nearest movies", body = Similar),
              (status = 308, description = "The id was merged into another movie of the same film: `Location` names its similar movies"),
              (status = 400, description = "A parameter is malformed or out of range", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No movie has this id", body = Problem, content_type = "application/problem+json")))]
pub async fn similar(
    State(state): State<AppState>,
    Path(id): Path<String>,
    OriginalUri(uri): OriginalUri,
    ApiQuery(p): ApiQuery<SimilarParams>,
) -> Result<Response, ApiError> {
    let id = MovieId(path_id("id", &id)?);
    let n = in_range("n", p.n, 10, 1..=MAX_N)?;
    let filters = checked_filters(p.year_from, p.year_to, p.min_rating, p.genre)?;
    let model = p.model.unwrap_or_default();
    let engine = state.engine_for(Some(model)).await?;
    let (generation, question) = (engine.generation, (model, id, n));
    if filters.is_empty() {
        if let Some(body) = state.similar_bodies.get(generation, question) {
            return Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response());
        }
    }
    let kept = engine.similar_is_kept(id, n, &filters, model);
    // Serialised while the engine is held, so the rows are borrowed, not cloned.
    let answer = move || {
        engine
            .similar(id, n, &filters, model)
            .map(|similar| similar_json(&similar))
    };
    // A kept list answers at once; scoring the catalog runs on the blocking pool.
    let answer = if kept {
        answer()
    } else {
        tokio::task::spawn_blocking(answer)
            .await
            .map_err(ApiError::internal)?
    };
    let body = match answer {
        Ok(body) => bytes::Bytes::from(body.map_err(ApiError::internal)?),
        Err(e @ RecommendError::UnknownMovie(_)) => {
            return moved(&state, id, &uri, e.to_string()).await;
        }
        Err(e) => return Err(e.into()),
    };
    if filters.is_empty() {
        state.similar_bodies.put(generation, question, body.clone());
    }
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PopularParams {
    /// How many movies, 1–100 (default 20).
    #[param(minimum = 1, maximum = 100)]
    n: Option<usize>,
    /// Only movies of this genre.
    #[param(inline)]
    genre: Option<Genre>,
    /// Released in or after this year.
    #[param(minimum = 0, maximum = 9999)]
    year_from: Option<i32>,
    /// Released in or before this year.
    #[param(minimum = 0, maximum = 9999)]
    year_to: Option<i32>,
    /// Rated at least this, 0–10.
    #[param(minimum = 0, maximum = 10)]
    min_rating: Option<f64>,
}

/// The most popular movies.
#[derive(Debug, Serialize, ToSchema)]
pub struct Popular<'a> {
    /// Most votes first.
    pub items: Vec<&'a CatalogMovie>,
}

/// Popular movies by genre and period.
///
/// The movies with the most votes among those of a genre and a period: what a newcomer with no
/// ratings yet is offered to rate, and what `POST /api/recommendations` falls back to without
/// ratings.
#[utoipa::path(get, path = "/api/movies/popular", tag = "movies", operation_id = "popularMovies",
    params(PopularParams),
    responses((status = 200, description = "The most voted movies passing the filters", body = Popular),
              (status = 400, description = "A parameter is malformed or out of range", body = Problem, content_type = "application/problem+json")))]
pub async fn popular(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<PopularParams>,
) -> Result<Response, ApiError> {
    let n = in_range("n", p.n, 20, 1..=MAX_N)?;
    let filters = checked_filters(p.year_from, p.year_to, p.min_rating, p.genre)?;
    let engine = state.engine.load();
    let body = serde_json::to_vec(&Popular {
        items: engine.popular(n, &filters),
    })
    .map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// The JSON of a `/similar` answer, byte for byte what `Similar`'s derived `Serialize` writes
/// (a test holds the two equal), written field by field with static keys: the derived,
/// flattened map spent 42% of the request's instructions (callgrind), most of it escaping the
/// same eight keys for every row. serde_json still escapes every string and formats every number.
fn similar_json(similar: &Similar<'_>) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(256 + 192 * (similar.recommendations.len() + 1));
    out.extend_from_slice(b"{\"movie\":");
    write_movie(&mut out, similar.movie, None)?;
    out.extend_from_slice(b",\"model\":");
    serde_json::to_writer(&mut out, &similar.model)?;
    out.extend_from_slice(b",\"recommendations\":[");
    for (i, r) in similar.recommendations.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_movie(&mut out, r.movie, Some((r.score, &r.reason)))?;
    }
    out.extend_from_slice(b"]}");
    Ok(out)
}

/// One movie as a JSON object, with a trailing `score` and `reason` for a recommendation.
fn write_movie(
    out: &mut Vec<u8>,
    m: &CatalogMovie,
    score: Option<(f64, &str)>,
) -> Result<(), serde_json::Error> {
    out.extend_from_slice(b"{\"id\":");
    serde_json::to_writer(&mut *out, &m.id)?;
    out.extend_from_slice(b",\"title\":");
    serde_json::to_writer(&mut *out, &m.title)?;
    out.extend_from_slice(b",\"release_year\":");
    serde_json::to_writer(&mut *out, &m.release_year)?;
    out.extend_from_slice(b",\"rating\":");
    serde_json::to_writer(&mut *out, &m.rating.map(round::two_decimals))?;
    out.extend_from_slice(b",\"votes\":");
    serde_json::to_writer(&mut *out, &m.votes)?;
    out.extend_from_slice(b",\"genre\":");
    serde_json::to_writer(&mut *out, &m.genre)?;
    out.extend_from_slice(b",\"director\":");
    serde_json::to_writer(&mut *out, &m.director)?;
    out.extend_from_slice(b",\"rating_from\":");
    serde_json::to_writer(&mut *out, &m.rating_from)?;
    out.extend_from_slice(b",\"tmdb_id\":");
    serde_json::to_writer(&mut *out, &m.tmdb_id)?;
    out.extend_from_slice(b",\"imdb_id\":");
    serde_json::to_writer(&mut *out, &m.imdb_id)?;
    if let Some((score, reason)) = score {
        out.extend_from_slice(b",\"score\":");
        serde_json::to_writer(&mut *out, &round::significant(score, 4))?;
        out.extend_from_slice(b",\"reason\":");
        serde_json::to_writer(&mut *out, reason)?;
    }
    out.push(b'}');
    Ok(())
}

/// The rated movies' model features, as parallel arrays (compact enough for a chart of the
/// catalog); an even sample of them when there are more than asked for.
#[derive(Debug, Serialize, ToSchema)]
pub struct Points {
    pub id: Vec<MovieId>,
    pub title: Vec<String>,
    pub release_year: Vec<i32>,
    #[serde(serialize_with = "crate::domain::round::ratings")]
    pub rating: Vec<f64>,
    /// How many rated movies the catalog has.
    pub total: u64,
    /// Whether the arrays hold a sample (every k-th rated movie by id) rather than all.
    pub sampled: bool,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PointsParams {
    /// At most this many points, 1–100000 (default 5000): a chart of a million movies draws
    /// an even sample.
    #[param(minimum = 1, maximum = 100_000)]
    max: Option<usize>,
}

/// The catalog as chart points.
///
/// The content model's two features (release year, rating) with id and title for every rated movie,
/// as parallel arrays by id: what the dashboard's scatter chart draws. Above `max` rated movies,
/// every k-th one, evenly across the ids.
#[utoipa::path(get, path = "/api/catalog/points", tag = "movies", operation_id = "catalogPoints",
    params(PointsParams),
    responses((status = 200, description = "The rated movies' features, or an even sample of them", body = Points),
              (status = 400, description = "A parameter is malformed or out of range", body = Problem, content_type = "application/problem+json")))]
pub async fn points(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<PointsParams>,
) -> Result<Json<Points>, ApiError> {
    let max = in_range("max", p.max, 5000, 1..=100_000)?;
    let engine = state.engine.load();
    let all: Vec<(&CatalogMovie, f64)> = engine
        .movies()
        .iter()
        .filter_map(|m| Some((m, m.rating?)))
        .collect();
    let total = all.len();
    let step = total.div_ceil(max).max(1);
    let rated: Vec<(&CatalogMovie, f64)> = all.into_iter().step_by(step).collect();
    Ok(Json(Points {
        id: rated.iter().map(|(m, _)| m.id).collect(),
        title: rated.iter().map(|(m, _)| m.title.clone()).collect(),
        release_year: rated.iter().map(|(m, _)| m.release_year).collect(),
        rating: rated.iter().map(|(_, r)| *r).collect(),
        total: total as u64,
        sampled: step > 1,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::movie::ImdbId;
    use crate::domain::source::Provider;
    use crate::recommend::Recommendation;

    #[test]
    fn the_hot_path_json_is_byte_for_byte_the_derived_serialisation() {
        let movie = |id: i64, title: &str, genre: Option<&str>, votes: Option<u64>| CatalogMovie {
            id: MovieId(id),
            title: title.to_owned(),
            release_year: 1990 + id as i32,
            rating: (id != 3).then(|| 7.25 + id as f64 / 10.0),
            votes,
            genre: genre.map(str::to_owned),
            director: (id % 2 == 0).then(|| "Jeff \"King\" Hollins\t\u{1}".to_owned()),
            rating_from: [Provider::Vega, Provider::Movielens]
                .into_iter()
                .take(id as usize % 3)
                .collect(),
            tmdb_id: std::num::NonZeroU32::new(if id == 2 { 0 } else { 603 + id as u32 }),
            imdb_id: ImdbId::parse(if id == 3 { "tt10872600" } else { "tt0133093" }),
        };
        let query = movie(
            1,
            "<img src=x onerror=alert(1)>",
            Some("Drama|Family"),
            None,
        );
        let others = [
            movie(2, "Amélie 日本 🎬 \\ / \"quoted\"", None, Some(12)),
            movie(
                3,
                "\u{7f}\u{2028}line\nbreak",
                Some("Thriller/Suspense"),
                Some(0),
            ),
        ];
        for n in 0..=others.len() {
            let similar = Similar {
                movie: &query,
                model: SimilarModel::ContentSeed,
                recommendations: others[..n]
                    .iter()
                    .zip([0.999_999_999_999_9, -0.0, 1e-300])
                    .map(|(movie, score)| Recommendation {
                        movie,
                        score,
                        reason: format!("<b>\"{score}\"</b>\n").into(),
                    })
                    .collect(),
            };
            let derived = serde_json::to_vec(&similar).expect("derived");
            let fast = similar_json(&similar).expect("fast");
            assert_eq!(
                String::from_utf8_lossy(&fast),
                String::from_utf8_lossy(&derived)
            );
        }
    }
}
