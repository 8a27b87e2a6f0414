//! Collaborative models trained on the database's ratings (`movierec train`): fitted once, held
//! out and measured, written as an artifact file (postcard) under the data directory with a row
//! in `models`; `serve` loads the newest of each kind and answers "similar" from it.

use super::{star_weight, Rated, RecommendError, Recommender, Scored, LIKED};
use crate::domain::movie::CatalogMovie;
use crate::domain::trained::{ModelKind, TrainedModel};
use crate::domain::MovieId;
use crate::model::als::{bm25_weights, Als, AlsParams, Fold};
use crate::model::ease::Ease;
use crate::model::knn::{ItemKnn, KnnParams, Similarity};
use crate::model::metrics::{self, TopNScores};
use crate::model::mf::{MatrixFactorization, MfParams};
use crate::model::ratings::{Positions, RatingMatrix};
use crate::model::sparse_ease::{self, SparseEase};
use crate::model::split::{holdout, positives_holdout, Row, Split, SplitCounts};
use crate::model::top_unrated;
use crate::store::{Store, StoreError};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashSet};
use std::io::Write;
use std::path::Path;
use std::time::Instant;

/// A rating at or above this is a positive (the top-N hold-out's relevant items).
const POSITIVE: f32 = 4.0;
/// Neighbours kept per movie by item-kNN, so "similar" can list up to this many.
const KEEP: usize = 100;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error("the database has no ratings to train on: load some first, e.g. `movierec etl --source movielens:DIR`")]
    NoRatings,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path}: {message}")]
    Artifact { path: String, message: String },
    #[error("cannot fit {kind}: {message}")]
    Fit { kind: ModelKind, message: String },
    #[error("{kind} on {movies} movies needs {} of memory to fit, more than the {} it may use (`--memory-limit`, else what the system has available): {advice}", size(*needs), size(*limit))]
    TooLarge {
        kind: ModelKind,
        movies: usize,
        needs: u64,
        limit: u64,
        advice: &'static str,
    },
}

/// A size in bytes, KiB, MiB or GiB, whichever reads best.
fn size(bytes: u64) -> String {
    match bytes {
        0..1024 => format!("{bytes} bytes"),
        1024..1_048_576 => format!("{:.1} KiB", bytes as f64 / 1024.0),
        1_048_576..1_073_741_824 => format!("{:.1} MiB", bytes as f64 / 1_048_576.0),
        _ => format!("{:.2} GiB", bytes as f64 / 1_073_741_824.0),
    }
}

/// Hyper-parameters; `None` takes the kind's default (the values `movierec eval` chose on
/// validation for ml-latest-small / ml-100k).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainParams {
    pub factors: Option<usize>,
    /// Epochs (SGD) or iterations (ALS).
    pub epochs: Option<usize>,
    pub reg: Option<f64>,
    pub learning_rate: Option<f64>,
    /// EASE^R's λ.
    pub lambda: Option<f64>,
    /// Item-kNN's neighbours per prediction; sparse EASE^R's per movie.
    pub k: Option<usize>,
    pub seed: u64,
    /// The memory a fit may use, in bytes; `None`: what the system reports available.
    pub memory_limit: Option<u64>,
}

/// A fitted model of one kind.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum Fitted {
    Knn(ItemKnn),
    Mf(MatrixFactorization),
    /// With what BM25 needs to weigh a folded-in user's items as training did.
    Als(Als, Fold),
    Ease(Ease),
    SparseEase(SparseEase),
}

/// Each known rated position with its [`star_weight`].
fn star_weighted(known: &[(u32, f64)]) -> Vec<(u32, f64)> {
    known.iter().map(|&(i, r)| (i, star_weight(r))).collect()
}

