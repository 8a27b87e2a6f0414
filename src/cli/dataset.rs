//! `movierec dataset`: list and fetch the MovieLens datasets.

use crate::dataset::{self, Dataset, FetchOptions, DATASETS};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, clap::Subcommand)]
enum Command {
    /// The datasets `fetch` knows, with their official URLs.
    List,
    /// Download a dataset's zip, check its SHA-256, unpack it to DIR/NAME.
    Fetch(FetchArgs),
}

#[derive(Debug, Clone, clap::Args)]
struct FetchArgs {
    /// ml-100k, ml-1m, ml-latest-small, ml-25m or ml-32m.
    #[arg(value_parser = Dataset::named)]
    name: Dataset,

    /// Where to unpack it [default: `<data dir>/datasets`].
    #[arg(long)]
    dir: Option<PathBuf>,

    /// Download from here instead of the official URL (a mirror).
    #[arg(long)]
    url: Option<String>,

    /// The zip's expected SHA-256 (overrides a pinned or recorded one): 64 hex digits, checked
    /// before anything is downloaded.
    #[arg(long, value_name = "HEX", value_parser = |s: &str| dataset::parse_sha256(s).map_err(|e| e.to_string()))]
    sha256: Option<String>,

    /// The most bytes to download [default: the dataset's size with a margin, see `dataset list`].
    #[arg(long, value_name = "BYTES")]
    max_bytes: Option<u64>,

    /// The most seconds the whole download may take (a server silent for 30 s fails it sooner).
    #[arg(long, value_name = "SECONDS", default_value_t = 3600)]
    timeout: u64,

    /// Download and unpack again even if the dataset is there.
    #[arg(long)]
    force: bool,
}

pub fn run(args: &Args, data_dir: &Path) -> anyhow::Result<ExitCode> {
    match &args.command {
        Command::List => {
            for d in DATASETS {
                println!(
                    "{:<16} {:>7}  {}  (at most {} MiB)",
                    d.name,
                    d.size,
                    d.url,
                    d.max_bytes >> 20
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Fetch(f) => fetch(f, data_dir),
    }
}

fn fetch(args: &FetchArgs, data_dir: &Path) -> anyhow::Result<ExitCode> {
    let dir = match &args.dir {
        Some(dir) => dir.clone(),
        None => {
            let dir = data_dir.join("datasets");
            std::fs::create_dir_all(&dir)?;
            dir
        }
    };
    let options = FetchOptions {
        url: args.url.clone(),
        sha256: args.sha256.clone(),
        force: args.force,
        max_bytes: args.max_bytes,
        timeout: std::time::Duration::from_secs(args.timeout),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let fetched = runtime.block_on(dataset::fetch(args.name, &dir, &options))?;
    let where_ = fetched.dir.display();
    if fetched.already_present {
        println!("{where_} is already there (--force downloads it again)");
    } else if fetched.verified {
        println!("{where_}: unpacked; SHA-256 {} verified", fetched.sha256);
    } else {
        println!(
            "{where_}: unpacked; SHA-256 {} recorded in {} (no pinned checksum to verify it against; later fetches are checked against this one)",
            fetched.sha256,
            dataset::RECORD
        );
    }
    println!("load it with: movierec etl --source movielens:{where_}");
    Ok(ExitCode::SUCCESS)
}
