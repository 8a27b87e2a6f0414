//! `movierec movies`: list or search the catalog.

use crate::domain::catalog::{check_search, CatalogQuery};
use crate::store::Location;
use crate::store::Store;
use std::process::ExitCode;

#[derive(Debug, Clone, clap::Args)]
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

pub fn run(args: &Args, db: &Location) -> anyhow::Result<ExitCode> {
    let search = args.search.as_deref().unwrap_or_default();
    check_search(search).map_err(|e| anyhow::anyhow!("--search: {e}"))?;
    let store = Store::connect_read_only(db)?;
    let query = CatalogQuery::search(search, args.limit);
    let (rows, _) = store.movies_page(&query)?;
    if args.json {
        super::print_json(&rows)?;
    } else {
        println!("{}", super::output::movies_table(&rows, None));
        println!("{} of {} movies", rows.len(), store.movie_count()?);
    }
    Ok(ExitCode::SUCCESS)
}
