//! `/health` and `/metrics`: what an operator or a scraper asks.

use super::error::{ApiError, Problem};
use super::metrics::CONTENT_TYPE;
use super::state::AppState;
use crate::db::runs::{self, RunRow};
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the server answers: it only starts with a readable catalog.
    pub status: String,
    /// Movies in the served catalog.
    pub movies: usize,
    /// When the served model was fitted (RFC 3339).
    pub model_fitted_at: String,
    /// The ETL run the served catalog was loaded after.
    pub model_run_id: Option<i64>,
    /// The newest ETL run in the database, whatever its status.
    pub last_etl_run: Option<RunRow>,
}

/// Liveness and what is being served.
#[utoipa::path(get, path = "/health", tag = "operations",
    responses((status = 200, body = Health), (status = 500, body = Problem, content_type = "application/problem+json")))]
pub async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let last = state
        .db(|conn| Ok(runs::page(conn, 1, 0)?.into_iter().next()))
        .await?;
    let catalog = state.catalog.load();
    Ok(Json(Health {
        status: "ok".to_owned(),
        movies: catalog.movies.len(),
        model_fitted_at: catalog.fitted_at.clone(),
        model_run_id: catalog.run_id,
        last_etl_run: last,
    }))
}

/// Prometheus metrics in OpenMetrics text format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, body = String, content_type = "application/openmetrics-text"),
              (status = 500, body = Problem, content_type = "application/problem+json")))]
pub async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let last = state
        .db(|conn| Ok(runs::page(conn, 1, 0)?.into_iter().next()))
        .await?;
    state.metrics.observe_last_run(last.as_ref());
    let body = state.metrics.render().map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], body))
}
