//! Server state, shared by the API and the dashboard: a pool of read-only store connections and
//! the serving snapshot (catalog + fitted models), swapped atomically when a newer ETL run
//! succeeds.

use super::error::ApiError;
use super::metrics::Metrics;
use crate::recommend::{Snapshot, SnapshotError};
use crate::store::{ReadPool, Store, StoreError};
use arc_swap::ArcSwap;
use std::path::Path;
use std::sync::Arc;

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pool: ReadPool,
    pub snapshot: Arc<ArcSwap<Snapshot>>,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    /// Opens the pool on an existing database and builds the first snapshot.
    pub fn open(db_path: &Path, pool_size: u32) -> Result<Self, SnapshotError> {
        let pool = ReadPool::open(db_path, pool_size)?;
        let snapshot = Snapshot::load(&pool.get()?)?;
        let metrics = Arc::new(Metrics::default());
        metrics.observe_snapshot(&snapshot);
        Ok(Self {
            pool,
            snapshot: Arc::new(ArcSwap::from_pointee(snapshot)),
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

    /// Builds a new snapshot if a newer ETL run succeeded since the current one. Returns whether
    /// it swapped. The old snapshot keeps serving until the new one is complete.
    pub async fn reload_if_newer(&self) -> Result<bool, ApiError> {
        let latest = self.db(Store::latest_succeeded_run).await?;
        if latest == self.snapshot.load().run_id {
            return Ok(false);
        }
        let pool = self.pool.clone();
        let snapshot = tokio::task::spawn_blocking(move || -> Result<Snapshot, SnapshotError> {
            Snapshot::load(&pool.get()?)
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
        tracing::info!(
            run_id = ?snapshot.run_id,
            movies = snapshot.movies().len(),
            fit_seconds = snapshot.fit_seconds,
            "catalog reloaded"
        );
        self.metrics.observe_snapshot(&snapshot);
        self.snapshot.store(Arc::new(snapshot));
        Ok(true)
    }
}
