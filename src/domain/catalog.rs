//! Questions asked of the catalog: a filtered, sorted page of movies.

use super::genre::Genre;
use super::movie::title_key;

/// Columns a catalog page can be sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortKey {
    #[default]
    Id,
    Title,
    Year,
    Rating,
    Votes,
}

/// A filtered, sorted page of the catalog.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogQuery {
    /// Substring of the normalised title key (see [`title_key`]).
    pub title_key: Option<String>,
    pub year_from: Option<i32>,
    pub year_to: Option<i32>,
    pub min_rating: Option<f64>,
    /// Only movies of this genre.
    pub genre: Option<Genre>,
    pub sort: SortKey,
    pub descending: bool,
    pub limit: u32,
    pub offset: u64,
}

/// The longest title search, in characters: a search becomes a `LIKE` pattern, which SQLite
/// refuses past 50,000 bytes ("pattern too complex"), and no title is this long anyway.
pub const MAX_SEARCH_CHARS: usize = 200;

/// Refuses a title search longer than [`MAX_SEARCH_CHARS`], saying why.
pub fn check_search(text: &str) -> Result<(), String> {
    let chars = text.chars().count();
    if chars > MAX_SEARCH_CHARS {
        return Err(format!(
            "a title search may have at most {MAX_SEARCH_CHARS} characters; this one has {chars}"
        ));
    }
    Ok(())
}

impl CatalogQuery {
    /// Movies whose title contains `text` (as a user typed it), by id.
    pub fn search(text: &str, limit: u32) -> Self {
        Self {
            title_key: Some(title_key(text)),
            limit,
            ..Self::default()
        }
    }
}
