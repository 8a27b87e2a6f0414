//! Ingest from the TMDB v3 API: page through `/discover/movie` by release-date windows (split
//! whenever a window has more pages than the API serves), optionally fetch each movie's details,
//! or re-fetch only what `/movie/changes` lists; keep every response in the raw zone; checkpoint
//! progress in the database so a killed run resumes where it stopped. [`assemble`] rebuilds a
//! run's movie records from the raw zone alone, offline, for the ETL to load.
//!
//! I/O is at the ends: [`run`] drives the work queue; [`client`] does HTTP; [`tmdb`] and the
//! date windows ([`crate::domain::window`]) are pure.

pub mod client;
pub mod raw;
pub mod tmdb;

use crate::domain::ingest::{
    IngestMode, IngestRun, IngestRunStatus, IngestTotals, ItemState, NewIngestRun, ResponseKind,
    WindowState,
};
use crate::domain::record::RawRecord;
use crate::domain::window::Window;
use crate::domain::IngestRunId;
use crate::store::{Checkpoint, Durability, Store, StoreError};
use chrono::{Datelike, NaiveDate, Utc};
use client::{Client, ClientConfig, Credentials, FetchError, Fetched, Gate, GateError, Stop};
use raw::RawZone;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tmdb::Request;
use tokio::task::JoinSet;

/// The API name under which runs and the quota are recorded.
pub const API: &str = "tmdb";

/// What a run covers; stored with it (`params_json`) so `--resume` needs no flags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "lowercase")]
pub enum Params {
    /// Every movie released in `from..=to`, optionally with details.
    Discover {
        from: NaiveDate,
        to: NaiveDate,
        details: bool,
    },
    /// Details of every movie changed in `since..=until`.
    Changes { since: NaiveDate, until: NaiveDate },
}

impl Params {
    /// The whole catalog: from the first films to the end of next year (announced releases).
    pub fn whole_catalog(details: bool) -> Self {
        let today = Utc::now().date_naive();
        Params::Discover {
            from: NaiveDate::from_ymd_opt(crate::domain::movie::MIN_YEAR, 1, 1).unwrap_or(today),
            to: NaiveDate::from_ymd_opt(today.year() + 1, 12, 31).unwrap_or(today),
            details,
        }
    }

    fn mode(&self) -> IngestMode {
        match self {
            Params::Discover { .. } => IngestMode::Discover,
            Params::Changes { .. } => IngestMode::Changes,
        }
    }

    /// The windows a new run starts from.
    fn windows(&self) -> (ResponseKind, Vec<Window>) {
        match *self {
            Params::Discover { from, to, .. } => (
                ResponseKind::Discover,
                Window::new(from, to).into_iter().collect(),
            ),
            Params::Changes { since, until } => (
                ResponseKind::Changes,
                Window::new(since, until)
                    .map(|w| w.chunks(tmdb::CHANGES_MAX_DAYS))
                    .unwrap_or_default(),
            ),
        }
    }

    /// Whether each movie listed gets a details request.
    fn wants_details(&self) -> bool {
        match self {
            Params::Discover { details, .. } => *details,
            Params::Changes { .. } => true,
        }
    }
}

/// A new run, or the continuation of an unfinished one.
#[derive(Debug, Clone)]
pub enum Start {
    New(Params),
    /// The given run, or the newest unfinished one.
    Resume(Option<IngestRunId>),
}

/// Everything a run needs besides the database.
pub struct Options {
    pub client: ClientConfig,
    pub credentials: Credentials,
    /// Requests in flight at once (the rate limit still applies to all of them together).
    pub concurrency: usize,
    pub daily_quota: u64,
    pub max_requests: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{0}")]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("raw zone {path}: {source}")]
    Raw {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot build the HTTP client: {0}")]
    Http(String),
    #[error("no unfinished TMDB ingest run to resume; start one with `movierec ingest tmdb`")]
    NothingToResume,
    #[error("ingest run {0} does not exist")]
    UnknownRun(IngestRunId),
    #[error("ingest run {0} has already completed; start a new run instead")]
    AlreadyCompleted(IngestRunId),
    #[error("ingest run {run}: stored parameters are unreadable: {detail}")]
    BadParams { run: IngestRunId, detail: String },
    #[error("the date range is empty: --from is after --to")]
    EmptyRange,
}

/// How a run ended and what it did; `--json` prints it.
#[derive(Debug, Clone, Serialize)]
pub struct IngestReport {
    pub ingest_run_id: IngestRunId,
    /// `completed`, `stopped` (quota, --max-requests, or requests that failed after retries:
    /// `--resume` continues) or `failed`.
    pub status: IngestRunStatus,
    pub stop_reason: Option<String>,
    pub params: Params,
    pub raw_dir: PathBuf,
    /// This invocation: requests sent (retries included), and how they went.
    pub requests: u64,
    pub retries: u64,
    pub rate_limited: u64,
    pub server_errors: u64,
    pub timeouts: u64,
    pub malformed: u64,
    /// Requests given up after retries in this invocation (left pending for `--resume`).
    pub skipped: u64,
    pub elapsed_seconds: f64,
    pub requests_per_second: f64,
    pub quota_used_today: u64,
    pub daily_quota: u64,
    /// Windows that stayed above the page cap even at one day: only their first pages are reachable.
    pub truncated_windows: Vec<String>,
    /// The whole run so far, all invocations together.
    pub totals: IngestTotals,
}

/// What the progress display is told after every response.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    pub done: u64,
    pub known: u64,
    pub requests: u64,
    pub quota_used: u64,
    pub daily_quota: u64,
}

