//! Where a movie fact comes from: the data providers, the namespaces of their external ids, and
//! the policy that derives one catalog rating from the providers' ratings.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A data provider: every fact in the catalog is kept per provider, so loading one never
/// changes another's (see `movie_sources`).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// TMDB: the movie-API ingest and the TMDB CSV export (ratings 0–10 from TMDB users).
    Tmdb,
    /// The vega-datasets movies file (ratings are IMDb's, 0–10).
    Vega,
    /// MovieLens (ratings 0.5–5 by its users; the per-movie fact is their mean).
    Movielens,
    /// Any other file with title, release date and rating columns (ratings 0–10).
    File,
}

impl Provider {
    pub const ALL: [Provider; 4] = [
        Provider::Tmdb,
        Provider::Vega,
        Provider::Movielens,
        Provider::File,
    ];

    /// The order descriptive fields (title, date, overview, director, runtime…) are taken in:
    /// the first provider that has a value supplies it.
    pub const ATTRIBUTE_PRIORITY: [Provider; 4] = Self::ALL;

    /// The order the facts that identify a film — title, release year and date, genres — are
    /// trusted in: providers that key their films by id (TMDB, MovieLens) before vega, whose
    /// titles are abbreviated ("Star Wars Ep. IV"), whose years hold two-digit slips (Wings 2027
    /// for 1927) and re-release dates (Akira 2001), and whose genre is one "major genre".
    pub const IDENTITY_TRUST: [Provider; 4] = [
        Provider::Tmdb,
        Provider::Movielens,
        Provider::Vega,
        Provider::File,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Tmdb => "tmdb",
            Provider::Vega => "vega",
            Provider::Movielens => "movielens",
            Provider::File => "file",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == code)
    }

    /// The top of the provider's rating scale (the bottom is 0).
    pub fn scale(self) -> f64 {
        match self {
            Provider::Movielens => 5.0,
            _ => 10.0,
        }
    }

    /// The namespaces of the key that identifies a record of this provider: its own id where
    /// it has one, otherwise the normalised title and year (in the first namespace).
    pub fn own_namespaces(self) -> &'static [Namespace] {
        match self {
            Provider::Tmdb => &[Namespace::Tmdb],
            Provider::Vega => &[Namespace::Vega],
            Provider::Movielens => &[Namespace::Movielens, Namespace::Ml100k],
            Provider::File => &[Namespace::File],
        }
    }
}

/// A set of providers in one byte: whose ratings a movie's rating is made from. Stored as
/// their codes joined by `|` (`tmdb|movielens`); written to JSON as a list of codes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Providers(u8);

impl Providers {
    pub fn insert(&mut self, p: Provider) {
        self.0 |= 1 << p as u8;
    }

