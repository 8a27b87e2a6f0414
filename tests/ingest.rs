//! `movierec ingest tmdb` end to end: the real binary against a TMDB stub on loopback, on the
//! engine `MOVIEREC_TEST_ENGINE` names (`scripts/test`: both).

#[path = "support/engine.rs"]
mod engine;
#[path = "support/tmdb_stub.rs"]
mod tmdb_stub;

use engine::TestDb;
use std::collections::{BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};
use tmdb_stub::{Faults, Stub, StubConfig, StubMovie};

const KEY: &str = "k3y-0f-the-test-suite-5ecret";

fn bin() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_movierec"));
    for var in [
        "TMDB_API_KEY",
        "TMDB_ACCESS_TOKEN",
        "TMDB_BASE_URL",
        "MOVIEREC_DB",
        "MOVIEREC_DATA_DIR",
        "RUST_LOG",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

/// `movierec --db <test db> ingest tmdb --base-url <stub> <args>` with the suite's key and
/// short retry delays.
fn ingest_cmd(dir: &Case, stub: &Stub, args: &[&str]) -> Command {
    let mut cmd = bin();
    cmd.current_dir(dir.path())
        .arg("--db")
        .arg(dir.db.arg())
        .args(["ingest", "tmdb", "--base-url", &stub.base_url()])
        .args(["--retry-base-ms", "20"])
        .args(args)
        .env("TMDB_API_KEY", KEY);
    cmd
}

fn run(mut cmd: Command) -> Output {
    cmd.output().expect("run movierec")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        text(&out.stdout),
        text(&out.stderr)
    );
}

/// A test's directory and database, on the engine the run asks for (`MOVIEREC_TEST_ENGINE`).
struct Case {
    dir: tempfile::TempDir,
    db: TestDb,
}

impl Case {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = TestDb::new(dir.path().join("m.db"));
        Self { dir, db }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

/// (title, year, rating, votes, director) of every catalog movie, sorted.
type Row = (String, i64, Option<f64>, Option<i64>, Option<String>);

fn catalog(dir: &Case) -> Vec<Row> {
    let mut rows: Vec<Row> = dir
        .db
        .rows(
            "SELECT Title, ReleaseYear, Rating, Votes, Director FROM Movies",
            &[],
        )
        .iter()
        .map(|r| {
            (
                r[0].text(),
                r[1].int(),
                r[2].opt_real(),
                r[3].opt_int(),
                r[4].opt_text(),
            )
        })
        .collect();
    // Sorted here: the engines' collations order titles differently.
    rows.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    rows
}

/// What the catalog must hold after ingesting `movies`: every movie discover can reach (it has a
/// release date), with the director the stub's details give unless details were not fetched.
fn expected(movies: &[StubMovie], details: bool, missing: &[i64]) -> Vec<Row> {
    let mut rows: Vec<Row> = movies
        .iter()
        .filter_map(|m| {
            let date = m.release_date?;
            let director =
                (details && !missing.contains(&m.id)).then(|| format!("Director {}", m.id));
            Some((
                m.title.clone(),
                i64::from(chrono::Datelike::year(&date)),
                // A rating backed by zero votes is no rating.
                (m.vote_count > 0).then_some(m.vote_average),
                Some(m.vote_count as i64),
                director,
            ))
        })
        .collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    rows
}

fn reachable(movies: &[StubMovie]) -> usize {
    movies.iter().filter(|m| m.release_date.is_some()).count()
}

/// How often the stub saw each path (query included), for the given path prefix.
fn counts(stub: &Stub, prefix: &str) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for s in stub.seen() {
        if s.path_and_query.starts_with(prefix) {
            *out.entry(strip_key(&s.path_and_query)).or_default() += 1;
        }
    }
    out
}

fn strip_key(pq: &str) -> String {
    pq.replace(&format!("&api_key={KEY}"), "")
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", text(&out.stdout)))
}

/// Every file under `dir` (gzip files decompressed) that contains `needle`.
fn files_containing(dir: &Path, needle: &str) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let mut bytes = std::fs::read(&path).expect("read file");
            if path.extension().is_some_and(|e| e == "gz") {
                let mut plain = Vec::new();
                flate2::read::GzDecoder::new(bytes.as_slice())
                    .read_to_end(&mut plain)
                    .expect("gunzip");
                bytes = plain;
            }
            if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                hits.push(path);
            }
        }
    }
    hits
}

fn scalar(dir: &Case, sql: &str) -> i64 {
    dir.db.value(sql, &[]).int()
}

