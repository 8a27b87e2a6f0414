//! Models trained on the database's ratings (`movierec train`): which kinds there are, and the
//! record the `models` table keeps of each fit.

use super::{EtlRunId, Timestamp};
use serde::Serialize;
use std::collections::BTreeMap;

coded_enum!(
    /// A collaborative model `movierec train` fits and `serve` serves.
    ModelKind {
        /// Item-item cosine on who rated what, top-k neighbours per movie.
        ItemKnn = "item-knn",
        /// Biased matrix factorisation by SGD.
        Svd = "svd",
        /// SVD with implicit feedback.
        SvdPp = "svd++",
        /// Implicit ALS (conjugate gradient) on BM25-weighted interactions.
        Als = "als",
        /// EASE^R, the shallow linear autoencoder.
        Ease = "ease",
        /// EASE^R with each movie regressed on its most co-occurring movies only: for
        /// catalogs too large for the dense form.
        SparseEase = "sparse-ease",
    }
);

impl ModelKind {
    pub const ALL: [ModelKind; 6] = [
        ModelKind::ItemKnn,
        ModelKind::Svd,
        ModelKind::SvdPp,
        ModelKind::Als,
        ModelKind::Ease,
        ModelKind::SparseEase,
    ];

    /// The known names, comma-separated (for error messages).
    pub fn known() -> String {
        Self::ALL
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// `models.model_id`: one trained model.
pub type ModelId = i64;

/// What the `models` table keeps of one fit; the fitted model itself is the artifact file.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TrainedModel {
    pub id: ModelId,
    pub kind: ModelKind,
    #[schema(value_type = String, format = DateTime)]
    pub trained_at: Timestamp,
    /// SHA-256 of the ratings it was fitted on (user, movie, rating, in key order).
    pub data_hash: String,
    /// The newest succeeded ETL run when it was trained.
    pub run_id: Option<EtlRunId>,
    /// Hyper-parameters, as JSON.
    #[schema(value_type = Object)]
    pub params: serde_json::Value,
    /// Figures on a held-out split of the same ratings (NDCG@10 and Recall@20 for top-N
    /// models; RMSE and MAE for rating models).
    #[serde(serialize_with = "super::round::scores")]
    pub metrics: BTreeMap<String, f64>,
    pub ratings: u64,
    pub users: u64,
    pub movies: u64,
    #[serde(serialize_with = "super::round::score")]
    pub fit_seconds: f64,
    /// The artifact's path under the data directory.
    pub artifact: String,
    pub artifact_sha256: String,
    pub bytes: u64,
}
