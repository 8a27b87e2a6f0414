//! `/api/models`: the trained models, with what they were trained on and their held-out figures.

use super::error::{ApiError, Problem};
use super::state::AppState;
use crate::domain::trained::TrainedModel;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// Every trained model and which of them this server answers with.
#[derive(Debug, Serialize, ToSchema)]
pub struct Models {
    /// Every `movierec train` run, newest first.
    pub items: Vec<TrainedModel>,
    /// Ids of the models loaded for serving: the newest of each kind whose artifact loaded.
    pub serving: Vec<i64>,
}

/// Trained models.
///
/// Each `movierec train` run: kind, parameters, when, on which ratings (their SHA-256 and
/// counts), held-out metrics (NDCG@10, Recall@20… for top-N models; RMSE and MAE for rating
/// models), fit time and artifact; and which are served (`/api/movies/{id}/similar?model=`).
#[utoipa::path(get, path = "/api/models", tag = "models", operation_id = "listModels",
    responses((status = 200, description = "The trained models", body = Models),
              (status = 500, description = "The database could not be read", body = Problem, content_type = "application/problem+json")))]
pub async fn list(State(state): State<AppState>) -> Result<Json<Models>, ApiError> {
    let items = state.db(|store| store.models()).await?;
    let serving = state.engine.load().trained().map(|m| m.id).collect();
    Ok(Json(Models { items, serving }))
}
