//! The raw record every source is extracted into, before any cleaning: files, the embedded
//! dataset and the movie-API ingest all produce [`RawRecord`]s for the same transform.

use super::source::{ExternalId, Provider};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The fields the ETL knows. Source columns map onto them by name (see [`Field::from_column`]).
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
#[serde(rename_all = "snake_case")]
pub enum Field {
    /// The whole record (e.g. a JSON array element that is not an object).
    Record,
    Title,
    ReleaseDate,
    Rating,
    Votes,
    Genre,
    Director,
    TmdbId,
    ImdbId,
    Keywords,
    Cast,
    Runtime,
    Overview,
    Popularity,
    Language,
    Certification,
    CreativeType,
    Writer,
    /// A release year given without a date (MovieLens titles).
    Year,
    /// The title in the film's own language (TMDB's `original_title`; a MovieLens alternative
    /// title in parentheses): identity compares it too.
    OriginalTitle,
    /// Fields of a rating or tag row (MovieLens).
    User,
    Movie,
    RatedAt,
    Tag,
}

impl Field {
    /// Every column-backed field, in report order.
    pub const COLUMNS: [Field; 19] = [
        Field::Title,
        Field::ReleaseDate,
        Field::Rating,
        Field::Votes,
        Field::Genre,
        Field::Director,
        Field::TmdbId,
        Field::ImdbId,
        Field::Keywords,
        Field::Cast,
        Field::Runtime,
        Field::Overview,
        Field::Popularity,
        Field::Language,
        Field::Certification,
        Field::CreativeType,
        Field::Writer,
        Field::Year,
        Field::OriginalTitle,
    ];

    /// Fields the seed catalog has columns for: the audit counts missing values of these.
    pub const AUDITED: [Field; 6] = [
        Field::Title,
        Field::ReleaseDate,
        Field::Rating,
        Field::Votes,
        Field::Genre,
        Field::Director,
    ];

    /// Fields without which a row is rejected (a year may stand in for the release date).
    pub const REQUIRED: [Field; 2] = [Field::Title, Field::ReleaseDate];

