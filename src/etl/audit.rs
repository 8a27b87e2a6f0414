//! Builds the audit report while records stream through the pipeline, and renders it as
//! Markdown for `<data dir>/reports/run-N.md`.

use crate::domain::audit::{AuditReport, Counts, Example, RejectGroup, RepairGroup, ValueRange};
use crate::domain::etl::{Reason, Reject};
use crate::domain::record::{Field, RawRecord};
use crate::domain::text::Repair;
use crate::store::LoadSummary;
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// How many example rows each reject reason keeps.
const EXAMPLES_PER_REASON: usize = 3;

/// Running minimum, sum and maximum of one loaded column.
#[derive(Debug, Default)]
struct Running {
    n: u64,
    sum: f64,
    min: f64,
    max: f64,
}

impl Running {
    fn add(&mut self, v: f64) {
        if self.n == 0 {
            (self.min, self.max) = (v, v);
        }
        self.n += 1;
        self.sum += v;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    fn range(&self) -> Option<ValueRange> {
        (self.n > 0).then(|| ValueRange {
            min: self.min,
            mean: self.sum / self.n as f64,
            max: self.max,
        })
    }
}

/// Accumulates the report; memory is bounded by the number of distinct (field, reason) pairs.
#[derive(Debug, Default)]
pub struct AuditBuilder {
    nulls: BTreeMap<Field, u64>,
    groups: BTreeMap<(Field, Reason), (u64, Vec<Example>)>,
    rejected_rows: u64,
    rating_histogram: [u64; 10],
    decades: BTreeMap<i32, u64>,
    rating: Running,
    year: Running,
    unknown_genres: BTreeMap<String, u64>,
    repairs: BTreeMap<String, RepairGroup>,
}

impl AuditBuilder {
    /// Counts the blank fields of a raw record.
    pub fn observe(&mut self, record: &RawRecord) {
        for field in Field::AUDITED {
            if record.get(field).is_blank() {
                *self.nulls.entry(field).or_default() += 1;
            }
        }
        if !record.get(Field::Genre).is_blank() {
            for label in super::transform::unknown_genre_labels(record) {
                *self.unknown_genres.entry(label).or_default() += 1;
            }
        }
    }

    /// Counts the text repairs of one clean record.
    pub fn repaired(&mut self, repairs: &[Repair]) {
        for r in repairs {
            let group = self.repairs.entry(r.field.as_str().to_owned()).or_default();
            group.count += 1;
            if group.examples.len() < EXAMPLES_PER_REASON {
                group.examples.push(r.clone());
            }
        }
    }

    /// Records the problems of one rejected row (all from the same row).
    pub fn reject_row(&mut self, rejects: &[Reject]) {
        if rejects.is_empty() {
            return;
        }
        self.rejected_rows += 1;
        for r in rejects {
            let (count, examples) = self.groups.entry((r.field, r.reason)).or_default();
            *count += 1;
            if examples.len() < EXAMPLES_PER_REASON {
                examples.push(Example {
                    row: r.source_row,
                    raw_value: r.raw_value.clone(),
                });
            }
        }
    }

    /// Counts one movie of the catalog the run touched, with its derived rating.
    pub fn loaded(&mut self, rating: Option<f64>, year: i32) {
        if let Some(rating) = rating {
            let band = (rating.floor() as usize).min(9);
            self.rating_histogram[band] += 1;
            self.rating.add(rating);
        }
        *self.decades.entry(year.div_euclid(10) * 10).or_default() += 1;
        self.year.add(f64::from(year));
    }

