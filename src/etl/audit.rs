//! The audit report: what the notebook of the original design showed by hand, computed for every
//! run — null counts per field, rejects by reason with examples, and the shape of what was loaded.

use super::record::{Field, RawRecord};
use super::transform::{Reason, Reject};
use crate::movie::Movie;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// How many example rows each reject reason keeps.
const EXAMPLES_PER_REASON: usize = 3;

/// The report of one ETL run. Stored as JSON in `etl_runs.audit_json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditReport {
    pub run_id: i64,
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
    pub rating: Option<Summary>,
    pub release_year: Option<Summary>,
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RejectGroup {
    pub field: String,
    pub reason: String,
    pub count: u64,
    pub examples: Vec<Example>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Example {
    pub row: u64,
    pub raw_value: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Summary {
    pub min: f64,
    pub mean: f64,
    pub max: f64,
}

impl Summary {
    fn of(values: impl Iterator<Item = f64>) -> Option<Self> {
        let (mut n, mut sum, mut min, mut max) = (0u64, 0.0, f64::INFINITY, f64::NEG_INFINITY);
        for v in values {
            n += 1;
            sum += v;
            min = min.min(v);
            max = max.max(v);
        }
        (n > 0).then(|| Summary {
            min,
            mean: sum / n as f64,
            max,
        })
    }
}

/// Accumulates the report while records stream through the pipeline.
#[derive(Debug, Default)]
pub struct AuditBuilder {
    nulls: BTreeMap<Field, u64>,
    groups: BTreeMap<(Field, Reason), (u64, Vec<Example>)>,
    rejected_rows: u64,
    duplicates: u64,
}

impl AuditBuilder {
    /// Counts the blank fields of a raw record.
    pub fn observe(&mut self, record: &RawRecord) {
        for field in Field::COLUMNS {
            if record.get(field).is_blank() {
                *self.nulls.entry(field).or_default() += 1;
            }
        }
    }

    /// Records the problems of one rejected row (all from the same row).
    pub fn reject_row(&mut self, rejects: &[Reject]) {
        if rejects.is_empty() {
            return;
        }
        self.rejected_rows += 1;
        if rejects.iter().any(|r| r.reason == Reason::Duplicate) {
            self.duplicates += 1;
        }
        for r in rejects {
            let (count, examples) = self.groups.entry((r.field, r.reason)).or_default();
            *count += 1;
            if examples.len() < EXAMPLES_PER_REASON {
                examples.push(Example {
                    row: r.row,
                    raw_value: r.raw_value.clone(),
                });
            }
        }
    }

    /// Finishes the report over the movies that go on to the load.
    pub fn finish(self, extracted: u64, movies: &[Movie]) -> AuditReport {
        let mut rating_histogram = [0u64; 10];
        let mut decades = BTreeMap::new();
        for m in movies {
            let band = (m.rating.value().floor() as usize).min(9);
            rating_histogram[band] += 1;
            *decades
                .entry(m.release_date.year().div_euclid(10) * 10)
                .or_default() += 1;
        }
        let mut rejects: Vec<RejectGroup> = self
            .groups
            .into_iter()
            .map(|((field, reason), (count, examples))| RejectGroup {
                field: field.as_str().to_owned(),
                reason: reason.as_str().to_owned(),
                count,
                examples,
            })
            .collect();
        rejects.sort_by_key(|g| std::cmp::Reverse(g.count));
        AuditReport {
            counts: Counts {
                extracted,
                rejected: self.rejected_rows,
                duplicates: self.duplicates,
                loaded: movies.len() as u64,
                ..Counts::default()
            },
            nulls: Field::COLUMNS
                .into_iter()
                .map(|f| {
                    (
                        f.as_str().to_owned(),
                        self.nulls.get(&f).copied().unwrap_or(0),
                    )
                })
                .collect(),
            rejects,
            rating_histogram,
            decades,
            rating: Summary::of(movies.iter().map(|m| m.rating.value())),
            release_year: Summary::of(movies.iter().map(|m| f64::from(m.release_date.year()))),
            ..AuditReport::default()
        }
    }
}

impl AuditReport {
    /// Rejected rows per reason code, for `etl_runs.rejects_by_reason`.
    pub fn rejects_by_reason(&self) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for g in &self.rejects {
            *out.entry(g.reason.clone()).or_default() += g.count;
        }
        out
    }

    /// The report as a Markdown document.
    pub fn to_markdown(&self) -> String {
        let c = &self.counts;
        let mut md = String::new();
        let _ = writeln!(md, "# ETL audit report — run {}\n", self.run_id);
        let _ = writeln!(md, "- source: `{}`", self.source);
        let _ = writeln!(md, "- sha256: `{}`\n", self.source_sha256);
        md.push_str("## Counts\n\n| extracted | rejected rows | of which duplicates | loaded | inserted | updated | unchanged |\n|---:|---:|---:|---:|---:|---:|---:|\n");
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} | {} |\n",
            c.extracted, c.rejected, c.duplicates, c.loaded, c.inserted, c.updated, c.unchanged
        );
        md.push_str(
            "## Missing values in the input\n\n| field | missing/null/blank |\n|---|---:|\n",
        );
        for (field, n) in &self.nulls {
            let _ = writeln!(md, "| {field} | {n} |");
        }
        md.push_str("\n## Rejects by reason\n\nA row can fail on several fields; each problem is listed.\n\n| field | reason | rows | examples (row: raw value) |\n|---|---|---:|---|\n");
        for g in &self.rejects {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                g.field,
                g.reason,
                g.count,
                examples_text(g)
            );
        }
        md.push_str("\n## Ratings of loaded movies\n\n| band | movies |\n|---|---:|\n");
        for (i, n) in self.rating_histogram.iter().enumerate() {
            let close = if i == 9 { ']' } else { ')' };
            let _ = writeln!(md, "| [{i}, {}{close} | {n} |", i + 1);
        }
        md.push_str("\n## Release decades of loaded movies\n\n| decade | movies |\n|---|---:|\n");
        for (decade, n) in &self.decades {
            let _ = writeln!(md, "| {decade}s | {n} |");
        }
        if let (Some(r), Some(y)) = (self.rating, self.release_year) {
            let _ = writeln!(
                md,
                "\nRating min {:.1}, mean {:.2}, max {:.1}; release year min {}, max {}.",
                r.min, r.mean, r.max, y.min, y.max
            );
        }
        md
    }

    /// A short terminal rendering: counts and rejects.
    pub fn to_table(&self) -> String {
        let c = &self.counts;
        let mut counts = comfy_table::Table::new();
        counts.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        counts.set_header([
            "extracted",
            "rejected rows",
            "duplicates",
            "loaded",
            "inserted",
            "updated",
            "unchanged",
        ]);
        counts.add_row([
            c.extracted,
            c.rejected,
            c.duplicates,
            c.loaded,
            c.inserted,
            c.updated,
            c.unchanged,
        ]);
        let mut rejects = comfy_table::Table::new();
        rejects.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        rejects.set_header(["field", "reason", "rows", "examples (row: raw value)"]);
        for g in &self.rejects {
            rejects.add_row([
                g.field.clone(),
                g.reason.clone(),
                g.count.to_string(),
                examples_text(g),
            ]);
        }
        let head = format!("ETL run {} of {}\n{counts}", self.run_id, self.source);
        if self.rejects.is_empty() {
            format!("{head}\nRejects by reason: none")
        } else {
            format!("{head}\nRejects by reason\n{rejects}")
        }
    }
}