/// The quota ledger: one request reserved per send, in the database, per UTC day.
struct QuotaGate {
    store: Mutex<Store>,
    daily_quota: u64,
    max_requests: Option<u64>,
    reserved: AtomicU64,
    used_today: Arc<AtomicU64>,
}

impl Gate for QuotaGate {
    fn reserve(&self) -> Result<(), GateError> {
        if let Some(max) = self.max_requests {
            if self.reserved.fetch_add(1, Ordering::SeqCst) >= max {
                return Err(GateError::Stop(Stop::MaxRequests(max)));
            }
        }
        let day = Utc::now().date_naive();
        let store = self.store.lock().unwrap_or_else(|p| p.into_inner());
        match store.reserve_quota(API, day, self.daily_quota)? {
            Some(used) => {
                self.used_today.store(used, Ordering::Relaxed);
                Ok(())
            }
            None => Err(GateError::Stop(Stop::Quota {
                day,
                quota: self.daily_quota,
            })),
        }
    }
}

/// Runs (or resumes) an ingest to its end, a clean stop, or a fatal error; `on_progress` is
/// called after every response. The run's status is recorded whatever happens. `quota_store` is a
/// second connection to the same database: the quota ledger, shared by every process.
pub async fn run(
    store: &mut Store,
    quota_store: Store,
    data_dir: &Path,
    start: Start,
    options: Options,
    on_progress: &mut dyn FnMut(Progress),
) -> Result<IngestReport, IngestError> {
    let run = open_run(store, &options.client.base_url, start)?;
    let run_id = run.ingest_run_id;
    let params: Params =
        serde_json::from_str(&run.params_json).map_err(|e| IngestError::BadParams {
            run: run_id,
            detail: e.to_string(),
        })?;
    let raw_dir = data_dir.join(&run.raw_dir);
    let zone = RawZone::open(&raw_dir, store.next_response_seq(run_id)?).map_err(|source| {
        IngestError::Raw {
            path: raw_dir.clone(),
            source,
        }
    })?;
    // The ledger commits once per request: durable against kills (WAL), not fsync'd each time.
    quota_store.set_durability(Durability::Normal)?;
    let used_today = Arc::new(AtomicU64::new(
        store.quota_used(API, Utc::now().date_naive())?,
    ));
    let gate = QuotaGate {
        store: Mutex::new(quota_store),
        daily_quota: options.daily_quota,
        max_requests: options.max_requests,
        reserved: AtomicU64::new(0),
        used_today: Arc::clone(&used_today),
    };
    let client = Client::new(options.client, options.credentials, Box::new(gate), zone)
        .map_err(|e| IngestError::Http(e.to_string()))?;
    store.set_ingest_status(run_id, IngestRunStatus::Running, None, Utc::now())?;
    // Checkpoints commit once per response. In WAL mode NORMAL survives a killed process; only a
    // power cut could drop the last few, which then are simply fetched again.
    store.set_durability(Durability::Normal)?;
    tracing::info!(run = %run_id, raw_dir = %raw_dir.display(), "ingest started");

    let started = Instant::now();
    let mut worker = Worker {
        store,
        run: run_id,
        client: Arc::new(client),
        details: params.wants_details(),
        pages: VecDeque::new(),
        items: VecDeque::new(),
        tasks: JoinSet::new(),
        done: 0,
        skipped: 0,
        stop: None,
        truncated: Vec::new(),
    };
    let outcome = worker
        .drive(options.concurrency.max(1), &mut |done, known, sent| {
            on_progress(Progress {
                done,
                known,
                requests: sent,
                quota_used: used_today.load(Ordering::Relaxed),
                daily_quota: options.daily_quota,
            })
        })
        .await;
    let elapsed = started.elapsed();
    let (status, reason) = match (&outcome, &worker.stop) {
        (Err(e), _) => (IngestRunStatus::Failed, Some(e.to_string())),
        (Ok(()), Some(stop)) => (
            IngestRunStatus::Stopped,
            Some(format!(
                "{stop}; continue with `movierec ingest tmdb --resume`"
            )),
        ),
        (Ok(()), None) if worker.skipped > 0 => (
            IngestRunStatus::Stopped,
            Some(format!(
                "{} requests failed after retries and were skipped; `movierec ingest tmdb --resume` retries them",
                worker.skipped
            )),
        ),
        (Ok(()), None) => (IngestRunStatus::Completed, None),
    };
    let store = worker.store;
    store.set_ingest_status(run_id, status, reason.as_deref(), Utc::now())?;
    store.set_durability(Durability::Full)?;
    outcome?;
    let c = &worker.client.counters;
    let requests = c.sent.load(Ordering::Relaxed);
    Ok(IngestReport {
        ingest_run_id: run_id,
        status,
        stop_reason: reason,
        params,
        raw_dir,
        requests,
        retries: c.retries.load(Ordering::Relaxed),
        rate_limited: c.rate_limited.load(Ordering::Relaxed),
        server_errors: c.server_errors.load(Ordering::Relaxed),
        timeouts: c.timeouts.load(Ordering::Relaxed),
        malformed: c.malformed.load(Ordering::Relaxed),
        skipped: worker.skipped,
        elapsed_seconds: elapsed.as_secs_f64(),
        requests_per_second: requests as f64 / elapsed.as_secs_f64().max(1e-9),
        quota_used_today: used_today.load(Ordering::Relaxed),
        daily_quota: options.daily_quota,
        truncated_windows: worker.truncated.iter().map(ToString::to_string).collect(),
        totals: store.ingest_totals(run_id)?,
    })
}

