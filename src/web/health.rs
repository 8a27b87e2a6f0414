//! `/health` and `/metrics`: what an operator or a scraper asks.

use super::error::{ApiError, Problem};
use super::metrics::CONTENT_TYPE;
use super::state::AppState;
use crate::domain::etl::EtlRun;
use crate::domain::trained::ModelKind;
use crate::domain::{EtlRunId, Timestamp};
use crate::recommend::Unloadable;
use crate::store::Store;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// Whether everything trained is served.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The catalog and the newest model of every trained kind are served.
    Ok,
    /// The catalog is served, but a trained model could not be loaded (see `problems`): its
    /// kind is served by an older model, or not at all. Known once the kind was asked for.
    Degraded,
}

/// What is being served.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`, or `degraded` with the reasons in `problems`. The server answers only with a
    /// readable catalog.
    pub status: Status,
    /// Trained models that could not be loaded, and what was served instead.
    pub problems: Vec<Unloadable>,
    /// The trained kinds whose artifacts this server has read: a model is read when it is
    /// first asked for (and again, before the swap, when a newer catalog or model comes).
    pub models_loaded: Vec<ModelKind>,
    /// Movies in the served catalog.
    pub movies: usize,
    /// When the served model was fitted.
    #[schema(value_type = String, format = DateTime)]
    pub model_fitted_at: Timestamp,
    /// The ETL run the served catalog was loaded after.
    pub model_run_id: Option<EtlRunId>,
    /// The newest ETL run in the database, whatever its status.
    pub last_etl_run: Option<EtlRun>,
}

/// Liveness and what is being served.
///
/// Answers `ok` with the size of the served catalog, when its model was fitted, and the newest
/// ETL run in the database (a newer successful run is picked up within the reload interval);
/// `degraded`, with each reason, when a trained model could not be loaded.
#[utoipa::path(get, path = "/health", tag = "operations", operation_id = "health",
    responses((status = 200, description = "The server is up", body = Health),
              (status = 500, description = "The database cannot be read", body = Problem, content_type = "application/problem+json")))]
pub async fn health(State(state): State<AppState>) -> Result<Json<Health>, ApiError> {
    let last = state.db(Store::last_etl_run).await?;
    let engine = state.engine.load();
    let problems = engine.unloadable();
    Ok(Json(Health {
        status: if problems.is_empty() {
            Status::Ok
        } else {
            Status::Degraded
        },
        problems,
        models_loaded: engine.loaded().collect(),
        movies: engine.movies().len(),
        model_fitted_at: engine.fitted_at,
        model_run_id: engine.run_id,
        last_etl_run: last,
    }))
}

/// What a liveness or readiness check found.
#[derive(Debug, Serialize, ToSchema)]
pub struct Probe {
    /// `live` or `ready`.
    pub status: &'static str,
}

/// Liveness: the process answers.
///
/// Always 200 while the server runs, draining included: restart it only when this fails.
#[utoipa::path(get, path = "/health/live", tag = "operations", operation_id = "health_live",
    responses((status = 200, description = "The process answers", body = Probe)))]
pub async fn live() -> Json<Probe> {
    Json(Probe { status: "live" })
}

/// Readiness: send this server traffic.
///
/// 200 when its engine is loaded (a server answers only once it is) and its database answers;
/// 503 when the database cannot be read, and from SIGTERM on, while it drains before the
/// listener closes (`--drain-ms`).
#[utoipa::path(get, path = "/health/ready", tag = "operations", operation_id = "health_ready",
    responses((status = 200, description = "Ready for traffic", body = Probe),
              (status = 503, description = "Draining, or the database cannot be read", body = Problem, content_type = "application/problem+json")))]
pub async fn ready(State(state): State<AppState>) -> Result<Json<Probe>, ApiError> {
    if state.is_draining() {
        return Err(ApiError::not_ready(
            "this server is shutting down; send requests to another one",
        ));
    }
    state
        .db(|s| s.schema_version().map(drop))
        .await
        .map_err(|e| {
            ApiError::not_ready(format!(
                "the database cannot be read: {}",
                e.problem().detail
            ))
        })?;
    Ok(Json(Probe { status: "ready" }))
}

/// Prometheus metrics.
///
/// Requests and latency per route and status, catalog size, model fit time, the last ETL run and
/// readiness, in OpenMetrics text format. Answers while the database cannot be read (readiness
/// 0, the last run as last seen), so a scraper sees why the server is not ready.
#[utoipa::path(get, path = "/metrics", tag = "operations", operation_id = "metrics",
    responses((status = 200, description = "OpenMetrics text", body = String, content_type = "application/openmetrics-text"),
              (status = 500, description = "The metrics could not be encoded", body = Problem, content_type = "application/problem+json")))]
pub async fn metrics(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let last = state.db(Store::last_etl_run).await;
    if let Ok(last) = &last {
        state.metrics.observe_last_run(last.as_ref());
    }
    state
        .metrics
        .observe_ready(last.is_ok() && !state.is_draining());
    let body = state.metrics.render().map_err(ApiError::internal)?;
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], body))
}
