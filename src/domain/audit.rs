//! The audit report of one ETL run: what the notebook of the original design showed by hand —
//! null counts per field, rejects by reason with examples, and the shape of what was loaded.

use super::derive::Conflict;
use super::etl::{Reason, RejectsByReason};
use super::record::Field;
use super::source::Provider;
use super::text::Repair;
use super::{EtlRunId, MovieId};
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
    /// Which movies the records were matched to.
    #[serde(default)]
    pub identity: IdentityReport,
    /// Per catalog field, which provider supplied it for the movies this run touched
    /// (`vote-weighted` for a rating derived from several).
    #[serde(default)]
    pub supplied_by: BTreeMap<String, BTreeMap<String, u64>>,
    /// Genre labels the vocabulary does not know, with how many rows had them.
    #[serde(default)]
    pub unknown_genres: BTreeMap<String, u64>,
    /// Disagreements between providers that the trust policy settled (`domain::derive`): per
    /// field, per overruled provider.
    #[serde(default)]
    pub conflicts: BTreeMap<String, BTreeMap<String, ConflictGroup>>,
    /// Text repaired from mojibake (see `domain::text`), per field.
    #[serde(default)]
    pub repairs: BTreeMap<String, RepairGroup>,
    /// What a ratings dataset's run did with its ratings and tags.
    #[serde(default)]
    pub ratings: Option<RatingsCounts>,
}

/// Rating and tag rows of one run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RatingsCounts {
    /// Rating rows read.
    pub read: u64,
    pub inserted: u64,
    /// Replaced an older rating of the same user and movie.
    pub updated: u64,
    /// Equal to the stored rating (or older than it): nothing written.
    pub unchanged: u64,
    /// Rows for a user and movie the same file rated before; the latest rating is kept.
    pub duplicates: u64,
    pub rejected: u64,
    /// Users first seen in this run.
    pub new_users: u64,
    pub tags_read: u64,
    pub tags_inserted: u64,
}

/// The repairs of one field: how many, and the first few.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RepairGroup {
    pub count: u64,
    pub examples: Vec<Repair>,
}

/// The conflicts of one field with one provider: how many, and the first few.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConflictGroup {
    pub count: u64,
    /// Of which are a named kind of error (e.g. `two_digit_year`).
    #[serde(default)]
    pub kinds: BTreeMap<String, u64>,
    pub examples: Vec<ConflictExample>,
}

/// A movie whose providers disagreed, and how it was settled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ConflictExample {
    pub movie_id: MovieId,
    pub title: String,
    pub conflict: Conflict,
}

/// How many examples each conflict group keeps.
const CONFLICT_EXAMPLES: usize = 3;

impl ConflictGroup {
    /// Adds the conflicts of one movie to a report's groups.
    pub fn add_all(
        groups: &mut BTreeMap<String, BTreeMap<String, ConflictGroup>>,
        movie_id: MovieId,
        title: &str,
        conflicts: &[Conflict],
    ) {
        for c in conflicts {
            let group = groups
                .entry(c.field.clone())
                .or_default()
                .entry(c.overruled.as_str().to_owned())
                .or_default();
            group.count += 1;
            if let Some(kind) = &c.kind {
                *group.kinds.entry(kind.clone()).or_default() += 1;
            }
            if group.examples.len() < CONFLICT_EXAMPLES {
                group.examples.push(ConflictExample {
                    movie_id,
                    title: title.to_owned(),
                    conflict: c.clone(),
                });
            }
        }
    }
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
    #[serde(serialize_with = "super::round::score")]
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

/// How the records of a run found the movies they are (see the store's matching rules).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IdentityReport {
    /// Per provider of the run's records.
    pub providers: BTreeMap<Provider, IdentityCounts>,
    /// Records held for review (see `domain::identity`): loaded as new movies, not merged.
    pub ambiguous: Vec<AmbiguousRecord>,
    /// The identity overrides file the run applied, when there was one.
    #[serde(default)]
    pub overrides: Option<OverridesApplied>,
    /// Movies of a catalog built before identity that the run found to be another movie's film
    /// and merged into it (see `store::repair`).
    #[serde(default)]
    pub merged: Vec<MergedMovie>,
}

/// A movie merged into the earlier movie of the same film: its ids, facts, ratings and tags now
/// belong to `into`, and its id redirects there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct MergedMovie {
    pub movie: MovieId,
    pub into: MovieId,
    pub title: String,
    pub year: i32,
}

/// The lineage of a run's identity overrides (`domain::identity::overrides`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct OverridesApplied {
    /// The file, relative to the data directory.
    pub file: String,
    pub sha256: String,
    pub rules: u64,
    /// Records placed by a rule: matched through a `merge`, or kept from a candidate by a `never`.
    pub applied: u64,
}

/// Records per matching outcome.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IdentityCounts {
    /// Matched by an external id (the provider's own, or a shared one like IMDb's).
    pub matched_by_id: u64,
    /// Matched by identity's scored comparison, in the same release year.
    pub matched_by_title: u64,
    /// Matched by the scored comparison, release years apart (one apart, or a two-digit slip
    /// with another agreeing fact).
    pub matched_by_near_year: u64,
    pub new: u64,
    pub ambiguous: u64,
}

/// How one record was matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchKind {
    Id,
    Title,
    NearYear,
    New,
    Ambiguous,
}

impl IdentityReport {
    pub fn count(&mut self, provider: Provider, kind: MatchKind) {
        let c = self.providers.entry(provider).or_default();
        match kind {
            MatchKind::Id => c.matched_by_id += 1,
            MatchKind::Title => c.matched_by_title += 1,
            MatchKind::NearYear => c.matched_by_near_year += 1,
            MatchKind::New => c.new += 1,
            MatchKind::Ambiguous => c.ambiguous += 1,
        }
    }
}

/// A record kept apart and listed for review: several movies fit it, or one fits too weakly,
/// or one fits but has another id in the record's namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AmbiguousRecord {
    pub provider: Provider,
    pub source_row: u64,
    pub title: String,
    pub year: i32,
    /// Why it was not merged: `several` candidates, `low_confidence`, or `conflicting_ids`.
    #[serde(default)]
    pub reason: String,
    /// The best candidate's score (see `domain::identity::score`).
    #[serde(default)]
    pub score: Option<f64>,
    /// The movies it could have been, best first.
    pub candidates: Vec<MovieId>,
    /// The movie it was loaded as.
    pub loaded_as: MovieId,
}
