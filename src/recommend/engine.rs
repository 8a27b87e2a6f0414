//! The recommendation engine: every catalog movie (by id) and the models fitted on exactly those
//! movies. Built once, never mutated; a newer catalog gets a new engine.

use super::neighbours::{Neighbour, NeighbourCache, KEPT};
use super::trained::Served;
use super::{BlockContent, Dataset, Filters, Fit, RecommendError, Recommender, SeedContent};
use crate::domain::genre::Genre;
use crate::domain::movie::{CatalogMovie, MovieAttributes};
use crate::domain::trained::{ModelId, ModelKind, TrainedModel};
use crate::domain::{EtlRunId, MovieId, Timestamp};
use crate::store::{Store, StoreError};
use serde::Serialize;
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

/// The trained models a person's list comes from when none is asked for, best first (by the
/// top-N evaluation on ml-latest-small); content v2 when none is trained.
pub(super) const PREFERRED: [ModelKind; 6] = [
    ModelKind::Ease,
    ModelKind::SparseEase,
    ModelKind::ItemKnn,
    ModelKind::Als,
    ModelKind::SvdPp,
    ModelKind::Svd,
];

/// The catalog and its fitted models, as one immutable value.
pub struct Engine {
    /// Sorted by id: looked up by [`MovieId`], never by position.
    movies: Vec<CatalogMovie>,
    seed: SeedContent,
    content: BlockContent,
    /// Each trained kind's models, read when the kind is first asked for: a command or a
    /// server that never uses EASE^R never reads its artifact.
    trained: Vec<LazyModel>,
    /// Each model's kept neighbour lists, in [`SimilarModel::ALL`]'s order.
    neighbours: [NeighbourCache; SimilarModel::ALL.len()],
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
    /// Unique to this engine in the process, increasing: what an answer kept outside the
    /// engine is tagged with.
    pub generation: u64,
}

/// The last [`Engine::generation`] given.
static GENERATIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

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
    #[schema(value_type = String)]
    pub reason: Cow<'a, str>,
}