#[test]
fn full_ingest_with_details_loads_every_movie_once_within_the_rate_and_keeps_the_key_secret() {
    let movies = tmdb_stub::fixture_movies();
    let missing = movies[10].id;
    let mut config = StubConfig::new(movies.clone(), KEY);
    config.rate_limit = Some(300);
    config.missing.insert(missing);
    let stub = Stub::start(config);
    let dir = Case::new();

    let out = run(ingest_cmd(&dir, &stub, &["--details", "--rate", "300"]));
    assert_ok(&out);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("ingest run 1: completed"), "{stdout}");
    assert_eq!(catalog(&dir), expected(&movies, true, &[missing]));

    // Every list page and every movie's details asked for exactly once; the 404 recorded.
    let details = counts(&stub, "/3/movie/");
    assert_eq!(details.len(), reachable(&movies));
    assert!(details.values().all(|&n| n == 1), "{details:?}");
    assert!(counts(&stub, "/3/discover/movie").values().all(|&n| n == 1));
    assert_eq!(
        scalar(
            &dir,
            "SELECT COUNT(*) FROM ingest_items WHERE state = 'not_found'"
        ),
        1
    );
    // Under the limit in every one-second window, so the stub never had to refuse a request.
    let seen = stub.seen();
    assert!(
        stub.max_per_second() <= 300,
        "{} in one second",
        stub.max_per_second()
    );
    assert!(seen.iter().all(|s| !s.over_limit));
    assert_eq!(
        scalar(&dir, "SELECT COUNT(*) FROM ingest_responses") as usize,
        seen.len(),
        "one raw response per request"
    );
    assert_eq!(
        scalar(&dir, "SELECT used FROM api_quota") as usize,
        seen.len()
    );

    // The key is nowhere: output, logs, raw files, database.
    let hits = files_containing(dir.path(), KEY);
    assert!(hits.is_empty(), "key found in {hits:?}");
    let hits = dir.db.columns_containing(KEY);
    assert!(hits.is_empty(), "key found in {hits:?}");
    // The search does find what is stored.
    assert!(dir
        .db
        .columns_containing(&format!("Director {}", movies[0].id))
        .iter()
        .any(|c| c.eq_ignore_ascii_case("movies.director")));
    assert!(!text(&out.stdout).contains(KEY) && !text(&out.stderr).contains(KEY));
    assert!(files_containing(dir.path(), "api_key").is_empty());
    assert_eq!(dir.db.columns_containing("api_key"), Vec::<String>::new());

    // Offline replay of the stored responses: same catalog, nothing changes.
    drop(stub);
    let mut replay = bin();
    replay
        .current_dir(dir.path())
        .arg("--db")
        .arg(dir.db.arg())
        .args(["etl", "--source", "tmdb:1", "--json"]);
    let out = run(replay);
    assert_ok(&out);
    let report = json(&out);
    assert_eq!(report["counts"]["unchanged"], reachable(&movies));
    assert_eq!(report["counts"]["inserted"], 0);
    // The lineage names the source the way `--source` takes it, and `--replay` of that ETL run
    // rebuilds it from the raw zone again.
    assert_eq!(report["source"], "tmdb:1");
    let run_id = report["run_id"].as_i64().expect("run id");
    let mut again = bin();
    again
        .current_dir(dir.path())
        .arg("--db")
        .arg(dir.db.arg())
        .args(["etl", "--replay", &run_id.to_string(), "--json"]);
    let out = run(again);
    assert_ok(&out);
    let replayed = json(&out);
    assert_eq!(replayed["source"], "tmdb:1");
    assert_eq!(replayed["source_sha256"], report["source_sha256"]);
    assert_eq!(replayed["counts"]["unchanged"], reachable(&movies));
}

#[test]
fn windows_over_the_page_cap_are_split_until_every_movie_is_reached() {
    let movies = tmdb_stub::fixture_movies();
    let mut config = StubConfig::new(movies.clone(), KEY);
    // One movie per page: the whole range has ~600 pages, more than the 500 TMDB serves.
    config.page_size = 1;
    let stub = Stub::start(config);
    let dir = Case::new();
    let mut cmd = ingest_cmd(&dir, &stub, &["--rate", "1000", "--json"]);
    cmd.env_remove("TMDB_API_KEY").env("TMDB_ACCESS_TOKEN", KEY);
    let out = run(cmd);
    assert_ok(&out);
    let summary = json(&out);
    assert_eq!(summary["ingest"]["status"], "completed");
    assert!(
        summary["ingest"]["totals"]["windows_split"].as_u64() >= Some(1),
        "{summary}"
    );
    assert_eq!(catalog(&dir), expected(&movies, false, &[]));
    assert!(
        stub.seen().iter().all(|s| s.status == 200),
        "no page past the cap was asked for"
    );
    assert!(files_containing(dir.path(), KEY).is_empty());
}

