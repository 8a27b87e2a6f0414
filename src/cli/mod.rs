//! Command-line commands, one module per subcommand: each parses its own flags (clap) and runs
//! against the store and the services. Results go to stdout (a table, or JSON with `--json`),
//! errors and progress to stderr. `serve` and `up` live in [`crate::app`], which composes the web
//! layer.

pub mod dataset;
pub mod etl;
pub mod eval;
pub mod export;
pub mod ingest;
pub mod migrate;
pub mod movies;
pub mod output;
pub mod probe;
pub mod recommend;
pub mod review;
pub mod runs;
pub mod train;

use crate::domain::etl::Source;
use crate::domain::source::RatingPolicy;
use crate::domain::IngestRunId;
use crate::etl::{EtlOutcome, RecordInput};
use crate::store::{LockWait, Store};
use std::io::IsTerminal;
use std::path::Path;
use std::time::Duration;

/// How a command's writes wait for another writer's lock: up to `timeout`, saying on stderr
/// whom they wait for. `label` names this command in the others' messages.
fn lock_wait(timeout: Duration, label: &str) -> LockWait {
    LockWait {
        timeout,
        label: label.to_owned(),
        notify: Box::new(move |holder| {
            eprintln!(
                "waiting for {holder} to finish (up to {} s; --lock-wait)…",
                timeout.as_secs()
            );
        }),
    }
}

/// Prints `value` as pretty JSON on stdout.
fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

/// Log line format on stderr.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Logs to stderr; `RUST_LOG` overrides `default_level`.
pub fn init_logging(format: LogFormat, default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    // A second init (tests calling twice) is harmless, so its error is ignored.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Loads what ingest run `run` fetched: its records, rebuilt from the raw zone, go to the ETL as
/// typed values; the two runs are then linked. Shared by `etl --source tmdb:N` and `ingest`.
fn load_ingest_run(
    store: &mut Store,
    data_dir: &Path,
    run: IngestRunId,
    policy: &RatingPolicy,
) -> anyhow::Result<EtlOutcome> {
    let assembled = crate::ingest::assemble(store, data_dir, run)?;
    let input = RecordInput {
        source: Source::Tmdb(run),
        sha256: assembled.sha256,
        snapshot: assembled.raw_dir,
    };
    let outcome = crate::etl::run_records(store, data_dir, &input, policy, assembled.records)?;
    store.set_ingest_load(run, outcome.report.run_id)?;
    Ok(outcome)
}
