//! The composition root: parses [`Settings`], builds the [`Application`] (store, engine, web
//! layer, listener) for `serve` and `up`, and dispatches every other command to [`crate::cli`].
//!
//! Exit codes: 0 success, 1 error, 2 usage error or ambiguous title.

mod settings;

pub use settings::{Command, ServeSettings, Settings};

use crate::cli;
use crate::domain::etl::Source;
use crate::domain::source::RatingPolicy;
use crate::recommend::EngineError;
use crate::store::{Location, Store, StoreError};
use crate::web::{self, state::AppState, WebConfig};
use anyhow::Context;
use clap::Parser;
use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use tokio::net::TcpListener;

/// The server, built and bound, not yet serving: what `serve`, `up` and every test start.
pub struct Application {
    listener: TcpListener,
    state: AppState,
    config: WebConfig,
    /// How long SIGTERM's drain lasts (`--drain-ms`).
    drain: std::time::Duration,
}

impl Application {
    /// Opens the database read-only, builds the engine (trained models from `data_dir`) and
    /// binds the listener.
    pub async fn build(
        db: &Location,
        data_dir: &Path,
        settings: &ServeSettings,
    ) -> anyhow::Result<Self> {
        let config = settings.web_config()?;
        let listener = TcpListener::bind(settings.addr)
            .await
            .with_context(|| format!("cannot listen on {}", settings.addr))?;
        // Blocking (file reads, the database driver): off the async workers, where
        // PostgreSQL's synchronous client cannot run at all.
        let (db, dir, pool_size) = (db.clone(), data_dir.to_owned(), settings.pool_size);
        let open = move || {
            let (db, dir) = (db.clone(), dir.clone());
            tokio::task::spawn_blocking(move || AppState::open(&db, &dir, pool_size))
        };
        let (state, listener) = match open().await? {
            Ok(state) => (state, listener),
            Err(EngineError::Store(StoreError::Unreachable(why))) => {
                wait_for_database(listener, why, open).await?
            }
            Err(e) => return Err(e.into()),
        };
        Ok(Self {
            listener,
            state,
            config,
            drain: std::time::Duration::from_millis(settings.drain_ms),
        })
    }

    /// Where it listens (the port chosen when the settings said 0).
    pub fn addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then drains in-flight requests.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        web::serve(self.listener, self.state, &self.config, shutdown).await
    }

    /// Serves until Ctrl-C, which stops at once (in-flight requests finish), or SIGTERM, which
    /// first drains: `/health/ready` answers 503 for `--drain-ms` while every other request is
    /// still served, so a load balancer moves traffic away before the listener closes.
    pub async fn run_until_signal(self) -> std::io::Result<()> {
        let (state, drain) = (self.state.clone(), self.drain);
        let signals = Signals::listen()?;
        self.run_until(async move {
            if signals.next().await == Stop::Terminate && !drain.is_zero() {
                state.start_draining();
                tracing::info!(
                    drain_ms = drain.as_millis() as u64,
                    "draining: /health/ready answers 503 until the listener closes"
                );
                tokio::time::sleep(drain).await;
            }
            tracing::info!("shutting down: finishing in-flight requests");
        })
        .await
    }
}

/// Keeps trying to open the database that could not be reached at start, with backoff (0.25 s
/// doubling to 5 s), each failure logged; meanwhile a copy of the listener answers `/health/live`
/// 200 and everything else 503 naming why, so a load balancer waits and an orchestrator does
/// not restart the process. Returns the state and the listener, which has kept every connection
/// that arrived in its backlog.
async fn wait_for_database<F>(
    listener: TcpListener,
    why: String,
    open: impl Fn() -> F,
) -> anyhow::Result<(AppState, TcpListener)>
where
    F: Future<Output = Result<Result<AppState, EngineError>, tokio::task::JoinError>>,
{
    let addr = listener.local_addr()?;
    tracing::warn!(%why, "the database cannot be reached; answering 503 and retrying");
    tracing::info!(%addr, "listening on http://{addr}/ (503 until the database answers)");
    let std = listener.into_std()?;
    let starting = TcpListener::from_std(std.try_clone()?)?;
    let listener = TcpListener::from_std(std)?;
    let why = std::sync::Arc::new(std::sync::Mutex::new(why));
    let (up, is_up) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(web::serve_starting(
        starting,
        std::sync::Arc::clone(&why),
        async {
            let _ = is_up.await;
        },
    ));
    let mut backoff = std::time::Duration::from_millis(250);
    let opened = loop {
        tokio::time::sleep(backoff).await;
        match open().await? {
            Err(EngineError::Store(StoreError::Unreachable(now))) => {
                tracing::warn!(why = %now, retry_in_ms = backoff.as_millis() as u64, "the database still cannot be reached");
                if let Ok(mut w) = why.lock() {
                    *w = now;
                }
                backoff = (backoff * 2).min(std::time::Duration::from_secs(5));
            }
            other => break other,
        }
    };
    let _ = up.send(());
    server.await??;
    let state = opened?;
    tracing::info!("the database answers: serving");
    Ok((state, listener))
}