#[test]
fn faults_cost_time_but_lose_no_record() {
    let movies = tmdb_stub::fixture_movies();
    let mut config = StubConfig::new(movies.clone(), KEY);
    config.rate_limit = Some(300);
    config.faults = Faults {
        rate_limit_every: Some(97),
        error_burst: Some((131, 3)),
        slow_every: Some((89, Duration::from_millis(900))),
        truncate_every: Some(61),
    };
    let stub = Stub::start(config);
    let dir = Case::new();
    let out = run(ingest_cmd(
        &dir,
        &stub,
        &[
            "--details",
            "--rate",
            "300",
            "--timeout-ms",
            "300",
            "--json",
        ],
    ));
    assert_ok(&out);
    let s = &json(&out)["ingest"];
    assert_eq!(s["status"], "completed", "{s}");
    assert_eq!(s["skipped"], 0);
    for counter in [
        "rate_limited",
        "server_errors",
        "timeouts",
        "malformed",
        "retries",
    ] {
        assert!(s[counter].as_u64() >= Some(1), "{counter} in {s}");
    }
    assert_eq!(catalog(&dir), expected(&movies, true, &[]));
    assert!(stub.max_per_second() <= 300);
    assert!(
        stub.seen().iter().all(|s| !s.over_limit),
        "the client itself never exceeded the limit"
    );
    // Malformed bodies are kept as evidence, marked as such.
    assert!(
        scalar(
            &dir,
            "SELECT COUNT(*) FROM ingest_responses WHERE outcome = 'malformed'"
        ) >= 1
    );
}

#[test]
fn daily_quota_stops_cleanly_and_resume_finishes_without_refetching() {
    let movies = tmdb_stub::fixture_movies();
    let stub = Stub::start(StubConfig::new(movies.clone(), KEY));
    let dir = Case::new();
    let args = ["--details", "--rate", "500", "--daily-quota", "50"];
    let out = run(ingest_cmd(&dir, &stub, &args));
    assert_ok(&out);
    let stdout = text(&out.stdout);
    assert!(stdout.contains("stopped"), "{stdout}");
    assert!(stdout.contains("daily quota of 50 requests"), "{stdout}");
    assert!(stdout.contains("--resume"), "{stdout}");
    assert_eq!(stub.seen().len(), 50);
    assert_eq!(scalar(&dir, "SELECT used FROM api_quota"), 50);
    let partial = catalog(&dir).len();
    assert!(partial > 0, "what was fetched is loaded");

    // Another process, same day: the quota is shared, so nothing is sent.
    let out = run(ingest_cmd(
        &dir,
        &stub,
        &["--resume", "--daily-quota", "50"],
    ));
    assert_ok(&out);
    assert_eq!(stub.seen().len(), 50);

    // A larger quota: the run finishes; nothing fetched twice.
    let out = run(ingest_cmd(&dir, &stub, &["--resume", "--rate", "500"]));
    assert_ok(&out);
    assert!(text(&out.stdout).contains("ingest run 1: completed"));
    assert_eq!(catalog(&dir), expected(&movies, true, &[]));
    let all = counts(&stub, "/3/");
    assert!(all.values().all(|&n| n == 1), "a request was repeated");
    assert_eq!(scalar(&dir, "SELECT COUNT(*) FROM ingest_runs"), 1);
}

