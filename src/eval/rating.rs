//! The rating protocol: fixed folds (ml-100k's u1–u5), RMSE and MAE of every algorithm's
//! predictions on each fold's test file, averaged over the folds.
//!
//! Per fold, hyper-parameters are chosen on a validation split — a seeded random 10% of the
//! fold's *training* ratings — by RMSE over a small grid; the chosen model is then fitted on the
//! whole training file and timed (fit, predict) on the test file. The blend is a least-squares
//! combination of the other models' predictions, its weights fitted on the same validation
//! split. Predictions are clipped to the training ratings' range.

use super::data::Row;
use super::RatingAlgorithm;
use crate::model::baseline::{Baseline, BaselineParams};
use crate::model::knn::{ItemKnn, KnnParams, Similarity};
use crate::model::metrics;
use crate::model::mf::{MatrixFactorization, MfParams};
use crate::model::ratings::RatingMatrix;
use crate::model::split::{holdout, Split, TestRow};
use rayon::prelude::*;
use serde::Serialize;
use std::time::Instant;

const VALIDATION: f64 = 0.1;

/// One algorithm's figures on one fold.
#[derive(Debug, Clone, Serialize)]
pub struct FoldResult {
    pub rmse: f64,
    pub mae: f64,
    pub fit_seconds: f64,
    pub predict_seconds: f64,
    pub tune_seconds: f64,
    /// The chosen hyper-parameters, in words.
    pub params: String,
}

/// A fitted rating model.
enum Fitted {
    Baseline(Baseline),
    Knn(ItemKnn),
    Mf(MatrixFactorization),
    Blend(Vec<Fitted>, Vec<f64>),
}

impl Fitted {
    fn predict(&self, m: &RatingMatrix, u: Option<u32>, i: Option<u32>) -> f64 {
        match self {
            Fitted::Baseline(b) => b.estimate(u, i),
            Fitted::Knn(k) => k.predict(m, u, i),
            Fitted::Mf(f) => f.predict(u, i),
            Fitted::Blend(parts, w) => {
                w[0] + parts
                    .iter()
                    .zip(&w[1..])
                    .map(|(p, w)| w * p.predict(m, u, i))
                    .sum::<f64>()
            }
        }
    }
}

/// A configuration chosen on validation, and its fit there (what the blend learns from).
struct Tuned {
    config: Config,
    seconds: f64,
    fitted: Fitted,
}

/// A candidate configuration of one algorithm.
#[derive(Debug, Clone, Copy)]
enum Config {
    Baseline(BaselineParams),
    Knn(BaselineParams, KnnParams),
    Mf(MfParams),
}

impl Config {
    fn fit(&self, m: &RatingMatrix) -> Fitted {
        match *self {
            Config::Baseline(p) => Fitted::Baseline(Baseline::fit(m, &p)),
            Config::Knn(b, p) => Fitted::Knn(ItemKnn::fit(m, p, Some(Baseline::fit(m, &b)))),
            Config::Mf(p) => Fitted::Mf(MatrixFactorization::fit(m, p)),
        }
    }

    fn describe(&self) -> String {
        match self {
            Config::Baseline(b) => format!("reg_user={} reg_item={}", b.reg_user, b.reg_item),
            Config::Knn(_, k) => {
                let shrinkage = match k.similarity {
                    Similarity::PearsonBaseline { shrinkage } => shrinkage,
                    Similarity::Cosine | Similarity::Count => 0.0,
                };
                format!("k={} shrinkage={shrinkage}", k.k)
            }
            Config::Mf(p) => format!(
                "factors={} epochs={} lr={} reg={}",
                p.factors, p.epochs, p.learning_rate, p.reg
            ),
        }
    }
}

fn grid(algorithm: RatingAlgorithm, baseline: BaselineParams, seed: u64) -> Vec<Config> {
    let mut out = Vec::new();
    match algorithm {
        RatingAlgorithm::Baseline => {
            for reg_user in [5.0, 10.0, 15.0, 25.0] {
                for reg_item in [2.0, 5.0, 10.0] {
                    out.push(Config::Baseline(BaselineParams {
                        reg_user,
                        reg_item,
                        epochs: 10,
                    }));
                }
            }
        }
        RatingAlgorithm::ItemKnn => {
            for shrinkage in [25.0, 100.0] {
                for k in [20, 40, 80] {
                    out.push(Config::Knn(
                        baseline,
                        KnnParams {
                            k,
                            keep: 200,
                            similarity: Similarity::PearsonBaseline { shrinkage },
                        },
                    ));
                }
            }
        }
        RatingAlgorithm::Svd => {
            for learning_rate in [0.005, 0.01] {
                for reg in [0.02, 0.05, 0.1] {
                    for epochs in [20, 40] {
                        out.push(Config::Mf(MfParams {
                            learning_rate,
                            reg,
                            epochs,
                            seed,
                            ..MfParams::svd()
                        }));
                    }
                }
            }
        }
        RatingAlgorithm::SvdPp => {
            for factors in [20, 50] {
                for reg in [0.02, 0.05, 0.1] {
                    for epochs in [20, 40] {
                        out.push(Config::Mf(MfParams {
                            factors,
                            reg,
                            epochs,
                            seed,
                            ..MfParams::svdpp()
                        }));
                    }
                }
            }
        }
        RatingAlgorithm::Blend => {}
    }
    out
}

fn clip(x: f64, range: (f64, f64)) -> f64 {
    x.clamp(range.0, range.1)
}

