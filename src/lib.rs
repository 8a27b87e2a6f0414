//! movierec: a movie recommender in one binary. Raw movie records go through the ETL (`etl`) into
//! SQLite (`db`); the content model (`model`) answers "movies like this one"; `cli` wires them up.

pub mod api;
pub mod cli;
pub mod dashboard;
pub mod db;
pub mod etl;
pub mod model;
pub mod movie;