/// Polls the database (read-only, WAL) until the run has indexed `n` responses.
fn wait_for_responses(dir: &Case, n: i64, child: &mut std::process::Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done = dir
            .db
            .poll_int("SELECT COUNT(*) FROM ingest_responses")
            .unwrap_or(0);
        if done >= n {
            return;
        }
        assert!(
            child.try_wait().expect("poll child").is_none(),
            "ingest ended before the kill"
        );
        assert!(Instant::now() < deadline, "ingest made no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn killed_twice_and_resumed_ends_with_the_catalog_of_an_uninterrupted_run() {
    let movies = tmdb_stub::fixture_movies();
    let stub = Stub::start(StubConfig::new(movies.clone(), KEY));
    let dir = Case::new();
    for (i, kill_at) in [120, 380].into_iter().enumerate() {
        let args: &[&str] = if i == 0 {
            &["--details", "--rate", "150"]
        } else {
            &["--resume", "--rate", "150"]
        };
        let mut child = ingest_cmd(&dir, &stub, args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        wait_for_responses(&dir, kill_at, &mut child);
        child.kill().expect("SIGKILL");
        child.wait().expect("reap");
    }
    let out = run(ingest_cmd(&dir, &stub, &["--resume", "--rate", "500"]));
    assert_ok(&out);
    assert!(text(&out.stdout).contains("ingest run 1: completed"));
    assert_eq!(catalog(&dir), expected(&movies, true, &[]));
    // Only requests in flight at a kill may have been sent twice (8 in flight at most).
    let repeated: usize = counts(&stub, "/3/").values().map(|&n| n - 1).sum();
    assert!(repeated <= 16, "{repeated} repeated requests");
    dir.db.assert_intact();
}

#[test]
fn a_wrong_key_is_one_clear_error_with_no_retries() {
    let stub = Stub::start(StubConfig::new(tmdb_stub::fixture_movies(), KEY));
    let dir = Case::new();
    let mut cmd = ingest_cmd(&dir, &stub, &[]);
    cmd.env("TMDB_API_KEY", "wrong-key-0000");
    let out = run(cmd);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("rejected the credentials (401 Unauthorized)"),
        "{stderr}"
    );
    assert!(!stderr.contains("wrong-key-0000"), "{stderr}");
    assert_eq!(stub.seen().len(), 1, "no retry after 401");
    assert_eq!(
        dir.db.value("SELECT status FROM ingest_runs", &[]).text(),
        "failed"
    );
    assert!(files_containing(dir.path(), "wrong-key-0000").is_empty());
}

#[test]
fn an_unreachable_api_names_its_base_url() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let base = format!("http://127.0.0.1:{port}/3");
    let dir = Case::new();
    let mut cmd = bin();
    cmd.current_dir(dir.path())
        .arg("--db")
        .arg(dir.db.arg())
        .args([
            "ingest",
            "tmdb",
            "--base-url",
            &base,
            "--max-retries",
            "2",
            "--retry-base-ms",
            "10",
        ])
        .env("TMDB_API_KEY", KEY);
    let out = run(cmd);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!("cannot reach the movie API at {base}")),
        "{stderr}"
    );
    assert!(!stderr.contains(KEY), "{stderr}");
}

#[test]
fn changes_since_refetches_only_movies_changed_in_fourteen_day_windows() {
    let movies = tmdb_stub::fixture_movies();
    let stub = Stub::start(StubConfig::new(movies.clone(), KEY));
    let dir = Case::new();
    assert_ok(&run(ingest_cmd(&dir, &stub, &["--rate", "1000"])));

    let today = chrono::Utc::now().date_naive();
    let (a, b, c) = (movies[20].id, movies[30].id, movies[40].id);
    stub.update(|config| {
        config.changes = vec![
            (a, today - chrono::Days::new(3)),
            (b, today - chrono::Days::new(20)),
            (c, today - chrono::Days::new(45)),
        ];
        for m in &mut config.movies {
            if [a, b, c].contains(&m.id) {
                m.vote_average = 9.9;
            }
        }
    });
    let before = stub.seen().len();
    let since = (today - chrono::Days::new(30)).to_string();
    let out = run(ingest_cmd(
        &dir,
        &stub,
        &["--changes-since", &since, "--rate", "1000"],
    ));
    assert_ok(&out);
    let seen: Vec<String> = stub.seen()[before..]
        .iter()
        .map(|s| strip_key(&s.path_and_query))
        .collect();
    let windows: BTreeSet<&String> = seen
        .iter()
        .filter(|p| p.starts_with("/3/movie/changes"))
        .collect();
    assert_eq!(
        windows.len(),
        3,
        "31 days in windows of at most 14: {windows:?}"
    );
    let fetched: BTreeSet<String> = seen
        .iter()
        .filter(|p| !p.starts_with("/3/movie/changes"))
        .cloned()
        .collect();
    assert_eq!(fetched.len(), 2, "{fetched:?}");
    assert!(fetched
        .iter()
        .all(|p| p.starts_with(&format!("/3/movie/{a}?"))
            || p.starts_with(&format!("/3/movie/{b}?"))));
    let rating = |id: i64| {
        let m = movies.iter().find(|m| m.id == id).expect("movie");
        dir.db
            .value("SELECT Rating FROM Movies WHERE Title = ?1", &[&m.title])
            .real()
    };
    assert_eq!(rating(a), 9.9);
    assert_eq!(rating(b), 9.9);
    assert_ne!(rating(c), 9.9, "changed before --changes-since");
}

