//! movierec: a movie recommender in one binary.
//!
//! Layers, bottom to top; each imports only from layers below it (`tests/architecture.rs`
//! enforces it):
//!
//! 1. [`domain`] — shared types: ids, movies, records, lineage, statuses, windows.
//! 2. [`store`] (SQLite, the only module that knows SQL) and [`model`] (pure algorithms).
//! 3. Services: [`etl`], [`ingest`], [`recommend`], [`export`], [`dataset`]. They never import
//!    each other.
//! 4. [`web`] (the API and the dashboard) and [`cli`] (the commands).
//! 5. [`app`]: the composition root — settings, the application builder, `main`.

pub mod app;
pub mod cli;
pub mod dataset;
pub mod domain;
pub mod etl;
pub mod eval;
pub mod export;
pub mod files;
pub mod ingest;
pub mod model;
pub mod recommend;
pub mod store;
pub mod web;
