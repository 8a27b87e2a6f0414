//! movierec: a movie recommender in one binary. Movie records, from files or fetched from TMDB
//! (`ingest`), go through the ETL (`etl`) into SQLite (`db`); the content model (`model`) answers
//! "movies like this one"; `api` and `dashboard` serve it; `cli` wires them up.

pub mod api;
pub mod cli;
pub mod dashboard;
pub mod db;
pub mod etl;
pub mod ingest;
pub mod model;
pub mod movie;