    pub fn contains(self, p: Provider) -> bool {
        self.0 & (1 << p as u8) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The members, in [`Provider::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Provider> {
        Provider::ALL.into_iter().filter(move |p| self.contains(*p))
    }

    /// `tmdb|movielens`; `None` for the empty set.
    /// A single provider (most movies) borrows its code: no allocation per row of a load.
    pub fn code(self) -> Option<std::borrow::Cow<'static, str>> {
        let mut members = self.iter();
        let first = members.next()?;
        Some(match members.next() {
            None => first.as_str().into(),
            Some(_) => self
                .iter()
                .map(Provider::as_str)
                .collect::<Vec<_>>()
                .join("|")
                .into(),
        })
    }

    /// The set a [`Providers::code`] stands for (unknown codes are skipped).
    pub fn parse(code: &str) -> Self {
        code.split('|').filter_map(Provider::parse).collect()
    }
}

impl Extend<Provider> for Providers {
    fn extend<I: IntoIterator<Item = Provider>>(&mut self, iter: I) {
        for p in iter {
            self.insert(p);
        }
    }
}

impl FromIterator<Provider> for Providers {
    fn from_iter<I: IntoIterator<Item = Provider>>(iter: I) -> Self {
        let mut set = Providers::default();
        set.extend(iter);
        set
    }
}

impl Serialize for Providers {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The namespace of an external id (`movie_ids.namespace`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Namespace {
    Tmdb,
    /// `tt0120338`.
    Imdb,
    /// MovieLens `movieId` of ml-1m, ml-latest, ml-25m and ml-32m (one id space).
    Movielens,
    /// ml-100k's item ids: a different id space from the other MovieLens sets.
    Ml100k,
    /// vega has no ids: its key is the normalised title and year (`titanic (1997)`).
    Vega,
    /// A file without ids: keyed like vega.
    File,
}

impl Namespace {
    pub fn as_str(self) -> &'static str {
        match self {
            Namespace::Tmdb => "tmdb",
            Namespace::Imdb => "imdb",
            Namespace::Movielens => "movielens",
            Namespace::Ml100k => "ml100k",
            Namespace::Vega => "vega",
            Namespace::File => "file",
        }
    }

    /// The namespace a stored code stands for.
    pub fn parse(code: &str) -> Option<Self> {
        [
            Namespace::Tmdb,
            Namespace::Imdb,
            Namespace::Movielens,
            Namespace::Ml100k,
            Namespace::Vega,
            Namespace::File,
        ]
        .into_iter()
        .find(|n| n.as_str() == code)
    }
}

/// One external id of a movie.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExternalId {
    pub namespace: Namespace,
    pub value: String,
}

impl ExternalId {
    pub fn new(namespace: Namespace, value: impl Into<String>) -> Self {
        Self {
            namespace,
            value: value.into(),
        }
    }

    /// The key of a record without ids: normalised title and year.
    pub fn natural(namespace: Namespace, title_key: &str, year: i32) -> Self {
        Self::new(namespace, format!("{title_key} ({year})"))
    }

    /// An IMDb id in its canonical `tt` + at least 7 digits form, from `tt0120338`, `0120338` or
    /// `120338` (MovieLens `links.csv` drops the prefix); `None` if it is not one.
    pub fn imdb(raw: &str) -> Option<Self> {
        let digits = raw.trim().trim_start_matches("tt");
        (!digits.is_empty() && digits.len() <= 10 && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| Self::new(Namespace::Imdb, format!("tt{digits:0>7}")))
    }
}

/// How `Movies.Rating` (0–10) is derived from the providers' ratings. Each provider's rating is
/// first put on 0–10 (MovieLens × 2); a rating backed by zero votes is no rating.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum RatingPolicy {
    /// The mean of the providers' ratings weighted by their votes (a rating with an unknown
    /// number of votes weighs as one vote); a single rating is taken as it is.
    #[default]
    VoteWeighted,
    /// The rating of the first provider in the list that has one.
    Priority(Vec<Provider>),
}

impl RatingPolicy {
    /// `vote-weighted`, or `priority:vega,tmdb,movielens,file`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text == "vote-weighted" {
            return Ok(Self::VoteWeighted);
        }
        let list = text.strip_prefix("priority:").ok_or_else(|| {
            format!("{text:?}: expected `vote-weighted` or `priority:PROVIDER,…` (e.g. priority:vega,tmdb,movielens,file)")
        })?;
        let providers = list
            .split(',')
            .map(|p| {
                Provider::parse(p.trim()).ok_or_else(|| {
                    format!("{p:?} is not a provider; known: tmdb, vega, movielens, file")
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::Priority(providers))
    }
}

impl fmt::Display for RatingPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RatingPolicy::VoteWeighted => f.write_str("vote-weighted"),
            RatingPolicy::Priority(list) => {
                let names: Vec<_> = list.iter().map(|p| p.as_str()).collect();
                write!(f, "priority:{}", names.join(","))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imdb_ids_are_canonical_whatever_their_padding() {
        for raw in ["tt0120338", "0120338", "120338", " tt120338 "] {
            assert_eq!(
                ExternalId::imdb(raw).map(|i| i.value),
                Some("tt0120338".into()),
                "{raw}"
            );
        }
        assert_eq!(
            ExternalId::imdb("tt12345678").map(|i| i.value),
            Some("tt12345678".into())
        );
        assert_eq!(ExternalId::imdb("tt"), None);
        assert_eq!(ExternalId::imdb("abc"), None);
    }

    #[test]
    fn rating_policy_round_trips_and_names_bad_providers() {
        for text in ["vote-weighted", "priority:vega,tmdb"] {
            assert_eq!(RatingPolicy::parse(text).expect("valid").to_string(), text);
        }
        let err = RatingPolicy::parse("priority:vega,imdb").unwrap_err();
        assert!(err.contains("\"imdb\""), "{err}");
        assert!(RatingPolicy::parse("mean").is_err());
    }
}
