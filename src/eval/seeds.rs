//! The top-N protocol repeated over several seeds (each its own split, validation and fits):
//! each metric's mean and standard error, and a paired comparison of two models, so that "A
//! beats B" carries its error.

use super::topn::{self, Holdout, TopNReport};
use super::{EvalError, Input, TopNAlgorithm};
use crate::model::metrics::TopNScores;
use serde::Serialize;

/// A mean over seeds with its standard error (sample standard deviation / √n; none for n = 1).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Estimate {
    pub mean: f64,
    pub se: Option<f64>,
}

impl Estimate {
    pub fn of(values: &[f64]) -> Self {
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n.max(1.0);
        let se = (values.len() > 1).then(|| {
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
            (var / n).sqrt()
        });
        Self { mean, se }
    }
}

impl std::fmt::Display for Estimate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.se {
            Some(se) => write!(f, "{:.4} ± {:.4}", self.mean, se),
            None => write!(f, "{:.4}", self.mean),
        }
    }
}

/// One model's figures over the seeds.
#[derive(Debug, Clone, Serialize)]
pub struct SeedsRow {
    pub algorithm: TopNAlgorithm,
    pub precision_at_10: Estimate,
    pub recall_at_20: Estimate,
    pub ndcg_at_10: Estimate,
    pub map_at_10: Estimate,
    pub coverage_at_10: Estimate,
    pub fit_seconds: Estimate,
}

/// NDCG@10 of `a` minus `b`, seed by seed (the same splits for both).
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub a: TopNAlgorithm,
    pub b: TopNAlgorithm,
    pub ndcg_at_10_difference: Estimate,
    /// Seeds on which `a` scored higher.
    pub a_wins: usize,
    pub verdict: Verdict,
}

/// Whether a difference is larger than its error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// The mean difference is above twice its standard error.
    ABeatsB,
    BBeatsA,
    /// Within twice the standard error (or one seed: no error to judge by).
    WithinError,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeedsReport {
    pub protocol: &'static str,
    pub holdout: Holdout,
    pub seeds: Vec<u64>,
    pub rows: Vec<SeedsRow>,
    pub comparison: Option<Comparison>,
    /// Each seed's own report.
    pub runs: Vec<TopNReport>,
}

