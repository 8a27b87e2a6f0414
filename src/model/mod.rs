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

/// How much one rating pulls a content profile: its distance from the person's mean rating
/// (liked films pull, disliked ones push). A single rating, or one exactly at the mean, pulls
/// with weight 1: it still says "like this".
pub fn profile_weights(ratings: &[f64]) -> Vec<f64> {
    let mean = ratings.iter().sum::<f64>() / ratings.len().max(1) as f64;
    ratings
        .iter()
        .map(|&r| {
            if ratings.len() > 1 && r != mean {
                r - mean
            } else {
                1.0
            }
        })
        .collect()
}
