//! The test suite's TMDB v3 stub as a program, for benchmarks (`bench/ingest_vs_limit.sh`):
//! serves a TMDB-export CSV on 127.0.0.1, prints its base URL, and on Ctrl-C / SIGTERM prints
//! what it saw as JSON (requests, most in any one second, 429s it had to give).

#[path = "../tests/support/tmdb_stub.rs"]
mod tmdb_stub;

use clap::Parser;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
struct Args {
    /// TMDB-export CSV to serve (e.g. ../shared/data/tmdb-5000/tmdb_5000_movies.csv).
    #[arg(long)]
    csv: PathBuf,
    /// The credential accepted (api_key or Bearer).
    #[arg(long, default_value = "bench-key")]
    key: String,
    /// Requests per sliding second before the stub answers 429, like TMDB.
    #[arg(long)]
    rate_limit: Option<usize>,
    /// Inject the test suite's faults: 429 every 97th request, a 3-reply 5xx burst every 131st,
    /// a 900 ms reply every 89th, a truncated body every 61st.
    #[arg(long)]
    faults: bool,
}

fn main() {
    let args = Args::parse();
    let mut config = tmdb_stub::StubConfig::new(tmdb_stub::load_csv(&args.csv), &args.key);
    config.rate_limit = args.rate_limit;
    if args.faults {
        config.faults = tmdb_stub::Faults {
            rate_limit_every: Some(97),
            error_burst: Some((131, 3)),
            slow_every: Some((89, Duration::from_millis(900))),
            truncate_every: Some(61),
        };
    }
    let stub = tmdb_stub::Stub::start(config);
    println!("{}", stub.base_url());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    });
    let seen = stub.seen();
    let span = match (seen.first(), seen.last()) {
        (Some(a), Some(b)) => b.at.duration_since(a.at).as_secs_f64(),
        _ => 0.0,
    };
    let report = serde_json::json!({
        "requests": seen.len(),
        "seconds_first_to_last": span,
        "max_in_one_second": stub.max_per_second(),
        "over_limit_429": seen.iter().filter(|s| s.over_limit).count(),
        "injected_or_error_statuses": seen.iter().filter(|s| s.status != 200 && !s.over_limit).count(),
    });
    eprintln!("{report}");
}
