//! The recommendation engine: every catalog movie (by id) and the models fitted on exactly those
//! movies. Built once, never mutated; a newer catalog gets a new engine.

use super::trained::Served;
use super::{BlockContent, Dataset, Filters, Fit, RecommendError, Recommender, SeedContent};
use crate::domain::genre::Genre;
use crate::domain::movie::{CatalogMovie, MovieAttributes};
use crate::domain::trained::{ModelId, ModelKind, TrainedModel};
use crate::domain::{EtlRunId, MovieId, Timestamp};
use crate::store::{Store, StoreError};
use serde::Serialize;
use std::path::Path;
use std::time::Instant;

/// The catalog and its fitted models, as one immutable value.
pub struct Engine {
    /// Sorted by id: looked up by [`MovieId`], never by position.
    movies: Vec<CatalogMovie>,
    seed: SeedContent,
    content: BlockContent,
    /// The newest trained model of each kind whose artifact loaded.
    trained: Vec<Served>,
    /// Trained models newer than the one served of their kind that could not be loaded, with
    /// why: the engine serves, degraded.
    pub unloadable: Vec<Unloadable>,
    /// Positions in `movies`, most votes first (ties by id): the popular list is a prefix scan.
    pub(super) by_votes: Vec<u32>,
    /// How many movies have each genre of the vocabulary, in its order.
    genre_counts: Vec<(Genre, u64)>,
    /// The newest `models` row when the engine was built.
    pub model_id: Option<ModelId>,
    /// The newest succeeded ETL run when the catalog was read.
    pub run_id: Option<EtlRunId>,
    pub fitted_at: Timestamp,
    pub fit_seconds: f64,
}

/// A recommended movie with its score. Borrowed from the engine: an answer is serialised
/// without copying any row.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Recommendation<'a> {
    #[serde(flatten)]
    pub movie: &'a CatalogMovie,
    /// How similar to the query movie, by the model's measure (comparable within one answer).
    #[serde(serialize_with = "crate::domain::round::score")]
    pub score: f64,
    /// Why, in words, from the attributes that contributed most.
    pub reason: String,
}

/// Which model answers "movies like this one".
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum SimilarModel {
    /// Content model v2: genres, keywords and tags, people, overview, facts, rating and year,
    /// popularity, in weighted blocks.
    #[default]
    Content,
    /// The seed's model: rating and release year, standardised, cosine.
    ContentSeed,
    /// Trained (`movierec train --model item-knn`): cosine of who rated what.
    ItemKnn,
    /// Trained: cosine of SVD's item factors.
    Svd,
    /// Trained: cosine of SVD++'s item factors.
    #[serde(rename = "svd++")]
    SvdPp,
    /// Trained: cosine of implicit ALS's item factors.
    Als,
    /// Trained: EASE^R's item-to-item weights.
    Ease,
}

impl SimilarModel {
    pub fn name(self) -> &'static str {
        match self {
            SimilarModel::Content => "content",
            SimilarModel::ContentSeed => "content-seed",
            SimilarModel::ItemKnn => "item-knn",
            SimilarModel::Svd => "svd",
            SimilarModel::SvdPp => "svd++",
            SimilarModel::Als => "als",
            SimilarModel::Ease => "ease",
        }
    }

    pub const ALL: [SimilarModel; 7] = [
        SimilarModel::Content,
        SimilarModel::ContentSeed,
        SimilarModel::ItemKnn,
        SimilarModel::Svd,
        SimilarModel::SvdPp,
        SimilarModel::Als,
        SimilarModel::Ease,
    ];

    /// Whether its personal scores are predicted ratings in stars (matrix factorisation fitted
    /// on the ratings' values), rather than a ranking measure.
    pub fn predicts_ratings(self) -> bool {
        matches!(self, SimilarModel::Svd | SimilarModel::SvdPp)
    }

    /// The trained kind it serves, for the collaborative ones.
    pub(super) fn trained(self) -> Option<ModelKind> {
        match self {
            SimilarModel::Content | SimilarModel::ContentSeed => None,
            SimilarModel::ItemKnn => Some(ModelKind::ItemKnn),
            SimilarModel::Svd => Some(ModelKind::Svd),
            SimilarModel::SvdPp => Some(ModelKind::SvdPp),
            SimilarModel::Als => Some(ModelKind::Als),
            SimilarModel::Ease => Some(ModelKind::Ease),
        }
    }
}