impl Fitted {
    fn fit(
        kind: ModelKind,
        m: &RatingMatrix,
        p: &TrainParams,
    ) -> Result<(Self, serde_json::Value), TrainError> {
        let binary = || {
            RatingMatrix::new(
                m.users(),
                m.items(),
                &m.triples().map(|(u, i, _)| (u, i, 1.0)).collect::<Vec<_>>(),
            )
        };
        Ok(match kind {
            ModelKind::ItemKnn => {
                let params = KnnParams {
                    k: p.k.unwrap_or(20),
                    keep: KEEP.max(p.k.unwrap_or(20)),
                    similarity: Similarity::Cosine,
                };
                (
                    Fitted::Knn(ItemKnn::fit(&binary(), params, None)),
                    serde_json::json!(params),
                )
            }
            ModelKind::Svd | ModelKind::SvdPp => {
                let base = if kind == ModelKind::Svd {
                    MfParams {
                        epochs: 40,
                        learning_rate: 0.01,
                        reg: 0.1,
                        ..MfParams::svd()
                    }
                } else {
                    MfParams {
                        factors: 50,
                        reg: 0.1,
                        ..MfParams::svdpp()
                    }
                };
                let params = MfParams {
                    factors: p.factors.unwrap_or(base.factors),
                    epochs: p.epochs.unwrap_or(base.epochs),
                    reg: p.reg.unwrap_or(base.reg),
                    learning_rate: p.learning_rate.unwrap_or(base.learning_rate),
                    seed: p.seed,
                    ..base
                };
                (
                    Fitted::Mf(MatrixFactorization::fit(m, params)),
                    serde_json::json!(params),
                )
            }
            ModelKind::Als => {
                let d = AlsParams::default();
                let params = AlsParams {
                    factors: p.factors.unwrap_or(d.factors),
                    iterations: p.epochs.unwrap_or(d.iterations),
                    reg: p.reg.unwrap_or(d.reg),
                    seed: p.seed,
                    ..d
                };
                let (weights, fold) = bm25_weights(m, params.weighting, params.confidence);
                (
                    Fitted::Als(Als::fit(&weights, m.items(), params), fold),
                    serde_json::json!(params),
                )
            }
            ModelKind::Ease => {
                let lambda = p.lambda.unwrap_or(250.0);
                let ease = Ease::fit(&binary(), lambda).map_err(|e| TrainError::Fit {
                    kind,
                    message: e.to_string(),
                })?;
                (Fitted::Ease(ease), serde_json::json!({ "lambda": lambda }))
            }
            ModelKind::SparseEase => {
                let (lambda, k) = (p.lambda.unwrap_or(250.0), neighbours(p));
                let ease = SparseEase::fit(&binary(), lambda, k).map_err(|e| TrainError::Fit {
                    kind,
                    message: e.to_string(),
                })?;
                (
                    Fitted::SparseEase(ease),
                    serde_json::json!({ "lambda": lambda, "neighbours": k }),
                )
            }
        })
    }

    /// Every item's score for fitted user `u`, who rated `rated`, into `out`.
    fn score_user(&self, u: usize, rated: &[u32], out: &mut [f64]) {
        out.fill(0.0);
        match self {
            Fitted::Knn(k) => k.score_items(rated, out),
            Fitted::Ease(e) => e.score_items(rated, out),
            Fitted::SparseEase(e) => e.score_items(rated, out),
            Fitted::Als(a, _) => a.score_user(u, out),
            Fitted::Mf(m) => {
                for (i, o) in out.iter_mut().enumerate() {
                    *o = m.predict(Some(u as u32), Some(i as u32));
                }
            }
        }
    }

    /// The movies `i` is like and how much, for the models that keep only those (item-kNN's
    /// neighbours, sparse EASE^R's row of B): everything else is 0.
    fn kept(&self, i: usize) -> Option<&[(u32, f32)]> {
        match self {
            Fitted::Knn(k) => Some(k.neighbours.of(i)),
            Fitted::SparseEase(e) => Some(e.row(i)),
            Fitted::Ease(_) | Fitted::Als(..) | Fitted::Mf(_) => None,
        }
    }

