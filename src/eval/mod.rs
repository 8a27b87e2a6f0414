//! Offline evaluation (`movierec eval`): the models of [`crate::model`] fitted and scored on
//! MovieLens files, by two protocols — rating prediction on fixed folds ([`rating`]) and top-N
//! ranking on a seeded per-user holdout ([`topn`]). Reads files only, never the database, so
//! anyone with the dataset reproduces the table. Metrics are defined in
//! [`crate::model::metrics`].

pub mod data;
pub mod identity;
mod rating;
pub mod seeds;
pub mod topn;

pub use rating::FoldResult;

use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{0}: no such file or directory")]
    Missing(PathBuf),
    #[error("{0}: not a MovieLens dataset (no u.item, movies.dat or movies.csv)")]
    NotMovielens(PathBuf),
    #[error("{0}: {1}")]
    Read(PathBuf, String),
    #[error("unknown model `{name}`; known: {known}")]
    UnknownModel { name: String, known: String },
    #[error("{0}: no ratings to train on")]
    NoRatings(PathBuf),
    #[error("{0}")]
    Model(String),
    #[error("holding out whole users left {held} of them to test or validate on, fewer than the {needed} the figures need: the dataset has too few users with 5 or more liked movies for `--holdout users`")]
    TooFewUsers { held: usize, needed: usize },
    #[error("{0}")]
    Usage(String),
}

/// Declares an algorithm enum with its stable names (CLI, JSON).
macro_rules! algorithms {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses a name; an unknown one is an error listing the known.
            pub fn parse(text: &str) -> Result<Self, EvalError> {
                Self::ALL.iter().copied().find(|a| a.name() == text).ok_or_else(|| {
                    EvalError::UnknownModel {
                        name: text.to_owned(),
                        known: Self::ALL.iter().map(|a| a.name()).collect::<Vec<_>>().join(", "),
                    }
                })
            }
        }
    };
}

algorithms!(
    /// Models of the rating protocol.
    RatingAlgorithm {
        Baseline = "baseline",
        ItemKnn = "item-knn",
        Svd = "svd",
        SvdPp = "svd++",
        Blend = "blend",
    }
);

algorithms!(
    /// Models of the top-N protocol.
    TopNAlgorithm {
        Popularity = "popularity",
        ContentSeed = "content-seed",
        Content = "content",
        ItemKnn = "item-knn",
        Als = "als",
        Ease = "ease",
        SparseEase = "sparse-ease",
        Hybrid = "hybrid",
    }
);

/// Where the ratings come from: the dataset's own folds or split, or the caller's files.
#[derive(Debug, Clone)]
pub struct Input {
    /// The MovieLens directory (its movies, and its ratings unless `files` is set).
    pub dataset: PathBuf,
    /// `--train FILE --test FILE` in the `ratings.csv` layout.
    pub files: Option<(PathBuf, PathBuf)>,
    pub seed: u64,
}

/// One algorithm's mean over the folds.
#[derive(Debug, Clone, Serialize)]
pub struct RatingRow {
    pub algorithm: RatingAlgorithm,
    pub rmse: f64,
    pub mae: f64,
    /// Sums over the folds.
    pub fit_seconds: f64,
    pub predict_seconds: f64,
    pub tune_seconds: f64,
    /// Per fold: the chosen hyper-parameters and figures.
    pub folds: Vec<FoldResult>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RatingReport {
    pub protocol: &'static str,
    pub dataset: PathBuf,
    pub folds: usize,
    pub seed: u64,
    pub splits: Vec<crate::model::split::SplitCounts>,
    /// Unreadable rating rows skipped, and the first few described.
    pub rejected_rows: u64,
    pub rejected_examples: Vec<String>,
    pub rows: Vec<RatingRow>,
    pub seconds: f64,
}

/// The rating protocol: ml-100k's folds u1–u5 (or one `--train/--test` pair).
pub fn rating(input: &Input, algorithms: &[RatingAlgorithm]) -> Result<RatingReport, EvalError> {
    let started = Instant::now();
    let layout = data::layout(&input.dataset)?;
    let pairs: Vec<(PathBuf, PathBuf, crate::etl::movielens::Layout)> = match &input.files {
        Some((train, test)) => vec![(
            train.clone(),
            test.clone(),
            crate::etl::movielens::Layout::Latest,
        )],
        None if layout == crate::etl::movielens::Layout::Ml100k => data::folds(&input.dataset)?
            .into_iter()
            .map(|(a, b)| (a, b, layout))
            .collect(),
        None => return Err(EvalError::Missing(input.dataset.join("u1.base"))),
    };
    let mut rejected_rows = 0;
    let mut rejected_examples = Vec::new();
    let mut per_fold = Vec::new();
    let mut splits = Vec::new();
    for (train_path, test_path, layout) in &pairs {
        let train = data::read_ratings(train_path, *layout)?;
        let test = data::read_ratings(test_path, *layout)?;
        for r in [&train, &test] {
            rejected_rows += r.rejected;
            rejected_examples.extend(r.examples.iter().cloned());
        }
        rejected_examples.truncate(data::EXAMPLES);
        if train.rows.is_empty() {
            return Err(EvalError::NoRatings(train_path.clone()));
        }
        let (results, counts) = rating::fold(&train.rows, &test.rows, algorithms, input.seed);
        per_fold.push(results);
        splits.push(counts);
    }
    let folds = per_fold.len();
    let rows = algorithms
        .iter()
        .map(|&a| {
            let folds_of: Vec<FoldResult> = per_fold
                .iter()
                .filter_map(|f| f.iter().find(|r| r.0 == a).map(|r| r.1.clone()))
                .collect();
            let mean = |f: fn(&FoldResult) -> f64| {
                folds_of.iter().map(f).sum::<f64>() / folds_of.len().max(1) as f64
            };
            let sum = |f: fn(&FoldResult) -> f64| folds_of.iter().map(f).sum::<f64>();
            RatingRow {
                algorithm: a,
                rmse: mean(|r| r.rmse),
                mae: mean(|r| r.mae),
                fit_seconds: sum(|r| r.fit_seconds),
                predict_seconds: sum(|r| r.predict_seconds),
                tune_seconds: sum(|r| r.tune_seconds),
                folds: folds_of,
            }
        })
        .collect();
    Ok(RatingReport {
        protocol: "rating",
        dataset: input.dataset.clone(),
        folds,
        seed: input.seed,
        splits,
        rejected_rows,
        rejected_examples,
        rows,
        seconds: started.elapsed().as_secs_f64(),
    })
}
