//! `movierec ingest tmdb`: fetch movies from the TMDB v3 API into the raw zone under its rate
//! limit and the daily quota, then load them into the catalog through the ETL.

use crate::domain::source::RatingPolicy;
use crate::domain::IngestRunId;
use crate::etl::{EtlError, EtlOutcome};
use crate::ingest::client::{ClientConfig, Credentials};
use crate::ingest::{self, IngestReport, Params, Start};
use crate::store::Location;
use crate::store::Store;
use anyhow::Context;
use chrono::NaiveDate;
use indicatif::{ProgressBar, ProgressStyle};
use std::num::NonZeroU32;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    api: Api,
}

#[derive(Debug, Clone, clap::Subcommand)]
enum Api {
    /// The Movie Database (TMDB) v3. Credentials come from the environment only:
    /// TMDB_ACCESS_TOKEN (v4 read token, sent as a Bearer header) or TMDB_API_KEY (v3 key).
    Tmdb(TmdbArgs),
}

#[derive(Debug, Clone, clap::Args)]
struct TmdbArgs {
    /// First release date to cover (YYYY-MM-DD) [default: 1874-01-01, the first films].
    #[arg(long, value_name = "DATE", conflicts_with_all = ["changes_since", "resume"])]
    from: Option<NaiveDate>,

    /// Last release date to cover (YYYY-MM-DD) [default: 31 December of next year].
    #[arg(long, value_name = "DATE", conflicts_with_all = ["changes_since", "resume"])]
    to: Option<NaiveDate>,

    /// Also fetch each movie's details, keywords and credits (one more request per movie).
    #[arg(long, conflicts_with_all = ["changes_since", "resume"])]
    details: bool,

    /// Re-fetch only movies changed since DATE (YYYY-MM-DD), via /movie/changes in 14-day windows.
    #[arg(long, value_name = "DATE", conflicts_with = "resume")]
    changes_since: Option<NaiveDate>,

    /// Continue the newest unfinished run (or run RUN_ID) where it stopped, with its own range.
    #[arg(long, value_name = "RUN_ID", num_args = 0..=1, default_missing_value = "0")]
    resume: Option<i64>,

    /// Stop cleanly after this many requests in this invocation (retries count).
    #[arg(long, value_name = "N")]
    max_requests: Option<u64>,

    /// Requests per second, all requests together.
    #[arg(
        long,
        value_name = "REQ_PER_S",
        env = "MOVIEREC_TMDB_RATE",
        default_value = "40"
    )]
    rate: NonZeroU32,

    /// Requests allowed per UTC day, counted in the database across runs and processes.
    #[arg(
        long,
        value_name = "N",
        env = "MOVIEREC_TMDB_DAILY_QUOTA",
        default_value = "100000"
    )]
    daily_quota: u64,

    /// Requests in flight at once.
    #[arg(long, value_name = "N", env = "MOVIEREC_TMDB_CONCURRENCY", default_value = "8",
          value_parser = clap::value_parser!(u16).range(1..=256))]
    concurrency: u16,

    /// Give up on one reply after this long (then retry).
    #[arg(
        long,
        value_name = "MS",
        env = "MOVIEREC_TMDB_TIMEOUT_MS",
        default_value = "10000"
    )]
    timeout_ms: u64,

    /// Retries per request for 429, 5xx, timeouts and connection errors (malformed JSON: one).
    #[arg(
        long,
        value_name = "N",
        env = "MOVIEREC_TMDB_MAX_RETRIES",
        default_value = "6"
    )]
    max_retries: usize,

    /// First retry delay; doubles each attempt (with jitter), up to 30 s.
    #[arg(
        long,
        value_name = "MS",
        env = "MOVIEREC_TMDB_RETRY_BASE_MS",
        default_value_t = ingest::DEFAULT_RETRY_BASE.as_millis() as u64
    )]
    retry_base_ms: u64,

    /// API base URL.
    #[arg(
        long,
        env = "TMDB_BASE_URL",
        default_value = "https://api.themoviedb.org/3"
    )]
    base_url: String,

    /// Only fetch into the raw zone; load later with `movierec etl --source tmdb:<run id>`.
    #[arg(long)]
    no_load: bool,

    /// Print the run summary (and the load's audit report) as JSON.
    #[arg(long)]
    json: bool,
}

impl TmdbArgs {
    fn start(&self) -> anyhow::Result<Start> {
        if let Some(run) = self.resume {
            return Ok(Start::Resume((run != 0).then_some(IngestRunId(run))));
        }
        let today = chrono::Utc::now().date_naive();
        if let Some(since) = self.changes_since {
            anyhow::ensure!(since <= today, "--changes-since {since} is in the future");
            return Ok(Start::New(Params::Changes {
                since,
                until: today,
            }));
        }
        let Params::Discover { from, to, details } = Params::whole_catalog(self.details) else {
            unreachable!("the whole catalog is a discover run");
        };
        let (from, to) = (self.from.unwrap_or(from), self.to.unwrap_or(to));
        anyhow::ensure!(from <= to, "--from {from} is after --to {to}");
        Ok(Start::New(Params::Discover { from, to, details }))
    }