    /// How much movie `j` is like movie `i` by this model, for every `j`, into `out`.
    fn score_like(&self, i: usize, out: &mut [f64]) {
        if let Some(row) = self.kept(i) {
            out.fill(0.0);
            for &(j, s) in row {
                out[j as usize] = f64::from(s);
            }
        } else {
            for (j, o) in out.iter_mut().enumerate() {
                *o = self.like(i, j);
            }
        }
    }

    /// How much movie `j` is like movie `i`: the kept weight (0 if not kept), EASE^R's weight,
    /// or the cosine of the two movies' factors.
    fn like(&self, i: usize, j: usize) -> f64 {
        let cosine = |factors: &[f32], f: usize| {
            let (a, b) = (&factors[i * f..][..f], &factors[j * f..][..f]);
            let norms = a.iter().map(|v| v * v).sum::<f32>().sqrt()
                * b.iter().map(|v| v * v).sum::<f32>().sqrt();
            let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
            if norms > 0.0 {
                f64::from(dot / norms)
            } else {
                0.0
            }
        };
        if let Some(row) = self.kept(i) {
            return row
                .iter()
                .find(|n| n.0 as usize == j)
                .map_or(0.0, |n| f64::from(n.1));
        }
        match self {
            Fitted::Knn(_) | Fitted::SparseEase(_) => 0.0,
            Fitted::Ease(e) => f64::from(e.weight(i, j)),
            Fitted::Als(a, _) => cosine(&a.item_factors, a.params.factors),
            Fitted::Mf(m) => cosine(&m.item_factors, m.params.factors),
        }
    }
}

/// What an artifact file holds: the fitted model and the movie at each of its positions.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Artifact {
    kind: ModelKind,
    /// Ascending: a movie's position is its index.
    movies: Vec<MovieId>,
    fitted: Fitted,
}

/// Ratings read from the store at dense positions (movies by ascending id).
struct Ratings {
    rows: Vec<Row>,
    movies: Vec<MovieId>,
    hash: String,
}

fn read_ratings(store: &Store) -> Result<Ratings, TrainError> {
    let mut rows = Vec::new();
    let mut hasher = Sha256::new();
    store.for_each_rating(|user, movie, rating| {
        hasher.update(user.to_le_bytes());
        hasher.update(movie.0.to_le_bytes());
        hasher.update(rating.to_le_bytes());
        rows.push((user, movie.0, rating));
    })?;
    if rows.is_empty() {
        return Err(TrainError::NoRatings);
    }
    let mut movies: Vec<MovieId> = rows.iter().map(|r| MovieId(r.1)).collect();
    movies.sort_unstable();
    movies.dedup();
    Ok(Ratings {
        rows,
        movies,
        hash: format!("{:x}", hasher.finalize()),
    })
}

/// A [`Split`] whose item positions are the movies in ascending order (the database holds one
/// rating per user and movie, so there are no duplicates to merge).
fn split_by_movie(train: &[Row], test: &[Row], movies: &[MovieId]) -> Split {
    let item = |m: i64| movies.binary_search(&MovieId(m)).ok().map(|p| p as u32);
    let mut users = Positions::default();
    let triples: Vec<(u32, u32, f32)> = train
        .iter()
        .filter_map(|&(u, m, r)| Some((users.insert(u), item(m)?, r)))
        .collect();
    let mut items = Positions::default();
    for m in movies {
        items.insert(m.0);
    }
    Split {
        train: RatingMatrix::new(users.len(), movies.len(), &triples),
        test: test
            .iter()
            .map(|&(u, m, r)| (users.get(&u), item(m), r))
            .collect(),
        counts: SplitCounts {
            train_ratings: triples.len(),
            test_ratings: test.len(),
            ..SplitCounts::default()
        },
        users,
        items,
    }
}

