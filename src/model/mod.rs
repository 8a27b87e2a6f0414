//! Recommendation models. Free of HTTP and database concerns: they take plain feature rows and
//! answer queries, so they can be fitted from SQLite, a file or a synthetic benchmark alike.

pub mod als;
pub mod baseline;
pub mod blocks;
pub mod content;
pub mod ease;
pub mod knn;
pub mod metrics;
pub mod mf;
pub mod ratings;
pub mod scaler;
pub mod synthetic;

pub use content::{ContentModel, ModelError, Neighbour};
pub use scaler::StandardScaler;
