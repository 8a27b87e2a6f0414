//! Recommendations for a person: a profile of rated movies (a user of the ratings table, or
//! someone who is not in the database) folded into a model, nothing retrained or stored; each
//! pick with the rated movies that speak for it.

use super::engine::{Engine, PREFERRED};
use super::{star_weight, Filters, Rated, RecommendError, Recommender, SimilarModel, LIKED};
use crate::domain::movie::CatalogMovie;
use crate::domain::MovieId;
use serde::Serialize;

/// Rated movies a reason may name, the best rated first: bounds the reasons' cost for a
/// profile of a thousand ratings.
const REASON_CANDIDATES: usize = 50;

/// A rated movie that speaks for a pick.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Because<'a> {
    pub movie_id: MovieId,
    pub title: &'a str,
    /// The person's rating, in stars (0.5–5).
    pub rating: f64,
}

/// A movie recommended to a person.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Pick<'a> {
    #[serde(flatten)]
    pub movie: &'a CatalogMovie,
    /// How strongly the model recommends it (comparable within one answer).
    #[serde(serialize_with = "crate::domain::round::score")]
    pub score: f64,
    /// The rating the model expects the person to give it, in stars (0.5–5), when the model
    /// predicts ratings (`svd`, `svd++`); `null` for ranking models.
    #[serde(serialize_with = "crate::domain::round::rating_opt")]
    pub predicted_rating: Option<f64>,
    /// Why, in words: "because you rated Heat 5/5 and The Insider 4.5/5".
    pub reason: String,
    /// The rated movies the reason names, strongest first.
    pub because: Vec<Because<'a>>,
}

/// Whom a list's reasons speak to: the person who rated ("because you rated"), or someone
/// looking at a user of the ratings table ("because they rated").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Voice {
    You,
    They,
}

impl Voice {
    fn subject(self) -> &'static str {
        match self {
            Voice::You => "you",
            Voice::They => "they",
        }
    }

    fn possessive(self) -> &'static str {
        match self {
            Voice::You => "your",
            Voice::They => "their",
        }
    }
}

/// Why a list is not the model's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Fallback {
    /// No ratings to go on: the most popular movies that pass the filters.
    Popular,
    /// The model asked for knows none of the rated movies: content v2 answered.
    Content,
}

/// A person's recommendations, best first.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Personal<'a> {
    /// The model that ranked the list (`null` for the popular fallback).
    pub model: Option<SimilarModel>,
    /// Set when the list is a fallback, with `notice` saying why.
    pub fallback: Option<Fallback>,
    pub notice: Option<String>,
    /// How many ratings the list was made from.
    pub rated: usize,
    pub recommendations: Vec<Pick<'a>>,
}

impl Engine {
    /// The model a person's list comes from when none is asked for.
    pub fn default_personal_model(&self) -> SimilarModel {
        PREFERRED
            .into_iter()
            .filter(|kind| self.served(*kind).is_some())
            .find_map(|kind| {
                SimilarModel::ALL
                    .into_iter()
                    .find(|m| m.trained() == Some(kind))
            })
            .unwrap_or(SimilarModel::Content)
    }

    /// The `n` movies with the most votes that pass `filters`, most first.
    pub fn popular(&self, n: usize, filters: &Filters) -> Vec<&CatalogMovie> {
        let movies = self.movies();
        self.by_votes
            .iter()
            .map(|&p| &movies[p as usize])
            .filter(|m| filters.admits(m))
            .take(n)
            .collect()
    }