    /// Finishes the report once the load has settled.
    pub fn finish(mut self, extracted: u64, load: &LoadSummary) -> AuditReport {
        if load.duplicates > 0 {
            self.rejected_rows += load.duplicates;
            self.groups.insert(
                (Field::Title, Reason::Duplicate),
                (load.duplicates, load.duplicate_examples.clone()),
            );
        }
        let mut rejects: Vec<RejectGroup> = self
            .groups
            .into_iter()
            .map(|((field, reason), (count, examples))| RejectGroup {
                field,
                reason,
                count,
                examples,
            })
            .collect();
        rejects.sort_by_key(|g| std::cmp::Reverse(g.count));
        AuditReport {
            counts: Counts {
                extracted,
                rejected: self.rejected_rows,
                duplicates: load.duplicates,
                loaded: load.loaded,
                inserted: load.counts.inserted,
                updated: load.counts.updated,
                unchanged: load.counts.unchanged,
            },
            nulls: Field::AUDITED
                .into_iter()
                .map(|f| {
                    (
                        f.as_str().to_owned(),
                        self.nulls.get(&f).copied().unwrap_or(0),
                    )
                })
                .collect(),
            rejects,
            rating_histogram: self.rating_histogram,
            decades: self.decades,
            rating: self.rating.range(),
            release_year: self.year.range(),
            identity: load.identity.clone(),
            supplied_by: load.supplied_by.clone(),
            conflicts: load.conflicts.clone(),
            unknown_genres: self.unknown_genres,
            repairs: self.repairs,
            ..AuditReport::default()
        }
    }
}

/// The report as a Markdown document.
pub fn to_markdown(report: &AuditReport) -> String {
    let c = &report.counts;
    let mut md = String::new();
    let _ = writeln!(md, "# ETL audit report — run {}\n", report.run_id);
    let _ = writeln!(md, "- source: `{}`", report.source);
    let _ = writeln!(md, "- sha256: `{}`\n", report.source_sha256);
    md.push_str("## Counts\n\n| extracted | rejected rows | of which duplicates | loaded | inserted | updated | unchanged |\n|---:|---:|---:|---:|---:|---:|---:|\n");
    let _ = writeln!(
        md,
        "| {} | {} | {} | {} | {} | {} | {} |\n",
        c.extracted, c.rejected, c.duplicates, c.loaded, c.inserted, c.updated, c.unchanged
    );
    md.push_str("## Missing values in the input\n\n| field | missing/null/blank |\n|---|---:|\n");
    for (field, n) in &report.nulls {
        let _ = writeln!(md, "| {field} | {n} |");
    }
    md.push_str("\n## Rejects by reason\n\nA row can fail on several fields; each problem is listed.\n\n| field | reason | rows | examples (row: raw value) |\n|---|---|---:|---|\n");
    for g in &report.rejects {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} |",
            g.field,
            g.reason,
            g.count,
            examples_text(g).replace('|', "\\|")
        );
    }
    if !report.conflicts.is_empty() {
        md.push_str("\n## Conflicts settled\n\nProviders that disagreed, by field and overruled provider (the trust policy is in `src/domain/derive.rs`).\n\n| field | overruled | movies | of which | examples (movie: kept ← overruled) |\n|---|---|---:|---|---|\n");
        for (field, by) in &report.conflicts {
            for (provider, g) in by {
                let kinds: Vec<String> = g.kinds.iter().map(|(k, n)| format!("{k}: {n}")).collect();
                let examples: Vec<String> = g
                    .examples
                    .iter()
                    .map(|e| {
                        format!(
                            "{} {}: {} ← {}",
                            e.movie_id, e.title, e.conflict.kept, e.conflict.value
                        )
                    })
                    .collect();
                let _ = writeln!(
                    md,
                    "| {field} | {provider} | {} | {} | {} |",
                    g.count,
                    kinds.join(", "),
                    examples.join("; ").replace('|', "\\|")
                );
            }
        }
    }
    if !report.repairs.is_empty() {
        md.push_str("\n## Text repaired\n\nMojibake undone where the round trip is exact and the result more plausible.\n\n| field | values | examples (row: before → after) |\n|---|---:|---|\n");
        for (field, g) in &report.repairs {
            let examples: Vec<String> = g
                .examples
                .iter()
                .map(|r| format!("{}: {} → {}", r.row, r.before, r.after))
                .collect();
            let _ = writeln!(
                md,
                "| {field} | {} | {} |",
                g.count,
                examples.join("; ").replace('|', "\\|")
            );
        }
    }
    if !report.identity.merged.is_empty() {
        md.push_str("\n## Movies merged\n\nCopies of one film found once facts changed (or in a catalog built before identity), merged into the earliest MovieID; the old id redirects there.\n\n| movie | title | year | merged into |\n|---:|---|---:|---:|\n");
        for m in &report.identity.merged {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} |",
                m.movie,
                m.title.replace('|', "\\|"),
                m.year,
                m.into
            );
        }
    }
    md.push_str("\n## Ratings of loaded movies\n\n| band | movies |\n|---|---:|\n");
    for (i, n) in report.rating_histogram.iter().enumerate() {
        let close = if i == 9 { ']' } else { ')' };
        let _ = writeln!(md, "| [{i}, {}{close} | {n} |", i + 1);
    }
    md.push_str("\n## Release decades of loaded movies\n\n| decade | movies |\n|---|---:|\n");
    for (decade, n) in &report.decades {
        let _ = writeln!(md, "| {decade}s | {n} |");
    }
    if let (Some(r), Some(y)) = (report.rating, report.release_year) {
        let _ = writeln!(
            md,
            "\nRating min {:.1}, mean {:.2}, max {:.1}; release year min {}, max {}.",
            r.min, r.mean, r.max, y.min, y.max
        );
    }
    md
}

