//! `movierec export`: one table of the database as a Parquet or CSV file.

use crate::domain::export::{ExportFormat, ExportTable};
use crate::export::Existing;
use crate::store::Location;
use crate::store::Store;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// movies, ratings, users, tags, genres, movie_genres, movie_sources, movie_ids, people,
    /// movie_people, keywords or movie_keywords.
    #[arg(long, value_parser = ExportTable::parse)]
    table: ExportTable,

    /// parquet (Snappy-compressed) or csv.
    #[arg(long, default_value = "parquet", value_parser = ExportFormat::parse)]
    format: ExportFormat,

    /// Where to write [default: `<table>.<format>` in the current directory]; `-` is stdout.
    /// Only a regular file is written: devices, FIFOs, sockets and directories are refused.
    #[arg(long)]
    out: Option<PathBuf>,

    /// Replace an existing file (or a symbolic link, itself: never what it points to).
    #[arg(long)]
    force: bool,
}

pub fn run(args: &Args, db: &Location) -> anyhow::Result<ExitCode> {
    let store = Store::connect_read_only(db)?;
    let out = args.out.clone().unwrap_or_else(|| {
        PathBuf::from(format!("{}.{}", args.table.name(), args.format.extension()))
    });
    if out == Path::new("-") {
        crate::export::write(&store, args.table, args.format, std::io::stdout())?;
    } else {
        let existing = if args.force {
            Existing::Replace
        } else {
            Existing::Refuse
        };
        let rows = crate::export::to_file(&store, args.table, args.format, &out, existing)?;
        eprintln!("{rows} rows of {} written to {}", args.table, out.display());
    }
    Ok(ExitCode::SUCCESS)
}