    /// The `n` movies a person who rated `profile` (every movie in the catalog, each once)
    /// should see next, by `model` (or [`Self::default_personal_model`]), among those passing
    /// `filters`, never one they rated; each with its reason, said in `voice`. No ratings: the
    /// popular list.
    pub fn recommend(
        &self,
        profile: &[Rated],
        n: usize,
        filters: &Filters,
        model: Option<SimilarModel>,
        voice: Voice,
        exclude: &[MovieId],
    ) -> Result<Personal<'_>, RecommendError> {
        let mut rated = Vec::with_capacity(profile.len());
        for r in profile {
            let movie = self
                .movie(r.movie)
                .ok_or(RecommendError::UnknownMovie(r.movie))?;
            rated.push((movie, r.rating));
        }
        if profile.is_empty() {
            return Ok(self.popular_fallback(n, filters));
        }
        let asked = model.unwrap_or_else(|| self.default_personal_model());
        let mut recommender = self.model(asked)?;
        let mut chosen = asked;
        let mut fallback = None;
        let mut notice = None;
        if !profile.iter().any(|r| recommender.knows(r.movie)) {
            notice = Some(format!(
                "{} was not trained on any movie {} rated: content v2 answered",
                asked.name(),
                voice.subject()
            ));
            fallback = Some(Fallback::Content);
            chosen = SimilarModel::Content;
            recommender = self.model(chosen)?;
        }
        // Never a rated movie, nor one the person said they are not interested in.
        let mut rated_ids: Vec<MovieId> = profile.iter().map(|r| r.movie).collect();
        rated_ids.extend_from_slice(exclude);
        rated_ids.sort_unstable();
        let keep = |id: MovieId| {
            rated_ids.binary_search(&id).is_err()
                && (filters.is_empty() || self.movie(id).is_some_and(|m| filters.admits(m)))
        };
        let scored = recommender.score_profile(profile, n, &keep)?;
        let mut liked: Vec<(&CatalogMovie, f64)> =
            rated.into_iter().filter(|r| r.1 >= LIKED).collect();
        liked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.id.cmp(&b.0.id)));
        liked.truncate(REASON_CANDIDATES);
        let recommendations = scored
            .into_iter()
            .filter_map(|s| {
                let movie = self.movie(s.id)?;
                let (reason, because) =
                    reason(recommender, chosen, &liked, movie, profile.len(), voice);
                Some(Pick {
                    movie,
                    score: s.score,
                    predicted_rating: chosen.predicts_ratings().then(|| s.score.clamp(0.5, 5.0)),
                    reason,
                    because,
                })
            })
            .collect();
        Ok(Personal {
            model: Some(chosen),
            fallback,
            notice,
            rated: profile.len(),
            recommendations,
        })
    }

    fn popular_fallback(&self, n: usize, filters: &Filters) -> Personal<'_> {
        let recommendations = self
            .popular(n, filters)
            .into_iter()
            .enumerate()
            .map(|(rank, movie)| Pick {
                movie,
                score: 1.0 / (rank + 1) as f64,
                predicted_rating: None,
                reason: popular_reason(movie),
                because: Vec::new(),
            })
            .collect();
        Personal {
            model: None,
            fallback: Some(Fallback::Popular),
            notice: Some(
                "no ratings yet: these are the most popular movies; rate a few for a list of your own"
                    .to_owned(),
            ),
            rated: 0,
            recommendations,
        }
    }
}

/// "popular: 329 votes, rated 8.1/10".
pub fn popular_reason(movie: &CatalogMovie) -> String {
    let votes = movie.votes.unwrap_or(0);
    match movie.rating {
        Some(r) => format!("popular: {votes} votes, rated {r:.1}/10"),
        None => format!("popular: {votes} votes"),
    }
}

