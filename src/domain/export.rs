//! What `movierec export` can write: the tables analysts read, their typed columns, and the
//! batches of values the store hands over (column by column, as Arrow and Parquet want them).

use std::fmt;

/// A table that can be exported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportTable {
    Movies,
    Ratings,
    Users,
    Tags,
    Genres,
    MovieGenres,
    MovieSources,
    MovieIds,
    People,
    MoviePeople,
    Keywords,
    MovieKeywords,
}

/// The file formats of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Apache Parquet, Snappy-compressed.
    Parquet,
    /// CSV with a header row; nulls are empty cells.
    Csv,
}

impl ExportFormat {
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Parquet => "parquet",
            ExportFormat::Csv => "csv",
        }
    }

    pub fn parse(name: &str) -> Result<Self, String> {
        match name {
            "parquet" => Ok(ExportFormat::Parquet),
            "csv" => Ok(ExportFormat::Csv),
            other => Err(format!("{other:?} is not a format; known: parquet, csv")),
        }
    }
}

/// The type of an exported column; every column may hold nulls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    Int,
    Float,
    Text,
}

/// One exported column: its name (the database's) and type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    pub kind: ColumnType,
}

const fn int(name: &'static str) -> Column {
    Column {
        name,
        kind: ColumnType::Int,
    }
}

const fn float(name: &'static str) -> Column {
    Column {
        name,
        kind: ColumnType::Float,
    }
}

const fn text(name: &'static str) -> Column {
    Column {
        name,
        kind: ColumnType::Text,
    }
}

impl ExportTable {
    pub const ALL: [ExportTable; 12] = [
        ExportTable::Movies,
        ExportTable::Ratings,
        ExportTable::Users,
        ExportTable::Tags,
        ExportTable::Genres,
        ExportTable::MovieGenres,
        ExportTable::MovieSources,
        ExportTable::MovieIds,
        ExportTable::People,
        ExportTable::MoviePeople,
        ExportTable::Keywords,
        ExportTable::MovieKeywords,
    ];

    /// The name on the command line (and of the database table, lower-cased).
    pub fn name(self) -> &'static str {
        match self {
            ExportTable::Movies => "movies",
            ExportTable::Ratings => "ratings",
            ExportTable::Users => "users",
            ExportTable::Tags => "tags",
            ExportTable::Genres => "genres",
            ExportTable::MovieGenres => "movie_genres",
            ExportTable::MovieSources => "movie_sources",
            ExportTable::MovieIds => "movie_ids",
            ExportTable::People => "people",
            ExportTable::MoviePeople => "movie_people",
            ExportTable::Keywords => "keywords",
            ExportTable::MovieKeywords => "movie_keywords",
        }
    }

    pub fn parse(name: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|t| t.name() == name)
            .ok_or_else(|| {
                let known: Vec<&str> = Self::ALL.iter().map(|t| t.name()).collect();
                format!("{name:?} is not a table; known: {}", known.join(", "))
            })
    }

    /// The columns, in file order; the first ones are the table's key.
    pub fn columns(self) -> &'static [Column] {
        match self {
            ExportTable::Movies => {
                const C: &[Column] = &[
                    int("MovieID"),
                    text("Title"),
                    int("ReleaseYear"),
                    float("Rating"),
                    int("Votes"),
                    text("ReleaseDate"),
                    text("Genre"),
                    text("Director"),
                    int("Runtime"),
                    text("OriginalLanguage"),
                    float("Popularity"),
                    text("Overview"),
                ];
                C
            }
            ExportTable::Ratings => {
                const C: &[Column] = &[
                    int("user_id"),
                    int("MovieID"),
                    float("rating"),
                    int("rated_at"),
                ];
                C
            }
            ExportTable::Users => {
                const C: &[Column] = &[int("user_id"), text("dataset"), int("external_id")];
                C
            }
            ExportTable::Tags => {
                const C: &[Column] = &[
                    int("user_id"),
                    int("MovieID"),
                    text("tag"),
                    int("tagged_at"),
                ];
                C
            }
            ExportTable::Genres => {
                const C: &[Column] = &[int("genre_id"), text("name")];
                C
            }
            ExportTable::MovieGenres => {
                const C: &[Column] = &[int("MovieID"), text("provider"), int("genre_id")];
                C
            }
            ExportTable::MovieSources => {
                const C: &[Column] = &[
                    int("MovieID"),
                    text("provider"),
                    text("title"),
                    int("release_year"),
                    text("release_date"),
                    float("rating"),
                    float("scale"),
                    int("votes"),
                    text("director"),
                    int("runtime"),
                    text("language"),
                    float("popularity"),
                    text("certification"),
                    text("creative_type"),
                ];
                C
            }
            ExportTable::MovieIds => {
                const C: &[Column] = &[text("namespace"), text("external_id"), int("MovieID")];
                C
            }
            ExportTable::People => {
                const C: &[Column] = &[int("person_id"), text("name")];
                C
            }
            ExportTable::MoviePeople => {
                const C: &[Column] = &[
                    int("MovieID"),
                    text("provider"),
                    text("role"),
                    int("position"),
                    int("person_id"),
                ];
                C
            }
            ExportTable::Keywords => {
                const C: &[Column] = &[int("keyword_id"), text("name")];
                C
            }
            ExportTable::MovieKeywords => {
                const C: &[Column] = &[int("MovieID"), text("provider"), int("keyword_id")];
                C
            }
        }
    }
}

impl fmt::Display for ExportTable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The values of one column for a batch of rows.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    Int(Vec<Option<i64>>),
    Float(Vec<Option<f64>>),
    Text(Vec<Option<String>>),
}

impl Values {
    pub fn with_capacity(kind: ColumnType, rows: usize) -> Self {
        match kind {
            ColumnType::Int => Values::Int(Vec::with_capacity(rows)),
            ColumnType::Float => Values::Float(Vec::with_capacity(rows)),
            ColumnType::Text => Values::Text(Vec::with_capacity(rows)),
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Values::Int(v) => v.len(),
            Values::Float(v) => v.len(),
            Values::Text(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `i` as CSV text (empty for null).
    pub fn text_at(&self, i: usize) -> String {
        match self {
            Values::Int(v) => v[i].map(|x| x.to_string()),
            Values::Float(v) => v[i].map(|x| x.to_string()),
            Values::Text(v) => v[i].clone(),
        }
        .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_parse_by_name_and_a_wrong_name_lists_them() {
        for t in ExportTable::ALL {
            assert_eq!(ExportTable::parse(t.name()), Ok(t));
        }
        let err = ExportTable::parse("film").unwrap_err();
        assert!(err.contains("movies, ratings"), "{err}");
    }
}
