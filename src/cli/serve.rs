//! `movierec serve`: the REST API on a database the ETL built.

use super::LogFormat;
use crate::api::{self, state::AppState, ServeConfig};
use anyhow::Context;
use axum::http::HeaderValue;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Address to listen on (port 0 picks a free port; the log says which).
    #[arg(long, env = "MOVIEREC_ADDR", default_value = "127.0.0.1:8000")]
    addr: SocketAddr,

    /// Log format on stderr; the level comes from RUST_LOG (default `info`).
    #[arg(long, env = "MOVIEREC_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,

    /// Origin allowed to call the API from a browser (repeat, or comma-separate in the env var).
    /// None by default: CORS is off.
    #[arg(
        long = "cors-origin",
        env = "MOVIEREC_CORS_ORIGINS",
        value_delimiter = ','
    )]
    cors_origins: Vec<String>,

    /// Requests taking longer are abandoned with 408, in milliseconds.
    #[arg(long, env = "MOVIEREC_REQUEST_TIMEOUT_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..=600_000))]
    request_timeout_ms: u64,

    /// Largest request body accepted, in bytes (larger: 413).
    #[arg(long, env = "MOVIEREC_BODY_LIMIT", default_value_t = 65_536)]
    body_limit: usize,

    /// How often to look for a newer successful ETL run to reload the model from, in milliseconds
    /// (SIGHUP checks at once).
    #[arg(long, env = "MOVIEREC_RELOAD_INTERVAL_MS", default_value_t = 2_000,
          value_parser = clap::value_parser!(u64).range(100..=86_400_000))]
    reload_interval_ms: u64,

    /// Read-only database connections in the pool.
    #[arg(long, env = "MOVIEREC_POOL_SIZE", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..=256))]
    pool_size: u32,
}

impl Args {
    fn config(&self) -> anyhow::Result<ServeConfig> {
        let cors_origins = self
            .cors_origins
            .iter()
            .filter(|o| !o.trim().is_empty())
            .map(|o| {
                HeaderValue::from_str(o.trim())
                    .with_context(|| format!("invalid CORS origin {o:?}"))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(ServeConfig {
            addr: self.addr,
            request_timeout: Duration::from_millis(self.request_timeout_ms),
            body_limit: self.body_limit,
            cors_origins,
            reload_interval: Duration::from_millis(self.reload_interval_ms),
            pool_size: self.pool_size,
        })
    }
}

pub fn run(args: &Args, db: &Path) -> anyhow::Result<ExitCode> {
    super::init_logging(args.log_format, "info");
    let config = args.config()?;
    let state = AppState::open(db, config.pool_size)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(config.addr)
            .await
            .with_context(|| format!("cannot listen on {}", config.addr))?;
        api::serve(listener, state, &config, api::shutdown_signal()).await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