    fn client_config(&self) -> anyhow::Result<ClientConfig> {
        let base = self.base_url.trim().trim_end_matches('/');
        let url = reqwest::Url::parse(base)
            .with_context(|| format!("--base-url / TMDB_BASE_URL {base:?} is not a URL"))?;
        anyhow::ensure!(
            matches!(url.scheme(), "http" | "https") && url.query().is_none(),
            "--base-url / TMDB_BASE_URL {base:?} must be an http(s) URL without a query"
        );
        Ok(ClientConfig {
            base_url: base.to_owned(),
            rate: self.rate,
            timeout: Duration::from_millis(self.timeout_ms.max(1)),
            max_retries: self.max_retries,
            retry_base: Duration::from_millis(self.retry_base_ms),
            max_backoff: ingest::DEFAULT_MAX_BACKOFF,
        })
    }
}

pub fn run(
    args: &Args,
    db: &Location,
    data_dir: &Path,
    policy: &RatingPolicy,
    lock_wait: std::time::Duration,
) -> anyhow::Result<ExitCode> {
    let Api::Tmdb(args) = &args.api;
    super::init_logging(super::LogFormat::Text, "warn");
    let start = args.start()?;
    let client = args.client_config()?;
    let credentials = Credentials::from_env().context(
        "no TMDB credentials: set TMDB_ACCESS_TOKEN (v4 read access token) or TMDB_API_KEY (v3 API key)",
    )?;
    let options = ingest::Options {
        client,
        credentials,
        concurrency: usize::from(args.concurrency),
        daily_quota: args.daily_quota,
        max_requests: args.max_requests,
    };
    let mut store = Store::connect(db)?;
    store.wait_for_writers(super::lock_wait(lock_wait, "movierec ingest"))?;
    let mut quota_store = Store::connect(db)?;
    quota_store.wait_for_writers(super::lock_wait(lock_wait, "movierec ingest"))?;
    let bar = progress_bar();
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let summary = runtime.block_on(ingest::run(
        &mut store,
        quota_store,
        data_dir,
        start,
        options,
        &mut |p| {
            bar.set_length(p.known);
            bar.set_position(p.done);
            let rate = p.requests as f64 / started.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!(
                "{rate:.1} req/s · quota {}/{}",
                p.quota_used, p.daily_quota
            ));
        },
    ));
    bar.finish_and_clear();
    let summary = summary?;
    let load = if args.no_load {
        None
    } else {
        load(&mut store, data_dir, &summary, policy)?
    };
    if args.json {
        super::print_json(&serde_json::json!({
            "ingest": summary,
            "load": load.as_ref().map(|o| &o.report),
        }))?;
    } else {
        print_summary(&summary);
        if let Some(outcome) = &load {
            let c = &outcome.report.counts;
            println!("{}", super::output::audit_tables(&outcome.report));
            println!(
                "loaded as ETL run {}: inserted {}, updated {}, unchanged {}; {} rows rejected",
                outcome.report.run_id, c.inserted, c.updated, c.unchanged, c.rejected
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Loads the run's movies; a run that fetched none has nothing to load.
fn load(
    store: &mut Store,
    data_dir: &Path,
    summary: &IngestReport,
    policy: &RatingPolicy,
) -> anyhow::Result<Option<EtlOutcome>> {
    match super::load_ingest_run(store, data_dir, summary.ingest_run_id, policy) {
        Ok(outcome) => Ok(Some(outcome)),
        Err(e) if matches!(e.downcast_ref(), Some(EtlError::Empty { .. })) => {
            eprintln!("nothing to load: the run has fetched no movies yet");
            Ok(None)
        }
        Err(e) => Err(e).context(format!(
            "loading ingest run {} failed (its raw responses are kept; retry with `movierec etl --source tmdb:{}`)",
            summary.ingest_run_id, summary.ingest_run_id
        )),
    }
}

fn print_summary(s: &IngestReport) {
    let t = &s.totals;
    println!(
        "ingest run {}: {} after {:.1} s",
        s.ingest_run_id, s.status, s.elapsed_seconds
    );
    if let Some(reason) = &s.stop_reason {
        println!("  {reason}");
    }
    println!(
        "  this invocation: {} requests ({:.1}/s), {} retries, {} rate-limited (429), {} server errors, {} timeouts, {} malformed, {} skipped",
        s.requests, s.requests_per_second, s.retries, s.rate_limited, s.server_errors, s.timeouts, s.malformed, s.skipped
    );
    println!(
        "  whole run: {} list pages, {} windows split, {} windows open; details {} done, {} not found, {} pending; {} responses kept",
        t.pages, t.windows_split, t.windows_open, t.details_done, t.details_not_found, t.details_pending, t.responses
    );
    for w in &s.truncated_windows {
        println!("  warning: {w} has more than 10,000 movies on one day; only the first 10,000 are reachable");
    }
    println!(
        "  quota used today (UTC): {}/{}",
        s.quota_used_today, s.daily_quota
    );
    println!("  raw responses: {}", s.raw_dir.display());
}

/// Responses done / known so far, with requests/s, quota and ETA; drawn only on a terminal.
fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::new(0);
    if let Ok(style) =
        ProgressStyle::with_template("ingest [{bar:30}] {pos}/{len} · {msg} · ETA {eta}")
    {
        bar.set_style(style);
    }
    bar
}