fn examples_text(group: &RejectGroup) -> String {
    group
        .examples
        .iter()
        .map(|e| format!("{}: {}", e.row, e.raw_value.as_deref().unwrap_or("null")))
        .collect::<Vec<_>>()
        .join("; ")
        .replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::etl::record::RawValue;
    use crate::movie::{Rating, ReleaseDate, Title};
    use chrono::NaiveDate;

    fn movie(rating: f64, year: i32) -> Movie {
        Movie {
            title: Title::parse("x").expect("title"),
            release_date: ReleaseDate::new(
                NaiveDate::from_ymd_opt(year, 6, 1).expect("date"),
                2030,
            )
            .expect("year"),
            rating: Rating::new(rating).expect("rating"),
            votes: None,
            genre: None,
            director: None,
            source_row: 1,
        }
    }

    fn reject(row: u64, field: Field, reason: Reason) -> Reject {
        Reject {
            row,
            field,
            reason,
            raw_value: Some(format!("v{row}")),
            detail: None,
        }
    }

    #[test]
    fn counts_nulls_rejects_and_distributions() {
        let mut b = AuditBuilder::default();
        b.observe(&RawRecord::new(1).with(Field::Title, RawValue::Text("A".into())));
        b.reject_row(&[
            reject(1, Field::Rating, Reason::Missing),
            reject(1, Field::ReleaseDate, Reason::Missing),
        ]);
        for row in 2..=6 {
            b.reject_row(&[reject(row, Field::ReleaseDate, Reason::YearOutOfRange)]);
        }
        let report = b.finish(10, &[movie(10.0, 1999), movie(6.1, 1990), movie(0.0, 2001)]);
        assert_eq!(report.counts.rejected, 6);
        assert_eq!(report.counts.loaded, 3);
        assert_eq!(report.nulls["title"], 0);
        assert_eq!(report.nulls["rating"], 1);
        assert_eq!(report.rejects[0].reason, "year_out_of_range");
        assert_eq!(report.rejects[0].count, 5);
        assert_eq!(report.rejects[0].examples.len(), EXAMPLES_PER_REASON);
        assert_eq!(report.rejects_by_reason()["missing"], 2);
        assert_eq!(report.rating_histogram[9], 1);
        assert_eq!(report.rating_histogram[6], 1);
        assert_eq!(report.rating_histogram[0], 1);
        assert_eq!(report.decades[&1990], 2);
        assert_eq!(report.release_year.map(|s| s.max), Some(2001.0));
        assert!(report
            .to_markdown()
            .contains("| rating | missing | 1 | 1: v1 |"));
    }
}
