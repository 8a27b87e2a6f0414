//! Settings: every flag, its environment variable and its default, written once. `movierec`'s
//! command line is parsed into [`Settings`]; tests build [`ServeSettings::default`] and change
//! what they need.

use crate::cli::{self, LogFormat};
use crate::domain::source::RatingPolicy;
use crate::store::Location;
use crate::web::WebConfig;
use anyhow::Context;
use axum::http::HeaderValue;
use clap::{Parser, Subcommand};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

const DEFAULT_DB: &str = "movierec.db";
const DEFAULT_ADDR: &str = "127.0.0.1:8000";
const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 10_000;
const DEFAULT_BODY_LIMIT: usize = 64 * 1024;
const DEFAULT_RELOAD_INTERVAL_MS: u64 = 2_000;
/// Long enough for a load balancer's readiness checks (every 1–2 s) to see the 503.
const DEFAULT_DRAIN_MS: u64 = 5_000;
const DEFAULT_POOL_SIZE: u32 = 8;
const DEFAULT_LOCK_WAIT_SECS: u64 = 600;
const DEFAULT_MAX_IN_FLIGHT: u32 = 1024;

#[derive(Debug, Parser)]
#[command(
    name = "movierec",
    version,
    about = "Movie recommender: ETL into SQLite, similar-movie recommendations"
)]
pub struct Settings {
    /// The database: a SQLite file, or a PostgreSQL server as `postgres://user:password@host:port/db`.
    /// (Parsed after clap, whose errors would print a URL's password.)
    #[arg(long, global = true, env = "MOVIEREC_DB", default_value = DEFAULT_DB)]
    db: String,

    /// Directory for raw snapshots, audit reports and trained models [default: `<db name>-data`
    /// beside a SQLite database, `./movierec-data` for PostgreSQL]; replicas share it.
    #[arg(long, global = true, env = "MOVIEREC_DATA_DIR")]
    data_dir: Option<PathBuf>,

    /// How a load derives each movie's rating from its providers' ratings: `vote-weighted` (the
    /// votes-weighted mean), or `priority:vega,tmdb,movielens,file` (the first that has one).
    #[arg(long, global = true, env = "MOVIEREC_RATING_POLICY", default_value = "vote-weighted",
          value_parser = RatingPolicy::parse)]
    pub rating_policy: RatingPolicy,

    /// Seconds a writer (etl, ingest, train) waits for another writer's lock before giving up;
    /// it says on stderr whom it waits for.
    #[arg(long, global = true, env = "MOVIEREC_LOCK_WAIT", default_value_t = DEFAULT_LOCK_WAIT_SECS,
          value_name = "SECONDS")]
    lock_wait: u64,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Load the embedded dataset if the database is empty, then serve the API. What a bare
    /// `movierec` does.
    Up(ServeSettings),
    /// Serve the REST API (OpenAPI at /openapi.json, Swagger UI at /docs) and the dashboard on an
    /// existing database.
    Serve(ServeSettings),
    /// Extract, transform and load movies into the database (idempotent).
    Etl(cli::etl::Args),
    /// Fetch movies from an external movie API (TMDB v3) within its limits, then load them.
    Ingest(cli::ingest::Args),
    /// Movies similar to one movie (content model: rating + release year, cosine).
    Recommend(cli::recommend::Args),
    /// List or search the catalog.
    Movies(cli::movies::Args),
    /// ETL run history (lineage): when, from what, with which counts and status.
    Runs(cli::runs::Args),
    /// Identity decisions held for review, each with both sides: the movie the record became
    /// and every candidate it could have been.
    Review(cli::review::Args),
    /// Write a table (movies, ratings, genres, …) as Parquet or CSV, for analysts' tools.
    Export(cli::export::Args),
    /// MovieLens datasets on demand: `dataset list`, `dataset fetch NAME`.
    Dataset(cli::dataset::Args),
    /// Evaluate the models offline on MovieLens files (rating or top-N protocol).
    Eval(cli::eval::Args),
    /// Fit a collaborative model on the database's ratings and store it (`serve` picks it up).
    Train(cli::train::Args),
    /// The trained models: kind, when, on what, held-out metrics.
    Models(cli::train::ListArgs),
    /// Ask a running server's health endpoint (default `/health/ready` on 127.0.0.1:8000): exit
    /// 0 on a 2xx answer, 1 otherwise. For container health checks.
    Probe(cli::probe::Args),
    /// Bring an existing database's schema up to this movierec (every command that writes
    /// does it first; `serve` and the read-only commands do not), or copy a SQLite database
    /// into PostgreSQL (`--to postgres://…`).
    Migrate(cli::migrate::Args),
}

impl Settings {
    /// The data directory: `--data-dir`, else `<db name>-data` beside the database
    /// (`./movierec.db` → `./movierec-data`).
    pub fn data_dir(&self, db: &Location) -> PathBuf {
        self.data_dir.clone().unwrap_or_else(|| match db {
            Location::Sqlite(path) => default_data_dir(path),
            Location::Postgres(_) => PathBuf::from("movierec-data"),
        })
    }

    /// Where the database is (`--db`): a file, or a PostgreSQL URL checked here.
    pub fn db(&self) -> Result<Location, crate::store::StoreError> {
        self.db.parse()
    }

    /// How long a writer waits for another writer's lock.
    pub fn lock_wait(&self) -> Duration {
        Duration::from_secs(self.lock_wait)
    }
}

