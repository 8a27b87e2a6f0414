//! `movierec up` (and bare `movierec`): make sure the catalog is loaded, then show what it holds.

use crate::db::{movies, runs};
use crate::etl::{self, Source};
use std::path::Path;
use std::process::ExitCode;

/// Recommendations shown as the example.
const EXAMPLE_N: usize = 10;

pub fn run(db: &Path, data_dir: &Path) -> anyhow::Result<ExitCode> {
    let mut conn = crate::db::open_rw(db)?;
    if movies::count(&conn)? == 0 {
        eprintln!("{} is empty: loading the embedded dataset", db.display());
        etl::run(&mut conn, data_dir, &Source::Embedded)?;
    }
    match runs::latest_audit(&conn)? {
        Some(report) => println!("{}", report.to_table()),
        None => println!("no successful ETL run recorded"),
    }
    println!("{} movies in {}", movies::count(&conn)?, db.display());
    if let Some(movie) = movies::most_voted(&conn)? {
        println!();
        let recs = super::recommend::similar(&conn, &movie, EXAMPLE_N)?;
        super::recommend::print_table(&movie, &recs);
        println!(
            "\nTry: movierec recommend --title {:?} -n 5   |   movierec movies --search love",
            movie.title
        );
    }
    Ok(ExitCode::SUCCESS)
}
