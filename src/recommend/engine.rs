//! The recommendation engine: every catalog movie (by id) and the models fitted on exactly those
//! movies. Built once, never mutated; a newer catalog gets a new engine.

use super::{Dataset, Filters, Fit, RecommendError, Recommender, SeedContent};
use crate::domain::movie::CatalogMovie;
use crate::domain::{EtlRunId, MovieId, Timestamp};
use crate::store::{Store, StoreError};
use serde::Serialize;
use std::time::Instant;

/// The catalog and its fitted models, as one immutable value.
pub struct Engine {
    /// Sorted by id: looked up by [`MovieId`], never by position.
    movies: Vec<CatalogMovie>,
    content: SeedContent,
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
    /// Cosine similarity to the query movie.
    pub score: f64,
}

/// A movie and the movies most like it, best first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Similar<'a> {
    pub movie: &'a CatalogMovie,
    pub recommendations: Vec<Recommendation<'a>>,
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
    /// Reads the catalog (in one read transaction) and fits the models on it.
    pub fn load(store: &Store) -> Result<Self, EngineError> {
        let started = Instant::now();
        let (movies, run_id) = store.catalog()?;
        Ok(Self::build(movies, run_id, started)?)
    }

    /// Fits the models on `movies` (any order).
    pub fn build(
        mut movies: Vec<CatalogMovie>,
        run_id: Option<EtlRunId>,
        started: Instant,
    ) -> Result<Self, RecommendError> {
        movies.sort_unstable_by_key(|m| m.id);
        let content = SeedContent::fit(Dataset { movies: &movies })?;
        Ok(Self {
            movies,
            content,
            run_id,
            fitted_at: chrono::SubsecRound::trunc_subsecs(chrono::Utc::now(), 3),
            fit_seconds: started.elapsed().as_secs_f64(),
        })
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

    /// The `n` movies most similar to `id` that pass `filters`, best first, ties by id.
    pub fn similar(
        &self,
        id: MovieId,
        n: usize,
        filters: &Filters,
    ) -> Result<Similar<'_>, RecommendError> {
        let movie = self.movie(id).ok_or(RecommendError::UnknownMovie(id))?;
        let scored = if filters.is_empty() {
            self.content.similar(id, n, &|_| true)?
        } else {
            let keep = |id| self.movie(id).is_some_and(|m| filters.admits(m));
            self.content.similar(id, n, &keep)?
        };
        let recommendations = scored
            .into_iter()
            .filter_map(|s| {
                self.movie(s.id).map(|movie| Recommendation {
                    movie,
                    score: s.score,
                })
            })
            .collect();
        Ok(Similar {
            movie,
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
        let engine = Engine::build(movies, None, Instant::now()).expect("build");
        let filters = Filters {
            year_from: Some(1970),
            min_rating: Some(5.0),
            ..Filters::default()
        };
        let similar = engine.similar(MovieId(100), 40, &filters).expect("similar");
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
        assert!(matches!(
            engine.similar(MovieId(5), 3, &Filters::default()),
            Err(RecommendError::UnknownMovie(MovieId(5)))
        ));
    }
}