/// Which model answers "movies like this one".
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
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
    /// Trained: sparse EASE^R's item-to-item weights.
    SparseEase,
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
            SimilarModel::SparseEase => "sparse-ease",
        }
    }

    pub const ALL: [SimilarModel; 8] = [
        SimilarModel::Content,
        SimilarModel::ContentSeed,
        SimilarModel::ItemKnn,
        SimilarModel::Svd,
        SimilarModel::SvdPp,
        SimilarModel::Als,
        SimilarModel::Ease,
        SimilarModel::SparseEase,
    ];

    /// Whether its personal scores are predicted ratings in stars (matrix factorisation fitted
    /// on the ratings' values), rather than a ranking measure.
    pub fn predicts_ratings(self) -> bool {
        matches!(self, SimilarModel::Svd | SimilarModel::SvdPp)
    }

    /// Its place in [`SimilarModel::ALL`].
    fn index(self) -> usize {
        self as usize
    }

    /// The trained kind it serves, for the collaborative ones.
    pub fn trained(self) -> Option<ModelKind> {
        match self {
            SimilarModel::Content | SimilarModel::ContentSeed => None,
            SimilarModel::ItemKnn => Some(ModelKind::ItemKnn),
            SimilarModel::Svd => Some(ModelKind::Svd),
            SimilarModel::SvdPp => Some(ModelKind::SvdPp),
            SimilarModel::Als => Some(ModelKind::Als),
            SimilarModel::Ease => Some(ModelKind::Ease),
            SimilarModel::SparseEase => Some(ModelKind::SparseEase),
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

/// A trained kind's models, newest first, and what reading them gave, once read.
struct LazyModel {
    records: Vec<TrainedModel>,
    data_dir: PathBuf,
    loaded: OnceLock<Loaded>,
}

/// The newest model of a kind whose artifact loaded, and the newer ones that did not.
struct Loaded {
    served: Option<Served>,
    failed: Vec<Unloadable>,
}

impl LazyModel {
    fn kind(&self) -> ModelKind {
        self.records[0].kind
    }

    /// Reads the newest model whose artifact loads, once. A model that fails is logged and
    /// listed, and the next older one is tried: one corrupt artifact costs a kind its newest
    /// model, never the kind.
    fn get(&self) -> &Loaded {
        self.loaded.get_or_init(|| {
            let mut failed: Vec<Unloadable> = Vec::new();
            for record in &self.records {
                let (id, kind) = (record.id, record.kind);
                match Served::load(record.clone(), &self.data_dir) {
                    Ok(served) => {
                        for f in &mut failed {
                            f.instead = Some(id);
                        }
                        return Loaded {
                            served: Some(served),
                            failed,
                        };
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
            Loaded {
                served: None,
                failed,
            }
        })
    }

    /// The model that answers: the loaded one, or, before the kind is read, the newest.
    fn answering(&self) -> Option<&TrainedModel> {
        match self.loaded.get() {
            Some(loaded) => loaded.served.as_ref().map(|s| &s.record),
            None => self.records.first(),
        }
    }
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
    /// Reads the catalog (in one read transaction), fits the content models on it and lists
    /// the trained models of each kind, newest first, to be read from `data_dir` when the kind
    /// is first asked for.
    pub fn load(store: &Store, data_dir: &Path) -> Result<Self, EngineError> {
        let started = Instant::now();
        let (movies, attributes, run_id) = store.content_catalog()?;
        let model_id = store.latest_model_id()?;
        let models = store.models()?;
        let mut engine = Self::build(movies, attributes, run_id, started)?;
        engine.model_id = model_id;
        for record in models {
            // Newest first: the store lists them so.
            match engine.trained.iter_mut().find(|t| t.kind() == record.kind) {
                Some(lazy) => lazy.records.push(record),
                None => engine.trained.push(LazyModel {
                    records: vec![record],
                    data_dir: data_dir.to_owned(),
                    loaded: OnceLock::new(),
                }),
            }
        }
        engine.trained.sort_by_key(|t| t.kind().as_str());
        engine.fit_seconds = started.elapsed().as_secs_f64();
        Ok(engine)
    }

    /// The trained model of each kind that answers: the one loaded, or, for a kind not asked
    /// for yet, its newest (the first it will try to read).
    pub fn trained(&self) -> impl Iterator<Item = &TrainedModel> {
        self.trained.iter().filter_map(LazyModel::answering)
    }

    /// The trained kinds whose models have been read (whether or not one loaded).
    pub fn loaded(&self) -> impl Iterator<Item = ModelKind> + '_ {
        self.trained
            .iter()
            .filter(|t| t.loaded.get().is_some())
            .map(LazyModel::kind)
    }

    /// Trained models newer than the one served of their kind whose artifact could not be
    /// read, with why: the engine serves, degraded. Only kinds already asked for are known.
    pub fn unloadable(&self) -> Vec<Unloadable> {
        self.trained
            .iter()
            .filter_map(|t| t.loaded.get())
            .flat_map(|l| l.failed.iter().cloned())
            .collect()
    }

    /// Whether answering with `model` (`None`: the default personal model) needs no artifact
    /// read first: a server reads one off its request threads.
    pub fn is_loaded(&self, model: Option<SimilarModel>) -> bool {
        let read = |kind| self.lazy(kind).is_none_or(|t| t.loaded.get().is_some());
        match model {
            Some(model) => model.trained().is_none_or(read),
            // The default reads the preferred kinds in order until one loads.
            None => {
                for kind in PREFERRED {
                    match self.lazy(kind).map(|t| t.loaded.get()) {
                        None => continue,
                        Some(None) => return false,
                        Some(Some(loaded)) if loaded.served.is_some() => return true,
                        Some(Some(_)) => continue,
                    }
                }
                true
            }
        }
    }

    /// Reads what answering with `model` (`None`: the default personal model) needs.
    pub fn load_model(&self, model: Option<SimilarModel>) {
        match model.map(SimilarModel::trained) {
            Some(Some(kind)) => {
                self.served(kind);
            }
            Some(None) => {}
            None => {
                self.default_personal_model();
            }
        }
    }

    fn lazy(&self, kind: ModelKind) -> Option<&LazyModel> {
        self.trained.iter().find(|t| t.kind() == kind)
    }

    /// The loaded model of `kind`, reading it now if it has not been read.
    pub(super) fn served(&self, kind: ModelKind) -> Option<&Served> {
        self.lazy(kind).and_then(|t| t.get().served.as_ref())
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
            neighbours: std::array::from_fn(|_| NeighbourCache::new()),
            by_votes,
            genre_counts,
            model_id: None,
            run_id,
            fitted_at: chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 3),
            fit_seconds: started.elapsed().as_secs_f64(),
            generation: GENERATIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
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
        self.position(id).map(|i| &self.movies[i])
    }

    pub(super) fn model(&self, model: SimilarModel) -> Result<&dyn Recommender, RecommendError> {
        match model.trained() {
            None if model == SimilarModel::ContentSeed => Ok(&self.seed),
            None => Ok(&self.content),
            Some(kind) => {
                let lazy = self
                    .lazy(kind)
                    .ok_or(RecommendError::NotTrained(model.name()))?;
                let loaded = lazy.get();
                match &loaded.served {
                    Some(served) => Ok(served),
                    None => Err(RecommendError::Unreadable {
                        model: model.name(),
                        reason: loaded
                            .failed
                            .first()
                            .map_or_else(String::new, |f| f.reason.clone()),
                    }),
                }
            }
        }
    }

    fn position(&self, id: MovieId) -> Option<usize> {
        self.movies.binary_search_by_key(&id, |m| m.id).ok()
    }

    /// Whether [`Engine::similar`] would answer from memory: an unfiltered question about a
    /// movie whose neighbours by a loaded `model` are kept. Anything else scores the catalog,
    /// which a server does off its request threads.
    pub fn similar_is_kept(
        &self,
        id: MovieId,
        n: usize,
        filters: &Filters,
        model: SimilarModel,
    ) -> bool {
        filters.is_empty()
            && n <= KEPT
            && self.is_loaded(Some(model))
            && self
                .position(id)
                .is_some_and(|at| self.neighbours[model.index()].has(at))
    }

    /// The `n` movies most similar to `id` by `model` that pass `filters`, best first, ties by
    /// id, each with its reason. Unfiltered (and `n` at most [`KEPT`]), a movie's [`KEPT`]
    /// nearest and their reasons are computed once and kept; otherwise the catalog is scanned
    /// for the `n` that pass.
    pub fn similar(
        &self,
        id: MovieId,
        n: usize,
        filters: &Filters,
        model: SimilarModel,
    ) -> Result<Similar<'_>, RecommendError> {
        let at = self.position(id).ok_or(RecommendError::UnknownMovie(id))?;
        let movie = &self.movies[at];
        let recommender = self.model(model)?;
        if filters.is_empty() && n <= KEPT {
            let kept = self.neighbours[model.index()].get_or_make(at, self.movies.len(), || {
                Ok::<_, RecommendError>(
                    self.nearest(recommender, movie, KEPT, filters)?
                        .into_iter()
                        .map(|(position, score)| Neighbour::new(position, score))
                        .collect(),
                )
            })?;
            if let Some(kept) = kept {
                let recommendations = kept
                    .iter()
                    .take(n)
                    .map(|k| {
                        let candidate = &self.movies[k.position as usize];
                        Recommendation {
                            movie: candidate,
                            score: k.score,
                            reason: Cow::Borrowed(
                                k.reason(|| recommender.explain(movie, candidate)),
                            ),
                        }
                    })
                    .collect();
                return Ok(Similar {
                    movie,
                    model,
                    recommendations,
                });
            }
        }
        let recommendations = self
            .nearest(recommender, movie, n, filters)?
            .into_iter()
            .map(|(position, score)| {
                let candidate = &self.movies[position as usize];
                Recommendation {
                    movie: candidate,
                    score,
                    reason: Cow::Owned(recommender.explain(movie, candidate)),
                }
            })
            .collect();
        Ok(Similar {
            movie,
            model,
            recommendations,
        })
    }

    /// The `n` movies nearest `movie` by `recommender` among those passing `filters`: their
    /// positions in the catalog and scores. The one top-N question every answer asks.
    fn nearest(
        &self,
        recommender: &dyn Recommender,
        movie: &CatalogMovie,
        n: usize,
        filters: &Filters,
    ) -> Result<Vec<(u32, f64)>, RecommendError> {
        let scored = if filters.is_empty() {
            recommender.similar(movie.id, n, &|_| true)?
        } else {
            let keep = |id| self.movie(id).is_some_and(|m| filters.admits(m));
            recommender.similar(movie.id, n, &keep)?
        };
        Ok(scored
            .into_iter()
            .filter_map(|s| Some((self.position(s.id)? as u32, s.score)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::recommend::test_movie as movie;

    #[test]
    fn a_kept_list_answers_as_the_scan_would_for_every_n() {
        let movies: Vec<_> = (1..=60)
            .map(|i| movie(i, (i % 7) as f64 + 2.0, 1960 + (i % 13) as i32))
            .collect();
        let engine = Engine::build(movies, Vec::new(), None, Instant::now()).expect("build");
        assert!(SimilarModel::ALL
            .iter()
            .enumerate()
            .all(|(i, m)| m.index() == i));
        for model in [SimilarModel::Content, SimilarModel::ContentSeed] {
            let recommender = engine.model(model).expect("model");
            let query = engine.movie(MovieId(7)).expect("movie");
            for n in [1, 3, 10, KEPT, KEPT + 1, 59, 100] {
                let kept: Vec<(i64, f64, String)> = engine
                    .similar(MovieId(7), n, &Filters::default(), model)
                    .expect("similar")
                    .recommendations
                    .iter()
                    .map(|r| (r.movie.id.0, r.score, r.reason.to_string()))
                    .collect();
                let scanned: Vec<(i64, f64, String)> = engine
                    .nearest(recommender, query, n, &Filters::default())
                    .expect("scan")
                    .into_iter()
                    .map(|(at, score)| {
                        let candidate = &engine.movies[at as usize];
                        (candidate.id.0, score, recommender.explain(query, candidate))
                    })
                    .collect();
                assert_eq!(kept, scanned, "{model:?}, n = {n}");
                assert_eq!(kept.len(), n.min(59));
            }
            assert!(engine.similar_is_kept(MovieId(7), 10, &Filters::default(), model));
            assert!(!engine.similar_is_kept(MovieId(8), 10, &Filters::default(), model));
            let filtered = Filters {
                year_from: Some(1965),
                ..Filters::default()
            };
            assert!(!engine.similar_is_kept(MovieId(7), 10, &filtered, model));
        }
    }

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