    pub fn as_str(self) -> &'static str {
        match self {
            Field::Record => "record",
            Field::Title => "title",
            Field::ReleaseDate => "release_date",
            Field::Rating => "rating",
            Field::Votes => "votes",
            Field::Genre => "genre",
            Field::Director => "director",
            Field::TmdbId => "tmdb_id",
            Field::ImdbId => "imdb_id",
            Field::Keywords => "keywords",
            Field::Cast => "cast",
            Field::Runtime => "runtime",
            Field::Overview => "overview",
            Field::Popularity => "popularity",
            Field::Language => "language",
            Field::Certification => "certification",
            Field::CreativeType => "creative_type",
            Field::Writer => "writer",
            Field::Year => "year",
            Field::OriginalTitle => "original_title",
            Field::User => "user",
            Field::Movie => "movie",
            Field::RatedAt => "rated_at",
            Field::Tag => "tag",
        }
    }

    /// The field a stored code (see [`Field::as_str`]) stands for.
    pub fn parse(code: &str) -> Option<Field> {
        [
            Field::Record,
            Field::User,
            Field::Movie,
            Field::RatedAt,
            Field::Tag,
        ]
        .into_iter()
        .chain(Field::COLUMNS)
        .find(|f| f.as_str() == code)
    }

    /// Column names accepted for this field, compared after [`column_key`]: the vega names, the
    /// snake_case names, and the TMDB v3 names.
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Field::Record => &[],
            Field::Title => &["Title", "title"],
            Field::ReleaseDate => &["Release Date", "release_date"],
            Field::Rating => &["IMDB Rating", "rating", "vote_average"],
            Field::Votes => &["IMDB Votes", "votes", "vote_count"],
            Field::Genre => &["Major Genre", "genre", "genres"],
            Field::Director => &["Director", "director"],
            Field::TmdbId => &["tmdb_id", "id"],
            Field::ImdbId => &["imdb_id"],
            Field::Keywords => &["keywords"],
            Field::Cast => &["cast"],
            Field::Runtime => &["Running Time min", "runtime"],
            Field::Overview => &["overview"],
            Field::Popularity => &["popularity"],
            Field::Language => &["original_language", "language"],
            Field::Certification => &["MPAA Rating", "certification"],
            Field::CreativeType => &["Creative Type"],
            Field::Writer => &["writer", "writers"],
            Field::Year => &["year", "release_year"],
            Field::OriginalTitle => &["original_title"],
            Field::User | Field::Movie | Field::RatedAt | Field::Tag => &[],
        }
    }

    /// The field a source column feeds, if any. `id` is a TMDB id only in a TMDB file: in any
    /// other it would merge a file's own numbering with TMDB's.
    pub fn from_column(name: &str, provider: Provider) -> Option<Field> {
        let key = column_key(name);
        if key == "id" && provider != Provider::Tmdb {
            return None;
        }
        Field::COLUMNS
            .into_iter()
            .find(|f| f.aliases().iter().any(|a| column_key(a) == key))
    }

    /// The longest value of this field accepted, in UTF-8 bytes; a longer one is rejected as
    /// `too_long`. Roomy for real data (the longest title in the shared datasets is 159 bytes,
    /// the longest TMDB keyword list 3,783) and small enough that no value costs memory or
    /// bandwidth out of proportion. A list field's items are held to [`MAX_NAME_BYTES`] too.
    pub fn max_bytes(self) -> usize {
        match self {
            Field::Record => MAX_RECORD_BYTES,
            Field::Title | Field::OriginalTitle => 2_000,
            Field::Overview => 20_000,
            Field::Genre => 4_096,
            Field::Keywords | Field::Director | Field::Writer => 65_536,
            // TMDB's credits list every cast member with ids and characters.
            Field::Cast => 262_144,
            Field::CreativeType | Field::Certification | Field::Language => 256,
            Field::Tag => 1_000,
            Field::ReleaseDate
            | Field::Rating
            | Field::Votes
            | Field::TmdbId
            | Field::ImdbId
            | Field::Runtime
            | Field::Popularity
            | Field::Year
            | Field::User
            | Field::Movie
            | Field::RatedAt => 64,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// The longest record (a JSON element, a CSV record, a line of a MovieLens file) read, in
/// bytes: a longer one is never held whole in memory.
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// The longest name in a list field (a genre, keyword, cast member, director, writer), in
/// UTF-8 bytes.
pub const MAX_NAME_BYTES: usize = 500;

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The provider a file comes from, told by its column names: vega's (`IMDB Rating`, `Major
/// Genre`…) or TMDB's (`vote_average`, `vote_count`…); any other layout is a plain file.
pub fn provider_of_columns<'a>(names: impl IntoIterator<Item = &'a str>) -> Provider {
    const VEGA: [&str; 6] = [
        "imdbrating",
        "imdbvotes",
        "majorgenre",
        "runningtimemin",
        "mpaarating",
        "creativetype",
    ];
    const TMDB: [&str; 4] = [
        "voteaverage",
        "votecount",
        "originaltitle",
        "originallanguage",
    ];
    let mut provider = Provider::File;
    for name in names {
        let key = column_key(name);
        if VEGA.contains(&key.as_str()) {
            return Provider::Vega;
        }
        if TMDB.contains(&key.as_str()) {
            provider = Provider::Tmdb;
        }
    }
    provider
}

/// Column names compare case-insensitively, ignoring spaces and punctuation.
fn column_key(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// One field's value exactly as the source had it.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum RawValue {
    /// The source had no such key or column.
    #[default]
    Missing,
    Null,
    Bool(bool),
    Number(f64),
    Text(String),
    /// An array or object, kept as its JSON text.
    Nested(String),
    /// A list of names handed over as typed values (genres, keywords, cast in billing order).
    List(Vec<String>),
}

impl RawValue {
    /// Missing, null, or text that is empty once trimmed.
    pub fn is_blank(&self) -> bool {
        match self {
            RawValue::Missing | RawValue::Null => true,
            RawValue::Text(s) => s.trim().is_empty(),
            RawValue::List(items) => items.is_empty(),
            _ => false,
        }
    }

    /// UTF-8 bytes of the value as a source gave it (the joined items of a list).
    pub fn len_bytes(&self) -> usize {
        match self {
            RawValue::Missing | RawValue::Null | RawValue::Bool(_) | RawValue::Number(_) => 0,
            RawValue::Text(s) | RawValue::Nested(s) => s.len(),
            RawValue::List(items) => items.iter().map(|i| i.len() + 1).sum(),
        }
    }

    /// The value as it is stored in `etl_rejects.raw_value`; `None` when there was none.
    pub fn display(&self) -> Option<String> {
        match self {
            RawValue::Missing | RawValue::Null => None,
            RawValue::Bool(b) => Some(b.to_string()),
            RawValue::Number(n) => Some(n.to_string()),
            RawValue::Text(s) | RawValue::Nested(s) => Some(s.clone()),
            RawValue::List(items) => Some(items.join("|")),
        }
    }
}

impl From<serde_json::Value> for RawValue {
    fn from(value: serde_json::Value) -> Self {
        use serde_json::Value;
        match value {
            Value::Null => RawValue::Null,
            Value::Bool(b) => RawValue::Bool(b),
            Value::Number(n) => n
                .as_f64()
                .map_or_else(|| RawValue::Text(n.to_string()), RawValue::Number),
            Value::String(s) => RawValue::Text(s),
            nested @ (Value::Array(_) | Value::Object(_)) => RawValue::Nested(nested.to_string()),
        }
    }
}

/// One source record: its 1-based row number, its provider and the known fields.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRecord {
    pub row: u64,
    pub provider: Provider,
    /// Ids a structured source already knows (MovieLens: its own id, then links): own id first.
    pub ids: Vec<ExternalId>,
    /// Indexed by `Field as usize` for the movie fields; the `Record` slot stays `Missing`.
    fields: [RawValue; 25],
    /// Set when the record as a whole is unusable (e.g. a JSON element that is not an object).
    pub malformed: Option<String>,
}

