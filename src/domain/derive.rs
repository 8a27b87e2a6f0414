//! How a catalog movie (`Movies`) is derived from what each provider says of it — the per-field
//! trust policy. Pure: the store reads the facts and writes the result.
//!
//! | field | rule |
//! |---|---|
//! | title, release year and date | the first provider with a value in [`Provider::IDENTITY_TRUST`] (tmdb, movielens, vega, file) |
//! | genres | the union of the trusted providers' (tmdb, movielens) when either has any; else vega's and the file's |
//! | director, overview, runtime, language, popularity | the first provider with a value in [`Provider::ATTRIBUTE_PRIORITY`] (tmdb, vega, movielens, file) |
//! | rating and votes | the run's [`RatingPolicy`] |
//!
//! Every disagreement the rules settle is returned as a [`Conflict`]: a year (a vega year exactly
//! 100 off is named the two-digit slip it is), a title that is another title and not another
//! spelling of it, a runtime more than 5 minutes off, genres that the trusted sources overrule.

use super::genre::Genre;
use super::identity::normalize::normalize;
use super::source::{Provider, Providers, RatingPolicy};
use serde::{Deserialize, Serialize};

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
    /// The same genres, in vocabulary order.
    pub genres: Vec<Genre>,
    /// The compact normal forms of every provider's title, `|`-separated: what search matches.
    pub search_key: String,
    pub director: Option<String>,
    pub overview: Option<String>,
    pub runtime: Option<u32>,
    pub language: Option<String>,
    pub popularity: Option<f64>,
    /// The providers whose ratings `rating` is made from (empty without one).
    pub rating_from: Providers,
    /// Per field, the provider that supplied it (`several` for a rating of more than one).
    pub supplied_by: Vec<(&'static str, &'static str)>,
    /// The disagreements the policy settled.
    pub conflicts: Vec<Conflict>,
}

/// Two providers disagreeing on a field, and which value the policy kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Conflict {
    /// `title`, `release_year`, `runtime` or `genre`.
    pub field: String,
    /// The provider whose value was kept, and its value.
    pub kept_from: Provider,
    pub kept: String,
    /// The provider overruled, and its value.
    pub overruled: Provider,
    pub value: String,
    /// A named kind of error, when the policy recognises it (`two_digit_year`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

fn rank(order: &[Provider], provider: Option<Provider>) -> usize {
    provider
        .and_then(|p| order.iter().position(|q| *q == p))
        .unwrap_or(order.len())
}

/// Providers whose genres overrule the others' (see the module docs).
const GENRE_TRUSTED: [Provider; 2] = [Provider::Tmdb, Provider::Movielens];

