//! The top-N protocol. Per user with at least 5 positives (rating ≥ 4), a seeded random 20% of
//! those positives (at least one) is held out; training is every other rating. Each model scores
//! every movie of the training catalog for each test user, the movies the user rated in
//! training are removed (full ranking, no sampled negatives), and the top 20 is compared with
//! the held-out positives: Precision@10, Recall@20, NDCG@10, MAP@10 (averaged over test users)
//! and catalog coverage@10 ([`crate::model::metrics`]). Held-out movies absent from training
//! stay in the relevant set (no model can find them) and are counted.
//!
//! With [`Holdout::Users`] (strong generalisation, as Liang et al. 2018 and EASE^R's paper
//! evaluate), 20% of the eligible users are held out whole instead: models are fitted on the
//! other users' ratings only, and score a held-out user from the rest of their ratings, folded
//! in without refitting.
//!
//! Hyper-parameters (EASE^R's λ, item-kNN's k, ALS's weighting and sizes, the content and hybrid
//! weights) are chosen by NDCG@10 on a validation holdout carved from training the same way,
//! never on the test set. [`super::seeds::run`] repeats the whole protocol over several seeds and
//! reports each metric's mean and standard error, and a paired comparison of two models.

use super::data::Movie;
use super::{EvalError, Input, TopNAlgorithm};
use crate::model::als::{bm25_weights, Als, AlsParams, Confidence, Fold, Weighting};
use crate::model::blocks::{BlockWeights, ContentBlocks, ItemAttributes};
use crate::model::ease::Ease;
use crate::model::knn::{ItemKnn, KnnParams, Similarity};
use crate::model::metrics::{self, TopNScores};
use crate::model::ratings::RatingMatrix;
use crate::model::sparse_ease::{SparseEase, DEFAULT_NEIGHBOURS};
use crate::model::split::{positives_holdout, users_holdout, Row, Split};
use crate::model::top_unrated;
use crate::model::ContentModel;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::time::Instant;

/// A rating at or above this is a positive (a movie the user liked).
pub const POSITIVE: f32 = 4.0;
const MIN_POSITIVES: usize = 5;
const FRACTION: f64 = 0.2;
/// The users [`Holdout::Users`] holds out, of those with at least [`MIN_POSITIVES`].
const USERS_FRACTION: f64 = 0.2;
/// Fewer held-out users than this, for testing or for validation, and the figures are noise.
pub const MIN_HELD_OUT_USERS: usize = 10;

/// What the top-N protocol holds out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Holdout {
    /// Weak generalisation: a fifth of each eligible user's positives; every user's other
    /// ratings are fitted.
    Ratings,
    /// Strong generalisation: a fifth of the eligible users, whole; only the others are fitted.
    Users,
}

#[derive(Debug, Clone, Serialize)]
pub struct TopNRow {
    pub algorithm: TopNAlgorithm,
    #[serde(flatten)]
    pub scores: TopNScores,
    pub fit_seconds: f64,
    /// Scoring and ranking the whole catalog for every test user.
    pub rank_seconds: f64,
    pub tune_seconds: f64,
    pub params: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TopNReport {
    pub protocol: &'static str,
    pub holdout: Holdout,
    pub dataset: PathBuf,
    pub seed: u64,
    pub train_ratings: usize,
    pub catalog: usize,
    pub test_users: usize,
    pub test_items: usize,
    /// Held-out positives whose movie has no training rating.
    pub test_items_unseen_in_training: usize,
    /// Test users with no training rating (not evaluated).
    pub test_users_unknown: usize,
    pub rejected_rows: u64,
    pub rows: Vec<TopNRow>,
    pub seconds: f64,
}

/// The data every ranker sees: the training split (what a test user is scored from), the part
/// of it models are fitted on as a binary matrix, and the movies' attributes by training
/// position.
struct Context<'a> {
    split: &'a Split,
    /// Who rated what among the fitted users: all of training, or under [`Holdout::Users`] all
    /// but the held-out users (whose rows stay empty).
    binary: RatingMatrix,
    /// The same with the stars.
    ratings: RatingMatrix,
    attributes: Vec<ItemAttributes>,
}