/// Parses the command line, runs the command, and maps the outcome to an exit code.
pub fn main() -> ExitCode {
    let mut settings = Settings::parse();
    if settings.command.is_none() {
        // A bare `movierec [--db ..]` is `movierec [--db ..] up`, with up's defaults and env vars.
        settings =
            Settings::parse_from(std::env::args_os().chain([std::ffi::OsString::from("up")]));
    }
    let db = &match settings.db() {
        Ok(db) => db,
        Err(e) => {
            eprintln!("error: --db: {e}");
            return ExitCode::from(2);
        }
    };
    let data_dir = settings.data_dir(db);
    let lock_wait = settings.lock_wait();
    let Some(command) = &settings.command else {
        unreachable!("a bare command was re-parsed as `up`");
    };
    let result = match command {
        Command::Up(serve) => up(serve, db, &data_dir, &settings.rating_policy),
        Command::Serve(serve) => self::serve(serve, db, &data_dir),
        Command::Etl(args) => {
            cli::etl::run(args, db, &data_dir, &settings.rating_policy, lock_wait)
        }
        Command::Ingest(args) => {
            cli::ingest::run(args, db, &data_dir, &settings.rating_policy, lock_wait)
        }
        Command::Recommend(args) => cli::recommend::run(args, db, &data_dir),
        Command::Movies(args) => cli::movies::run(args, db),
        Command::Runs(args) => cli::runs::run(args, db),
        Command::Review(args) => cli::review::run(args, db),
        Command::Export(args) => cli::export::run(args, db),
        Command::Dataset(args) => cli::dataset::run(args, &data_dir),
        Command::Eval(args) => cli::eval::run(args),
        Command::Train(args) => cli::train::run(args, db, &data_dir, lock_wait),
        Command::Models(args) => cli::train::list(args, db, &data_dir, lock_wait),
        Command::Probe(args) => cli::probe::run(args),
        Command::Migrate(args) => cli::migrate::run(args, db),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", error_chain(&e));
            ExitCode::FAILURE
        }
    }
}

/// An error and its causes, joined by ": ", each cause said once: a wrapper that already
/// quotes its source ("database: database is locked") is not followed by the source again.
fn error_chain(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let message = cause.to_string();
        if out.contains(&message) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&message);
    }
    out
}

/// `movierec serve`: the API and the dashboard on a database the ETL built.
fn serve(settings: &ServeSettings, db: &Location, data_dir: &Path) -> anyhow::Result<ExitCode> {
    cli::init_logging(settings.log_format, "info");
    // Store calls are the only blocking work, one per pooled connection at a time (plus an
    // engine reload): a bounded blocking pool, not tokio's default of 512 threads.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(settings.pool_size as usize + 2)
        .build()?;
    runtime.block_on(async {
        let app = Application::build(db, data_dir, settings).await?;
        app.run_until_signal().await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `movierec up` (and bare `movierec`): load the embedded dataset into an empty database, then
/// serve it.
fn up(
    settings: &ServeSettings,
    db: &Location,
    data_dir: &Path,
    policy: &RatingPolicy,
) -> anyhow::Result<ExitCode> {
    {
        let mut store = Store::connect(db)?;
        if store.movie_count()? == 0 {
            eprintln!("{db} is empty: loading the embedded dataset");
            crate::etl::run(&mut store, data_dir, &Source::Embedded, policy)?;
        }
        if let Some(report) = store.latest_audit()? {
            eprintln!("{}", cli::output::audit_tables(&report));
        }
        eprintln!("{} movies in {db}", store.movie_count()?);
    }
    serve(settings, db, data_dir)
}

/// Which signal asked the server to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Ctrl-C: someone at the terminal, who wants it gone now.
    Interrupt,
    /// SIGTERM: a supervisor (systemd, Docker, Kubernetes), which waits for a drain.
    Terminate,
}

/// Ctrl-C and SIGTERM, listened for from the moment this is made: a signal that arrives
/// before the server first polls for it must not meet its default action (exit at once).
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn listen() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Self {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Resolves on the first of them, saying which.
    async fn next(mut self) -> Stop {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.interrupt.recv() => Stop::Interrupt,
                _ = self.terminate.recv() => Stop::Terminate,
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            Stop::Interrupt
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("database: {0}")]
    struct Outer(#[source] Inner);

    #[derive(Debug, thiserror::Error)]
    #[error("database is locked")]
    struct Inner;

    #[test]
    fn an_error_chain_says_each_cause_once() {
        let e = anyhow::Error::from(Outer(Inner));
        assert_eq!(
            format!("{e:#}"),
            "database: database is locked: database is locked"
        );
        assert_eq!(error_chain(&e), "database: database is locked");
        let wrapped = anyhow::anyhow!("disk full").context("cannot write report.md");
        assert_eq!(error_chain(&wrapped), "cannot write report.md: disk full");
    }
}
