//! Command-line interface: one subcommand per verb, one module per subcommand. Results go to
//! stdout (a table, or JSON with `--json`), errors and progress to stderr.
//!
//! Exit codes: 0 success, 1 error, 2 usage error or ambiguous title.

mod etl;
mod ingest;
mod movies;
mod output;
mod recommend;
mod runs;
mod serve;
mod up;

use clap::{Parser, Subcommand};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "movierec",
    version,
    about = "Movie recommender: ETL into SQLite, similar-movie recommendations"
)]
pub struct Cli {
    /// SQLite database file.
    #[arg(
        long,
        global = true,
        env = "MOVIEREC_DB",
        default_value = "movierec.db"
    )]
    db: PathBuf,

    /// Directory for raw snapshots and audit reports [default: `<db name>-data` beside the database].
    #[arg(long, global = true, env = "MOVIEREC_DATA_DIR")]
    data_dir: Option<PathBuf>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Load the embedded dataset if the database is empty, then serve the API. What a bare
    /// `movierec` does.
    Up(serve::Args),
    /// Serve the REST API (OpenAPI at /openapi.json, Swagger UI at /docs) on an existing database.
    Serve(serve::Args),
    /// Extract, transform and load movies into the database (idempotent).
    Etl(etl::Args),
    /// Fetch movies from an external movie API (TMDB v3) within its limits, then load them.
    Ingest(ingest::Args),
    /// Movies similar to one movie (content model: rating + release year, cosine).
    Recommend(recommend::Args),
    /// List or search the catalog.
    Movies(movies::Args),
    /// ETL run history (lineage): when, from what, with which counts and status.
    Runs(runs::Args),
}

impl Cli {
    fn data_dir(&self) -> PathBuf {
        self.data_dir
            .clone()
            .unwrap_or_else(|| crate::etl::default_data_dir(&self.db))
    }
}

/// Parses the command line, runs the command, and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let mut cli = Cli::parse();
    if cli.command.is_none() {
        // A bare `movierec [--db ..]` is `movierec [--db ..] up`, with up's defaults and env vars.
        cli = Cli::parse_from(std::env::args_os().chain([std::ffi::OsString::from("up")]));
    }
    let data_dir = cli.data_dir();
    let Some(command) = &cli.command else {
        unreachable!("a bare command was re-parsed as `up`");
    };
    let result = match command {
        Command::Up(args) => up::run(args, &cli.db, &data_dir),
        Command::Serve(args) => serve::run(args, &cli.db),
        Command::Etl(args) => etl::run(args, &cli.db, &data_dir),
        Command::Ingest(args) => ingest::run(args, &cli.db, &data_dir),
        Command::Recommend(args) => recommend::run(args, &cli.db),
        Command::Movies(args) => movies::run(args, &cli.db),
        Command::Runs(args) => runs::run(args, &cli.db),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// Prints `value` as pretty JSON on stdout.
fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}

fn open_ro(db: &Path) -> anyhow::Result<rusqlite::Connection> {
    Ok(crate::db::open_ro(db)?)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

/// Logs to stderr; `RUST_LOG` overrides `default_level`.
fn init_logging(format: LogFormat, default_level: &str) {
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