/// Held-out figures: top-N models on a per-user holdout of positives (NDCG@10, Recall@20, …),
/// rating models on a random 10% (RMSE, MAE).
fn held_out(
    kind: ModelKind,
    data: &Ratings,
    p: &TrainParams,
) -> Result<BTreeMap<String, f64>, TrainError> {
    let mut out = BTreeMap::new();
    match kind {
        ModelKind::Svd | ModelKind::SvdPp => {
            let (train, test) = holdout(&data.rows, 0.1, p.seed);
            let split = split_by_movie(&train, &test, &data.movies);
            let (fitted, _) = Fitted::fit(kind, &split.train, p)?;
            let Fitted::Mf(m) = &fitted else {
                return Ok(out);
            };
            let pairs: Vec<(f64, f64)> = split
                .test
                .iter()
                .map(|&(u, i, r)| (m.predict(u, i).clamp(0.5, 5.0), f64::from(r)))
                .collect();
            out.extend(metrics::rmse(pairs.iter().copied()).map(|v| ("rmse".to_owned(), v)));
            out.extend(metrics::mae(pairs.iter().copied()).map(|v| ("mae".to_owned(), v)));
        }
        ModelKind::ItemKnn | ModelKind::Als | ModelKind::Ease | ModelKind::SparseEase => {
            let (train, test) = positives_holdout(&data.rows, POSITIVE, 5, 0.2, p.seed);
            let split = split_by_movie(&train, &test, &data.movies);
            let (users, _) = split.relevant(&test, POSITIVE);
            let (fitted, _) = Fitted::fit(kind, &split.train, p)?;
            let lists: Vec<Vec<i64>> = users
                .par_iter()
                .map_init(
                    || vec![0.0; data.movies.len()],
                    |scores, (u, _)| {
                        let rated = split.train.by_user().row(*u as usize).0;
                        fitted.score_user(*u as usize, rated, scores);
                        top_unrated(scores, rated, metrics::LIST)
                            .into_iter()
                            .map(|p| data.movies[p as usize].0)
                            .collect()
                    },
                )
                .collect();
            let relevant: Vec<&HashSet<i64>> = users.iter().map(|(_, r)| r).collect();
            let s = TopNScores::of(&lists, &relevant, data.movies.len());
            out.insert("ndcg_at_10".to_owned(), s.ndcg_at_10);
            out.insert("recall_at_20".to_owned(), s.recall_at_20);
            out.insert("precision_at_10".to_owned(), s.precision_at_10);
            out.insert("map_at_10".to_owned(), s.map_at_10);
            out.insert("coverage_at_10".to_owned(), s.coverage_at_10);
        }
    }
    Ok(out)
}

/// Sparse EASE^R's neighbours per movie: `--k`, else the default.
fn neighbours(p: &TrainParams) -> usize {
    p.k.unwrap_or(sparse_ease::DEFAULT_NEIGHBOURS)
}

/// Bytes fitting `kind` on `data` holds at its peak beyond the ratings themselves (the same
/// estimates the models document: EASE^R's dense pair of n × n matrices, the others' lists and
/// factors that grow with the catalog, the users or the ratings).
fn fit_bytes(kind: ModelKind, data: &Ratings, p: &TrainParams) -> u64 {
    let (movies, ratings) = (data.movies.len(), data.rows.len());
    let users = data.rows.iter().map(|r| r.0).collect::<HashSet<_>>().len();
    match kind {
        ModelKind::Ease => crate::model::ease::fit_bytes(movies),
        ModelKind::SparseEase => sparse_ease::fit_bytes(movies, neighbours(p)),
        ModelKind::ItemKnn => crate::model::knn::fit_bytes(movies, KEEP.max(p.k.unwrap_or(20))),
        ModelKind::Als => crate::model::als::fit_bytes(
            users,
            movies,
            ratings,
            p.factors.unwrap_or(AlsParams::default().factors),
        ),
        ModelKind::Svd | ModelKind::SvdPp => {
            // Two factor matrices of f32 and the biases; SVD++ adds its implicit factors.
            let f = p.factors.unwrap_or(100) as u64;
            8 * f * (users + 2 * movies) as u64 + 8 * (users + movies) as u64
        }
    }
}

