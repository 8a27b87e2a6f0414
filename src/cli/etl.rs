//! `movierec etl`: run the pipeline once and print its audit report.

use crate::etl::{self, Source};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// `embedded` (the built-in vega dataset), a .json / .csv file (optionally .gz), or
    /// `tmdb:<ingest run id>` (the responses a `movierec ingest tmdb` run kept, offline).
    #[arg(long, default_value = "embedded", conflicts_with = "replay")]
    source: String,

    /// Reload the raw snapshot kept by an earlier run instead of reading a source.
    #[arg(long, value_name = "RUN_ID")]
    replay: Option<i64>,

    /// Print the audit report as JSON instead of tables.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args, db: &Path, data_dir: &Path) -> anyhow::Result<ExitCode> {
    let source = match (args.replay, args.source.as_str()) {
        (Some(run_id), _) => Source::Replay(run_id),
        (None, "embedded") => Source::Embedded,
        (None, tmdb) if tmdb.starts_with("tmdb:") => {
            let id = tmdb["tmdb:".len()..].parse().map_err(|_| {
                anyhow::anyhow!("--source {tmdb:?}: expected tmdb:<ingest run id>, e.g. tmdb:1")
            })?;
            Source::Tmdb(id)
        }
        (None, path) => Source::File(PathBuf::from(path)),
    };
    let mut conn = crate::db::open_rw(db)?;
    let outcome = etl::run(&mut conn, data_dir, &source)?;
    if args.json {
        super::print_json(&outcome.report)?;
    } else {
        let c = &outcome.report.counts;
        println!("{}", outcome.report.to_table());
        println!(
            "inserted {}, updated {}, unchanged {}; {} rows rejected",
            c.inserted, c.updated, c.unchanged, c.rejected
        );
        println!("raw snapshot: {}", outcome.snapshot_path.display());
        println!("audit report: {}", outcome.report_path.display());
    }
    Ok(ExitCode::SUCCESS)
}