/// `<db name>-data` beside the database.
fn default_data_dir(db: &Path) -> PathBuf {
    let stem = db
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("movierec");
    db.with_file_name(format!("{stem}-data"))
}

/// How `serve` and `up` run the server.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeSettings {
    /// Address to listen on (port 0 picks a free port; the log says which).
    #[arg(long, env = "MOVIEREC_ADDR", default_value = DEFAULT_ADDR)]
    pub addr: SocketAddr,

    /// Log format on stderr; the level comes from RUST_LOG (default `info`).
    #[arg(long, env = "MOVIEREC_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Origin allowed to call the API from a browser (repeat, or comma-separate in the env var).
    /// None by default: CORS is off.
    #[arg(
        long = "cors-origin",
        env = "MOVIEREC_CORS_ORIGINS",
        value_delimiter = ','
    )]
    pub cors_origins: Vec<String>,

    /// Requests taking longer are abandoned with 408, in milliseconds.
    #[arg(long, env = "MOVIEREC_REQUEST_TIMEOUT_MS", default_value_t = DEFAULT_REQUEST_TIMEOUT_MS,
          value_parser = clap::value_parser!(u64).range(1..=600_000))]
    pub request_timeout_ms: u64,

    /// Largest request body accepted, in bytes (larger: 413).
    #[arg(long, env = "MOVIEREC_BODY_LIMIT", default_value_t = DEFAULT_BODY_LIMIT)]
    pub body_limit: usize,

    /// How often to look for a newer successful ETL run to reload the model from, in milliseconds
    /// (SIGHUP checks at once).
    #[arg(long, env = "MOVIEREC_RELOAD_INTERVAL_MS", default_value_t = DEFAULT_RELOAD_INTERVAL_MS,
          value_parser = clap::value_parser!(u64).range(100..=86_400_000))]
    pub reload_interval_ms: u64,

    /// After SIGTERM, how long `/health/ready` answers 503 while everything else is still
    /// served, before the listener closes, in milliseconds (Ctrl-C stops at once).
    #[arg(long, env = "MOVIEREC_DRAIN_MS", default_value_t = DEFAULT_DRAIN_MS,
          value_parser = clap::value_parser!(u64).range(0..=600_000))]
    pub drain_ms: u64,

    /// Read-only database connections in the pool (and the most store calls at once).
    #[arg(long, env = "MOVIEREC_POOL_SIZE", default_value_t = DEFAULT_POOL_SIZE,
          value_parser = clap::value_parser!(u32).range(1..=256))]
    pub pool_size: u32,

    /// Requests handled at once; more wait their turn up to 5 s, then get a 503 with Retry-After.
    #[arg(long, env = "MOVIEREC_MAX_IN_FLIGHT", default_value_t = DEFAULT_MAX_IN_FLIGHT,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_in_flight: u32,
}

impl Default for ServeSettings {
    /// The documented defaults, without reading the environment.
    fn default() -> Self {
        Self {
            addr: DEFAULT_ADDR
                .parse()
                .expect("DEFAULT_ADDR is a socket address"),
            log_format: LogFormat::Text,
            cors_origins: Vec::new(),
            request_timeout_ms: DEFAULT_REQUEST_TIMEOUT_MS,
            body_limit: DEFAULT_BODY_LIMIT,
            reload_interval_ms: DEFAULT_RELOAD_INTERVAL_MS,
            drain_ms: DEFAULT_DRAIN_MS,
            pool_size: DEFAULT_POOL_SIZE,
            max_in_flight: DEFAULT_MAX_IN_FLIGHT,
        }
    }
}

impl ServeSettings {
    /// What the web layer needs, with CORS origins checked.
    pub fn web_config(&self) -> anyhow::Result<WebConfig> {
        let cors_origins = self
            .cors_origins
            .iter()
            .filter(|o| !o.trim().is_empty())
            .map(|o| {
                HeaderValue::from_str(o.trim())
                    .with_context(|| format!("invalid CORS origin {o:?}"))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(WebConfig {
            request_timeout: Duration::from_millis(self.request_timeout_ms),
            body_limit: self.body_limit,
            cors_origins,
            reload_interval: Duration::from_millis(self.reload_interval_ms),
            max_in_flight: self.max_in_flight as usize,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_same_with_and_without_the_command_line() {
        let parsed = Settings::try_parse_from(["movierec", "serve"]).expect("parse");
        let Some(Command::Serve(from_cli)) = parsed.command else {
            panic!("serve expected");
        };
        let default = ServeSettings::default();
        // The environment may set these in CI; compare only when it does not.
        if std::env::var_os("MOVIEREC_ADDR").is_none() {
            assert_eq!(from_cli.addr, default.addr);
        }
        assert_eq!(from_cli.body_limit, default.body_limit);
        assert_eq!(from_cli.pool_size, default.pool_size);
        assert_eq!(from_cli.reload_interval_ms, default.reload_interval_ms);
        if std::env::var_os("MOVIEREC_DRAIN_MS").is_none() {
            assert_eq!(from_cli.drain_ms, default.drain_ms);
        }
        assert_eq!(from_cli.request_timeout_ms, default.request_timeout_ms);
    }

    #[test]
    fn data_dir_defaults_beside_the_database() {
        assert_eq!(
            default_data_dir(Path::new("/x/movies.db")),
            PathBuf::from("/x/movies-data")
        );
    }
}
