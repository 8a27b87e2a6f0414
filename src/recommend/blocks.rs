//! Content model v2 as a [`Recommender`]: the catalog's attributes in weighted blocks (see
//! [`crate::model::blocks`]), with a reason for every neighbour.

use super::{Dataset, Fit, Rated, RecommendError, Recommender, Scored};
use crate::domain::movie::{language_name, CatalogMovie, Fact, MovieAttributes};
use crate::domain::MovieId;
use crate::model::blocks::{BlockWeights, ContentBlocks, ItemAttributes};
use crate::model::top_n;

/// The fitted model and the ids at its positions (ascending).
#[derive(Debug, Clone)]
pub struct BlockContent {
    ids: Vec<MovieId>,
    model: ContentBlocks,
}

/// What the blocks read of one catalog movie.
fn item(movie: &CatalogMovie, a: Option<&MovieAttributes>) -> ItemAttributes {
    let a = a.cloned().unwrap_or_default();
    let split = |s: &Option<String>| -> Vec<String> {
        s.iter()
            .flat_map(|g| g.split('|'))
            .map(str::to_owned)
            .collect()
    };
    let mut keywords = a.keywords;
    keywords.extend(a.tags);
    // Facts as a reason says them: "both rated PG-13, historical fiction, in French".
    let mut facts: Vec<String> = a
        .facts
        .iter()
        .map(|f| match f {
            Fact::Certification(c) => format!("rated {c}"),
            Fact::CreativeType(t) => t.to_lowercase(),
        })
        .collect();
    facts.extend(
        a.language
            .as_deref()
            .and_then(language_name)
            .map(|l| format!("in {l}")),
    );
    ItemAttributes {
        genres: if a.genres.is_empty() {
            split(&movie.genre)
        } else {
            a.genres
        },
        keywords,
        directors: if a.directors.is_empty() {
            split(&movie.director)
        } else {
            a.directors
        },
        cast: a.cast,
        writers: a.writers,
        overview: a.overview.unwrap_or_default(),
        facts,
        runtime: a.runtime.map(|r| r as f64),
        rating: movie.rating,
        year: Some(movie.release_year),
        popularity: movie.votes.map(|v| v as f64),
    }
}

thread_local! {
    /// One score per catalog movie, reused by the thread's queries: a fresh vector each time
    /// would fault in megabytes of zeroed pages per request on a large catalog.
    static SCRATCH: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

impl BlockContent {
    fn position(&self, id: MovieId) -> Option<usize> {
        self.ids.binary_search(&id).ok()
    }

    fn scored(&self, found: Vec<(usize, f64)>) -> Vec<Scored> {
        found
            .into_iter()
            .map(|(p, score)| Scored {
                id: self.ids[p],
                score,
            })
            .collect()
    }
}

impl Fit for BlockContent {
    fn fit(data: Dataset<'_>) -> Result<Self, RecommendError> {
        let items: Vec<ItemAttributes> = data
            .movies
            .iter()
            .enumerate()
            .map(|(k, m)| item(m, data.attributes.get(k)))
            .collect();
        Ok(Self {
            ids: data.movies.iter().map(|m| m.id).collect(),
            model: ContentBlocks::fit(&items, BlockWeights::default()),
        })
    }
}

impl Recommender for BlockContent {
    fn name(&self) -> &'static str {
        "content"
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
        let found = SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => self
                .model
                .top_similar(at, n, |p| keep(self.ids[p]), &mut scratch),
            // Re-entered on this thread (not expected): a vector of its own.
            Err(_) => self
                .model
                .top_similar(at, n, |p| keep(self.ids[p]), &mut Vec::new()),
        });
        Ok(self.scored(found))
    }

    /// Each rated movie weighs its rating minus the person's mean (one rating, or all equal,
    /// weighs 1): liked films pull, disliked ones push.
    fn score_profile(
        &self,
        profile: &[Rated],
        n: usize,
        keep: &dyn Fn(MovieId) -> bool,
    ) -> Result<Vec<Scored>, RecommendError> {
        let ratings: Vec<f64> = profile.iter().map(|r| r.rating).collect();
        let mut weighted = Vec::with_capacity(profile.len());
        for (r, w) in profile.iter().zip(crate::model::profile_weights(&ratings)) {
            let at = self
                .position(r.movie)
                .ok_or(RecommendError::UnknownMovie(r.movie))?;
            weighted.push((at as u32, w));
        }
        let rated = |p: usize| weighted.iter().any(|w| w.0 as usize == p);
        let mut scores = vec![0.0; self.ids.len()];
        self.model.score_profile(&weighted, &mut scores);
        let scored = scores.iter().copied().enumerate();
        Ok(self.scored(top_n(n, scored, |p| !rated(p) && keep(self.ids[p]))))
    }

    fn affinity(&self, rated: MovieId, candidate: MovieId) -> f64 {
        match (self.position(rated), self.position(candidate)) {
            (Some(r), Some(c)) => self.model.similarity(r, c),
            _ => 0.0,
        }
    }

    fn knows(&self, movie: MovieId) -> bool {
        self.position(movie).is_some()
    }

    fn explain(&self, query: &CatalogMovie, candidate: &CatalogMovie) -> String {
        match (self.position(query.id), self.position(candidate.id)) {
            (Some(q), Some(c)) => self.model.explain(q, c),
            _ => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommend::test_movie as movie;

    fn with(genre: &str, director: &str, m: CatalogMovie) -> CatalogMovie {
        CatalogMovie {
            genre: Some(genre.to_owned()),
            director: Some(director.to_owned()),
            ..m
        }
    }

    #[test]
    fn neighbours_share_attributes_filters_apply_and_reasons_name_them() {
        let movies = vec![
            with("Drama|Romance", "James Cameron", movie(1, 7.4, 1997)),
            with("Drama|Romance", "James Cameron", movie(2, 7.0, 1999)),
            with("Comedy", "John Hughes", movie(3, 7.4, 1997)),
            with("Drama", "Someone Else", movie(4, 6.0, 1980)),
        ];
        let model = BlockContent::fit(Dataset {
            movies: &movies,
            attributes: &[],
        })
        .expect("fit");
        let similar = model.similar(MovieId(1), 3, &|_| true).expect("similar");
        assert_eq!(similar[0].id, MovieId(2));
        assert!(similar.iter().all(|s| s.id != MovieId(1)));
        let reason = model.explain(&movies[0], &movies[1]);
        assert!(reason.contains("same director: James Cameron"), "{reason}");
        assert!(reason.contains("2 years apart"), "{reason}");
        let odd = model
            .similar(MovieId(1), 3, &|id| id.0 % 2 == 1)
            .expect("similar");
        assert_eq!(
            odd.iter().map(|s| s.id).collect::<Vec<_>>(),
            vec![MovieId(3)]
        );
        assert_eq!(
            model.similar(MovieId(9), 3, &|_| true),
            Err(RecommendError::UnknownMovie(MovieId(9)))
        );
        let profile = [Rated {
            movie: MovieId(1),
            rating: 9.0,
        }];
        let scored = model
            .score_profile(&profile, 3, &|_| true)
            .expect("profile");
        assert_eq!(scored[0].id, MovieId(2));
        assert!(scored.iter().all(|s| s.id != MovieId(1)));
    }
}
