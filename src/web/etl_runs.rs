//! `/api/etl/runs`: ETL lineage, audit reports and rejected rows.

use super::error::{ApiError, Problem};
use super::movies::Page;
use super::params::{in_range, path_id, ApiQuery};
use super::state::AppState;
use crate::domain::audit::AuditReport;
use crate::domain::etl::{EtlRun, Reject, RejectsByReason};
use crate::domain::EtlRunId;
use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
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
///
/// The lineage of every ETL run, succeeded or failed: source, content hash, times, row counts and,
/// for a failed run, why it failed.
#[utoipa::path(get, path = "/api/etl/runs", tag = "etl", operation_id = "listEtlRuns", params(PageParams),
    responses((status = 200, description = "One page of runs", body = Page<EtlRun>),
              (status = 400, description = "A parameter is malformed or out of range", body = Problem, content_type = "application/problem+json")))]
pub async fn list(
    State(state): State<AppState>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<Page<EtlRun>>, ApiError> {
    let (limit, offset) = p.checked()?;
    let (items, total) = state
        .db(move |store| Ok((store.etl_runs(limit, offset)?, store.etl_run_count()?)))
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
    pub run: EtlRun,
    /// Rejected rows per reason code.
    #[schema(value_type = std::collections::BTreeMap<String, u64>)]
    pub rejects_by_reason: RejectsByReason,
    /// Absent for a failed run.
    pub audit: Option<AuditReport>,
}

/// One ETL run.
///
/// A run's lineage with its full audit report (null counts, rejects by reason with examples,
/// distributions of what was loaded) and its reject counts by reason.
#[utoipa::path(get, path = "/api/etl/runs/{run_id}", tag = "etl", operation_id = "getEtlRun",
    params(("run_id" = i64, Path, description = "ETL run id", example = 1)),
    responses((status = 200, description = "The run", body = RunDetail),
              (status = 400, description = "The id is not an integer", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No run has this id", body = Problem, content_type = "application/problem+json")))]
pub async fn get(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
) -> Result<Json<RunDetail>, ApiError> {
    let run_id = EtlRunId(path_id("run_id", &run_id)?);
    let found = state
        .db(move |store| {
            let Some(run) = store.etl_run(run_id)? else {
                return Ok(None);
            };
            Ok(store
                .etl_audit(run_id)?
                .map(|(audit, reasons)| (run, audit, reasons)))
        })
        .await?;
    let (run, audit, rejects_by_reason) =
        found.ok_or_else(|| ApiError::not_found(format!("no ETL run {run_id}")))?;
    Ok(Json(RunDetail {
        run,
        rejects_by_reason,
        audit,
    }))
}

/// Rejected rows of one run.
///
/// Every problem of every rejected row of one run, by source row: the field, the reason code,
/// the raw value as the source had it, and context such as which row a duplicate merged into.
#[utoipa::path(get, path = "/api/etl/runs/{run_id}/rejects", tag = "etl", operation_id = "listEtlRejects",
    params(("run_id" = i64, Path, description = "ETL run id", example = 1), PageParams),
    responses((status = 200, description = "One page of rejects", body = Page<Reject>),
              (status = 400, description = "A parameter is malformed or out of range", body = Problem, content_type = "application/problem+json"),
              (status = 404, description = "No run has this id", body = Problem, content_type = "application/problem+json")))]
pub async fn rejects(
    State(state): State<AppState>,
    Path(run_id): Path<String>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> Result<Json<Page<Reject>>, ApiError> {
    let run_id = EtlRunId(path_id("run_id", &run_id)?);
    let (limit, offset) = p.checked()?;
    let found = state
        .db(move |store| {
            if store.etl_run(run_id)?.is_none() {
                return Ok(None);
            }
            store.etl_rejects(run_id, limit, offset).map(Some)
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
