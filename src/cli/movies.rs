//! `movierec movies`: list or search the catalog.

use crate::db::movies;
use crate::movie::title_key;
use std::path::Path;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Case-insensitive substring of the title.
    #[arg(long, short)]
    search: Option<String>,

    /// Maximum number of movies to list (1–10000).
    #[arg(long, short, default_value_t = 20, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    limit: u32,

    /// Print JSON instead of a table.
    #[arg(long)]
    json: bool,
}

pub fn run(args: &Args, db: &Path) -> anyhow::Result<ExitCode> {
    let conn = super::open_ro(db)?;
    let key = args.search.as_deref().map(title_key).unwrap_or_default();
    let rows = movies::search(&conn, &key, args.limit)?;
    if args.json {
        super::print_json(&rows)?;
    } else {
        println!("{}", super::output::movies_table(&rows, None));
        println!("{} of {} movies", rows.len(), movies::count(&conn)?);
    }
    Ok(ExitCode::SUCCESS)
}
