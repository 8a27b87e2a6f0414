//! `movierec up` (and bare `movierec`): make sure the catalog is loaded, then serve it.

use crate::db::{movies, runs};
use crate::etl::{self, Source};
use std::path::Path;
use std::process::ExitCode;

pub fn run(args: &super::serve::Args, db: &Path, data_dir: &Path) -> anyhow::Result<ExitCode> {
    {
        let mut conn = crate::db::open_rw(db)?;
        if movies::count(&conn)? == 0 {
            eprintln!("{} is empty: loading the embedded dataset", db.display());
            etl::run(&mut conn, data_dir, &Source::Embedded)?;
        }
        if let Some(report) = runs::latest_audit(&conn)? {
            eprintln!("{}", report.to_table());
        }
        eprintln!("{} movies in {}", movies::count(&conn)?, db.display());
    }
    super::serve::run(args, db)
}
