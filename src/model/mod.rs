//! Recommendation models. Free of HTTP and database concerns: they take plain feature rows and
//! answer queries, so they can be fitted from SQLite, a file or a synthetic benchmark alike.

pub mod content;
pub mod scaler;
pub mod synthetic;

pub use content::{ContentModel, ModelError, Neighbour};
pub use scaler::StandardScaler;