impl<'a> Context<'a> {
    /// `held_out`: the (user, movie) pairs the protocol hides from this split's training; a tag
    /// a user wrote on a movie they are tested on would tell the content models the answer.
    /// `unfitted`: users nothing is fitted on (their tags included).
    fn new(
        split: &'a Split,
        movies: &HashMap<i64, &Movie>,
        held_out: &HashSet<(i64, i64)>,
        unfitted: &HashSet<i64>,
    ) -> Self {
        let fitted: Vec<bool> = (0..split.users.len() as u32)
            .map(|u| !unfitted.contains(split.users.id(u)))
            .collect();
        let rows: Vec<(u32, u32, f32)> = split
            .train
            .triples()
            .filter(|&(u, _, _)| fitted[u as usize])
            .collect();
        let ratings = RatingMatrix::new(split.train.users(), split.train.items(), &rows);
        let binary = RatingMatrix::new(
            split.train.users(),
            split.train.items(),
            &rows
                .iter()
                .map(|&(u, i, _)| (u, i, 1.0))
                .collect::<Vec<_>>(),
        );
        let attributes = (0..split.items.len() as u32)
            .map(|p| {
                let id = split.items.id(p);
                let (ratings_sum, n) = {
                    let (_, r) = ratings.by_item().row(p as usize);
                    (r.iter().map(|&v| f64::from(v)).sum::<f64>(), r.len())
                };
                let mean = (n > 0).then(|| ratings_sum / n as f64 * 2.0);
                movies
                    .get(id)
                    .map_or_else(ItemAttributes::default, |m| ItemAttributes {
                        genres: m.genres.iter().map(|g| g.name().to_owned()).collect(),
                        keywords: training_tags(m, held_out, unfitted),
                        year: m.year,
                        rating: mean,
                        popularity: Some(n as f64),
                        ..ItemAttributes::default()
                    })
            })
            .collect();
        Self {
            split,
            binary,
            ratings,
            attributes,
        }
    }

    fn items(&self) -> usize {
        self.split.train.items()
    }
}

/// The distinct tags of `movie` written by users neither tested on it nor left unfitted.
fn training_tags(
    movie: &Movie,
    held_out: &HashSet<(i64, i64)>,
    unfitted: &HashSet<i64>,
) -> Vec<String> {
    let mut tags: Vec<String> = movie
        .tags
        .iter()
        .filter(|(user, _)| !held_out.contains(&(*user, movie.id)) && !unfitted.contains(user))
        .map(|(_, tag)| tag.clone())
        .collect();
    tags.sort_unstable();
    tags.dedup();
    tags
}

/// A fitted top-N model over training positions.
enum Ranker {
    Popularity(Vec<f64>),
    Seed(ContentModel),
    Content(ContentBlocks),
    Knn(ItemKnn),
    /// With what folds in a user it was not fitted on: their BM25 weights and YᵀY + λI.
    Als(Als, Fold, Vec<f32>),
    Ease(Ease),
    SparseEase(SparseEase),
    /// EASE^R plus a weight times the content model's (normalised) scores.
    Hybrid(Ease, ContentBlocks, f64),
}

impl Ranker {
    /// Scores every training item for user `u` into `out`.
    fn score(&self, ctx: &Context<'_>, u: u32, out: &mut [f64]) {
        out.fill(0.0);
        let (items, ratings) = ctx.split.train.by_user().row(u as usize);
        match self {
            Ranker::Popularity(p) => out.copy_from_slice(p),
            Ranker::Seed(model) => seed_scores(model, ctx, items, ratings, out),
            Ranker::Content(model) => model.score_profile(&profile(items, ratings), out),
            Ranker::Knn(knn) => knn.score_items(items, out),
            Ranker::Als(als, fold, gram) => {
                if ctx.binary.by_user().row_len(u as usize) > 0 {
                    als.score_user(u as usize, out)
                } else {
                    let weights = fold.weights(items, ratings);
                    als.score_vector(&als.fold_in(gram, items, &weights), out)
                }
            }
            Ranker::Ease(ease) => ease.score_items(items, out),
            Ranker::SparseEase(ease) => ease.score_items(items, out),
            Ranker::Hybrid(ease, content, weight) => {
                ease.score_items(items, out);
                let mut extra = vec![0.0; out.len()];
                content.score_profile(&profile(items, ratings), &mut extra);
                let scale = max_abs(out) / max_abs(&extra).max(f64::MIN_POSITIVE);
                out.iter_mut()
                    .zip(&extra)
                    .for_each(|(o, e)| *o += weight * scale * e);
            }
        }
    }
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |m, x| m.max(x.abs()))
}

/// A user's profile for the content models (see [`crate::model::profile_weights`]).
fn profile(items: &[u32], ratings: &[f32]) -> Vec<(u32, f64)> {
    let ratings: Vec<f64> = ratings.iter().map(|&r| f64::from(r)).collect();
    items
        .iter()
        .copied()
        .zip(crate::model::profile_weights(&ratings))
        .collect()
}