/// Creates the run, or finds the one to resume.
fn open_run(store: &mut Store, base_url: &str, start: Start) -> Result<IngestRun, IngestError> {
    let id = match start {
        Start::New(params) => {
            let (kind, windows) = params.windows();
            if windows.is_empty() {
                return Err(IngestError::EmptyRange);
            }
            let params_json =
                serde_json::to_string(&params).map_err(|e| IngestError::BadParams {
                    run: IngestRunId(0),
                    detail: e.to_string(),
                })?;
            let run = NewIngestRun {
                api: API,
                mode: params.mode(),
                params_json: &params_json,
                base_url,
                started_at: Utc::now(),
            };
            store.create_ingest_run(&run, kind, &windows, |id| raw_dir(id).display().to_string())?
        }
        Start::Resume(Some(id)) => {
            let run = store.ingest_run(id)?.ok_or(IngestError::UnknownRun(id))?;
            if run.status == IngestRunStatus::Completed {
                return Err(IngestError::AlreadyCompleted(id));
            }
            id
        }
        Start::Resume(None) => {
            store
                .latest_unfinished_ingest(API)?
                .ok_or(IngestError::NothingToResume)?
                .ingest_run_id
        }
    };
    store.ingest_run(id)?.ok_or(IngestError::UnknownRun(id))
}

/// `raw/tmdb/run-<id>`, relative to the data directory.
pub fn raw_dir(run: IngestRunId) -> PathBuf {
    Path::new("raw").join(API).join(format!("run-{run}"))
}

/// One unit of work: one logical request.
#[derive(Debug, Clone, Copy)]
enum Job {
    Genres,
    Page {
        kind: ResponseKind,
        window: Window,
        page: u32,
    },
    Details(i64),
}

impl Job {
    fn request(self) -> Request {
        match self {
            Job::Genres => Request::genres(),
            Job::Page {
                kind: ResponseKind::Changes,
                window,
                page,
            } => Request::changes(window, page),
            Job::Page { window, page, .. } => Request::discover(window, page),
            Job::Details(id) => Request::details(id),
        }
    }
}

/// The work queue: jobs run concurrently on the client; their results are checkpointed here, one
/// transaction per response, by this single writer.
struct Worker<'s> {
    store: &'s mut Store,
    run: IngestRunId,
    client: Arc<Client>,
    details: bool,
    /// Genre list and list pages: done first, so the size of the job is known early.
    pages: VecDeque<Job>,
    items: VecDeque<Job>,
    tasks: JoinSet<(Job, Fetched)>,
    done: u64,
    skipped: u64,
    stop: Option<Stop>,
    truncated: Vec<Window>,
}

