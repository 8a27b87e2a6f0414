//! Server state, shared by the API and the dashboard: a pool of read-only store connections and
//! the engine (catalog + fitted models), swapped atomically when a newer ETL run
//! succeeds.

use super::error::ApiError;
use super::metrics::Metrics;
use crate::recommend::{Engine, EngineError};
use crate::store::{ReadPool, Store, StoreError};
use arc_swap::ArcSwap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pool: ReadPool,
    /// Where trained models' artifacts are.
    data_dir: Arc<PathBuf>,
    pub engine: Arc<ArcSwap<Engine>>,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    /// Opens the pool on an existing database and builds the first engine.
    pub fn open(db_path: &Path, data_dir: &Path, pool_size: u32) -> Result<Self, EngineError> {
        let pool = ReadPool::open(db_path, pool_size)?;
        let engine = Engine::load(&pool.get()?, data_dir)?;
        let metrics = Arc::new(Metrics::default());
        metrics.observe_engine(&engine);
        Ok(Self {
            pool,
            data_dir: Arc::new(data_dir.to_owned()),
            engine: Arc::new(ArcSwap::from_pointee(engine)),
            metrics,
        })
    }

    /// Runs a blocking store call on the blocking pool, with a pooled read-only connection.
    pub async fn db<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || Ok(f(&pool.get()?)?))
            .await
            .map_err(ApiError::internal)?
    }

    /// Builds a new engine if a newer ETL run succeeded, or a newer model was trained, since the
    /// current one. Returns whether it swapped. The old engine keeps serving until the new one
    /// is complete.
    pub async fn reload_if_newer(&self) -> Result<bool, ApiError> {
        let latest = self
            .db(|s| Ok((s.latest_succeeded_run()?, s.latest_model_id()?)))
            .await?;
        let current = self.engine.load();
        if latest == (current.run_id, current.model_id) {
            return Ok(false);
        }
        let pool = self.pool.clone();
        let data_dir = Arc::clone(&self.data_dir);
        let engine = tokio::task::spawn_blocking(move || -> Result<Engine, EngineError> {
            Engine::load(&pool.get()?, &data_dir)
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
        tracing::info!(
            run_id = ?engine.run_id,
            model_id = ?engine.model_id,
            movies = engine.movies().len(),
            fit_seconds = engine.fit_seconds,
            "catalog reloaded"
        );
        self.metrics.observe_engine(&engine);
        self.engine.store(Arc::new(engine));
        Ok(true)
    }
}
