//! Trained-model SQL: the `models` table (one row per `movierec train`) and the ratings a model
//! is trained on.

use super::codec::{timestamp, timestamp_at};
use super::sql::{args, Row};
use super::{Store, StoreError};
use crate::domain::trained::{ModelId, TrainedModel};
use crate::domain::MovieId;

const COLUMNS: &str = "model_id, kind, trained_at, data_hash, run_id, params, metrics, ratings,
                       users, movies, fit_seconds, artifact, artifact_sha256, bytes";

fn json<T: serde::de::DeserializeOwned>(what: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("model {what}: {e}")))
}

fn trained_model(r: &Row<'_>) -> Result<TrainedModel, StoreError> {
    Ok(TrainedModel {
        id: r.get(0)?,
        kind: r.get(1)?,
        trained_at: timestamp_at(r, 2)?,
        data_hash: r.get(3)?,
        run_id: r.get(4)?,
        params: json("params", &r.get::<String>(5)?)?,
        metrics: json("metrics", &r.get::<String>(6)?)?,
        ratings: r.get(7)?,
        users: r.get(8)?,
        movies: r.get(9)?,
        fit_seconds: r.get(10)?,
        artifact: r.get(11)?,
        artifact_sha256: r.get(12)?,
        bytes: r.get(13)?,
    })
}

impl Store {
    /// Records a trained model (its `id` is ignored) and returns its id. `place` puts its
    /// artifact where the record says, inside the record's transaction: the model is recorded
    /// with its artifact in place, or neither (a failed `place` rolls the record back).
    pub fn insert_model<E: From<StoreError>>(
        &mut self,
        m: &TrainedModel,
        place: impl FnOnce() -> Result<(), E>,
    ) -> Result<ModelId, E> {
        self.write(|db| {
            let id: ModelId = db.one(
                "INSERT INTO models (kind, trained_at, data_hash, run_id, params, metrics, ratings,
                                     users, movies, fit_seconds, artifact, artifact_sha256, bytes)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
                 RETURNING model_id",
                args![
                    m.kind,
                    timestamp(m.trained_at),
                    m.data_hash,
                    m.run_id,
                    m.params.to_string(),
                    serde_json::to_string(&m.metrics)
                        .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                    m.ratings,
                    m.users,
                    m.movies,
                    m.fit_seconds,
                    m.artifact,
                    m.artifact_sha256,
                    m.bytes,
                ],
            )?;
            db.notify_change()?;
            place()?;
            Ok(id)
        })
    }

    /// Every trained model, newest first.
    pub fn models(&self) -> Result<Vec<TrainedModel>, StoreError> {
        self.db().query(
            &format!("SELECT {COLUMNS} FROM models ORDER BY model_id DESC"),
            args![],
            trained_model,
        )
    }

    /// Forgets every model but the `keep` newest of each kind (at least one is always kept),
    /// returning the forgotten records: their artifacts are the caller's to remove, after this
    /// commits, so no record ever names a removed artifact.
    pub fn prune_models(&mut self, keep: usize) -> Result<Vec<TrainedModel>, StoreError> {
        self.write(|db| {
            let doomed = db.query(
                &format!(
                    "SELECT {COLUMNS} FROM (
                       SELECT *, ROW_NUMBER() OVER (PARTITION BY kind ORDER BY model_id DESC) AS newer
                       FROM models) AS ranked
                     WHERE newer > ?1 ORDER BY model_id"
                ),
                args![keep.max(1)],
                trained_model,
            )?;
            for m in &doomed {
                db.execute("DELETE FROM models WHERE model_id = ?1", args![m.id])?;
            }
            Ok(doomed)
        })
    }

    /// The newest model's id: what a serving engine compares to know it is current.
    pub fn latest_model_id(&self) -> Result<Option<ModelId>, StoreError> {
        self.db().one("SELECT MAX(model_id) FROM models", args![])
    }

    /// Streams every rating as (user, movie, rating), by user then movie; returns the count.
    pub fn for_each_rating(
        &self,
        mut on_rating: impl FnMut(i64, MovieId, f32),
    ) -> Result<u64, StoreError> {
        let mut n = 0;
        self.db().for_each(
            "SELECT user_id, MovieID, rating FROM ratings ORDER BY user_id, MovieID",
            args![],
            |row| {
                on_rating(row.get(0)?, row.get(1)?, row.get::<f64>(2)? as f32);
                n += 1;
                Ok(())
            },
        )?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::trained::ModelKind;

    fn model() -> TrainedModel {
        TrainedModel {
            id: 0,
            kind: ModelKind::Ease,
            trained_at: chrono::Utc::now(),
            data_hash: "h".into(),
            run_id: None,
            params: serde_json::json!({}),
            metrics: std::collections::BTreeMap::new(),
            ratings: 1,
            users: 1,
            movies: 1,
            fit_seconds: 0.1,
            artifact: "models/ease-1.postcard".into(),
            artifact_sha256: "s".into(),
            bytes: 1,
        }
    }

    #[test]
    fn a_model_is_recorded_only_with_its_artifact_in_place() {
        let (_scratch, mut store) = crate::store::testing::fresh();
        let failed: Result<ModelId, StoreError> = store.insert_model(&model(), || {
            Err(StoreError::Corrupt(
                "the artifact could not be placed".into(),
            ))
        });
        assert!(failed.is_err());
        assert!(store.models().expect("models").is_empty());
        let mut placed = false;
        let id = store
            .insert_model(&model(), || {
                placed = true;
                Ok::<(), StoreError>(())
            })
            .expect("recorded");
        assert!(placed);
        assert_eq!(store.models().expect("models")[0].id, id);
    }
}