impl Worker<'_> {
    async fn drive(
        &mut self,
        concurrency: usize,
        progress: &mut dyn FnMut(u64, u64, u64),
    ) -> Result<(), IngestError> {
        self.plan()?;
        loop {
            // One request at a time until one succeeds: a bad key or base URL fails once, not
            // once per slot.
            let slots = if self.done == 0 { 1 } else { concurrency };
            while self.stop.is_none() && self.tasks.len() < slots {
                let Some(job) = self.pages.pop_front().or_else(|| self.items.pop_front()) else {
                    break;
                };
                let client = Arc::clone(&self.client);
                self.tasks.spawn(async move {
                    let fetched = client.fetch(&job.request()).await;
                    (job, fetched)
                });
            }
            let Some(joined) = self.tasks.join_next().await else {
                return Ok(());
            };
            let result = match joined {
                Ok((job, fetched)) => self.record(job, fetched),
                Err(e) => Err(IngestError::Http(format!("request task failed: {e}"))),
            };
            match result {
                Ok(true) => self.done += 1,
                Ok(false) => {}
                Err(e) => {
                    self.tasks.abort_all();
                    while self.tasks.join_next().await.is_some() {}
                    return Err(e);
                }
            }
            let known =
                self.done + self.tasks.len() as u64 + (self.pages.len() + self.items.len()) as u64;
            progress(
                self.done,
                known,
                self.client.counters.sent.load(Ordering::Relaxed),
            );
        }
    }

    /// Fills the queues from the checkpoints: a new run and a resumed one start the same way.
    fn plan(&mut self) -> Result<(), IngestError> {
        let windows = self.store.open_windows(self.run)?;
        if windows.iter().any(|w| w.kind == ResponseKind::Discover)
            && !self.store.has_ok_response(self.run, ResponseKind::Genres)?
        {
            self.pages.push_back(Job::Genres);
        }
        for w in windows {
            match w.total_pages {
                None => self.pages.push_back(Job::Page {
                    kind: w.kind,
                    window: w.window,
                    page: 1,
                }),
                Some(total) => {
                    let done = self.store.done_pages(self.run, w.kind, w.window)?;
                    self.pages.extend(
                        (1..=reachable_pages(total))
                            .filter(|p| !done.contains(p))
                            .map(|page| Job::Page {
                                kind: w.kind,
                                window: w.window,
                                page,
                            }),
                    );
                }
            }
        }
        self.items.extend(
            self.store
                .pending_items(self.run)?
                .into_iter()
                .map(Job::Details),
        );
        Ok(())
    }

    /// Checkpoints one job together with the responses it produced; `false` when the job was
    /// not sent (quota or --max-requests), so it stays to do.
    fn record(&mut self, job: Job, fetched: Fetched) -> Result<bool, IngestError> {
        let tx = self.store.checkpoint(self.run)?;
        tx.insert_responses(&fetched.kept)?;
        let mut new_jobs = Vec::new();
        match (job, fetched.result) {
            (Job::Genres, Ok(_)) => {}
            (Job::Page { kind, window, page }, Ok(body)) => {
                let list: tmdb::ListPage<tmdb::Entry> =
                    serde_json::from_slice(&body).map_err(|e| FetchError::Malformed {
                        url: job.request().url(self.client.base_url()),
                        detail: e.to_string(),
                    })?;
                let at = PageAt { kind, window, page };
                new_jobs = record_page(&tx, self.details, &mut self.truncated, at, &list)?;
            }
            (Job::Details(id), Ok(_)) => tx.set_item_state(id, ItemState::Done)?,
            (Job::Details(id), Err(FetchError::NotFound { url })) => {
                tracing::warn!(%url, "movie not found; skipped");
                tx.set_item_state(id, ItemState::NotFound)?;
            }
            (_, Err(FetchError::Stopped(stop))) => {
                // Not sent: the checkpoint is unchanged, so a resume asks for it again.
                self.stop.get_or_insert(stop);
                tx.commit()?;
                return Ok(false);
            }
            (
                _,
                Err(
                    e @ (FetchError::Malformed { .. }
                    | FetchError::Status { .. }
                    | FetchError::NotFound { .. }
                    | FetchError::Timeout { .. }
                    | FetchError::Transport { .. }),
                ),
            ) => {
                tracing::warn!(error = %e, "request skipped after retries; a resume retries it");
                self.skipped += 1;
            }
            (_, Err(fatal)) => {
                tx.commit()?;
                return Err(fatal.into());
            }
        }
        tx.commit()?;
        for job in new_jobs {
            match job {
                Job::Details(_) => self.items.push_back(job),
                _ => self.pages.push_back(job),
            }
        }
        Ok(true)
    }
}