/// Refuses, before the fit allocates anything, one that would need more than `limit` (else
/// `MemAvailable`), naming both sizes.
fn fits_in_memory(
    kind: ModelKind,
    movies: usize,
    needs: u64,
    limit: Option<u64>,
) -> Result<(), TrainError> {
    match limit.or_else(available_memory) {
        Some(limit) if needs > limit => Err(TrainError::TooLarge {
            kind,
            movies,
            needs,
            limit,
            advice: match kind {
                ModelKind::Ease => {
                    "EASE^R's dense form grows with the square of the catalog; train \
                     `sparse-ease`, which grows with the catalog times its neighbours (`--k`), \
                     or `als` or `item-knn`, which grow with the ratings"
                }
                _ => "lower the size it keeps (`--k`, `--factors`) or give it more memory",
            },
        }),
        _ => Ok(()),
    }
}

/// What Linux reports available (`MemAvailable` in `/proc/meminfo`), in bytes.
fn available_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = info.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// Fits `kind` on every rating in the database, measures it on a holdout of the same ratings,
/// writes the artifact under `<data_dir>/models/` and records it in `models`.
pub fn train(
    store: &mut Store,
    data_dir: &Path,
    kind: ModelKind,
    params: &TrainParams,
) -> Result<TrainedModel, TrainError> {
    let data = read_ratings(store)?;
    fits_in_memory(
        kind,
        data.movies.len(),
        fit_bytes(kind, &data, params),
        params.memory_limit,
    )?;
    let metrics = held_out(kind, &data, params)?;
    let all = split_by_movie(&data.rows, &[], &data.movies);
    let started = Instant::now();
    let (fitted, params_json) = Fitted::fit(kind, &all.train, params)?;
    let fit_seconds = started.elapsed().as_secs_f64();
    let artifact = Artifact {
        kind,
        movies: data.movies.clone(),
        fitted,
    };
    let bytes = postcard::to_stdvec(&artifact).map_err(|e| TrainError::Artifact {
        path: "models/".to_owned(),
        message: e.to_string(),
    })?;
    let trained_at = chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 3);
    let name = format!(
        "models/{}-{}.postcard",
        kind.as_str().replace('+', "p"),
        trained_at.format("%Y%m%dT%H%M%S%3fZ")
    );
    let path = data_dir.join(&name);
    let fail = |e: std::io::Error| TrainError::Artifact {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    let dir = path.parent().unwrap_or(data_dir);
    std::fs::create_dir_all(dir).map_err(fail)?;
    let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("model");
    let mut file = crate::files::temp_file(dir, file_name, ".tmp").map_err(fail)?;
    file.write_all(&bytes).map_err(fail)?;
    file.as_file().sync_all().map_err(fail)?;
    let mut record = TrainedModel {
        id: 0,
        kind,
        trained_at,
        data_hash: data.hash,
        run_id: store.latest_succeeded_run()?,
        params: params_json,
        metrics,
        ratings: data.rows.len() as u64,
        users: all.users.len() as u64,
        movies: data.movies.len() as u64,
        fit_seconds,
        artifact: name,
        artifact_sha256: format!("{:x}", Sha256::digest(&bytes)),
        bytes: bytes.len() as u64,
    };
    // Registered with its artifact in place, or neither: never an artifact without a record.
    record.id = store.insert_model(&record, || {
        file.persist(&path).map(drop).map_err(|e| fail(e.error))
    })?;
    Ok(record)
}