/// The seed model's profile: Σ weight · unit vector, then every movie's dot product with it
/// (the seed's `score_profile`, densely). Movies the seed cannot place score −∞.
fn seed_scores(
    model: &ContentModel,
    ctx: &Context<'_>,
    items: &[u32],
    ratings: &[f32],
    out: &mut [f64],
) {
    let mut direction = [0.0, 0.0];
    for (i, w) in profile(items, ratings) {
        if let Some(v) = model.vector(i64::from(i)) {
            direction[0] += w * v[0];
            direction[1] += w * v[1];
        }
    }
    for (p, o) in out.iter_mut().enumerate().take(ctx.items()) {
        *o = model.vector(p as i64).map_or(f64::NEG_INFINITY, |v| {
            v[0] * direction[0] + v[1] * direction[1]
        });
    }
}

fn evaluate(ranker: &Ranker, ctx: &Context<'_>, users: &[(u32, HashSet<i64>)]) -> TopNScores {
    let lists: Vec<Vec<i64>> = users
        .par_iter()
        .map_init(
            || vec![0.0; ctx.items()],
            |scores, (u, _)| {
                ranker.score(ctx, *u, scores);
                let rated = ctx.split.train.by_user().row(*u as usize).0;
                top_unrated(scores, rated, metrics::LIST)
                    .into_iter()
                    .map(|p| *ctx.split.items.id(p))
                    .collect()
            },
        )
        .collect();
    let relevant: Vec<&HashSet<i64>> = users.iter().map(|(_, r)| r).collect();
    TopNScores::of(&lists, &relevant, ctx.items())
}

/// A candidate configuration.
#[derive(Debug, Clone, Copy)]
enum Config {
    Popularity,
    Seed,
    Content(BlockWeights),
    Knn(usize),
    Als(AlsParams),
    Ease(f64),
    /// λ and the neighbours per movie.
    SparseEase(f64, usize),
    Hybrid(f64, BlockWeights, f64),
}

impl Config {
    fn fit(&self, ctx: &Context<'_>) -> Result<Ranker, EvalError> {
        Ok(match *self {
            Config::Popularity => Ranker::Popularity(
                (0..ctx.items())
                    .map(|i| ctx.binary.by_item().row_len(i) as f64)
                    .collect(),
            ),
            Config::Seed => {
                let rows = ctx
                    .attributes
                    .iter()
                    .enumerate()
                    .filter_map(|(p, a)| Some((p as i64, a.rating?, f64::from(a.year?))))
                    .collect();
                Ranker::Seed(ContentModel::fit(rows).map_err(|e| EvalError::Model(e.to_string()))?)
            }
            Config::Content(w) => Ranker::Content(ContentBlocks::fit(&ctx.attributes, w)),
            Config::Knn(k) => Ranker::Knn(ItemKnn::fit(
                &ctx.binary,
                KnnParams {
                    k,
                    keep: k,
                    similarity: Similarity::Cosine,
                },
                None,
            )),
            Config::Als(p) => {
                let (weights, fold) = bm25_weights(&ctx.ratings, p.weighting, p.confidence);
                let als = Als::fit(&weights, ctx.items(), p);
                let gram = als.gram();
                Ranker::Als(als, fold, gram)
            }
            Config::Ease(lambda) => Ranker::Ease(
                Ease::fit(&ctx.binary, lambda).map_err(|e| EvalError::Model(e.to_string()))?,
            ),
            Config::SparseEase(lambda, k) => Ranker::SparseEase(
                SparseEase::fit(&ctx.binary, lambda, k)
                    .map_err(|e| EvalError::Model(e.to_string()))?,
            ),
            Config::Hybrid(lambda, w, weight) => Ranker::Hybrid(
                Ease::fit(&ctx.binary, lambda).map_err(|e| EvalError::Model(e.to_string()))?,
                ContentBlocks::fit(&ctx.attributes, w),
                weight,
            ),
        })
    }

    fn describe(&self) -> String {
        match self {
            Config::Popularity => "training ratings per movie".to_owned(),
            Config::Seed => "rating (mean ×2) + year, standardised, cosine".to_owned(),
            Config::Content(w) => w.to_string(),
            Config::Knn(k) => format!("cosine, k={k}"),
            Config::Als(p) => format!(
                "{} of {} factors={} reg={} α={} iterations={}",
                p.weighting, p.confidence, p.factors, p.reg, p.alpha, p.iterations
            ),
            Config::Ease(l) => format!("λ={l}"),
            Config::SparseEase(l, k) => format!("λ={l}, {k} neighbours per movie"),
            Config::Hybrid(l, _, w) => format!("ease λ={l} + {w} × content"),
        }
    }
}

