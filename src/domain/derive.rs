//! How a catalog movie (`Movies`) is derived from what each provider says of it: descriptive
//! fields from the first provider with a value in [`Provider::ATTRIBUTE_PRIORITY`], the rating
//! by a [`RatingPolicy`], genres from all. Pure: the store reads the facts and writes the result.

use super::genre::Genre;
use super::source::{Provider, RatingPolicy};

/// One provider's facts of a movie, as `movie_sources` keeps them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProviderFacts {
    pub provider: Option<Provider>,
    pub title: String,
    pub title_key: String,
    pub release_year: i32,
    pub release_date: Option<String>,
    /// On the provider's scale (0 to `scale`).
    pub rating: Option<f64>,
    pub scale: f64,
    pub votes: Option<u64>,
    pub director: Option<String>,
    pub overview: Option<String>,
    pub runtime: Option<u32>,
    pub language: Option<String>,
    pub popularity: Option<f64>,
}

impl ProviderFacts {
    /// The rating on the catalog's 0–10 scale.
    fn rating_on_ten(&self) -> Option<f64> {
        self.rating.map(|r| {
            if self.scale == 10.0 {
                r
            } else {
                r * 10.0 / self.scale
            }
        })
    }
}

/// A catalog movie's derived values.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Derived {
    pub title: String,
    pub title_key: String,
    pub release_year: i32,
    pub release_date: Option<String>,
    pub rating: Option<f64>,
    pub votes: Option<u64>,
    /// Genres of the vocabulary, `|`-separated.
    pub genre: Option<String>,
    pub director: Option<String>,
    pub overview: Option<String>,
    pub runtime: Option<u32>,
    pub language: Option<String>,
    pub popularity: Option<f64>,
    /// Per field, the provider that supplied it (`several` for a rating of more than one).
    pub supplied_by: Vec<(&'static str, &'static str)>,
}

fn rank(provider: Option<Provider>) -> usize {
    provider
        .and_then(|p| Provider::ATTRIBUTE_PRIORITY.iter().position(|q| *q == p))
        .unwrap_or(Provider::ATTRIBUTE_PRIORITY.len())
}