/// Which page of which window a list reply is.
#[derive(Debug, Clone, Copy)]
struct PageAt {
    kind: ResponseKind,
    window: Window,
    page: u32,
}

/// Records a list page; returns the jobs it reveals (further pages, halves, details).
fn record_page(
    tx: &Checkpoint<'_>,
    details: bool,
    truncated: &mut Vec<Window>,
    at: PageAt,
    list: &tmdb::ListPage<tmdb::Entry>,
) -> Result<Vec<Job>, IngestError> {
    let PageAt { kind, window, page } = at;
    let mut jobs = Vec::new();
    if page == 1 {
        if list.total_pages > tmdb::PAGE_CAP {
            if let Some((a, b)) = window.split() {
                tx.set_window_state(kind, window, WindowState::Split)?;
                tx.insert_windows(kind, &[a, b])?;
                tracing::debug!(%window, total_pages = list.total_pages, "window split");
                return Ok([a, b]
                    .into_iter()
                    .map(|window| Job::Page {
                        kind,
                        window,
                        page: 1,
                    })
                    .collect());
            }
            tracing::warn!(%window, total_pages = list.total_pages,
                "one day holds more pages than the API serves; only the first {} are reachable",
                tmdb::PAGE_CAP);
            truncated.push(window);
        }
        tx.set_total_pages(kind, window, list.total_pages)?;
        jobs.extend(
            (2..=reachable_pages(list.total_pages)).map(|page| Job::Page { kind, window, page }),
        );
    }
    let fetched = tx.insert_page(kind, window, page)?;
    if fetched >= reachable_pages(list.total_pages) {
        tx.set_window_state(kind, window, WindowState::Done)?;
    }
    if details {
        let ids: Vec<i64> = list.results.iter().map(|e| e.id).collect();
        jobs.extend(tx.insert_items(&ids)?.into_iter().map(Job::Details));
    }
    Ok(jobs)
}

/// Pages of a list the API will serve: at least one (an empty list still has page 1).
fn reachable_pages(total_pages: u32) -> u32 {
    total_pages.clamp(1, tmdb::PAGE_CAP)
}

/// A run's movie records, rebuilt from its raw zone alone (no network), with the lineage a
/// load keeps of them.
#[derive(Debug)]
pub struct Assembled {
    pub records: Vec<RawRecord>,
    /// SHA-256 over the successful response bodies, in the order they arrived.
    pub sha256: String,
    /// The run's raw zone, relative to the data directory.
    pub raw_dir: PathBuf,
}

/// Rebuilds the movie records of run `ingest_run_id` from its kept responses, in TMDB-id order,
/// so the same responses always give the same input.
pub fn assemble(
    store: &Store,
    data_dir: &Path,
    ingest_run_id: IngestRunId,
) -> Result<Assembled, AssembleError> {
    let run = store
        .ingest_run(ingest_run_id)?
        .ok_or(AssembleError::UnknownRun(ingest_run_id))?;
    let dir = data_dir.join(&run.raw_dir);
    let mut assembler = tmdb::Assembler::default();
    let mut hasher = Sha256::new();
    for (kind, file) in store.ok_responses(ingest_run_id)? {
        let path = dir.join(&file);
        let envelope = raw::read(&path).map_err(|source| AssembleError::Read {
            path: path.clone(),
            source,
        })?;
        hasher.update(envelope.body_bytes());
        assembler
            .add(kind, envelope.body_bytes())
            .map_err(|e| AssembleError::Body {
                path,
                message: e.to_string(),
            })?;
    }
    let records = assembler
        .finish()
        .into_iter()
        .zip(1..)
        .map(|(movie, row)| movie.into_raw(row))
        .collect();
    Ok(Assembled {
        records,
        sha256: hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect(),
        raw_dir: PathBuf::from(run.raw_dir),
    })
}

#[derive(Debug, thiserror::Error)]
pub enum AssembleError {
    #[error("no ingest run {0} in this database")]
    UnknownRun(IngestRunId),
    #[error("raw response {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("raw response {path}: unexpected content: {message}")]
    Body { path: PathBuf, message: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Backoff defaults suited to TMDB; the CLI's flags default to these.
pub const DEFAULT_RETRY_BASE: Duration = Duration::from_millis(500);
pub const DEFAULT_MAX_BACKOFF: Duration = Duration::from_secs(30);
