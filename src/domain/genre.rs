//! One genre vocabulary for every source. Each provider's labels map onto it here, and only here;
//! the migration seeds the `genres` table with the same names (a test holds the two equal).
//!
//! | Genre            | vega (Major Genre)                         | TMDB              | MovieLens        |
//! |------------------|--------------------------------------------|-------------------|------------------|
//! | Action           | Action                                     | Action            | Action           |
//! | Adventure        | Adventure                                  | Adventure         | Adventure        |
//! | Animation        |                                            | Animation         | Animation        |
//! | Comedy           | Comedy, Black Comedy, Romantic Comedy      | Comedy            | Comedy           |
//! | Crime            |                                            | Crime             | Crime            |
//! | Documentary      | Documentary, Concert/Performance           | Documentary       | Documentary      |
//! | Drama            | Drama                                      | Drama             | Drama            |
//! | Family           |                                            | Family            | Children('s)     |
//! | Fantasy          | Fantasy                                    | Fantasy           | Fantasy          |
//! | Film Noir        |                                            |                   | Film-Noir        |
//! | History          |                                            | History           |                  |
//! | Horror           | Horror                                     | Horror            | Horror           |
//! | Music            | Musical, Concert/Performance               | Music             | Musical          |
//! | Mystery          |                                            | Mystery           | Mystery          |
//! | Romance          | Romantic Comedy                            | Romance           | Romance          |
//! | Science Fiction  | Science Fiction                            | Science Fiction   | Sci-Fi           |
//! | Thriller         | Thriller/Suspense                          | Thriller          | Thriller         |
//! | TV Movie         |                                            | TV Movie          |                  |
//! | War              |                                            | War               | War              |
//! | Western          | Western                                    | Western           | Western          |
//!
//! vega's Creative Type ("Historical Fiction", "Kids Fiction", "Science Fiction"…) is not read
//! as genres at all: it says how a story is told, and made Titanic and The Godfather "History".
//! Labels that are not genres (MovieLens "IMAX", "(no genres listed)", "unknown"; TMDB
//! "Foreign") map to nothing. An unknown label maps to nothing and
//! is counted in the run's audit.

use serde::{Deserialize, Serialize};

/// A genre of the vocabulary; in JSON and query strings, its name (`Science Fiction`).
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
pub enum Genre {
    Action,
    Adventure,
    Animation,
    Comedy,
    Crime,
    Documentary,
    Drama,
    Family,
    Fantasy,
    #[serde(rename = "Film Noir")]
    FilmNoir,
    History,
    Horror,
    Music,
    Mystery,
    Romance,
    #[serde(rename = "Science Fiction")]
    ScienceFiction,
    Thriller,
    #[serde(rename = "TV Movie")]
    TvMovie,
    War,
    Western,
}

/// What a source label means in the vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mapped {
    Genres(&'static [Genre]),
    /// A label known not to be a genre.
    NotAGenre,
    /// A label this vocabulary does not know.
    Unknown,
}

impl Genre {
    pub const ALL: [Genre; 20] = [
        Genre::Action,
        Genre::Adventure,
        Genre::Animation,
        Genre::Comedy,
        Genre::Crime,
        Genre::Documentary,
        Genre::Drama,
        Genre::Family,
        Genre::Fantasy,
        Genre::FilmNoir,
        Genre::History,
        Genre::Horror,
        Genre::Music,
        Genre::Mystery,
        Genre::Romance,
        Genre::ScienceFiction,
        Genre::Thriller,
        Genre::TvMovie,
        Genre::War,
        Genre::Western,
    ];

    /// `genres.genre_id`: the position in [`Genre::ALL`], from 1.
    pub fn id(self) -> i64 {
        self as i64 + 1
    }

    pub fn name(self) -> &'static str {
        match self {
            Genre::Action => "Action",
            Genre::Adventure => "Adventure",
            Genre::Animation => "Animation",
            Genre::Comedy => "Comedy",
            Genre::Crime => "Crime",
            Genre::Documentary => "Documentary",
            Genre::Drama => "Drama",
            Genre::Family => "Family",
            Genre::Fantasy => "Fantasy",
            Genre::FilmNoir => "Film Noir",
            Genre::History => "History",
            Genre::Horror => "Horror",
            Genre::Music => "Music",
            Genre::Mystery => "Mystery",
            Genre::Romance => "Romance",
            Genre::ScienceFiction => "Science Fiction",
            Genre::Thriller => "Thriller",
            Genre::TvMovie => "TV Movie",
            Genre::War => "War",
            Genre::Western => "Western",
        }
    }

    /// The genre named `name` in the vocabulary (case-insensitive).
    pub fn from_name(name: &str) -> Option<Genre> {
        Self::ALL
            .into_iter()
            .find(|g| g.name().eq_ignore_ascii_case(name.trim()))
    }

    /// What a label of any source means. Sources share most labels, so one table serves all.
    pub fn map_label(label: &str) -> Mapped {
        use Genre::*;
        let label = label.trim();
        if let Some(g) = Self::from_name(label) {
            return Mapped::Genres(match g {
                Action => &[Action],
                Adventure => &[Adventure],
                Animation => &[Animation],
                Comedy => &[Comedy],
                Crime => &[Crime],
                Documentary => &[Documentary],
                Drama => &[Drama],
                Family => &[Family],
                Fantasy => &[Fantasy],
                FilmNoir => &[FilmNoir],
                History => &[History],
                Horror => &[Horror],
                Music => &[Music],
                Mystery => &[Mystery],
                Romance => &[Romance],
                ScienceFiction => &[ScienceFiction],
                Thriller => &[Thriller],
                TvMovie => &[TvMovie],
                War => &[War],
                Western => &[Western],
            });
        }
        let lower = label.to_ascii_lowercase();
        Mapped::Genres(match lower.as_str() {
            "black comedy" => &[Comedy],
            "romantic comedy" => &[Comedy, Romance],
            "thriller/suspense" => &[Thriller],
            "concert/performance" => &[Music, Documentary],
            "musical" => &[Music],
            "children" | "children's" => &[Family],
            "sci-fi" => &[ScienceFiction],
            "film-noir" => &[FilmNoir],
            "imax" | "(no genres listed)" | "unknown" | "foreign" => return Mapped::NotAGenre,
            _ => return Mapped::Unknown,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_source_label_named_in_the_issue_maps_onto_the_vocabulary() {
        let g = |label| Genre::map_label(label);
        assert_eq!(g("Thriller/Suspense"), Mapped::Genres(&[Genre::Thriller]));
        assert_eq!(g("Black Comedy"), Mapped::Genres(&[Genre::Comedy]));
        assert_eq!(
            g("Science Fiction"),
            Mapped::Genres(&[Genre::ScienceFiction])
        );
        assert_eq!(g("Sci-Fi"), Mapped::Genres(&[Genre::ScienceFiction]));
        assert_eq!(g("Children's"), Mapped::Genres(&[Genre::Family]));
        assert_eq!(g("IMAX"), Mapped::NotAGenre);
        assert_eq!(g("Space Opera"), Mapped::Unknown);
    }

    #[test]
    fn ids_follow_the_vocabulary_order_and_names_round_trip() {
        for (i, g) in Genre::ALL.into_iter().enumerate() {
            assert_eq!(g.id(), i as i64 + 1);
            assert_eq!(Genre::from_name(g.name()), Some(g));
            let json = serde_json::to_string(&g).expect("json");
            assert_eq!(json, format!("\"{}\"", g.name()), "serialised as its name");
            assert_eq!(serde_json::from_str::<Genre>(&json).expect("parse"), g);
        }
    }
}
