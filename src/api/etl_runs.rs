//! `/api/etl/runs`: ETL lineage, audit reports and rejected rows.

use super::error::{ApiError, Problem};
use super::movies::Page;
use super::params::{in_range, path_id, ApiQuery};
use super::state::AppState;
use crate::db::runs::{self, RejectRow, RunRow};
use crate::etl::audit::AuditReport;
use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Page size, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// Rows to skip (default 0).
    #[param(minimum = 0, maximum = 1_000_000_000)]
    offset: Option<u64>,
}

impl PageParams {
    fn checked(&self) -> Result<(u32, u64), ApiError> {
        Ok((
            in_range("limit", self.limit, 50, 1..=500)?,
            in_range("offset", self.offset, 0, 0..=1_000_000_000)?,
        ))
    }
}

/// ETL runs, newest first.
#[utoipa::path(get, path = "/api/etl/runs", tag = "etl", params(PageParams),
    responses((status = 200, body = Page<RunRow>), (status = 400, body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<Page<RunRow>>, ApiError> {
    let (limit, offset) = p.checked()?;
    let (items, total) = state
        .db(move |conn| Ok((runs::page(conn, limit, offset)?, runs::count(conn)?)))
        .await?;
    Ok(Json(Page {
        items,
        total,
        limit,
        offset,
    }))
}

/// One run with its audit report and reject counts by reason.
#[derive(Debug, Serialize, ToSchema)]
pub struct RunDetail {
    #[serde(flatten)]
    pub run: RunRow,
    pub rejects_by_reason: BTreeMap<String, u64>,
    /// Absent for a failed run.
    pub audit: Option<AuditReport>,
}

/// One ETL run.
#[utoipa::path(get, path = "/api/etl/runs/{run_id}", tag = "etl",
    params(("run_id" = i64, Path, description = "ETL run id")),
    responses((status = 200, body = RunDetail),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
) -> Result<Json<RunDetail>, ApiError> {
    let run_id = path_id("run_id", &run_id)?;
    let found = state
        .db(move |conn| {
            let Some(run) = runs::by_id(conn, run_id)? else {
                return Ok(None);
            };
            Ok(runs::audit(conn, run_id)?.map(|(audit, reasons)| (run, audit, reasons)))
        })
        .await?;
    let (run, audit, reasons) =
        found.ok_or_else(|| ApiError::not_found(format!("no ETL run {run_id}")))?;
    let rejects_by_reason = serde_json::from_str(&reasons).map_err(ApiError::internal)?;
    Ok(Json(RunDetail {
        run,
        rejects_by_reason,
        audit,
    }))
}

/// Rejected rows of one run, by source row.
#[utoipa::path(get, path = "/api/etl/runs/{run_id}/rejects", tag = "etl",
    params(("run_id" = i64, Path, description = "ETL run id"), PageParams),
    responses((status = 200, body = Page<RejectRow>),
              (status = 400, body = Problem, content_type = "application/problem+json"),
              (status = 404, body = Problem, content_type = "application/problem+json")))]
pub async fn rejects(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<Page<RejectRow>>, ApiError> {
    let run_id = path_id("run_id", &run_id)?;
    let (limit, offset) = p.checked()?;
    let found = state
        .db(move |conn| {
            if runs::by_id(conn, run_id)?.is_none() {
                return Ok(None);
            }
            runs::rejects(conn, run_id, limit, offset).map(Some)
        })
        .await?;
    let (items, total) =
        found.ok_or_else(|| ApiError::not_found(format!("no ETL run {run_id}")))?;
    Ok(Json(Page {
        items,
        total,
        limit,
        offset,
    }))
}
