//! `movierec etl`: run the pipeline once and print its audit report.

use crate::domain::etl::Source;
use crate::domain::source::RatingPolicy;
use crate::domain::EtlRunId;
use crate::store::Location;
use crate::store::Store;
use std::path::Path;
use std::process::ExitCode;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// `embedded` (the built-in vega dataset), a .json / .csv file (optionally .gz),
    /// `tmdb:<ingest run id>` (the responses a `movierec ingest tmdb` run kept, offline), or
    /// `movielens:<dir>` (a MovieLens dataset: ml-100k, ml-1m, ml-latest(-small), ml-25m, ml-32m).
    #[arg(long, default_value = "embedded", conflicts_with = "replay", value_parser = Source::parse)]
    source: Source,

    /// Reload the raw input kept by an earlier run instead of reading a source.
    #[arg(long, value_name = "RUN_ID")]
    replay: Option<EtlRunId>,

    /// Print the audit report as JSON instead of tables.
    #[arg(long)]
    json: bool,
}

pub fn run(
    args: &Args,
    db: &Location,
    data_dir: &Path,
    policy: &RatingPolicy,
    lock_wait: std::time::Duration,
) -> anyhow::Result<ExitCode> {
    let mut store = Store::connect(db)?;
    store.wait_for_writers(super::lock_wait(lock_wait, "movierec etl"))?;
    let source = match args.replay {
        Some(run_id) => replayed(&store, run_id)?,
        None => args.source.clone(),
    };
    let outcome = match source {
        Source::Tmdb(run) => super::load_ingest_run(&mut store, data_dir, run, policy)?,
        source => crate::etl::run(&mut store, data_dir, &source, policy)?,
    };
    if args.json {
        super::print_json(&outcome.report)?;
    } else {
        let c = &outcome.report.counts;
        println!("{}", super::output::audit_tables(&outcome.report));
        println!(
            "inserted {}, updated {}, unchanged {}; {} rows rejected",
            c.inserted, c.updated, c.unchanged, c.rejected
        );
        let merged = outcome.report.identity.merged.len();
        if merged > 0 {
            println!("merged {merged} copies of films into earlier movies (their ids redirect)");
        }
        if let Some(snapshot) = &outcome.snapshot {
            println!("raw input: {}", data_dir.join(snapshot).display());
        }
        println!("audit report: {}", outcome.report_path.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// What `--replay RUN` reloads: the run's raw snapshot, or for a run that loaded an ingest, that
/// ingest's raw responses again.
fn replayed(store: &Store, run_id: EtlRunId) -> anyhow::Result<Source> {
    let run = store
        .etl_run(run_id)?
        .ok_or(crate::etl::EtlError::UnknownRun(run_id))?;
    Ok(match Source::parse(&run.source) {
        Ok(Source::Tmdb(ingest)) => Source::Tmdb(ingest),
        _ => Source::Replay(run_id),
    })
}
