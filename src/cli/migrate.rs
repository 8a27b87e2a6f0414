//! `movierec migrate`: brings a database's schema up to this movierec, or, with `--to`, copies a
//! SQLite database into an empty PostgreSQL one and checks every table's rows arrived.

use crate::store::{Location, PgUrl, Store};
use std::process::ExitCode;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Copy the SQLite database (`--db`) into this empty PostgreSQL database
    /// (`postgres://user:password@host:port/db`): every table in one transaction, then each
    /// table's row count and checksum compared before it commits.
    /// (Parsed after clap, whose errors would print the password.)
    #[arg(long, value_name = "URL")]
    to: Option<String>,
}

pub fn run(args: &Args, db: &Location) -> anyhow::Result<ExitCode> {
    if let Location::Sqlite(path) = db {
        if !path.exists() {
            anyhow::bail!(
                "database {} does not exist; run `movierec etl` or `movierec up` first",
                path.display()
            );
        }
    }
    let Some(to) = &args.to else {
        let store = Store::connect(db)?;
        println!("{db}: schema version {}", store.schema_version()?);
        return Ok(ExitCode::SUCCESS);
    };
    let to: PgUrl = match to.parse() {
        Ok(url) => url,
        Err(e) => {
            eprintln!("error: --to: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let to = &to;
    let Location::Sqlite(_) = db else {
        anyhow::bail!("`migrate --to` copies a SQLite database: --db {db} is not one");
    };
    // Brought up to date first, so the copy has every column PostgreSQL's schema has.
    let store = Store::connect(db)?;
    let started = std::time::Instant::now();
    let copied = store.copy_to_postgres(to, |t| {
        eprintln!("{}: {} rows copied", t.table, t.rows);
    })?;
    let mut table = super::output::table(&["table", "rows", "checksum", "PostgreSQL"]);
    for t in &copied {
        table.add_row([
            t.table.to_owned(),
            t.rows.to_string(),
            t.checksum.clone(),
            if t.matches { "same" } else { "DIFFERENT" }.to_owned(),
        ]);
    }
    println!("{table}");
    println!(
        "copied {} rows in {} tables from {db} to {to} in {:.1} s; every count and checksum matches",
        copied.iter().map(|t| t.rows).sum::<u64>(),
        copied.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}