/// Derives a movie from its providers' facts (any order; at least one) and genres.
pub fn derive(facts: &[ProviderFacts], genres: &[Genre], policy: &RatingPolicy) -> Derived {
    let mut ordered: Vec<&ProviderFacts> = facts.iter().collect();
    ordered.sort_by_key(|f| rank(f.provider));
    let name = |f: &ProviderFacts| f.provider.map_or("unknown", Provider::as_str);
    let mut supplied_by = Vec::new();
    let mut first = |field: &'static str, has: &dyn Fn(&ProviderFacts) -> bool| {
        let found = ordered.iter().copied().find(|f| has(f));
        if let Some(f) = found {
            supplied_by.push((field, name(f)));
        }
        found
    };
    let head = first("title", &|_| true);
    let date = first("release_date", &|f| f.release_date.is_some());
    let director = first("director", &|f| f.director.is_some());
    let overview = first("overview", &|f| f.overview.is_some());
    let runtime = first("runtime", &|f| f.runtime.is_some());
    let language = ordered.iter().find_map(|f| f.language.clone());
    let popularity = ordered.iter().find_map(|f| f.popularity);
    let rated: Vec<&ProviderFacts> = ordered
        .iter()
        .copied()
        .filter(|f| f.rating.is_some())
        .collect();
    let (rating, votes) = match policy {
        RatingPolicy::VoteWeighted => match rated.as_slice() {
            [] => (None, None),
            [one] => (one.rating_on_ten(), one.votes),
            several => {
                let weight = |f: &ProviderFacts| f.votes.unwrap_or(1).max(1) as f64;
                let total: f64 = several.iter().map(|f| weight(f)).sum();
                let sum: f64 = several
                    .iter()
                    .filter_map(|f| Some(f.rating_on_ten()? * weight(f)))
                    .sum();
                let votes = several.iter().filter_map(|f| f.votes).reduce(|a, b| a + b);
                (Some((sum / total * 100.0).round() / 100.0), votes)
            }
        },
        RatingPolicy::Priority(list) => list
            .iter()
            .find_map(|p| rated.iter().find(|f| f.provider == Some(*p)))
            .map_or((None, None), |f| (f.rating_on_ten(), f.votes)),
    };
    match rated.as_slice() {
        [] => {}
        [one] => supplied_by.push(("rating", name(one))),
        _ => supplied_by.push(("rating", "several")),
    }
    let mut genres = genres.to_vec();
    genres.sort_unstable();
    genres.dedup();
    Derived {
        title: head.map(|f| f.title.clone()).unwrap_or_default(),
        title_key: head.map(|f| f.title_key.clone()).unwrap_or_default(),
        release_year: head.map_or(0, |f| f.release_year),
        release_date: date.and_then(|f| f.release_date.clone()),
        rating,
        votes,
        genre: (!genres.is_empty()).then(|| {
            genres
                .iter()
                .map(|g| g.name())
                .collect::<Vec<_>>()
                .join("|")
        }),
        director: director.and_then(|f| f.director.clone()),
        overview: overview.and_then(|f| f.overview.clone()),
        runtime: runtime.and_then(|f| f.runtime),
        language,
        popularity,
        supplied_by,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(provider: Provider, rating: Option<f64>, votes: Option<u64>) -> ProviderFacts {
        ProviderFacts {
            provider: Some(provider),
            title: format!("{provider} title"),
            title_key: format!("{provider} title"),
            release_year: 1997,
            rating,
            scale: provider.scale(),
            votes,
            ..ProviderFacts::default()
        }
    }

    #[test]
    fn descriptive_fields_come_from_the_first_provider_that_has_them() {
        let mut vega = facts(Provider::Vega, Some(7.4), Some(240_732));
        vega.director = Some("James Cameron".into());
        let mut tmdb = facts(Provider::Tmdb, Some(7.5), Some(7562));
        tmdb.overview = Some("A ship.".into());
        let d = derive(
            &[vega, tmdb],
            &[Genre::Romance, Genre::Drama],
            &RatingPolicy::VoteWeighted,
        );
        assert_eq!(d.title, "tmdb title");
        assert_eq!(d.director.as_deref(), Some("James Cameron"));
        assert_eq!(d.overview.as_deref(), Some("A ship."));
        assert_eq!(d.genre.as_deref(), Some("Drama|Romance"));
        assert!(d.supplied_by.contains(&("director", "vega")));
        assert!(d.supplied_by.contains(&("rating", "several")));
    }

    #[test]
    fn ratings_are_vote_weighted_on_ten_or_taken_by_priority() {
        let ml = facts(Provider::Movielens, Some(4.0), Some(100));
        let vega = facts(Provider::Vega, Some(7.0), Some(300));
        let unknown_votes = facts(Provider::File, Some(2.0), None);
        let d = derive(
            &[ml.clone(), vega.clone()],
            &[],
            &RatingPolicy::VoteWeighted,
        );
        assert_eq!(d.rating, Some(7.25), "(8.0 × 100 + 7.0 × 300) / 400");
        assert_eq!(d.votes, Some(400));
        let alone = derive(std::slice::from_ref(&ml), &[], &RatingPolicy::VoteWeighted);
        assert_eq!((alone.rating, alone.votes), (Some(8.0), Some(100)));
        let d = derive(
            &[vega.clone(), unknown_votes],
            &[],
            &RatingPolicy::VoteWeighted,
        );
        assert_eq!(d.rating, Some(6.98), "(7.0 × 300 + 2.0 × 1) / 301 = 6.983…");
        let priority = RatingPolicy::Priority(vec![Provider::Movielens, Provider::Vega]);
        let d = derive(&[vega, ml], &[], &priority);
        assert_eq!((d.rating, d.votes), (Some(8.0), Some(100)));
        let unrated = derive(
            &[facts(Provider::Tmdb, None, Some(0))],
            &[],
            &RatingPolicy::VoteWeighted,
        );
        assert_eq!((unrated.rating, unrated.votes), (None, None));
    }
}
