//! Movies: the clean record the transform produces ([`Movie`]) and the catalog row every reader
//! sees ([`CatalogMovie`]). Parse, don't validate: a [`Movie`] that exists has passed every
//! transform stage, so the loader and the models never re-check it.

use super::genre::Genre;
use super::source::{ExternalId, Provider, Providers};
use super::MovieId;
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

/// Earliest release year accepted: the first motion pictures (Passage de Vénus, 1874).
pub const MIN_YEAR: i32 = 1874;

/// A display title: Unicode NFC, trimmed, inner whitespace collapsed to single spaces, never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    /// Normalises `raw`; `None` when nothing but whitespace is left.
    pub fn parse(raw: &str) -> Option<Self> {
        // ASCII is already in NFC: skip the normaliser for the common case.
        let nfc: std::borrow::Cow<'_, str> = if raw.is_ascii() {
            raw.into()
        } else {
            raw.nfc().collect::<String>().into()
        };
        let mut collapsed = String::with_capacity(nfc.len());
        for word in nfc.split_whitespace() {
            if !collapsed.is_empty() {
                collapsed.push(' ');
            }
            collapsed.push_str(word);
        }
        (!collapsed.is_empty()).then_some(Self(collapsed))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The matching key: two titles that differ only in case, whitespace or Unicode composition
    /// share it. Used for dedupe, the natural key, and title lookups in the CLI.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
}

/// The key two sources' titles are matched on: lower case, accents removed (NFKD without
/// combining marks), `&` read as `and`, punctuation as space, spaces collapsed, a leading
/// "the", "a" or "an" dropped. "The Naked Gun" and "Naked Gun", "Dumb & Dumber" and "Dumb and
/// Dumber", "Amélie" and "Amelie" share one.
pub fn match_key(title: &str) -> String {
    let folded: String = title
        .nfkd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect();
    let spaced = folded.replace('&', " and ");
    let words: Vec<&str> = spaced
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let words = match words.as_slice() {
        ["the" | "a" | "an", rest @ ..] if !rest.is_empty() => rest,
        all => all,
    };
    words.join(" ")
}

/// Lookup key of free text typed by a user, computed exactly like [`Title::key`].
pub fn title_key(raw: &str) -> String {
    Title::parse(raw).map(|t| t.key()).unwrap_or_default()
}

/// A rating on the 0–10 scale, finite.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct Rating(f64);

impl Rating {
    pub fn new(value: f64) -> Option<Self> {
        (value.is_finite() && (0.0..=10.0).contains(&value)).then_some(Self(value))
    }

    pub fn value(self) -> f64 {
        self.0
    }
}

/// A release date whose year lies in `MIN_YEAR..=max_year`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReleaseDate(NaiveDate);

impl ReleaseDate {
    pub fn new(date: NaiveDate, max_year: i32) -> Option<Self> {
        (MIN_YEAR..=max_year)
            .contains(&date.year())
            .then_some(Self(date))
    }

    pub fn date(self) -> NaiveDate {
        self.0
    }

    pub fn year(self) -> i32 {
        self.0.year()
    }
}

/// One clean movie record, as produced by the transform and consumed by the loader: what one
/// provider says of one film. It has no [`MovieId`] yet: the store matches it to the movie it
/// is (by external id, then by title and year) or assigns a new one.
#[derive(Debug, Clone, PartialEq)]
pub struct Movie {
    pub provider: Provider,
    /// The provider's own key first (its id, or the natural key for a source without ids), then
    /// any other ids it gives (an IMDb id from TMDB, TMDB and IMDb ids from MovieLens links).
    pub ids: Vec<ExternalId>,
    pub title: Title,
    /// The title in the film's own language, or another it is known by.
    pub original_title: Option<Title>,
    /// The title as the source spelled it, when text repair changed it: a catalog loaded
    /// before the repair keyed a source without ids by it.
    pub unrepaired_title: Option<Title>,
    pub year: i32,
    pub release_date: Option<NaiveDate>,
    /// `None` when the provider has no rating, or one backed by zero votes.
    pub rating: Option<Rating>,
    pub votes: Option<u64>,
    pub genres: Vec<Genre>,
    pub keywords: Vec<String>,
    /// In billing order.
    pub cast: Vec<String>,
    pub directors: Vec<String>,
    pub writers: Vec<String>,
    pub overview: Option<String>,
    pub runtime: Option<u32>,
    pub language: Option<String>,
    pub popularity: Option<f64>,
    pub certification: Option<String>,
    pub creative_type: Option<String>,
    /// 1-based position of the record in its source, for lineage and dedupe reports.
    pub source_row: u64,
}

