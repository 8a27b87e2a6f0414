//! `movierec runs`: the ETL lineage, newest first.

use crate::store::Location;
use crate::store::Store;
use chrono::SecondsFormat;
use std::process::ExitCode;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Maximum number of runs to list (1–1000).
    #[arg(long, short, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=1000))]
    limit: u32,

    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args, db: &Location) -> anyhow::Result<ExitCode> {
    let store = Store::connect_read_only(db)?;
    let rows = store.etl_runs(args.limit, 0)?;
    if args.json {
        super::print_json(&rows)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut t = super::output::table(&[
        "run",
        "started",
        "source",
        "status",
        "extracted",
        "loaded",
        "inserted",
        "updated",
        "unchanged",
        "rejected",
        "error",
    ]);
    for r in rows {
        t.add_row([
            r.run_id.to_string(),
            r.started_at.to_rfc3339_opts(SecondsFormat::Millis, true),
            super::output::cell(&r.source),
            r.status.as_str().to_owned(),
            r.extracted.to_string(),
            r.loaded.to_string(),
            r.inserted.to_string(),
            r.updated.to_string(),
            r.unchanged.to_string(),
            r.rejected.to_string(),
            super::output::cell(r.error.as_deref().unwrap_or_default()),
        ]);
    }
    println!("{t}");
    Ok(ExitCode::SUCCESS)
}