/// A trained model loaded for serving.
#[derive(Debug, Clone)]
pub struct Served {
    pub record: TrainedModel,
    movies: Vec<MovieId>,
    fitted: Fitted,
    /// ALS's YᵀY + λI, computed once for every user folded in (empty for other kinds).
    gram: Vec<f32>,
}

impl Served {
    /// Reads `record`'s artifact under `data_dir`, checking its SHA-256.
    pub fn load(record: TrainedModel, data_dir: &Path) -> Result<Self, TrainError> {
        let path = data_dir.join(&record.artifact);
        let fail = |message: String| TrainError::Artifact {
            path: path.display().to_string(),
            message,
        };
        let bytes = std::fs::read(&path).map_err(|e| fail(e.to_string()))?;
        let sha = format!("{:x}", Sha256::digest(&bytes));
        if sha != record.artifact_sha256 {
            return Err(fail(format!(
                "SHA-256 {sha} is not the recorded {}",
                record.artifact_sha256
            )));
        }
        let artifact: Artifact = postcard::from_bytes(&bytes).map_err(|e| fail(e.to_string()))?;
        if artifact.kind != record.kind {
            return Err(fail(format!(
                "holds a {} model, the record says {}",
                artifact.kind, record.kind
            )));
        }
        let gram = match &artifact.fitted {
            Fitted::Als(a, _) => a.gram(),
            _ => Vec::new(),
        };
        Ok(Self {
            record,
            movies: artifact.movies,
            fitted: artifact.fitted,
            gram,
        })
    }

    pub fn kind(&self) -> ModelKind {
        self.record.kind
    }

    fn position(&self, id: MovieId) -> Option<usize> {
        self.movies.binary_search(&id).ok()
    }

    fn top(
        &self,
        scores: &mut [f64],
        exclude: &[u32],
        n: usize,
        keep: &dyn Fn(MovieId) -> bool,
    ) -> Vec<Scored> {
        for (p, s) in scores.iter_mut().enumerate() {
            if !keep(self.movies[p]) {
                *s = f64::NEG_INFINITY;
            }
        }
        top_unrated(scores, exclude, n)
            .into_iter()
            .map(|p| Scored {
                id: self.movies[p as usize],
                score: scores[p as usize],
            })
            .collect()
    }
}