impl Movie {
    /// A record with only the required facts, the rest empty: the transform fills it in.
    pub fn new(provider: Provider, title: Title, year: i32, source_row: u64) -> Self {
        Self {
            provider,
            ids: Vec::new(),
            title,
            original_title: None,
            unrepaired_title: None,
            year,
            release_date: None,
            rating: None,
            votes: None,
            genres: Vec::new(),
            keywords: Vec::new(),
            cast: Vec::new(),
            directors: Vec::new(),
            writers: Vec::new(),
            overview: None,
            runtime: None,
            language: None,
            popularity: None,
            certification: None,
            creative_type: None,
            source_row,
        }
    }

    /// The provider's own key: what a re-load of the same source matches on.
    pub fn own_id(&self) -> ExternalId {
        let own = self.provider.own_namespaces();
        self.ids
            .iter()
            .find(|id| own.contains(&id.namespace))
            .cloned()
            .unwrap_or_else(|| ExternalId::natural(own[0], &self.title.key(), self.year))
    }

    /// Every id of the record, its own first; for a source without ids whose title was
    /// repaired, also the natural key of the title as it came, so an older catalog still finds
    /// the movie by it.
    pub fn all_ids(&self) -> Vec<ExternalId> {
        let own = self.own_id();
        let mut ids = vec![own.clone()];
        ids.extend(self.ids.iter().filter(|i| **i != own).cloned());
        let natural = !self.ids.iter().any(|i| i.namespace == own.namespace);
        if let Some(before) = self.unrepaired_title.as_ref().filter(|_| natural) {
            ids.push(ExternalId::natural(own.namespace, &before.key(), self.year));
        }
        ids
    }
}

/// What the content model reads of a catalog movie beyond [`CatalogMovie`]: every provider's
/// attributes, merged (lists deduplicated in first-seen order).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MovieAttributes {
    pub genres: Vec<String>,
    pub keywords: Vec<String>,
    /// MovieLens users' tags, lower-cased.
    pub tags: Vec<String>,
    pub directors: Vec<String>,
    /// In billing order.
    pub cast: Vec<String>,
    pub writers: Vec<String>,
    pub overview: Option<String>,
    pub runtime: Option<i64>,
    pub language: Option<String>,
    /// Certifications and creative types, as the providers say them (one list: a million
    /// movies' attributes are held while the content model fits).
    pub facts: Vec<Fact>,
}

/// A categorical fact a provider states of a movie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fact {
    /// An MPAA certification: "PG-13".
    Certification(String),
    /// vega's Creative Type: "Historical Fiction".
    CreativeType(String),
}

impl Fact {
    /// What the provider said.
    pub fn text(&self) -> &str {
        match self {
            Fact::Certification(t) | Fact::CreativeType(t) => t,
        }
    }
}

/// A movie of the catalog, as the CLI, the API and the models read it. Its facts are derived
/// from every provider's (see [`crate::domain::source::RatingPolicy`]).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CatalogMovie {
    pub id: MovieId,
    pub title: String,
    pub release_year: i32,
    /// 0–10; `null` when no provider rates it.
    #[serde(serialize_with = "crate::domain::round::rating_opt")]
    pub rating: Option<f64>,
    pub votes: Option<u64>,
    /// Genres of the vocabulary, `|`-separated.
    pub genre: Option<String>,
    pub director: Option<String>,
    /// The providers whose ratings `rating` is made from, as the rating policy chose them
    /// (`vega`'s ratings are IMDb's).
    #[schema(value_type = Vec<Provider>)]
    pub rating_from: Providers,
    /// Its TMDB id, when a source gave one: `https://www.themoviedb.org/movie/{tmdb_id}`
    /// (never 0: four bytes per movie with the niche, not eight).
    #[schema(value_type = Option<u32>)]
    pub tmdb_id: Option<std::num::NonZeroU32>,
    /// Its IMDb id (`tt0133093`), when a source gave one: `https://www.imdb.com/title/{imdb_id}/`.
    #[schema(value_type = Option<String>)]
    pub imdb_id: Option<ImdbId>,
}

/// An IMDb title id, `tt` and at least seven digits, kept as its number (a few bytes per movie
/// of a million-movie catalog, not a string).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImdbId(std::num::NonZeroU32);

impl ImdbId {
    /// `tt0133093` → 133093; anything else is not an IMDb title id.
    pub fn parse(text: &str) -> Option<Self> {
        let digits = text.strip_prefix("tt")?;
        (digits.len() >= 7 && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| digits.parse().ok().map(ImdbId))
            .flatten()
    }
}

impl std::fmt::Display for ImdbId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "tt{:07}", self.0)
    }
}

