//! Server state, shared by the API and the dashboard: a pool of read-only store connections and
//! the engine (catalog + fitted models), swapped atomically when a newer ETL run
//! succeeds.

use super::error::ApiError;
use super::metrics::Metrics;
use crate::recommend::{Engine, EngineError, SimilarModel};
use crate::store::{Location, ReadPool, Store, StoreError};
use arc_swap::ArcSwap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

/// How long a request waits for a database connection before it is told to come back.
pub const DB_WAIT: Duration = Duration::from_secs(5);

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pool: ReadPool,
    /// One per pooled connection: a handler holds one while its store call runs, so no more
    /// blocking threads run store calls than there are connections, however many requests wait.
    permits: Arc<Semaphore>,
    /// How long a request waits for a connection ([`DB_WAIT`]).
    db_wait: Duration,
    /// Where trained models' artifacts are.
    data_dir: Arc<PathBuf>,
    pub engine: Arc<ArcSwap<Engine>>,
    pub metrics: Arc<Metrics>,
    /// Unfiltered `/similar` answers, written once per engine.
    pub similar_bodies: Arc<super::bodies::SimilarBodies>,
    /// Woken when the database announces a new catalog or model (PostgreSQL's `NOTIFY`), so
    /// the reload need not wait for its next poll.
    pub changes: Arc<tokio::sync::Notify>,
    /// Set when the server was asked to stop: `/health/ready` answers 503 so a load balancer
    /// takes it out of rotation while the listener still serves what arrives.
    draining: Arc<AtomicBool>,
}

impl AppState {
    /// Opens the pool on an existing database and builds the first engine.
    pub fn open(db: &Location, data_dir: &Path, pool_size: u32) -> Result<Self, EngineError> {
        let pool = ReadPool::connect(db, pool_size)?;
        let engine = Engine::load(&pool.get()?, data_dir)?;
        let metrics = Arc::new(Metrics::default());
        metrics.observe_engine(&engine);
        let changes = Arc::new(tokio::sync::Notify::new());
        let (alive, woken) = (Arc::downgrade(&changes), Arc::downgrade(&changes));
        crate::store::listen_for_changes(
            db,
            move || alive.strong_count() > 0,
            move || {
                if let Some(changes) = woken.upgrade() {
                    changes.notify_one();
                }
            },
        );
        Ok(Self {
            changes,
            pool,
            permits: Arc::new(Semaphore::new(pool_size as usize)),
            db_wait: DB_WAIT,
            data_dir: Arc::new(data_dir.to_owned()),
            engine: Arc::new(ArcSwap::from_pointee(engine)),
            metrics,
            similar_bodies: Arc::default(),
            draining: Arc::new(AtomicBool::new(false)),
        })
    }

    /// From now on, this server is not ready for new traffic (it still answers).
    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// Whether [`AppState::start_draining`] was called.
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Relaxed)
    }

    /// Runs a blocking store call on the blocking pool, with a pooled read-only connection.
    /// Waits (asynchronously, no thread held) up to [`DB_WAIT`] for a connection to come free;
    /// longer is a 503 with `Retry-After`.
    pub async fn db<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Store) -> Result<T, StoreError> + Send + 'static,
    {
        // The usual case, a free connection, sets no timer.
        let permit = match Arc::clone(&self.permits).try_acquire_owned() {
            Ok(permit) => permit,
            Err(_) => tokio::time::timeout(self.db_wait, Arc::clone(&self.permits).acquire_owned())
                .await
                .map_err(|_| {
                    ApiError::unavailable("every database connection is busy; retry shortly")
                })?
                .map_err(ApiError::internal)?,
        };
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            Ok(f(&pool.get()?)?)
        })
        .await
        .map_err(ApiError::internal)?
    }

    /// The current engine, with what answering with `model` (`None`: the default personal
    /// model) needs read: a trained model's first request reads its artifact on the blocking
    /// pool, never on a request thread.
    pub async fn engine_for(&self, model: Option<SimilarModel>) -> Result<Arc<Engine>, ApiError> {
        let engine = self.engine.load_full();
        if engine.is_loaded(model) {
            return Ok(engine);
        }
        tokio::task::spawn_blocking(move || {
            engine.load_model(model);
            engine
        })
        .await
        .map_err(ApiError::internal)
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
        // The kinds this server has been asked for are read before the swap, so their next
        // request finds them loaded; the rest stay unread until asked for.
        let asked: Vec<SimilarModel> = SimilarModel::ALL
            .into_iter()
            .filter(|m| {
                m.trained()
                    .is_some_and(|k| current.loaded().any(|l| l == k))
            })
            .collect();
        drop(current);
        let engine = tokio::task::spawn_blocking(move || -> Result<Engine, EngineError> {
            let engine = Engine::load(&pool.get()?, &data_dir)?;
            for model in asked {
                engine.load_model(Some(model));
            }
            Ok(engine)
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

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::domain::etl::Source;
    use crate::domain::source::RatingPolicy;

    /// A served state on the embedded dataset, with `pool_size` connections.
    pub(in crate::web) fn state(pool_size: u32) -> (tempfile::TempDir, AppState) {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("m.db");
        let mut store = Store::open(&db).expect("open");
        crate::etl::run(
            &mut store,
            dir.path(),
            &Source::Embedded,
            &RatingPolicy::VoteWeighted,
        )
        .expect("etl");
        drop(store);
        let state = AppState::open(&Location::Sqlite(db), dir.path(), pool_size).expect("state");
        (dir, state)
    }

    #[tokio::test]
    async fn a_request_that_finds_every_connection_busy_is_told_to_retry_not_failed() {
        let (_dir, mut state) = state(1);
        state.db_wait = Duration::from_millis(50);
        let busy = state.clone();
        let (started, release) = (
            Arc::new(tokio::sync::Notify::new()),
            Arc::new(std::sync::Barrier::new(2)),
        );
        let (s, r) = (Arc::clone(&started), Arc::clone(&release));
        let holder = tokio::spawn(async move {
            busy.db(move |store| {
                s.notify_one();
                r.wait();
                store.movie_count()
            })
            .await
        });
        started.notified().await;
        let refused = state
            .db(Store::movie_count)
            .await
            .expect_err("no connection free");
        assert_eq!(refused.problem().status, 503);
        assert_eq!(refused.problem().retry_after, Some(1));
        release.wait();
        assert!(holder.await.expect("join").expect("the holder's call") > 0);
        assert!(state.db(Store::movie_count).await.expect("free again") > 0);
    }
}
