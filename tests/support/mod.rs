//! Helpers shared by integration tests.
pub mod tmdb_stub;