#[test]
fn bad_invocations_say_what_is_wrong() {
    let dir = Case::new();
    let ingest = |args: &[&str], key: bool| {
        let mut cmd = bin();
        cmd.current_dir(dir.path())
            .arg("--db")
            .arg(dir.db.arg())
            .args(["ingest", "tmdb"])
            .args(args);
        if key {
            cmd.env("TMDB_API_KEY", KEY);
        }
        let out = run(cmd);
        assert!(!out.status.success(), "{args:?} succeeded");
        text(&out.stderr)
    };
    assert!(ingest(&[], false).contains("no TMDB credentials: set TMDB_ACCESS_TOKEN"));
    assert!(
        ingest(&["--from", "2001-01-02", "--to", "2001-01-01"], true)
            .contains("--from 2001-01-02 is after --to 2001-01-01")
    );
    assert!(ingest(&["--from", "2001-13-01"], true).contains("--from"));
    assert!(ingest(&["--resume"], true).contains("no unfinished TMDB ingest run to resume"));
    assert!(ingest(&["--base-url", "ftp://example.org/3"], true).contains("must be an http(s) URL"));
    assert!(ingest(&["--rate", "0"], true).contains("--rate"));
    let mut etl = bin();
    etl.current_dir(dir.path())
        .arg("--db")
        .arg(dir.db.arg())
        .args(["etl", "--source", "tmdb:x"]);
    assert!(text(&run(etl).stderr).contains("expected tmdb:<ingest run id>"));
    let mut etl = bin();
    etl.current_dir(dir.path())
        .arg("--db")
        .arg(dir.db.arg())
        .args(["etl", "--source", "tmdb:99"]);
    let stderr = text(&run(etl).stderr);
    assert!(
        stderr.contains("no ingest run 99 in this database"),
        "{stderr}"
    );
}

/// The 3,000 real records of ../shared/data/tmdb-5000, with details: run by `scripts/test`
/// (and by hand with `cargo test --test ingest -- --ignored`); fails loudly without the data.
#[test]
#[ignore = "needs ../shared/data/tmdb-5000"]
fn tmdb_5000_full_ingest_with_details() {
    let movies = tmdb_stub::tmdb_5000_movies();
    let mut config = StubConfig::new(movies.clone(), KEY);
    config.rate_limit = Some(1000);
    let stub = Stub::start(config);
    let dir = Case::new();
    let started = Instant::now();
    let out = run(ingest_cmd(
        &dir,
        &stub,
        &["--details", "--rate", "1000", "--json"],
    ));
    assert_ok(&out);
    let summary = json(&out);
    println!(
        "tmdb-5000: {} requests in {:.2} s; load {}",
        summary["ingest"]["requests"],
        started.elapsed().as_secs_f64(),
        summary["load"]["counts"]
    );
    assert_eq!(summary["ingest"]["status"], "completed");
    let details = counts(&stub, "/3/movie/");
    assert_eq!(details.len(), reachable(&movies));
    assert!(details.values().all(|&n| n == 1));
    // Every reachable movie is in the catalog or rejected with a reason; none twice.
    let loaded = summary["load"]["counts"]["loaded"]
        .as_u64()
        .expect("loaded");
    let extracted = summary["load"]["counts"]["extracted"]
        .as_u64()
        .expect("extracted");
    assert_eq!(extracted as usize, reachable(&movies));
    assert_eq!(catalog(&dir).len() as u64, loaded);
    assert!(stub.max_per_second() <= 1000);
}

/// The stub answers `append_to_response` as TMDB does: the appended objects only when asked for.
#[tokio::test]
async fn the_stub_appends_keywords_and_credits_only_when_asked() {
    let movies = tmdb_stub::fixture_movies();
    let id = movies[0].id;
    let stub = Stub::start(StubConfig::new(movies, KEY));
    let client = reqwest::Client::new();
    let get = |append: Option<&'static str>| {
        let mut url = format!("{}/movie/{id}?api_key={KEY}", stub.base_url());
        if let Some(a) = append {
            url.push_str(&format!("&append_to_response={a}"));
        }
        let client = client.clone();
        async move {
            client
                .get(url)
                .send()
                .await
                .expect("request")
                .json::<serde_json::Value>()
                .await
                .expect("json")
        }
    };
    let plain = get(None).await;
    assert_eq!(plain["id"], id);
    assert!(plain["imdb_id"].is_string());
    assert!(plain.get("keywords").is_none() && plain.get("credits").is_none());
    let keywords = get(Some("keywords,videos")).await;
    assert!(keywords["keywords"]["keywords"].is_array());
    assert!(keywords.get("credits").is_none());
    let both = get(Some("keywords,credits")).await;
    assert!(both["credits"]["cast"].is_array() && both["keywords"].is_object());
}