impl RawRecord {
    pub fn new(row: u64, provider: Provider) -> Self {
        Self {
            row,
            provider,
            ids: Vec::new(),
            fields: Default::default(),
            malformed: None,
        }
    }

    pub fn get(&self, field: Field) -> &RawValue {
        &self.fields[field.index()]
    }

    pub fn set(&mut self, field: Field, value: RawValue) {
        self.fields[field.index()] = value;
    }

    /// Builder-style [`RawRecord::set`], handy in tests.
    pub fn with(mut self, field: Field, value: RawValue) -> Self {
        self.set(field, value);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_map_by_alias_ignoring_case_and_punctuation() {
        let col = |name| Field::from_column(name, Provider::File);
        assert_eq!(col("Release Date"), Some(Field::ReleaseDate));
        assert_eq!(col("release_date"), Some(Field::ReleaseDate));
        assert_eq!(col("IMDB Rating"), Some(Field::Rating));
        assert_eq!(col("vote_average"), Some(Field::Rating));
        assert_eq!(col("US Gross"), None);
    }

    #[test]
    fn id_is_a_tmdb_id_only_in_a_tmdb_file() {
        assert_eq!(
            Field::from_column("id", Provider::Tmdb),
            Some(Field::TmdbId)
        );
        assert_eq!(Field::from_column("id", Provider::File), None);
        assert_eq!(
            Field::from_column("tmdb_id", Provider::File),
            Some(Field::TmdbId)
        );
    }

    #[test]
    fn the_provider_is_told_by_the_columns() {
        assert_eq!(
            provider_of_columns(["Title", "IMDB Rating", "Release Date"]),
            Provider::Vega
        );
        assert_eq!(
            provider_of_columns(["id", "title", "vote_average", "release_date"]),
            Provider::Tmdb
        );
        assert_eq!(
            provider_of_columns(["title", "release_date", "rating"]),
            Provider::File
        );
    }

    #[test]
    fn blank_values() {
        assert!(RawValue::Missing.is_blank());
        assert!(RawValue::Null.is_blank());
        assert!(RawValue::Text("  ".into()).is_blank());
        assert!(!RawValue::Number(0.0).is_blank());
    }
}