fn grid(a: TopNAlgorithm, chosen_lambda: f64, seed: u64) -> Vec<Config> {
    match a {
        TopNAlgorithm::Popularity => vec![Config::Popularity],
        TopNAlgorithm::ContentSeed => vec![Config::Seed],
        TopNAlgorithm::Content => [0.0, 0.5, 2.0]
            .into_iter()
            .map(|popularity| {
                Config::Content(BlockWeights {
                    popularity,
                    ..BlockWeights::default()
                })
            })
            .collect(),
        TopNAlgorithm::ItemKnn => [20, 50, 100, 200].into_iter().map(Config::Knn).collect(),
        TopNAlgorithm::Als => {
            let mut configs = Vec::new();
            for weighting in [Weighting::UserRows, Weighting::ItemRows] {
                for confidence in [Confidence::Interactions, Confidence::Stars] {
                    for factors in [16, 32, 64] {
                        for reg in [1.0, 10.0, 30.0, 100.0] {
                            for alpha in [1.0, 2.0, 4.0] {
                                configs.push(Config::Als(AlsParams {
                                    factors,
                                    reg,
                                    alpha,
                                    weighting,
                                    confidence,
                                    seed,
                                    ..AlsParams::default()
                                }));
                            }
                        }
                    }
                }
            }
            configs
        }
        TopNAlgorithm::Ease => [100.0, 250.0, 500.0, 1000.0]
            .into_iter()
            .map(Config::Ease)
            .collect(),
        TopNAlgorithm::SparseEase => [100.0, 250.0, 500.0, 1000.0]
            .into_iter()
            .map(|l| Config::SparseEase(l, DEFAULT_NEIGHBOURS))
            .collect(),
        TopNAlgorithm::Hybrid => [0.05, 0.1, 0.2]
            .into_iter()
            .map(|w| Config::Hybrid(chosen_lambda, BlockWeights::default(), w))
            .collect(),
    }
}

/// A protocol's split of some ratings.
struct Carved {
    train: Vec<Row>,
    test: Vec<Row>,
    /// The users nothing may be fitted on.
    unfitted: HashSet<i64>,
}

fn carve(rows: &[Row], holdout: Holdout, seed: u64) -> Result<Carved, EvalError> {
    Ok(match holdout {
        Holdout::Ratings => {
            let (train, test) = positives_holdout(rows, POSITIVE, MIN_POSITIVES, FRACTION, seed);
            Carved {
                train,
                test,
                unfitted: HashSet::new(),
            }
        }
        Holdout::Users => {
            let (train, test, held) = users_holdout(
                rows,
                POSITIVE,
                MIN_POSITIVES,
                USERS_FRACTION,
                FRACTION,
                seed,
            );
            if held.len() < MIN_HELD_OUT_USERS {
                return Err(EvalError::TooFewUsers {
                    held: held.len(),
                    needed: MIN_HELD_OUT_USERS,
                });
            }
            Carved {
                train,
                test,
                unfitted: held,
            }
        }
    })
}

