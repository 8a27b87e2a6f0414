//! Domain types shared by every layer: ids, the catalog movie, the raw record every source is
//! extracted into, run lineage and audit reports, ingest windows and checkpoints. No I/O here
//! and no imports from any other module of the crate: this is the bottom layer.

/// Declares a state enum with its stored code: `as_str` writes it, `parse` reads it back.
macro_rules! coded_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[derive(utoipa::ToSchema)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $code)] $variant),+
        }

        impl $name {
            /// The code stored in the database.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// The value a stored code stands for.
            pub fn parse(code: &str) -> Option<Self> {
                match code { $($code => Some($name::$variant),)+ _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

pub mod audit;
pub mod catalog;
pub mod derive;
pub mod etl;
pub mod export;
pub mod genre;
pub mod identity;
pub mod ingest;
pub mod movie;
pub mod record;
pub mod round;
pub mod source;
pub mod text;
pub mod trained;
pub mod user;
pub mod window;

/// A point in time. Stored and served as RFC 3339 UTC with milliseconds.
pub type Timestamp = chrono::DateTime<chrono::Utc>;

/// Declares an integer id newtype: transparent in JSON and in the OpenAPI document.
macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
        #[derive(serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.trim().parse().map(Self)
            }
        }
    };
}

id_type!(
    /// `Movies.MovieID`: the stable key of a catalog movie.
    MovieId
);
id_type!(
    /// `etl_runs.run_id`: one ETL run.
    EtlRunId
);
id_type!(
    /// `ingest_runs.ingest_run_id`: one ingest from a movie API, across its resumes.
    IngestRunId
);
id_type!(
    /// `users.user_id`: a user of a loaded ratings dataset (unique across datasets).
    UserId
);

pub use movie::{CatalogMovie, Movie};