/// "row: raw value; …" of a group's examples.
pub fn examples_text(group: &RejectGroup) -> String {
    group
        .examples
        .iter()
        .map(|e| format!("{}: {}", e.row, e.raw_value.as_deref().unwrap_or("null")))
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::etl::LoadCounts;
    use crate::domain::record::RawValue;
    use crate::domain::source::Provider;

    fn reject(row: u64, field: Field, reason: Reason) -> Reject {
        Reject::new(row, field, reason, Some(&format!("v{row}")), None)
    }

    #[test]
    fn counts_nulls_rejects_and_distributions() {
        let mut b = AuditBuilder::default();
        b.observe(
            &RawRecord::new(1, Provider::File).with(Field::Title, RawValue::Text("A".into())),
        );
        b.reject_row(&[
            reject(1, Field::Rating, Reason::Missing),
            reject(1, Field::ReleaseDate, Reason::Missing),
        ]);
        for row in 2..=6 {
            b.reject_row(&[reject(row, Field::ReleaseDate, Reason::YearOutOfRange)]);
        }
        for (rating, year) in [(10.0, 1999), (6.1, 1990), (0.0, 2001)] {
            b.loaded(Some(rating), year);
        }
        let load = LoadSummary {
            counts: LoadCounts {
                inserted: 3,
                ..LoadCounts::default()
            },
            loaded: 3,
            duplicates: 1,
            identity: Default::default(),
            supplied_by: Default::default(),
            conflicts: Default::default(),
            duplicate_examples: vec![Example {
                row: 9,
                raw_value: Some("Heat".into()),
            }],
        };
        let report = b.finish(11, &load);
        assert_eq!(report.counts.rejected, 7);
        assert_eq!(report.counts.duplicates, 1);
        assert_eq!(report.counts.loaded, 3);
        assert_eq!(report.nulls["title"], 0);
        assert_eq!(report.nulls["rating"], 1);
        assert_eq!(report.rejects[0].reason, Reason::YearOutOfRange);
        assert_eq!(report.rejects[0].count, 5);
        assert_eq!(report.rejects[0].examples.len(), EXAMPLES_PER_REASON);
        assert_eq!(report.rejects_by_reason()[&Reason::Missing], 2);
        assert_eq!(report.rejects_by_reason()[&Reason::Duplicate], 1);
        assert_eq!(report.rating_histogram[9], 1);
        assert_eq!(report.rating_histogram[6], 1);
        assert_eq!(report.rating_histogram[0], 1);
        assert_eq!(report.decades[&1990], 2);
        assert_eq!(report.release_year.map(|s| s.max), Some(2001.0));
        assert_eq!(report.rating.map(|s| s.min), Some(0.0));
        assert!(to_markdown(&report).contains("| rating | missing | 1 | 1: v1 |"));
    }
}
