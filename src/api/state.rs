//! Server state: a pool of read-only connections and an immutable catalog snapshot (movies + the
//! model fitted on them) that is swapped atomically when a newer ETL run succeeds.

use super::error::ApiError;
use super::metrics::Metrics;
use crate::db::{self, movies, movies::MovieRow, runs};
use crate::model::ContentModel;
use arc_swap::ArcSwap;
use chrono::{SecondsFormat, Utc};
use r2d2_sqlite::SqliteConnectionManager;
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub type Pool = r2d2::Pool<SqliteConnectionManager>;

/// Everything a recommendation needs, built in one read transaction so the model and the rows
/// always describe the same catalog. Never mutated: a reload builds a new one.
#[derive(Debug)]
pub struct Catalog {
    pub model: ContentModel,
    /// Sorted by id, like the model's ids.
    pub movies: Vec<MovieRow>,
    /// The newest succeeded ETL run at load time.
    pub run_id: Option<i64>,
    pub fitted_at: String,
    pub fit_seconds: f64,
}

impl Catalog {
    /// Reads the catalog and fits the model.
    pub fn load(conn: &mut Connection) -> anyhow::Result<Self> {
        let started = Instant::now();
        let tx = conn.transaction()?;
        let run_id = runs::latest_succeeded_id(&tx)?;
        let movies = movies::all(&tx)?;
        tx.finish()?;
        let model = ContentModel::fit(
            movies
                .iter()
                .map(|m| (m.id, m.rating, f64::from(m.release_year)))
                .collect(),
        )?;
        Ok(Self {
            model,
            movies,
            run_id,
            fitted_at: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
            fit_seconds: started.elapsed().as_secs_f64(),
        })
    }

    pub fn movie(&self, id: i64) -> Option<&MovieRow> {
        self.movies
            .binary_search_by_key(&id, |m| m.id)
            .ok()
            .map(|i| &self.movies[i])
    }
}

/// Shared by every handler.
#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub catalog: Arc<ArcSwap<Catalog>>,
    pub metrics: Arc<Metrics>,
}

impl AppState {
    /// Opens the pool on an existing database and loads the first catalog snapshot.
    pub fn open(db_path: &Path, pool_size: u32) -> anyhow::Result<Self> {
        db::open_ro(db_path)?;
        let manager = SqliteConnectionManager::file(db_path)
            .with_flags(
                OpenFlags::SQLITE_OPEN_READ_ONLY
                    | OpenFlags::SQLITE_OPEN_NO_MUTEX
                    | OpenFlags::SQLITE_OPEN_URI,
            )
            .with_init(|c| c.busy_timeout(Duration::from_secs(5)));
        let pool = r2d2::Pool::builder()
            .max_size(pool_size)
            .connection_timeout(Duration::from_secs(5))
            .build(manager)?;
        let catalog = Catalog::load(&mut *pool.get()?)?;
        let metrics = Arc::new(Metrics::default());
        metrics.observe_catalog(&catalog);
        Ok(Self {
            pool,
            catalog: Arc::new(ArcSwap::from_pointee(catalog)),
            metrics,
        })
    }

    /// Runs a blocking database call on the blocking pool, with a pooled read-only connection.
    pub async fn db<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let pool = self.pool.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool.get()?;
            f(&conn).map_err(ApiError::from)
        })
        .await
        .map_err(ApiError::internal)?
    }

    /// Loads a new snapshot if a newer ETL run succeeded since the current one. Returns whether
    /// it swapped. The old snapshot keeps serving until the new one is complete.
    pub async fn reload_if_newer(&self) -> Result<bool, ApiError> {
        let latest = self.db(runs::latest_succeeded_id).await?;
        if latest == self.catalog.load().run_id {
            return Ok(false);
        }
        let pool = self.pool.clone();
        let catalog = tokio::task::spawn_blocking(move || -> anyhow::Result<Catalog> {
            Catalog::load(&mut *pool.get()?)
        })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
        tracing::info!(
            run_id = catalog.run_id,
            movies = catalog.movies.len(),
            fit_seconds = catalog.fit_seconds,
            "catalog reloaded"
        );
        self.metrics.observe_catalog(&catalog);
        self.catalog.store(Arc::new(catalog));
        Ok(true)
    }
}
