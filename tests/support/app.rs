#![allow(dead_code)] // Shared by several test crates; each uses a part.
//! The one way tests start movierec's server: [`spawn_app`] builds it in-process with the
//! application builder (`movierec::app::Application`) on `127.0.0.1:0`, over a temporary
//! database the ETL loaded. Shared by the API, browser and CLI tests.

use movierec::app::{Application, ServeSettings};
use movierec::domain::etl::Source;
use movierec::domain::source::RatingPolicy;
use movierec::store::{Location, Store};
use std::path::{Path, PathBuf};
use tokio::sync::oneshot;

/// A running server and the temporary directory holding its database and data.
pub struct TestApp {
    pub base: String,
    pub db: PathBuf,
    pub dir: tempfile::TempDir,
    _stop: oneshot::Sender<()>,
}

impl TestApp {
    /// The data directory the test database's ETL runs use.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// Runs one more ETL on the served database.
    pub fn etl(&self, source: &Source) -> movierec::etl::EtlOutcome {
        let mut store = Store::open(&self.db).expect("open db");
        movierec::etl::run(
            &mut store,
            &self.data_dir(),
            source,
            &RatingPolicy::default(),
        )
        .expect("etl")
    }
}

/// Test settings: a free port and a fast reload; `configure` changes the rest.
pub fn settings(configure: impl FnOnce(&mut ServeSettings)) -> ServeSettings {
    let mut settings = ServeSettings {
        addr: "127.0.0.1:0".parse().expect("addr"),
        reload_interval_ms: 100,
        ..ServeSettings::default()
    };
    configure(&mut settings);
    settings
}

/// Loads the embedded dataset (and then `extra` sources) into a fresh database and serves it.
pub async fn spawn_app(extra: &[Source], configure: impl FnOnce(&mut ServeSettings)) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("movies.db");
    load(&db, &dir.path().join("data"), extra);
    serve(db, dir, configure).await
}

/// Loads only `sources` (no embedded dataset) into a fresh database and serves it.
pub async fn spawn_sources(sources: &[Source]) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("movies.db");
    let mut store = Store::open(&db).expect("open db");
    for source in sources {
        movierec::etl::run(
            &mut store,
            &dir.path().join("data"),
            source,
            &RatingPolicy::default(),
        )
        .expect("etl");
    }
    drop(store);
    serve(db, dir, |_| {}).await
}

/// Serves `db` on a free port until the returned app is dropped.
async fn serve(
    db: PathBuf,
    dir: tempfile::TempDir,
    configure: impl FnOnce(&mut ServeSettings),
) -> TestApp {
    let data_dir = dir.path().join("data");
    let app = Application::build(
        &Location::Sqlite(db.clone()),
        &data_dir,
        &settings(configure),
    )
    .await
    .expect("build the application");
    let addr = app.addr().expect("addr");
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        app.run_until(async {
            let _ = stopped.await;
        })
        .await
        .expect("serve");
    });
    TestApp {
        base: format!("http://{addr}"),
        db,
        dir,
        _stop: stop,
    }
}

fn load(db: &Path, data_dir: &Path, extra: &[Source]) {
    let mut store = Store::open(db).expect("open db");
    for source in std::iter::once(&Source::Embedded).chain(extra) {
        movierec::etl::run(&mut store, data_dir, source, &RatingPolicy::default()).expect("etl");
    }
}
/// The binary's own server, as a process (for what only a process shows: start-up, signals,
/// exit codes), stopped with SIGTERM by [`Served::terminate`].
pub struct Served {
    pub child: std::process::Child,
    addr: String,
}

impl Served {
    /// Spawns `cmd` and waits for its "listening on http://ADDR/" log line.
    /// SIGTERM stops it at once unless the command sets `MOVIEREC_DRAIN_MS`.
    pub fn spawn(mut cmd: std::process::Command) -> Self {
        use std::io::BufRead;
        if !cmd.get_envs().any(|(k, _)| k == "MOVIEREC_DRAIN_MS") {
            cmd.env("MOVIEREC_DRAIN_MS", "0");
        }
        let mut child = cmd
            .env("MOVIEREC_ADDR", "127.0.0.1:0")
            .env("RUST_LOG", "info")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn server");
        let stderr = child.stderr.take().expect("stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let _ = tx.send(rest.split('/').next().unwrap_or_default().to_owned());
                }
            }
        });
        let addr = rx
            .recv_timeout(std::time::Duration::from_secs(60))
            .expect("server never said it was listening");
        Self { child, addr }
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A plain HTTP/1.1 GET: status line and body.
    pub fn get(&self, path: &str) -> (String, String) {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(&self.addr).expect("connect");
        write!(
            stream,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .expect("write");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
        (
            head.lines().next().unwrap_or_default().to_owned(),
            body.to_owned(),
        )
    }

    /// SIGTERM, then the exit status: a graceful shutdown exits 0.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        self.signal_terminate();
        self.child.wait().expect("wait")
    }

    /// Sends SIGTERM and returns at once.
    pub fn signal_terminate(&self) {
        let pid = self.child.id().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
    }
}

impl Drop for Served {
    /// A server a test did not stop (it failed first, or did not need to) is killed, never left
    /// running after the test.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Serves a database loaded from `source` alone (no embedded dataset).
pub async fn spawn_golden(source: &Path) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("movies.db");
    let mut store = Store::open(&db).expect("open db");
    movierec::etl::run(
        &mut store,
        &dir.path().join("data"),
        &Source::File(source.to_owned()),
        &RatingPolicy::default(),
    )
    .expect("etl");
    drop(store);
    serve(db, dir, |_| {}).await
}