/// Derives a movie from its providers' facts (any order; at least one) and each provider's genres.
pub fn derive<'f>(
    facts: &'f [ProviderFacts],
    genres: &[(Provider, Genre)],
    policy: &RatingPolicy,
) -> Derived {
    let mut trusted: Vec<&ProviderFacts> = facts.iter().collect();
    trusted.sort_by_key(|f| rank(&Provider::IDENTITY_TRUST, f.provider));
    let mut ordered: Vec<&ProviderFacts> = facts.iter().collect();
    ordered.sort_by_key(|f| rank(&Provider::ATTRIBUTE_PRIORITY, f.provider));
    let name = |f: &ProviderFacts| f.provider.map_or("unknown", Provider::as_str);
    let mut supplied_by = Vec::new();
    let mut first = |field: &'static str,
                     order: &[&'f ProviderFacts],
                     has: &dyn Fn(&ProviderFacts) -> bool|
     -> Option<&'f ProviderFacts> {
        let found = order.iter().copied().find(|f| has(f));
        if let Some(f) = found {
            supplied_by.push((field, name(f)));
        }
        found
    };
    let head = first("title", &trusted, &|_| true);
    let date = first("release_date", &trusted, &|f| f.release_date.is_some());
    let director = first("director", &ordered, &|f| f.director.is_some());
    let overview = first("overview", &ordered, &|f| f.overview.is_some());
    let runtime = first("runtime", &ordered, &|f| f.runtime.is_some());
    let language = ordered.iter().find_map(|f| f.language.clone());
    let popularity = ordered.iter().find_map(|f| f.popularity);
    let rated: Vec<&ProviderFacts> = ordered
        .iter()
        .copied()
        .filter(|f| f.rating.is_some())
        .collect();
    let mut rating_from = Providers::default();
    let (rating, votes) = match policy {
        RatingPolicy::VoteWeighted => match rated.as_slice() {
            [] => (None, None),
            [one] => {
                rating_from.extend(one.provider);
                (one.rating_on_ten(), one.votes)
            }
            several => {
                let weight = |f: &ProviderFacts| f.votes.unwrap_or(1).max(1) as f64;
                let total: f64 = several.iter().map(|f| weight(f)).sum();
                let sum: f64 = several
                    .iter()
                    .filter_map(|f| Some(f.rating_on_ten()? * weight(f)))
                    .sum();
                let votes = several.iter().filter_map(|f| f.votes).reduce(|a, b| a + b);
                for f in several {
                    rating_from.extend(f.provider);
                }
                (Some((sum / total * 100.0).round() / 100.0), votes)
            }
        },
        RatingPolicy::Priority(list) => list
            .iter()
            .find_map(|p| rated.iter().find(|f| f.provider == Some(*p)))
            .map_or((None, None), |f| {
                rating_from.extend(f.provider);
                (f.rating_on_ten(), f.votes)
            }),
    };
    match rated.as_slice() {
        [] => {}
        [one] => supplied_by.push(("rating", name(one))),
        _ => supplied_by.push(("rating", "several")),
    }
    let mut conflicts = Vec::new();
    if let Some(head) = head {
        conflicts = settled_conflicts(
            head,
            &trusted[1..],
            runtime
                .and_then(|f| f.runtime)
                .zip(runtime.and_then(|f| f.provider)),
        );
    }
    let genres = settled_genres(genres, &mut conflicts);
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
        genres,
        search_key: search_key(trusted.iter().map(|f| f.title.as_str())),
        director: director.and_then(|f| f.director.clone()),
        overview: overview.and_then(|f| f.overview.clone()),
        runtime: runtime.and_then(|f| f.runtime),
        language,
        popularity,
        rating_from,
        supplied_by,
        conflicts,
    }
}

/// The search key of a movie with these titles (see [`Derived::search_key`]).
pub fn search_key<'t>(titles: impl Iterator<Item = &'t str>) -> String {
    let mut keys: Vec<String> = Vec::new();
    for t in titles {
        let compact = normalize(t).compact;
        if !compact.is_empty() && !keys.contains(&compact) {
            keys.push(compact);
        }
    }
    keys.join("|")
}

/// The disagreements of the overruled providers with the kept title, year and runtime.
fn settled_conflicts(
    head: &ProviderFacts,
    others: &[&ProviderFacts],
    runtime: Option<(u32, Provider)>,
) -> Vec<Conflict> {
    let mut out = Vec::new();
    let (Some(kept_from), key) = (head.provider, normalize(&head.title).compact) else {
        return out;
    };
    for f in others {
        let Some(overruled) = f.provider else {
            continue;
        };
        let mut add = |field: &str, kept: String, value: String, kind: Option<&str>| {
            out.push(Conflict {
                field: field.to_owned(),
                kept_from,
                kept,
                overruled,
                value,
                kind: kind.map(str::to_owned),
            });
        };
        if f.release_year != head.release_year {
            let slip = (f.release_year - head.release_year).abs() == 100;
            add(
                "release_year",
                head.release_year.to_string(),
                f.release_year.to_string(),
                slip.then_some("two_digit_year"),
            );
        }
        if normalize(&f.title).compact != key {
            add("title", head.title.clone(), f.title.clone(), None);
        }
        if let (Some((kept, from)), Some(value)) = (runtime, f.runtime) {
            if from != overruled && kept.abs_diff(value) > 5 {
                out.push(Conflict {
                    field: "runtime".to_owned(),
                    kept_from: from,
                    kept: kept.to_string(),
                    overruled,
                    value: value.to_string(),
                    kind: None,
                });
            }
        }
    }
    out
}