fn range(rows: &[Row]) -> (f64, f64) {
    let lo = rows
        .iter()
        .map(|r| f64::from(r.2))
        .fold(f64::INFINITY, f64::min);
    let hi = rows
        .iter()
        .map(|r| f64::from(r.2))
        .fold(f64::NEG_INFINITY, f64::max);
    if lo.is_finite() {
        (lo, hi)
    } else {
        (0.0, 5.0)
    }
}

fn predictions(model: &Fitted, split: &Split, r: (f64, f64)) -> Vec<(f64, f64)> {
    split
        .test
        .par_iter()
        .map(|&(u, i, actual)| {
            (
                clip(model.predict(&split.train, u, i), r),
                f64::from(actual),
            )
        })
        .collect()
}

fn rmse(pairs: &[(f64, f64)]) -> f64 {
    metrics::rmse(pairs.iter().copied()).unwrap_or(f64::NAN)
}

/// Least squares w minimising ‖[1 X] w − y‖² (normal equations, ridge 1e-6 for stability).
fn least_squares(features: &[Vec<f64>], y: &[f64]) -> Vec<f64> {
    let d = features.len() + 1;
    let mut a = vec![0.0; d * d];
    let mut b = vec![0.0; d];
    for (row, &target) in y.iter().enumerate() {
        let x: Vec<f64> = std::iter::once(1.0)
            .chain(features.iter().map(|f| f[row]))
            .collect();
        for p in 0..d {
            b[p] += x[p] * target;
            for q in 0..d {
                a[p * d + q] += x[p] * x[q];
            }
        }
    }
    for p in 0..d {
        a[p * d + p] += 1e-6;
    }
    match crate::model::solve_spd(&a, &b) {
        Some(x) => x,
        // Degenerate validation set: an equal-weight average.
        None => std::iter::once(0.0)
            .chain(features.iter().map(|_| 1.0 / features.len() as f64))
            .collect(),
    }
}

/// Every algorithm's result on one fold.
pub fn fold(
    train: &[Row],
    test: &[Row],
    algorithms: &[RatingAlgorithm],
    seed: u64,
) -> (
    Vec<(RatingAlgorithm, FoldResult)>,
    crate::model::split::SplitCounts,
) {
    let r = range(train);
    let (sub_train, validation) = holdout(train, VALIDATION, seed);
    let tuning = Split::new(&sub_train, &validation);
    let full = Split::new(train, test);
    // The grid point with the lowest validation RMSE (the first of equals), fitted on the
    // validation split's training part.
    let tune = |configs: Vec<Config>| -> Option<Tuned> {
        let started = Instant::now();
        let scored: Vec<(f64, Config, Fitted)> = configs
            .into_par_iter()
            .map(|c| {
                let fitted = c.fit(&tuning.train);
                (rmse(&predictions(&fitted, &tuning, r)), c, fitted)
            })
            .collect();
        let (_, config, fitted) = scored.into_iter().min_by(|a, b| a.0.total_cmp(&b.0))?;
        Some(Tuned {
            config,
            seconds: started.elapsed().as_secs_f64(),
            fitted,
        })
    };
    let evaluate = |model: &Fitted, fit_seconds: f64, tune_seconds: f64, params: String| {
        let started = Instant::now();
        let pairs = predictions(model, &full, r);
        FoldResult {
            rmse: rmse(&pairs),
            mae: metrics::mae(pairs.iter().copied()).unwrap_or(f64::NAN),
            fit_seconds,
            predict_seconds: started.elapsed().as_secs_f64(),
            tune_seconds,
            params,
        }
    };
    // The tuned baseline is also what item-kNN centres on.
    let mut baseline = tune(grid(
        RatingAlgorithm::Baseline,
        BaselineParams::default(),
        seed,
    ));
    let baseline_params = match baseline.as_ref().map(|t| t.config) {
        Some(Config::Baseline(p)) => p,
        _ => BaselineParams::default(),
    };
    let mut chosen: Vec<(RatingAlgorithm, Tuned)> = Vec::new();
    for &a in algorithms.iter().filter(|a| **a != RatingAlgorithm::Blend) {
        let tuned = if a == RatingAlgorithm::Baseline {
            baseline.take()
        } else {
            tune(grid(a, baseline_params, seed))
        };
        chosen.extend(tuned.map(|t| (a, t)));
    }
    let mut results = Vec::new();
    let mut full_models = Vec::new();
    for (algorithm, tuned) in &chosen {
        let started = Instant::now();
        let model = tuned.config.fit(&full.train);
        let fit_seconds = started.elapsed().as_secs_f64();
        results.push((
            *algorithm,
            evaluate(&model, fit_seconds, tuned.seconds, tuned.config.describe()),
        ));
        full_models.push(model);
    }
    if algorithms.contains(&RatingAlgorithm::Blend) && !chosen.is_empty() {
        let started = Instant::now();
        let y: Vec<f64> = tuning
            .test
            .iter()
            .map(|t: &TestRow| f64::from(t.2))
            .collect();
        let features: Vec<Vec<f64>> = chosen
            .iter()
            .map(|(_, t)| {
                predictions(&t.fitted, &tuning, r)
                    .into_iter()
                    .map(|p| p.0)
                    .collect()
            })
            .collect();
        let weights = least_squares(&features, &y);
        let tune_seconds = started.elapsed().as_secs_f64();
        let fit_seconds: f64 = results.iter().map(|r| r.1.fit_seconds).sum();
        let described = weights
            .iter()
            .skip(1)
            .zip(&chosen)
            .map(|(w, (a, ..))| format!("{}×{w:.2}", a.name()))
            .collect::<Vec<_>>()
            .join(" + ");
        let blend = Fitted::Blend(full_models, weights);
        results.push((
            RatingAlgorithm::Blend,
            evaluate(&blend, fit_seconds, tune_seconds, described),
        ));
    }
    (results, full.counts)
}
