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