/// The catalog's genres by the genre rule, recording the untrusted genres it overrules.
fn settled_genres(genres: &[(Provider, Genre)], conflicts: &mut Vec<Conflict>) -> Vec<Genre> {
    let of = |trusted: bool| -> Vec<Genre> {
        let mut g: Vec<Genre> = genres
            .iter()
            .filter(|(p, _)| GENRE_TRUSTED.contains(p) == trusted)
            .map(|(_, g)| *g)
            .collect();
        g.sort_unstable();
        g.dedup();
        g
    };
    let (kept, rest) = (of(true), of(false));
    if kept.is_empty() {
        return rest;
    }
    let names = |g: &[Genre]| g.iter().map(|g| g.name()).collect::<Vec<_>>().join("|");
    let kept_from = genres
        .iter()
        .map(|(p, _)| *p)
        .find(|p| GENRE_TRUSTED.contains(p));
    let mut overruled: Vec<Provider> = genres
        .iter()
        .map(|(p, _)| *p)
        .filter(|p| !GENRE_TRUSTED.contains(p))
        .collect();
    overruled.sort_unstable();
    overruled.dedup();
    for p in overruled {
        let theirs: Vec<Genre> = genres
            .iter()
            .filter(|(q, _)| *q == p)
            .map(|(_, g)| *g)
            .collect();
        if theirs.iter().any(|g| !kept.contains(g)) {
            conflicts.push(Conflict {
                field: "genre".to_owned(),
                kept_from: kept_from.unwrap_or(Provider::Tmdb),
                kept: names(&kept),
                overruled: p,
                value: names(&theirs),
                kind: None,
            });
        }
    }
    kept
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
            &[
                (Provider::Tmdb, Genre::Romance),
                (Provider::Tmdb, Genre::Drama),
            ],
            &RatingPolicy::VoteWeighted,
        );
        assert_eq!(d.title, "tmdb title");
        assert_eq!(
            d.conflicts.len(),
            1,
            "vega's title is another title: {:?}",
            d.conflicts
        );
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
        assert_eq!(d.rating_from.code().as_deref(), Some("vega|movielens"));
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
        assert_eq!(
            d.rating_from.iter().collect::<Vec<_>>(),
            [Provider::Movielens],
            "only the provider the policy took"
        );
        let unrated = derive(
            &[facts(Provider::Tmdb, None, Some(0))],
            &[],
            &RatingPolicy::VoteWeighted,
        );
        assert_eq!((unrated.rating, unrated.votes), (None, None));
        assert_eq!(unrated.rating_from.code(), None);
        assert_eq!(
            Providers::parse("tmdb|nonsense|movielens")
                .code()
                .as_deref(),
            Some("tmdb|movielens")
        );
    }

    #[test]
    fn identifying_facts_trust_providers_with_ids_and_name_the_overruled() {
        let mut vega = facts(Provider::Vega, None, None);
        vega.title = "Wings".into();
        vega.release_year = 2027;
        vega.runtime = Some(139);
        let mut ml = facts(Provider::Movielens, None, None);
        ml.title = "Wings".into();
        ml.release_year = 1927;
        let d = derive(
            &[vega.clone(), ml.clone()],
            &[
                (Provider::Vega, Genre::History),
                (Provider::Vega, Genre::Drama),
                (Provider::Movielens, Genre::Drama),
                (Provider::Movielens, Genre::Romance),
                (Provider::Movielens, Genre::War),
            ],
            &RatingPolicy::VoteWeighted,
        );
        assert_eq!((d.title.as_str(), d.release_year), ("Wings", 1927));
        assert_eq!(d.genre.as_deref(), Some("Drama|Romance|War"));
        assert_eq!(d.runtime, Some(139), "a runtime only vega has is vega's");
        let fields: Vec<(&str, Provider, Option<&str>)> = d
            .conflicts
            .iter()
            .map(|c| (c.field.as_str(), c.overruled, c.kind.as_deref()))
            .collect();
        assert_eq!(
            fields,
            [
                ("release_year", Provider::Vega, Some("two_digit_year")),
                ("genre", Provider::Vega, None)
            ]
        );
        // Alone, vega's facts are the catalog's, genres included.
        let alone = derive(
            std::slice::from_ref(&vega),
            &[(Provider::Vega, Genre::Drama)],
            &RatingPolicy::VoteWeighted,
        );
        assert_eq!(
            (alone.release_year, alone.genre.as_deref()),
            (2027, Some("Drama"))
        );
        assert!(alone.conflicts.is_empty());
        // Another spelling of one title is no conflict; a runtime 6+ minutes off is.
        let mut tmdb = facts(Provider::Tmdb, None, None);
        tmdb.title = "WINGS".into();
        tmdb.release_year = 1927;
        tmdb.runtime = Some(144);
        let d = derive(&[vega, ml, tmdb], &[], &RatingPolicy::VoteWeighted);
        let fields: Vec<&str> = d.conflicts.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(fields, ["release_year"], "{:?}", d.conflicts);
        assert_eq!(d.runtime, Some(144));
    }
}