impl Serialize for ImdbId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A movie with everything the catalog knows of it: the API's movie resource.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MovieDetail {
    /// The catalog row, its fields at the top level of the JSON object.
    #[serde(flatten)]
    pub movie: CatalogMovie,
    /// ISO 8601, when a provider gives the day.
    pub release_date: Option<String>,
    /// Genres of the vocabulary, from every provider.
    pub genres: Vec<String>,
    pub directors: Vec<String>,
    pub writers: Vec<String>,
    /// Top billing first, at most ten.
    pub cast: Vec<String>,
    pub keywords: Vec<String>,
    /// MovieLens users' tags, most used first, at most ten.
    pub tags: Vec<String>,
    pub overview: Option<String>,
    /// Minutes.
    pub runtime: Option<u32>,
    /// ISO 639-1.
    pub original_language: Option<String>,
    /// Its English name ("French" for `fr`), so pages need no locale data of their own.
    pub language_name: Option<&'static str>,
    pub popularity: Option<f64>,
    /// What each provider says, with its own scale.
    pub sources: Vec<SourceFacts>,
    /// Every external id of the movie, `namespace:id`: e.g. `tmdb:603`, `imdb:tt0133093`.
    pub ids: Vec<String>,
}

/// The English name of an ISO 639-1 code: "French" for `fr`; `None` for a code ISO 639-1 lacks.
pub fn language_name(code: &str) -> Option<&'static str> {
    isolang::Language::from_639_1(code).map(|l| l.to_name())
}

/// One provider's rating of a movie.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct SourceFacts {
    pub provider: Provider,
    /// On the provider's scale (0 to `scale`); `null` when it has none.
    pub rating: Option<f64>,
    pub scale: f64,
    pub votes: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn languages_are_named_in_english_and_unknown_codes_are_not() {
        assert_eq!(language_name("fr"), Some("French"));
        assert_eq!(language_name("en"), Some("English"));
        assert_eq!(language_name("xx"), None);
        assert_eq!(language_name(""), None);
    }

    /// A million-movie catalog is held in memory: the ids and rating sources cost 8 bytes a
    /// movie (niches and a bitset), not 24.
    #[test]
    fn a_catalog_movie_stays_within_128_bytes() {
        assert!(
            std::mem::size_of::<CatalogMovie>() <= 128,
            "{}",
            std::mem::size_of::<CatalogMovie>()
        );
        assert_eq!(
            ImdbId::parse("tt0120338").map(|i| i.to_string()).as_deref(),
            Some("tt0120338")
        );
        assert_eq!(
            ImdbId::parse("tt10872600")
                .map(|i| i.to_string())
                .as_deref(),
            Some("tt10872600")
        );
        for bad in ["0120338", "tt012", "tt0000000", "tt01a0338", "nm0000138"] {
            assert_eq!(ImdbId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn title_is_nfc_trimmed_and_collapsed() {
        let t = Title::parse("  Ame\u{301}lie \t\n  Poulain ").expect("non-empty");
        assert_eq!(t.as_str(), "Am\u{e9}lie Poulain");
        assert_eq!(t.key(), "amélie poulain");
    }

    #[test]
    fn blank_title_is_rejected() {
        assert_eq!(Title::parse(" \t "), None);
        assert_eq!(Title::parse(""), None);
    }

    #[test]
    fn rating_must_be_finite_and_within_zero_to_ten() {
        assert!(Rating::new(0.0).is_some());
        assert!(Rating::new(10.0).is_some());
        assert!(Rating::new(10.01).is_none());
        assert!(Rating::new(-0.1).is_none());
        assert!(Rating::new(f64::NAN).is_none());
    }

    #[test]
    fn release_year_bounds_are_inclusive() {
        let d = |y| NaiveDate::from_ymd_opt(y, 1, 1).expect("valid date");
        assert!(ReleaseDate::new(d(1874), 2027).is_some());
        assert!(ReleaseDate::new(d(2027), 2027).is_some());
        assert!(ReleaseDate::new(d(1873), 2027).is_none());
        assert!(ReleaseDate::new(d(2028), 2027).is_none());
    }

    #[test]
    fn titles_of_one_film_from_two_sources_share_a_match_key() {
        for (a, b) in [
            ("Dumb & Dumber", "Dumb and Dumber"),
            (
                "The Naked Gun 33 1/3: The Final Insult",
                "Naked Gun 33 1/3 - The Final Insult",
            ),
            ("Amélie", "Amelie"),
            ("Se7en", "SE7EN"),
        ] {
            assert_eq!(match_key(a), match_key(b), "{a} / {b}");
        }
        assert_ne!(match_key("Heat"), match_key("Heath"));
        assert_eq!(
            match_key("The"),
            "the",
            "a title that is only an article keeps it"
        );
    }

    #[test]
    fn user_typed_title_key_matches_stored_key() {
        let stored = Title::parse("The  Dark Knight").expect("non-empty");
        assert_eq!(title_key(" the dark   KNIGHT "), stored.key());
    }
}