/// A movie and the movies most like it, best first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Similar<'a> {
    pub movie: &'a CatalogMovie,
    /// The model that answered.
    pub model: SimilarModel,
    pub recommendations: Vec<Recommendation<'a>>,
}

/// A trained model whose artifact could not be loaded (missing, corrupt, of another kind).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Unloadable {
    pub model_id: ModelId,
    pub kind: ModelKind,
    pub reason: String,
    /// The older model of the same kind served instead, if one loaded.
    pub instead: Option<ModelId>,
}

/// Why an engine could not be built.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Recommend(#[from] RecommendError),
}

impl Engine {
    /// Reads the catalog (in one read transaction), fits the content models on it and loads the
    /// newest trained model of each kind from `data_dir`. A model that fails to load is logged
    /// and listed in [`Engine::unloadable`], and the next older one of its kind is tried: one
    /// corrupt artifact costs a kind its newest model, never the kind.
    pub fn load(store: &Store, data_dir: &Path) -> Result<Self, EngineError> {
        let started = Instant::now();
        let (movies, attributes, run_id) = store.content_catalog()?;
        let model_id = store.latest_model_id()?;
        let models = store.models()?;
        let mut engine = Self::build(movies, attributes, run_id, started)?;
        engine.model_id = model_id;
        let mut failed: Vec<Unloadable> = Vec::new();
        for record in models {
            let kind = record.kind;
            if engine.trained.iter().any(|t| t.record.kind == kind) {
                continue;
            }
            let id = record.id;
            match Served::load(record, data_dir) {
                Ok(served) => {
                    for f in failed.iter_mut().filter(|f| f.kind == kind) {
                        f.instead = Some(id);
                    }
                    engine.trained.push(served);
                }
                Err(e) => {
                    tracing::warn!(model_id = id, error = %e, "trained model not loaded");
                    failed.push(Unloadable {
                        model_id: id,
                        kind,
                        reason: e.to_string(),
                        instead: None,
                    });
                }
            }
        }
        engine.trained.sort_by_key(|t| t.record.kind.as_str());
        engine.unloadable = failed;
        engine.fit_seconds = started.elapsed().as_secs_f64();
        Ok(engine)
    }

    /// The trained models it serves, newest of each kind.
    pub fn trained(&self) -> impl Iterator<Item = &TrainedModel> {
        self.trained.iter().map(|t| &t.record)
    }