/// The liked movies contributing most to `candidate` by the model's own affinity, named in
/// words; with content v2 each named movie says what it shares with the candidate, so a
/// feature is only ever cited beside a movie that has it.
fn reason<'a>(
    recommender: &dyn Recommender,
    model: SimilarModel,
    liked: &[(&'a CatalogMovie, f64)],
    candidate: &CatalogMovie,
    ratings: usize,
    voice: Voice,
) -> (String, Vec<Because<'a>>) {
    let mut contributions: Vec<(f64, &'a CatalogMovie, f64)> = liked
        .iter()
        .map(|&(m, stars)| {
            let c = star_weight(stars) * recommender.affinity(m.id, candidate.id);
            (c, m, stars)
        })
        .filter(|c| c.0 > 0.0)
        .collect();
    contributions.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.id.cmp(&b.1.id)));
    contributions.truncate(2);
    let because: Vec<Because<'a>> = contributions
        .iter()
        .map(|&(_, m, stars)| Because {
            movie_id: m.id,
            title: &m.title,
            rating: stars,
        })
        .collect();
    if because.is_empty() {
        let s = if ratings == 1 { "" } else { "s" };
        let whose = voice.possessive();
        return (format!("from {whose} {ratings} rating{s}"), because);
    }
    let named: Vec<String> = contributions
        .iter()
        .map(|&(_, m, stars)| {
            let mut said = format!("{} {}/5", m.title, stars);
            if model == SimilarModel::Content {
                let shared = recommender.explain(m, candidate);
                if !shared.is_empty() {
                    said.push_str(&format!(" ({shared})"));
                }
            }
            said
        })
        .collect();
    let text = format!("because {} rated {}", voice.subject(), named.join(" and "));
    (text, because)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::movie::{Fact, MovieAttributes};
    use crate::recommend::test_movie;
    use std::time::Instant;

    fn movie(id: i64, title: &str, genre: &str, director: &str, year: i32) -> CatalogMovie {
        CatalogMovie {
            title: title.to_owned(),
            genre: Some(genre.to_owned()),
            director: Some(director.to_owned()),
            ..test_movie(id, 7.5, year)
        }
    }

    /// Rated: The Matrix and Pulp Fiction. Reservoir Dogs shares its director with Pulp
    /// Fiction only: the director is cited beside Pulp Fiction, never beside The Matrix.
    #[test]
    fn a_content_reason_cites_each_feature_beside_the_rated_film_that_has_it() {
        let movies = vec![
            movie(
                1,
                "The Matrix",
                "Action|Science Fiction",
                "Lana Wachowski",
                1999,
            ),
            movie(
                2,
                "Pulp Fiction",
                "Crime|Thriller",
                "Quentin Tarantino",
                1994,
            ),
            movie(
                3,
                "Reservoir Dogs",
                "Crime|Thriller",
                "Quentin Tarantino",
                1992,
            ),
            movie(4, "Heat", "Action|Crime", "Michael Mann", 1995),
        ];
        let attributes = vec![
            MovieAttributes {
                language: Some("en".to_owned()),
                facts: vec![Fact::Certification("R".to_owned())],
                ..MovieAttributes::default()
            };
            4
        ];
        let engine = Engine::build(movies, attributes, None, Instant::now()).expect("build");
        let profile = [
            Rated {
                movie: MovieId(1),
                rating: 5.0,
            },
            Rated {
                movie: MovieId(2),
                rating: 5.0,
            },
        ];
        let list = engine
            .recommend(
                &profile,
                2,
                &Filters::default(),
                Some(SimilarModel::Content),
                Voice::You,
                &[],
            )
            .expect("list");
        let dogs = list
            .recommendations
            .iter()
            .find(|p| p.movie.id == MovieId(3))
            .expect("Reservoir Dogs is recommended");
        let reason = &dogs.reason;
        assert!(
            reason.starts_with("because you rated Pulp Fiction 5/5 ("),
            "{reason}"
        );
        let director = reason
            .find("Quentin Tarantino")
            .expect("the director is cited");
        if let Some(matrix) = reason.find("The Matrix") {
            assert!(matrix > director, "{reason}");
            assert!(!reason[matrix..].contains("Tarantino"), "{reason}");
        }
        // Plain words: no language code, no stemmed words.
        assert!(
            reason.contains("in English") && !reason.contains(" en"),
            "{reason}"
        );
        assert!(reason.contains("rated R"), "{reason}");

        let theirs = engine
            .recommend(
                &profile,
                2,
                &Filters::default(),
                Some(SimilarModel::Content),
                Voice::They,
                &[],
            )
            .expect("list");
        assert!(theirs
            .recommendations
            .iter()
            .all(|p| p.reason.starts_with("because they rated ")));
    }
}
