//! The audit report of one ETL run: what the notebook of the original design showed by hand —
//! null counts per field, rejects by reason with examples, and the shape of what was loaded.

use super::etl::{Reason, RejectsByReason};
use super::record::Field;
use super::EtlRunId;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The report of one ETL run. Stored as JSON in `etl_runs.audit_json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditReport {
    pub run_id: EtlRunId,
    pub source: String,
    pub source_sha256: String,
    pub counts: Counts,
    /// Per field: rows where it was missing, null or blank in the input.
    pub nulls: BTreeMap<String, u64>,
    /// Problems by field and reason, most frequent first.
    pub rejects: Vec<RejectGroup>,
    /// Loaded movies per rating band: index i counts ratings in [i, i+1), the last band is [9, 10].
    pub rating_histogram: [u64; 10],
    /// Loaded movies per release decade (1990 = 1990–1999). JSON object keys are strings.
    #[schema(value_type = BTreeMap<String, u64>)]
    pub decades: BTreeMap<i32, u64>,
    pub rating: Option<ValueRange>,
    pub release_year: Option<ValueRange>,
}

/// Row counts of one run. `rejected` counts rows, not problems: a row may have several.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Counts {
    pub extracted: u64,
    pub rejected: u64,
    pub duplicates: u64,
    pub loaded: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
}

/// The problems of one kind (field and reason), with a few example rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RejectGroup {
    pub field: Field,
    pub reason: Reason,
    pub count: u64,
    pub examples: Vec<Example>,
}

/// A rejected row: where it was and what it held.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Example {
    pub row: u64,
    pub raw_value: Option<String>,
}

/// Minimum, mean and maximum of a loaded column.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ValueRange {
    pub min: f64,
    pub mean: f64,
    pub max: f64,
}

impl AuditReport {
    /// Rejected rows per reason, as `etl_runs.rejects_by_reason` keeps them.
    pub fn rejects_by_reason(&self) -> RejectsByReason {
        let mut out = RejectsByReason::new();
        for g in &self.rejects {
            *out.entry(g.reason).or_default() += g.count;
        }
        out
    }
}