impl Recommender for Served {
    fn name(&self) -> &'static str {
        self.record.kind.as_str()
    }

    fn similar(
        &self,
        movie: MovieId,
        n: usize,
        keep: &dyn Fn(MovieId) -> bool,
    ) -> Result<Vec<Scored>, RecommendError> {
        let at = self
            .position(movie)
            .ok_or(RecommendError::UnknownMovie(movie))?;
        let mut scores = vec![0.0; self.movies.len()];
        self.fitted.score_like(at, &mut scores);
        let mut found = self.top(&mut scores, &[at as u32], n, keep);
        // Item-kNN and sparse EASE^R know only their kept neighbours: the rest score 0 and say
        // nothing.
        if self.fitted.kept(at).is_some() {
            found.retain(|s| s.score > 0.0);
        }
        Ok(found)
    }

    /// Folds the person in, nothing retrained: SVD and SVD++ solve their bias and vector against
    /// the fixed item factors from the ratings themselves; ALS solves its user vector from the
    /// movies they liked (≥ [`LIKED`]), weighted by BM25 as in training; item-kNN and EASE^R
    /// sum the rated movies' rows, each weighted by its stars (5★ = 1, below 2.5★ pushes away).
    /// Movies the model was not trained on are left out of the profile.
    fn score_profile(
        &self,
        profile: &[Rated],
        n: usize,
        keep: &dyn Fn(MovieId) -> bool,
    ) -> Result<Vec<Scored>, RecommendError> {
        let known: Vec<(u32, f64)> = profile
            .iter()
            .filter_map(|r| Some((self.position(r.movie)? as u32, r.rating)))
            .collect();
        let rated: Vec<u32> = known.iter().map(|k| k.0).collect();
        let mut scores = vec![0.0; self.movies.len()];
        match &self.fitted {
            Fitted::Knn(k) => k.score_weighted(&star_weighted(&known), &mut scores),
            Fitted::Ease(e) => e.score_weighted(&star_weighted(&known), &mut scores),
            Fitted::SparseEase(e) => e.score_weighted(&star_weighted(&known), &mut scores),
            Fitted::Mf(m) => {
                let stars: Vec<f32> = known.iter().map(|k| k.1 as f32).collect();
                m.score_folded(&m.fold_in(&rated, &stars), &mut scores);
            }
            Fitted::Als(a, fold) => {
                let liked: Vec<(u32, f64)> =
                    known.iter().filter(|k| k.1 >= LIKED).copied().collect();
                let profile = if liked.is_empty() { &known } else { &liked };
                let items: Vec<u32> = profile.iter().map(|k| k.0).collect();
                let stars: Vec<f32> = profile.iter().map(|k| k.1 as f32).collect();
                let weights = fold.weights(&items, &stars);
                a.score_vector(&a.fold_in(&self.gram, &items, &weights), &mut scores);
            }
        }
        Ok(self.top(&mut scores, &rated, n, keep))
    }

    fn knows(&self, movie: MovieId) -> bool {
        self.position(movie).is_some()
    }

    fn affinity(&self, rated: MovieId, candidate: MovieId) -> f64 {
        match (self.position(rated), self.position(candidate)) {
            (Some(r), Some(c)) => self.fitted.like(r, c),
            _ => 0.0,
        }
    }

    fn explain(&self, query: &CatalogMovie, candidate: &CatalogMovie) -> String {
        let (Some(q), Some(c)) = (self.position(query.id), self.position(candidate.id)) else {
            return String::new();
        };
        let s = self.fitted.like(q, c);
        match &self.fitted {
            Fitted::Knn(_) => format!("rated by many of the same people (cosine {s:.2})"),
            Fitted::Ease(_) | Fitted::SparseEase(_) => format!(
                "people who rated {} tend to rate it (weight {s:.3})",
                query.title
            ),
            Fitted::Als(..) | Fitted::Mf(_) => {
                format!(
                    "close in the taste space learned from {} ratings (cosine {s:.2})",
                    self.record.ratings
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dense_fit_larger_than_the_memory_it_may_use_is_refused_naming_both_sizes() {
        let dense = |n| crate::model::ease::fit_bytes(n);
        let err = fits_in_memory(ModelKind::Ease, 62_423, dense(62_423), Some(24 << 30))
            .expect_err("ml-25m's catalog in 24 GiB");
        let message = err.to_string();
        assert!(
            message.starts_with(
                "ease on 62423 movies needs 58.06 GiB of memory to fit, more than the 24.00 GiB"
            ),
            "{message}"
        );
        assert!(
            message.contains("`sparse-ease`"),
            "names the sparse form: {message}"
        );
        assert!(fits_in_memory(ModelKind::Ease, 9_742, dense(9_742), Some(24 << 30)).is_ok());
        let sparse = sparse_ease::fit_bytes(62_423, sparse_ease::DEFAULT_NEIGHBOURS);
        assert!(
            sparse < 1 << 30,
            "sparse EASE^R at ml-25m: {}",
            size(sparse)
        );
        assert!(fits_in_memory(ModelKind::SparseEase, 62_423, sparse, Some(8 << 30)).is_ok());
        let err = fits_in_memory(ModelKind::Als, 62_423, 5 << 30, Some(4 << 30))
            .expect_err("any kind is checked");
        assert!(err.to_string().contains("`--factors`"), "{err}");
        assert_eq!(size(1000), "1000 bytes");
        assert_eq!(size(25_600), "25.0 KiB");
        assert_eq!(size(3 << 20), "3.0 MiB");
    }
}