/// Runs the top-N protocol on seeds `input.seed`, `input.seed + 1`, … (`seeds` of them) and
/// compares `compare` (two of `algorithms`), or the best two by mean NDCG@10.
pub fn run(
    input: &Input,
    algorithms: &[TopNAlgorithm],
    holdout: Holdout,
    seeds: u64,
    compare: Option<(TopNAlgorithm, TopNAlgorithm)>,
) -> Result<SeedsReport, EvalError> {
    if seeds == 0 {
        return Err(EvalError::Usage("--seeds must be at least 1".to_owned()));
    }
    if seeds > 1 && input.files.is_some() {
        return Err(EvalError::Usage(
            "--train/--test is one fixed split: --seeds needs the protocol's own splits".into(),
        ));
    }
    if let Some((a, b)) = compare {
        if a == b || !algorithms.contains(&a) || !algorithms.contains(&b) {
            return Err(EvalError::Usage(format!(
                "--compare needs two different models of those evaluated, got `{}` and `{}`",
                a.name(),
                b.name()
            )));
        }
    }
    let runs = (input.seed..input.seed + seeds)
        .map(|seed| {
            topn::run(
                &Input {
                    seed,
                    ..input.clone()
                },
                algorithms,
                holdout,
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let per_seed = |a: TopNAlgorithm, f: fn(&TopNScores) -> f64| -> Vec<f64> {
        runs.iter()
            .filter_map(|r| r.rows.iter().find(|row| row.algorithm == a))
            .map(|row| f(&row.scores))
            .collect()
    };
    let rows: Vec<SeedsRow> = algorithms
        .iter()
        .map(|&a| SeedsRow {
            algorithm: a,
            precision_at_10: Estimate::of(&per_seed(a, |s| s.precision_at_10)),
            recall_at_20: Estimate::of(&per_seed(a, |s| s.recall_at_20)),
            ndcg_at_10: Estimate::of(&per_seed(a, |s| s.ndcg_at_10)),
            map_at_10: Estimate::of(&per_seed(a, |s| s.map_at_10)),
            coverage_at_10: Estimate::of(&per_seed(a, |s| s.coverage_at_10)),
            fit_seconds: Estimate::of(
                &runs
                    .iter()
                    .filter_map(|r| r.rows.iter().find(|row| row.algorithm == a))
                    .map(|row| row.fit_seconds)
                    .collect::<Vec<_>>(),
            ),
        })
        .collect();
    let pair = compare.or_else(|| {
        let mut ranked: Vec<&SeedsRow> = rows.iter().collect();
        ranked.sort_by(|x, y| y.ndcg_at_10.mean.total_cmp(&x.ndcg_at_10.mean));
        Some((ranked.first()?.algorithm, ranked.get(1)?.algorithm))
    });
    let comparison = pair.map(|(a, b)| {
        let (xa, xb) = (per_seed(a, |s| s.ndcg_at_10), per_seed(b, |s| s.ndcg_at_10));
        let differences: Vec<f64> = xa.iter().zip(&xb).map(|(x, y)| x - y).collect();
        let estimate = Estimate::of(&differences);
        Comparison {
            a,
            b,
            ndcg_at_10_difference: estimate,
            a_wins: differences.iter().filter(|d| **d > 0.0).count(),
            verdict: verdict(estimate),
        }
    });
    Ok(SeedsReport {
        protocol: "topn",
        holdout,
        seeds: (input.seed..input.seed + seeds).collect(),
        rows,
        comparison,
        runs,
    })
}

fn verdict(difference: Estimate) -> Verdict {
    match difference.se {
        Some(se) if difference.mean > 2.0 * se => Verdict::ABeatsB,
        Some(se) if difference.mean < -2.0 * se => Verdict::BBeatsA,
        _ => Verdict::WithinError,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_standard_error_is_the_sample_deviation_over_root_n() {
        let e = Estimate::of(&[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(e.mean, 2.5);
        // Sample variance 5/3; se = √(5/3 / 4).
        assert!((e.se.expect("n > 1") - (5.0f64 / 12.0).sqrt()).abs() < 1e-12);
        assert_eq!(Estimate::of(&[0.3]).se, None);
        assert_eq!(Estimate::of(&[0.3]).to_string(), "0.3000");
    }

    #[test]
    fn no_seeds_a_fixed_split_with_several_or_a_bad_pair_are_refused_before_reading() {
        let input = Input {
            dataset: "nowhere".into(),
            files: None,
            seed: 1,
        };
        let models = [TopNAlgorithm::Ease, TopNAlgorithm::Als];
        let refuse = |input: &Input, seeds, compare| {
            run(input, &models, Holdout::Ratings, seeds, compare)
                .expect_err("refused")
                .to_string()
        };
        assert!(refuse(&input, 0, None).contains("at least 1"));
        let files = Input {
            files: Some(("a.csv".into(), "b.csv".into())),
            ..input.clone()
        };
        assert!(refuse(&files, 3, None).contains("one fixed split"));
        let same = Some((TopNAlgorithm::Ease, TopNAlgorithm::Ease));
        assert!(refuse(&input, 2, same).contains("two different models"));
        let absent = Some((TopNAlgorithm::Ease, TopNAlgorithm::Hybrid));
        assert!(refuse(&input, 2, absent).contains("`hybrid`"));
    }

    #[test]
    fn a_difference_counts_only_beyond_twice_its_error() {
        let clear = Estimate::of(&[0.02, 0.021, 0.019, 0.02]);
        assert_eq!(verdict(clear), Verdict::ABeatsB);
        let noisy = Estimate::of(&[0.02, -0.03, 0.04, -0.01]);
        assert_eq!(verdict(noisy), Verdict::WithinError);
        let against = Estimate::of(&[-0.02, -0.021, -0.019]);
        assert_eq!(verdict(against), Verdict::BBeatsA);
        assert_eq!(verdict(Estimate::of(&[0.5])), Verdict::WithinError);
    }
}