    /// Fits the models on `movies` (any order) and their `attributes` (same order; may be
    /// empty).
    pub fn build(
        movies: Vec<CatalogMovie>,
        attributes: Vec<MovieAttributes>,
        run_id: Option<EtlRunId>,
        started: Instant,
    ) -> Result<Self, RecommendError> {
        let mut rows: Vec<(CatalogMovie, MovieAttributes)> = movies
            .into_iter()
            .zip(
                attributes
                    .into_iter()
                    .chain(std::iter::repeat_with(MovieAttributes::default)),
            )
            .collect();
        rows.sort_unstable_by_key(|r| r.0.id);
        let (movies, attributes): (Vec<_>, Vec<_>) = rows.into_iter().unzip();
        let data = Dataset {
            movies: &movies,
            attributes: &attributes,
        };
        let seed = SeedContent::fit(data)?;
        let content = BlockContent::fit(data)?;
        let mut by_votes: Vec<u32> = (0..movies.len() as u32).collect();
        by_votes.sort_by_key(|&p| std::cmp::Reverse(movies[p as usize].votes.unwrap_or(0)));
        let mut counts = [0u64; Genre::ALL.len()];
        for genre in movies.iter().filter_map(|m| m.genre.as_deref()) {
            for name in genre.split('|') {
                if let Some(i) = Genre::ALL.iter().position(|g| g.name() == name) {
                    counts[i] += 1;
                }
            }
        }
        let genre_counts = Genre::ALL.into_iter().zip(counts).collect();
        Ok(Self {
            movies,
            seed,
            content,
            trained: Vec::new(),
            unloadable: Vec::new(),
            by_votes,
            genre_counts,
            model_id: None,
            run_id,
            fitted_at: chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 3),
            fit_seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// Every genre of the vocabulary, in its order, with how many catalog movies have it.
    pub fn genre_counts(&self) -> &[(Genre, u64)] {
        &self.genre_counts
    }

    pub fn movies(&self) -> &[CatalogMovie] {
        &self.movies
    }

    pub fn movie(&self, id: MovieId) -> Option<&CatalogMovie> {
        self.movies
            .binary_search_by_key(&id, |m| m.id)
            .ok()
            .map(|i| &self.movies[i])
    }

    pub(super) fn model(&self, model: SimilarModel) -> Result<&dyn Recommender, RecommendError> {
        match model.trained() {
            None if model == SimilarModel::ContentSeed => Ok(&self.seed),
            None => Ok(&self.content),
            Some(kind) => self
                .trained
                .iter()
                .find(|t| t.kind() == kind)
                .map(|t| t as &dyn Recommender)
                .ok_or(RecommendError::NotTrained(model.name())),
        }
    }

    /// The `n` movies most similar to `id` by `model` that pass `filters`, best first, ties by
    /// id, each with its reason.
    pub fn similar(
        &self,
        id: MovieId,
        n: usize,
        filters: &Filters,
        model: SimilarModel,
    ) -> Result<Similar<'_>, RecommendError> {
        let movie = self.movie(id).ok_or(RecommendError::UnknownMovie(id))?;
        let recommender = self.model(model)?;
        let scored = if filters.is_empty() {
            recommender.similar(id, n, &|_| true)?
        } else {
            let keep = |id| self.movie(id).is_some_and(|m| filters.admits(m));
            recommender.similar(id, n, &keep)?
        };
        let recommendations = scored
            .into_iter()
            .filter_map(|s| {
                self.movie(s.id).map(|candidate| Recommendation {
                    movie: candidate,
                    score: s.score,
                    reason: recommender.explain(movie, candidate),
                })
            })
            .collect();
        Ok(Similar {
            movie,
            model,
            recommendations,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::recommend::test_movie as movie;

    #[test]
    fn filters_apply_to_the_movie_with_that_id_whatever_the_input_order() {
        let movies: Vec<_> = (1..=40)
            .rev()
            .map(|i| movie(i * 10, (i % 9) as f64 + 1.0, 1950 + i as i32))
            .collect();
        let engine = Engine::build(movies, Vec::new(), None, Instant::now()).expect("build");
        let filters = Filters {
            year_from: Some(1970),
            min_rating: Some(5.0),
            ..Filters::default()
        };
        for model in [SimilarModel::Content, SimilarModel::ContentSeed] {
            let similar = engine
                .similar(MovieId(100), 40, &filters, model)
                .expect("similar");
            assert_eq!(similar.model, model);
            assert!(!similar.recommendations.is_empty());
            for r in &similar.recommendations {
                assert!(
                    r.movie.release_year >= 1970 && r.movie.rating.is_some_and(|r| r >= 5.0),
                    "{r:?}"
                );
            }
            let expected = engine
                .movies()
                .iter()
                .filter(|m| m.id != MovieId(100) && filters.admits(m))
                .count();
            assert_eq!(similar.recommendations.len(), expected);
        }
        assert!(matches!(
            engine.similar(MovieId(5), 3, &Filters::default(), SimilarModel::Content),
            Err(RecommendError::UnknownMovie(MovieId(5)))
        ));
    }
}
