//! Recommendations as a service: the [`Recommender`] interface every model implements, and the
//! serving [`Engine`] (the catalog and the models fitted on it, keyed by [`MovieId`]) through
//! which both `movierec recommend` and `/api/movies/{id}/similar` answer — one path.

mod blocks;
mod content;
mod engine;
mod neighbours;
mod personal;
pub mod trained;

pub use blocks::BlockContent;
pub use content::SeedContent;
pub use engine::{Engine, EngineError, Recommendation, Similar, SimilarModel, Unloadable};
pub use personal::{Because, Fallback, Personal, Pick, Voice};

use crate::domain::genre::Genre;
use crate::domain::movie::{CatalogMovie, MovieAttributes};
use crate::domain::MovieId;
use crate::model::ModelError;

/// What a model is fitted from: the catalog and its movies' attributes.
#[derive(Debug, Clone, Copy)]
pub struct Dataset<'a> {
    /// Every movie, by ascending id.
    pub movies: &'a [CatalogMovie],
    /// At the same positions as `movies`; shorter (or empty) when not known.
    pub attributes: &'a [MovieAttributes],
}

/// A recommended movie and how strongly the model recommends it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    pub id: MovieId,
    pub score: f64,
}

/// A movie someone rated, in stars: 0.5–5 in halves, as MovieLens rates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rated {
    pub movie: MovieId,
    pub rating: f64,
}

/// The rating, in stars, from which a rated movie counts as liked: an interaction for ALS, and
/// a movie a reason may name.
pub const LIKED: f64 = 3.0;

/// How strongly a rating in stars says "more like this": 5★ is 1 (a stored interaction to a
/// model fitted on who rated what), 2.5★ nothing, below pushes away.
pub fn star_weight(rating: f64) -> f64 {
    (rating - 2.5) / 2.5
}

/// Which movies may be recommended: applied before ranking, so `n` stays `n`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Filters {
    pub year_from: Option<i32>,
    pub year_to: Option<i32>,
    pub min_rating: Option<f64>,
    pub genre: Option<Genre>,
}

impl Filters {
    /// Whether no filter is set (every movie passes).
    pub fn is_empty(&self) -> bool {
        *self == Filters::default()
    }

    pub fn admits(&self, movie: &CatalogMovie) -> bool {
        self.year_from.is_none_or(|y| movie.release_year >= y)
            && self.year_to.is_none_or(|y| movie.release_year <= y)
            && self
                .min_rating
                .is_none_or(|r| movie.rating.is_some_and(|m| m >= r))
            && self.genre.is_none_or(|g| {
                movie
                    .genre
                    .as_deref()
                    .is_some_and(|list| list.split('|').any(|name| name == g.name()))
            })
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RecommendError {
    #[error("no movie with id {0}")]
    UnknownMovie(MovieId),
    #[error("model `{0}` is not trained on this server: run `movierec train --model {0}`")]
    NotTrained(&'static str),
    /// Trained, but no artifact of the kind could be read (the newest one's reason).
    #[error("model `{model}` is trained, but its artifact cannot be read: {reason}")]
    Unreadable { model: &'static str, reason: String },
    #[error("cannot fit the model: {0}")]
    Fit(#[from] ModelError),
}

/// One recommendation model: fitted once from a [`Dataset`], then asked questions. Scores are
/// comparable within one answer, not across models.
pub trait Recommender: Send + Sync {
    /// A short stable name (`content-seed`).
    fn name(&self) -> &'static str;

    /// The `n` movies most like `movie` among those `keep` admits, best first, ties by id.
    fn similar(
        &self,
        movie: MovieId,
        n: usize,
        keep: &dyn Fn(MovieId) -> bool,
    ) -> Result<Vec<Scored>, RecommendError>;

    /// The `n` movies a person who rated `profile` should see next, never one they rated.
    fn score_profile(
        &self,
        profile: &[Rated],
        n: usize,
        keep: &dyn Fn(MovieId) -> bool,
    ) -> Result<Vec<Scored>, RecommendError>;

    /// Why `candidate` was recommended for `query`, in words, from the two movies' attributes.
    fn explain(&self, query: &CatalogMovie, candidate: &CatalogMovie) -> String;

    /// How much liking `rated` speaks for `candidate` by this model's own measure (comparable
    /// within one answer): what a personal recommendation's reason names.
    fn affinity(&self, rated: MovieId, candidate: MovieId) -> f64;

    /// Whether the model can place `movie` (a trained model knows only the movies it was
    /// trained on).
    fn knows(&self, movie: MovieId) -> bool;
}

/// A [`Recommender`] that can be fitted.
pub trait Fit: Recommender + Sized {
    fn fit(data: Dataset<'_>) -> Result<Self, RecommendError>;
}

/// A catalog movie with only the model's features set, for the tests of this module.
#[cfg(test)]
fn test_movie(id: i64, rating: f64, year: i32) -> CatalogMovie {
    CatalogMovie {
        id: MovieId(id),
        title: format!("m{id}"),
        release_year: year,
        rating: Some(rating),
        votes: None,
        genre: None,
        director: None,
        rating_from: Default::default(),
        tmdb_id: None,
        imdb_id: None,
    }
}