/// The top-N protocol on `input` for `algorithms`, holding out as `holdout` says.
pub fn run(
    input: &Input,
    algorithms: &[TopNAlgorithm],
    holdout: Holdout,
) -> Result<TopNReport, EvalError> {
    let started = Instant::now();
    let layout = super::data::layout(&input.dataset)?;
    let movies = super::data::read_movies(&input.dataset, layout)?;
    let by_id: HashMap<i64, &Movie> = movies.iter().map(|m| (m.id, m)).collect();
    let (train, test, unfitted, rejected) = match &input.files {
        Some((train, test)) => {
            let latest = crate::etl::movielens::Layout::Latest;
            let (a, b) = (
                super::data::read_ratings(train, latest)?,
                super::data::read_ratings(test, latest)?,
            );
            (a.rows, b.rows, HashSet::new(), a.rejected + b.rejected)
        }
        None => {
            let all =
                super::data::read_ratings(&input.dataset.join(layout.ratings_file()), layout)?;
            let c = carve(&all.rows, holdout, input.seed)?;
            (c.train, c.test, c.unfitted, all.rejected)
        }
    };
    if train.is_empty() {
        return Err(EvalError::NoRatings(input.dataset.clone()));
    }
    let split = Split::new(&train, &test);
    let (users, test_users_unknown) = split.relevant(&test, POSITIVE);
    let held_out: HashSet<(i64, i64)> = test.iter().map(|&(u, m, _)| (u, m)).collect();
    let ctx = Context::new(&split, &by_id, &held_out, &unfitted);
    // Validation: the same protocol, carved from what the models are fitted on.
    let fitted_rows: Vec<Row> = train
        .iter()
        .filter(|r| !unfitted.contains(&r.0))
        .copied()
        .collect();
    let Carved {
        train: sub_train,
        test: validation,
        unfitted: tuning_unfitted,
    } = carve(&fitted_rows, holdout, input.seed.wrapping_add(1))?;
    let tuning_split = Split::new(&sub_train, &validation);
    let (tuning_users, _) = tuning_split.relevant(&validation, POSITIVE);
    // Tuning hides its validation pairs as well as the test's, and the test's users.
    let tuning_held_out: HashSet<(i64, i64)> = validation
        .iter()
        .map(|&(u, m, _)| (u, m))
        .chain(held_out.iter().copied())
        .collect();
    let tuning_unfitted: HashSet<i64> = tuning_unfitted.union(&unfitted).copied().collect();
    let tuning = Context::new(&tuning_split, &by_id, &tuning_held_out, &tuning_unfitted);
    let tune = |configs: Vec<Config>| -> Result<(Config, f64), EvalError> {
        let started = Instant::now();
        if configs.len() == 1 {
            return Ok((configs[0], 0.0));
        }
        let mut best = (f64::NEG_INFINITY, configs[0]);
        for c in configs {
            let ndcg = evaluate(&c.fit(&tuning)?, &tuning, &tuning_users).ndcg_at_10;
            if ndcg > best.0 {
                best = (ndcg, c);
            }
        }
        Ok((best.1, started.elapsed().as_secs_f64()))
    };
    let mut lambda = 500.0;
    let mut rows = Vec::new();
    let mut order: Vec<TopNAlgorithm> = algorithms.to_vec();
    // The hybrid builds on EASE^R's λ: tune EASE^R first.
    order.sort_by_key(|a| *a == TopNAlgorithm::Hybrid);
    for a in order {
        let (config, tune_seconds) = tune(grid(a, lambda, input.seed))?;
        if let Config::Ease(l) = config {
            lambda = l;
        }
        let fit_started = Instant::now();
        let ranker = config.fit(&ctx)?;
        let fit_seconds = fit_started.elapsed().as_secs_f64();
        let rank_started = Instant::now();
        let s = evaluate(&ranker, &ctx, &users);
        rows.push(TopNRow {
            algorithm: a,
            scores: s,
            fit_seconds,
            rank_seconds: rank_started.elapsed().as_secs_f64(),
            tune_seconds,
            params: config.describe(),
        });
    }
    rows.sort_by_key(|r| algorithms.iter().position(|a| *a == r.algorithm));
    let test_items = users.iter().map(|(_, r)| r.len()).sum();
    let unseen = users
        .iter()
        .flat_map(|(_, r)| r.iter())
        .filter(|m| split.items.get(m).is_none())
        .count();
    Ok(TopNReport {
        protocol: "topn",
        holdout,
        dataset: input.dataset.clone(),
        seed: input.seed,
        train_ratings: split.train.len(),
        catalog: split.train.items(),
        test_users: users.len(),
        test_items,
        test_items_unseen_in_training: unseen,
        test_users_unknown,
        rejected_rows: rejected,
        rows,
        seconds: started.elapsed().as_secs_f64(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tag_by_a_user_tested_on_the_movie_is_not_seen_in_training() {
        let movie = Movie {
            id: 7,
            title: "Heat".into(),
            year: Some(1995),
            genres: Vec::new(),
            tags: vec![
                (1, "heist".into()),
                (2, "pacino".into()),
                (3, "heist".into()),
                (2, "la".into()),
            ],
        };
        let held_out: HashSet<(i64, i64)> = [(2, 7), (1, 8)].into_iter().collect();
        assert_eq!(training_tags(&movie, &held_out, &HashSet::new()), ["heist"]);
        assert_eq!(
            training_tags(&movie, &HashSet::new(), &HashSet::new()),
            ["heist", "la", "pacino"]
        );
        let unfitted: HashSet<i64> = [1, 3].into_iter().collect();
        assert_eq!(
            training_tags(&movie, &held_out, &unfitted),
            Vec::<String>::new(),
            "a held-out user's tags are not fitted on"
        );
    }
}
