//! The top-N protocol. Per user with at least 5 positives (rating ≥ 4), a seeded random 20% of
//! those positives (at least one) is held out; training is every other rating. Each model scores
//! every movie of the training catalog for each test user, the movies the user rated in
//! training are removed (full ranking, no sampled negatives), and the top 20 is compared with
//! the held-out positives: Precision@10, Recall@20, NDCG@10, MAP@10 (averaged over test users)
//! and catalog coverage@10 ([`crate::model::metrics`]). Held-out movies absent from training
//! stay in the relevant set (no model can find them) and are counted.
//!
//! Hyper-parameters (EASE^R's λ, item-kNN's k, the content and hybrid weights) are chosen by
//! NDCG@10 on a validation holdout carved from training the same way, never on the test set.

use super::data::Movie;
use super::{EvalError, Input, TopNAlgorithm};
use crate::model::als::{bm25_weights, Als, AlsParams, Weighting};
use crate::model::blocks::{BlockWeights, ContentBlocks, ItemAttributes};
use crate::model::ease::Ease;
use crate::model::knn::{ItemKnn, KnnParams, Similarity};
use crate::model::metrics::{self, TopNScores};
use crate::model::ratings::RatingMatrix;
use crate::model::sparse_ease::{SparseEase, DEFAULT_NEIGHBOURS};
use crate::model::split::{positives_holdout, Split};
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

/// The data every ranker sees: training split, its binary twin, and the movies' attributes by
/// training position.
struct Context<'a> {
    split: &'a Split,
    binary: RatingMatrix,
    attributes: Vec<ItemAttributes>,
}

impl<'a> Context<'a> {
    /// `held_out`: the (user, movie) pairs the protocol hides from this split's training; a tag
    /// a user wrote on a movie they are tested on would tell the content models the answer.
    fn new(
        split: &'a Split,
        movies: &HashMap<i64, &Movie>,
        held_out: &HashSet<(i64, i64)>,
    ) -> Self {
        let binary = RatingMatrix::new(
            split.train.users(),
            split.train.items(),
            &split
                .train
                .triples()
                .map(|(u, i, _)| (u, i, 1.0))
                .collect::<Vec<_>>(),
        );
        let attributes = (0..split.items.len() as u32)
            .map(|p| {
                let id = split.items.id(p);
                let (ratings_sum, n) = {
                    let (_, r) = split.train.by_item().row(p as usize);
                    (r.iter().map(|&v| f64::from(v)).sum::<f64>(), r.len())
                };
                let mean = (n > 0).then(|| ratings_sum / n as f64 * 2.0);
                movies
                    .get(id)
                    .map_or_else(ItemAttributes::default, |m| ItemAttributes {
                        genres: m.genres.iter().map(|g| g.name().to_owned()).collect(),
                        keywords: training_tags(m, held_out),
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
            attributes,
        }
    }

    fn items(&self) -> usize {
        self.split.train.items()
    }
}

/// The distinct tags of `movie` written by users not tested on it.
fn training_tags(movie: &Movie, held_out: &HashSet<(i64, i64)>) -> Vec<String> {
    let mut tags: Vec<String> = movie
        .tags
        .iter()
        .filter(|(user, _)| !held_out.contains(&(*user, movie.id)))
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
    Als(Als),
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
            Ranker::Als(als) => als.score_user(u as usize, out),
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
                let (weights, _) = bm25_weights(&ctx.binary, p.weighting);
                Ranker::Als(Als::fit(&weights, ctx.items(), p))
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
                "{} factors={} reg={} α={} iterations={}",
                p.weighting, p.factors, p.reg, p.alpha, p.iterations
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
                for factors in [16, 32, 64] {
                    for reg in [1.0, 10.0, 30.0, 100.0] {
                        for alpha in [1.0, 2.0, 4.0] {
                            configs.push(Config::Als(AlsParams {
                                factors,
                                reg,
                                alpha,
                                weighting,
                                seed,
                                ..AlsParams::default()
                            }));
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

/// The top-N protocol on `input` for `algorithms`.
pub fn run(input: &Input, algorithms: &[TopNAlgorithm]) -> Result<TopNReport, EvalError> {
    let started = Instant::now();
    let layout = super::data::layout(&input.dataset)?;
    let movies = super::data::read_movies(&input.dataset, layout)?;
    let by_id: HashMap<i64, &Movie> = movies.iter().map(|m| (m.id, m)).collect();
    let (train, test, rejected) = match &input.files {
        Some((train, test)) => {
            let latest = crate::etl::movielens::Layout::Latest;
            let (a, b) = (
                super::data::read_ratings(train, latest)?,
                super::data::read_ratings(test, latest)?,
            );
            (a.rows, b.rows, a.rejected + b.rejected)
        }
        None => {
            let all =
                super::data::read_ratings(&input.dataset.join(layout.ratings_file()), layout)?;
            let (train, test) =
                positives_holdout(&all.rows, POSITIVE, MIN_POSITIVES, FRACTION, input.seed);
            (train, test, all.rejected)
        }
    };
    if train.is_empty() {
        return Err(EvalError::NoRatings(input.dataset.clone()));
    }
    let split = Split::new(&train, &test);
    let (users, test_users_unknown) = split.relevant(&test, POSITIVE);
    let held_out: HashSet<(i64, i64)> = test.iter().map(|&(u, m, _)| (u, m)).collect();
    let ctx = Context::new(&split, &by_id, &held_out);
    // Validation: the same holdout, carved from training.
    let (sub_train, validation) = positives_holdout(
        &train,
        POSITIVE,
        MIN_POSITIVES,
        FRACTION,
        input.seed.wrapping_add(1),
    );
    let tuning_split = Split::new(&sub_train, &validation);
    let (tuning_users, _) = tuning_split.relevant(&validation, POSITIVE);
    // Tuning hides its validation pairs as well as the test's.
    let tuning_held_out: HashSet<(i64, i64)> = validation
        .iter()
        .map(|&(u, m, _)| (u, m))
        .chain(held_out.iter().copied())
        .collect();
    let tuning = Context::new(&tuning_split, &by_id, &tuning_held_out);
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
        assert_eq!(training_tags(&movie, &held_out), ["heist"]);
        assert_eq!(
            training_tags(&movie, &HashSet::new()),
            ["heist", "la", "pacino"]
        );
    }
}
