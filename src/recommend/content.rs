//! The seed's content model as a [`Recommender`]: rating and release year, standardised,
//! cosine similarity (see [`crate::model::content`]).

use super::{Dataset, Fit, Rated, RecommendError, Recommender, Scored};
use crate::domain::movie::CatalogMovie;
use crate::domain::MovieId;
use crate::model::{ContentModel, ModelError};

/// The seed content model.
#[derive(Debug, Clone)]
pub struct SeedContent {
    model: ContentModel,
}

impl SeedContent {
    fn scored(&self, neighbours: Vec<crate::model::Neighbour>) -> Vec<Scored> {
        neighbours
            .into_iter()
            .map(|nb| Scored {
                id: MovieId(nb.id),
                score: nb.score,
            })
            .collect()
    }

    /// The model's MovieId at position `i` (positions stay inside the model).
    fn id_at(&self, i: usize) -> MovieId {
        MovieId(self.model.ids()[i])
    }
}

impl Fit for SeedContent {
    fn fit(data: Dataset<'_>) -> Result<Self, RecommendError> {
        let rows = data
            .movies
            .iter()
            .filter_map(|m| Some((m.id.0, m.rating?, f64::from(m.release_year))))
            .collect();
        Ok(Self {
            model: ContentModel::fit(rows)?,
        })
    }
}

impl Recommender for SeedContent {
    fn name(&self) -> &'static str {
        "content-seed"
    }

    fn similar(
        &self,
        movie: MovieId,
        n: usize,
        keep: &dyn Fn(MovieId) -> bool,
    ) -> Result<Vec<Scored>, RecommendError> {
        let found = self
            .model
            .recommend_where(movie.0, n, |i| keep(self.id_at(i)));
        match found {
            Ok(neighbours) => Ok(self.scored(neighbours)),
            Err(ModelError::UnknownMovie(_)) => Err(RecommendError::UnknownMovie(movie)),
            Err(e) => Err(e.into()),
        }
    }

    /// The profile is the sum of the rated movies' vectors, each weighted by how far its rating
    /// lies above or below the person's own mean: liked films pull, disliked ones push.
    fn score_profile(
        &self,
        profile: &[Rated],
        n: usize,
        keep: &dyn Fn(MovieId) -> bool,
    ) -> Result<Vec<Scored>, RecommendError> {
        let mut direction = [0.0, 0.0];
        let ratings: Vec<f64> = profile.iter().map(|r| r.rating).collect();
        for (r, weight) in profile.iter().zip(crate::model::profile_weights(&ratings)) {
            let v = self
                .model
                .vector(r.movie.0)
                .ok_or(RecommendError::UnknownMovie(r.movie))?;
            direction[0] += weight * v[0];
            direction[1] += weight * v[1];
        }
        let rated = |id: MovieId| profile.iter().any(|r| r.movie == id);
        let neighbours = self.model.nearest(direction, n, |i| {
            let id = self.id_at(i);
            !rated(id) && keep(id)
        });
        Ok(self.scored(neighbours))
    }

    /// The cosine of the two movies' standardised vectors.
    fn affinity(&self, rated: MovieId, candidate: MovieId) -> f64 {
        let (Some(a), Some(b)) = (self.model.vector(rated.0), self.model.vector(candidate.0))
        else {
            return 0.0;
        };
        let norms = a[0].hypot(a[1]) * b[0].hypot(b[1]);
        if norms > 0.0 {
            (a[0] * b[0] + a[1] * b[1]) / norms
        } else {
            0.0
        }
    }

    fn knows(&self, movie: MovieId) -> bool {
        self.model.vector(movie.0).is_some()
    }

    fn explain(&self, query: &CatalogMovie, candidate: &CatalogMovie) -> String {
        let years = (candidate.release_year - query.release_year).abs();
        let when = match years {
            0 => "same year".to_owned(),
            1 => "1 year apart".to_owned(),
            y => format!("{y} years apart"),
        };
        let rated = |m: &CatalogMovie| {
            m.rating
                .map_or_else(|| "?".to_owned(), |r| format!("{r:.1}"))
        };
        format!("rated {} vs {}; {when}", rated(candidate), rated(query))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::recommend::test_movie as movie;

    fn catalog() -> Vec<CatalogMovie> {
        (1..=60)
            .map(|i| {
                movie(
                    i,
                    ((i * 13) % 90) as f64 / 10.0 + 1.0,
                    1930 + (i as i32 * 7) % 90,
                )
            })
            .collect()
    }

    #[test]
    fn similar_is_keyed_by_movie_id_and_filters_by_id() {
        let movies = catalog();
        let model = SeedContent::fit(Dataset {
            movies: &movies,
            attributes: &[],
        })
        .expect("fit");
        let all = model.similar(MovieId(7), 10, &|_| true).expect("similar");
        assert_eq!(all.len(), 10);
        assert!(all.iter().all(|s| s.id != MovieId(7)));
        let even = model
            .similar(MovieId(7), 10, &|id| id.0 % 2 == 0)
            .expect("similar");
        assert!(even.iter().all(|s| s.id.0 % 2 == 0));
        assert_eq!(
            model.similar(MovieId(999), 3, &|_| true),
            Err(RecommendError::UnknownMovie(MovieId(999)))
        );
    }

    #[test]
    fn a_profile_of_one_movie_ranks_like_its_similar_list_without_it() {
        let movies = catalog();
        let model = SeedContent::fit(Dataset {
            movies: &movies,
            attributes: &[],
        })
        .expect("fit");
        let similar = model.similar(MovieId(12), 8, &|_| true).expect("similar");
        let profile = [Rated {
            movie: MovieId(12),
            rating: 9.0,
        }];
        let scored = model
            .score_profile(&profile, 8, &|_| true)
            .expect("profile");
        let ids = |v: &[Scored]| v.iter().map(|s| s.id).collect::<Vec<_>>();
        assert_eq!(ids(&scored), ids(&similar));
        assert!(model
            .score_profile(
                &[Rated {
                    movie: MovieId(404),
                    rating: 5.0
                }],
                3,
                &|_| true
            )
            .is_err());
    }

    #[test]
    fn explanations_name_the_ratings_and_the_years_apart() {
        let movies = catalog();
        let model = SeedContent::fit(Dataset {
            movies: &movies,
            attributes: &[],
        })
        .expect("fit");
        let text = model.explain(&movie(1, 7.4, 1997), &movie(2, 7.6, 1999));
        assert_eq!(text, "rated 7.6 vs 7.4; 2 years apart");
    }
}
