//! PostgreSQL as the store: a real server, given by `MOVIEREC_TEST_PG` (a URL of a database
//! whose user may create databases; `scripts/test` starts a throwaway cluster with `scripts/pg`
//! and sets it). Each test works in a database of its own, dropped afterwards.
//!
//! `#[ignore]`d for a plain `cargo test` (no server there); `scripts/test` runs them with
//! `--ignored`, and without `MOVIEREC_TEST_PG` they fail rather than skip.

#[path = "support/app.rs"]
mod app;
#[path = "support/engine.rs"]
mod engine;
#[path = "support/taste.rs"]
mod taste;
#[path = "support/tmdb_stub.rs"]
mod tmdb_stub;

use app::Served;
use engine::PgDb;
use movierec::domain::etl::Source;
use movierec::domain::export::ExportTable;
use movierec::domain::source::RatingPolicy;
use movierec::store::{Location, Store};
use std::path::Path;
use std::process::{Command, Output};

fn movierec(dir: &Path, db: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_movierec"))
        .current_dir(dir)
        .env_remove("MOVIEREC_DB")
        .env_remove("MOVIEREC_DATA_DIR")
        .args(["--db", db])
        .args(args)
        .output()
        .expect("spawn movierec")
}

/// `movierec --db DB --data-dir m-data serve` in `dir`, with `env` set, once it listens.
fn serve(dir: &Path, db: &str, env: &[(&str, &str)]) -> Served {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_movierec"));
    cmd.current_dir(dir).envs(env.iter().copied()).args([
        "--db",
        db,
        "--data-dir",
        "m-data",
        "serve",
    ]);
    Served::spawn(cmd)
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "movierec failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A SQLite database with the embedded dataset, a made-up ratings dataset (users, ratings,
/// rejects) and a trained model, in `dir`.
fn sqlite_catalog(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("m.db");
    let ratings = dir.join("taste");
    std::fs::create_dir_all(&ratings).expect("mkdir");
    taste::dataset(&ratings);
    let mut store = Store::open(&db).expect("open");
    for source in [Source::Embedded, Source::Movielens(ratings.clone())] {
        movierec::etl::run(
            &mut store,
            &dir.join("m-data"),
            &source,
            &RatingPolicy::default(),
        )
        .expect("etl");
    }
    drop(store);
    ok(&movierec(dir, "m.db", &["train", "--model", "item-knn"]));
    db
}

#[test]
#[ignore = "needs PostgreSQL: scripts/test runs it"]
fn migrations_apply_once_and_a_read_only_open_needs_them() {
    let pg = PgDb::new();
    let err = Store::connect_read_only(&pg.location())
        .err()
        .expect("an empty database is refused")
        .to_string();
    assert!(err.contains("does not exist; run `movierec etl`"), "{err}");
    let store = Store::connect(&pg.location()).expect("migrate");
    assert_eq!(store.schema_version().expect("version"), 3);
    drop(store);
    let store = Store::connect(&pg.location()).expect("again");
    assert_eq!(store.schema_version().expect("version"), 3);
    let applied: i64 = pg
        .client()
        .query_one("SELECT COUNT(*) FROM refinery_schema_history", &[])
        .expect("history")
        .get(0);
    assert_eq!(applied, 3, "each applied once");
    // SQLite's tables, column for column.
    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = rusqlite::Connection::open(dir.path().join("s.db")).expect("open");
    drop(Store::open(&dir.path().join("s.db")).expect("migrate sqlite"));
    let sqlite_columns: Vec<String> = sqlite
        .prepare(
            "SELECT lower(m.name || '.' || p.name) FROM sqlite_master AS m, pragma_table_info(m.name) AS p
             WHERE m.type = 'table' ORDER BY 1",
        )
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("sqlite columns");
    let pg_columns: Vec<String> = pg
        .client()
        .query(
            "SELECT (table_name || '.' || column_name)::text COLLATE \"C\" FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name <> 'refinery_schema_history'
             ORDER BY 1",
            &[],
        )
        .expect("pg columns")
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(pg_columns, sqlite_columns);
}

#[test]
#[ignore = "needs PostgreSQL: scripts/test runs it"]
fn a_copied_database_reads_the_same_on_both_engines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = sqlite_catalog(dir.path());
    let pg = PgDb::new();
    let out = ok(&movierec(dir.path(), "m.db", &["migrate", "--to", &pg.url]));
    assert!(out.contains("every count and checksum matches"), "{out}");
    let sqlite = Store::open_read_only(&db).expect("sqlite");
    let postgres = Store::connect_read_only(&pg.location()).expect("postgres");
    macro_rules! same {
        ($($read:tt)+) => {{
            let (a, b) = (sqlite.$($read)+, postgres.$($read)+);
            assert_eq!(
                format!("{:?}", a.expect("sqlite read")),
                format!("{:?}", b.expect("postgres read")),
                "{}", stringify!($($read)+)
            );
        }};
    }
    same!(movie_count());
    same!(catalog());
    same!(content_catalog());
    same!(title_keys());
    same!(latest_succeeded_run());
    same!(latest_model_id());
    same!(models());
    same!(etl_runs(10, 0));
    same!(etl_run_count());
    same!(latest_audit());
    same!(users_page(50, 0));
    for id in [1, 2, 3, 500, 2000] {
        same!(movie_detail(movierec::domain::MovieId(id)));
        same!(redirect(movierec::domain::MovieId(id)));
    }
    for user in [1, 2, 7] {
        same!(user(movierec::domain::UserId(user)));
        same!(user_ratings(movierec::domain::UserId(user)));
        same!(user_profile(movierec::domain::UserId(user)));
    }
    for run in [1, 2] {
        same!(etl_audit(movierec::domain::EtlRunId(run)));
        same!(etl_rejects(movierec::domain::EtlRunId(run), 100, 0));
    }
    use movierec::domain::catalog::{CatalogQuery, SortKey};
    for q in [
        CatalogQuery {
            sort: SortKey::Rating,
            descending: true,
            ..CatalogQuery::search("star", 20)
        },
        CatalogQuery {
            genre: movierec::domain::genre::Genre::from_name("Drama"),
            year_from: Some(1990),
            year_to: Some(2000),
            sort: SortKey::Year,
            limit: 50,
            ..CatalogQuery::default()
        },
        CatalogQuery {
            min_rating: Some(7.0),
            sort: SortKey::Votes,
            descending: true,
            limit: 20,
            offset: 5,
            ..CatalogQuery::default()
        },
        CatalogQuery {
            sort: SortKey::Title,
            limit: 30,
            ..CatalogQuery::default()
        },
        CatalogQuery::search("amelie", 10),
        CatalogQuery::search("50% _off\\", 10),
    ] {
        same!(movies_page(&q));
    }
    let mut a = Vec::new();
    let mut b = Vec::new();
    sqlite
        .for_each_rating(|u, m, r| a.push((u, m, r)))
        .expect("sqlite ratings");
    postgres
        .for_each_rating(|u, m, r| b.push((u, m, r)))
        .expect("postgres ratings");
    assert!(!a.is_empty());
    assert_eq!(a, b);
    same_tables(&sqlite, &postgres);
}

/// Every exported table, row for row, on both stores.
fn same_tables(sqlite: &Store, postgres: &Store) {
    for table in ExportTable::ALL {
        let scan = |store: &Store| {
            let mut rows = Vec::new();
            store
                .scan_table::<movierec::store::StoreError>(table, 1000, |batch| {
                    rows.push(format!("{batch:?}"));
                    Ok(())
                })
                .expect("scan");
            rows
        };
        assert_eq!(scan(sqlite), scan(postgres), "{table}");
    }
}

/// The same loads on both engines: identity (a vega film a CSV names again), duplicates and
/// rejects of a CSV, a MovieLens dataset loaded, loaded again (nothing changes: its users'
/// stored ratings are read back) and loaded changed (one rating updated, one added, by users
/// the store knows). Every run's counts and every table end up the same.
#[test]
#[ignore = "needs PostgreSQL: scripts/test runs it"]
fn the_etl_loads_the_same_catalog_on_both_engines() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("films.csv");
    std::fs::write(
        &csv,
        "title,release_date,rating,votes\n\
         Star Wars,1977-05-25,8.1,6778\n\
         A New Film,2001-02-03,6.5,10\n\
         A New Film,2001-02-03,6.9,30\n\
         No Date,not a date,5.0,1\n",
    )
    .expect("csv");
    let taste = dir.path().join("taste");
    std::fs::create_dir_all(&taste).expect("mkdir");
    taste::dataset(&taste);
    let changed = dir.path().join("changed");
    std::fs::create_dir_all(&changed).expect("mkdir");
    std::fs::copy(taste.join("movies.csv"), changed.join("movies.csv")).expect("copy");
    let ratings = std::fs::read_to_string(taste.join("ratings.csv")).expect("ratings");
    let mut lines: Vec<String> = ratings.lines().map(str::to_owned).collect();
    let fields: Vec<String> = lines[1].split(',').map(str::to_owned).collect();
    let later: i64 = fields[3].parse::<i64>().expect("timestamp") + 1000;
    lines[1] = format!("{},{},0.5,{later}", fields[0], fields[1]);
    let unrated = (1..=40)
        .find(|m| !ratings.contains(&format!("\n{},{m},", fields[0])))
        .expect("a movie user 1 has not rated");
    lines.push(format!("{},{unrated},3.0,{later}", fields[0]));
    std::fs::write(changed.join("ratings.csv"), lines.join("\n") + "\n").expect("write");
    let sources = [
        Source::Embedded,
        Source::File(csv),
        Source::Movielens(taste.clone()),
        Source::Movielens(taste),
        Source::Movielens(changed),
    ];
    let pg = PgDb::new();
    let mut counts = Vec::new();
    for (db, location) in [
        ("sqlite", Location::Sqlite(dir.path().join("m.db"))),
        ("postgres", pg.location()),
    ] {
        let mut store = Store::connect(&location).expect("open");
        let mut runs = Vec::new();
        for source in &sources {
            let out = movierec::etl::run(
                &mut store,
                &dir.path().join(format!("{db}-data")),
                source,
                &RatingPolicy::default(),
            )
            .expect("etl");
            runs.push(format!("{:?}", out.report.counts));
        }
        counts.push(runs);
    }
    assert_eq!(counts[0], counts[1]);
    let (taste_again, changed) = (&counts[0][3], &counts[0][4]);
    assert!(
        taste_again.contains("inserted: 0, updated: 0"),
        "{taste_again}"
    );
    assert!(!changed.contains("updated: 0,"), "{changed}");
    let sqlite = Store::open_read_only(&dir.path().join("m.db")).expect("sqlite");
    let postgres = Store::connect_read_only(&pg.location()).expect("postgres");
    assert_eq!(
        format!(
            "{:?}",
            sqlite.etl_rejects(movierec::domain::EtlRunId(2), 100, 0)
        ),
        format!(
            "{:?}",
            postgres.etl_rejects(movierec::domain::EtlRunId(2), 100, 0)
        )
    );
    same_tables(&sqlite, &postgres);
    every_key_holds(&pg);
    // Ratings name their run without a foreign key on PostgreSQL (V2): none names a missing one.
    let orphans: i64 = pg
        .client()
        .query_one(
            "SELECT COUNT(*) FROM ratings AS r LEFT JOIN etl_runs AS e USING (run_id)
             WHERE e.run_id IS NULL",
            &[],
        )
        .expect("orphans")
        .get(0);
    assert_eq!(orphans, 0);
}

/// Every foreign key of the schema holds for every row (the load runs with the checks off
/// where the role may turn them off, as SQLite's does).
fn every_key_holds(pg: &PgDb) {
    assert_eq!(pg.broken_keys(), Vec::<String>::new());
}

/// A role that may not turn the key checks off loads all the same, with them on.
#[test]
#[ignore = "needs PostgreSQL: scripts/test runs it"]
fn a_role_without_superuser_loads_with_the_key_checks_on() {
    let pg = PgDb::new();
    let role = format!("{}_loader", pg.name);
    pg.client()
        .batch_execute(&format!(
            "CREATE ROLE {role} LOGIN; GRANT ALL ON SCHEMA public TO {role};
             ALTER DATABASE {name} OWNER TO {role}",
            name = pg.name
        ))
        .expect("role");
    let url = pg.url.replacen("://movierec@", &format!("://{role}@"), 1);
    let dir = tempfile::tempdir().expect("tempdir");
    let out = ok(&movierec(dir.path(), &url, &["--data-dir", "d", "etl"]));
    assert!(out.contains("inserted 3185"), "{out}");
    every_key_holds(&pg);
    pg.client()
        .batch_execute(&format!("DROP OWNED BY {role} CASCADE"))
        .ok();
}

#[test]
#[ignore = "needs PostgreSQL: scripts/test runs it"]
fn migrate_to_copies_into_an_empty_database_only_and_never_prints_the_password() {
    let dir = tempfile::tempdir().expect("tempdir");
    sqlite_catalog(dir.path());
    let pg = PgDb::new();
    let with_password = pg.url.replacen("://movierec@", "://movierec:s3cret@", 1);
    let first = movierec(dir.path(), "m.db", &["migrate", "--to", &with_password]);
    let out = ok(&first);
    assert!(!out.contains("s3cret") && !String::from_utf8_lossy(&first.stderr).contains("s3cret"));
    assert!(out.contains("movierec:***@"), "{out}");
    let runs: i64 = pg
        .client()
        .query_one("SELECT COUNT(*) FROM etl_runs", &[])
        .expect("count")
        .get(0);
    assert_eq!(runs, 2);
    // Twice: refused, and nothing changes.
    let again = movierec(dir.path(), "m.db", &["migrate", "--to", &with_password]);
    assert!(!again.status.success());
    let err = String::from_utf8_lossy(&again.stderr);
    assert!(err.contains("already holds a catalog"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
    // Ids keep being made after the copied ones.
    let next: i64 = pg
        .client()
        .query_one(
            "INSERT INTO etl_runs (source, source_format, started_at, finished_at, status)
             VALUES ('x', 'csv', '', '', 'failed') RETURNING run_id",
            &[],
        )
        .expect("insert")
        .get(0);
    assert_eq!(next, 3);
    // The copied catalog is what a load finds: the same input again changes nothing.
    let out = ok(&movierec(dir.path(), &pg.url, &["etl"]));
    assert!(
        out.contains("inserted 0, updated 0, unchanged 3185"),
        "{out}"
    );
    // Bad URLs and unreachable servers: named, without the password.
    for (url, expected) in [
        (
            "postgres://movierec:s3cret@127.0.0.1:notaport/x",
            "invalid PostgreSQL URL",
        ),
        (
            "postgres://movierec:s3cret@127.0.0.1:1/x",
            "cannot connect to postgres://movierec:***@127.0.0.1:1/x",
        ),
    ] {
        let out = movierec(dir.path(), "m.db", &["migrate", "--to", url]);
        assert_eq!(
            out.status.code(),
            Some(if expected.starts_with("invalid") {
                2
            } else {
                1
            })
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
        let out = movierec(dir.path(), url, &["movies"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(expected), "{err}");
        assert!(!err.contains("s3cret"), "{err}");
    }
}

#[test]
#[ignore = "needs PostgreSQL: scripts/test runs it"]
fn a_server_on_postgres_answers_as_one_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    sqlite_catalog(dir.path());
    let pg = PgDb::new();
    ok(&movierec(dir.path(), "m.db", &["migrate", "--to", &pg.url]));
    let (on_sqlite, on_postgres) = (
        serve(dir.path(), "m.db", &[]),
        serve(dir.path(), &pg.url, &[]),
    );
    for path in [
        "/api/movies?limit=5",
        "/api/movies?title=star&sort=rating&order=desc",
        "/api/movies/1",
        "/api/movies/1/similar",
        "/api/movies/1/similar?model=item-knn",
        "/api/users?limit=3",
        "/api/users/1",
        "/api/genres",
        "/api/movies/popular",
        "/api/catalog/points",
        "/api/users/1/recommendations",
        "/api/etl/runs",
        "/api/etl/runs/2",
        "/api/etl/runs/2/rejects",
        "/api/models",
        "/api/movies/999999",
        "/health/ready",
        "/catalog?q=star",
        "/users",
        "/quality",
        "/models",
    ] {
        let (a, b) = (on_sqlite.get(path), on_postgres.get(path));
        assert_eq!(a.0, b.0, "{path}");
        assert_eq!(without_fit_time(&a.1), without_fit_time(&b.1), "{path}");
        assert!(!a.0.contains(" 5"), "{path}: {}", a.0);
    }
    assert!(on_postgres.terminate().success());
}

/// A page without the time its server fitted the content model (each server fits its own).
fn without_fit_time(page: &str) -> String {
    match page.split_once("model fitted ") {
        Some((head, tail)) => {
            let rest = tail.split_once(" after").map_or("", |(_, r)| r);
            format!("{head}model fitted … after{rest}")
        }
        None => page.to_owned(),
    }
}

#[test]
#[ignore = "needs PostgreSQL: scripts/test runs it"]
fn writers_take_turns_and_a_waiting_one_names_the_holder() {
    let dir = tempfile::tempdir().expect("tempdir");
    sqlite_catalog(dir.path());
    let pg = PgDb::new();
    ok(&movierec(dir.path(), "m.db", &["migrate", "--to", &pg.url]));
    let data = ["--data-dir", "m-data"];
    // Another writer holds the lock (as `movierec etl` would, named by its application_name).
    let mut holder = pg.client();
    let mut tx = holder.transaction().expect("begin");
    tx.batch_execute(
        "SELECT set_config('application_name', 'movierec etl --source big.csv (pid 7)', false);
         SELECT pg_advisory_xact_lock(7885651667594667363)",
    )
    .expect("lock");
    let out = movierec(
        dir.path(),
        &pg.url,
        &[
            &data[..],
            &["--lock-wait", "1", "train", "--model", "item-knn"],
        ]
        .concat(),
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("waiting for movierec etl --source big.csv (pid 7) to finish")
            && err.contains("still locked by movierec etl --source big.csv (pid 7)"),
        "{err}"
    );
    let models = |pg: &PgDb| -> i64 {
        pg.client()
            .query_one("SELECT COUNT(*) FROM models", &[])
            .expect("count")
            .get(0)
    };
    assert_eq!(models(&pg), 1, "the waiting train wrote nothing");
    // Two trains at once: the second waits for the first, and both land.
    tx.rollback().expect("release");
    let spawn = || {
        Command::new(env!("CARGO_BIN_EXE_movierec"))
            .current_dir(dir.path())
            .args([
                "--db",
                &pg.url,
                "--data-dir",
                "m-data",
                "train",
                "--model",
                "item-knn",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("spawn")
    };
    let (a, b) = (spawn(), spawn());
    for child in [a, b] {
        let out = child.wait_with_output().expect("wait");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    assert_eq!(models(&pg), 3);
}

#[test]
#[ignore = "needs PostgreSQL: scripts/test runs it"]
fn a_new_model_reaches_every_replica_by_notification() {
    let dir = tempfile::tempdir().expect("tempdir");
    sqlite_catalog(dir.path());
    let pg = PgDb::new();
    ok(&movierec(dir.path(), "m.db", &["migrate", "--to", &pg.url]));
    let replicas: Vec<Served> = (0..2)
        // No polling to speak of: only the notification can bring the model.
        .map(|_| {
            serve(
                dir.path(),
                &pg.url,
                &[("MOVIEREC_RELOAD_INTERVAL_MS", "3600000")],
            )
        })
        .collect();
    let model_id = |r: &Served| -> serde_json::Value {
        let (_, body) = r.get("/metrics");
        let line = body
            .lines()
            .find(|l| l.starts_with("movierec_model_id "))
            .unwrap_or("movierec_model_id 0")
            .to_owned();
        serde_json::Value::String(line)
    };
    let before: Vec<_> = replicas.iter().map(model_id).collect();
    ok(&movierec(
        dir.path(),
        &pg.url,
        &["--data-dir", "m-data", "train", "--model", "item-knn"],
    ));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    for (r, before) in replicas.iter().zip(before) {
        while model_id(r) == before {
            assert!(
                std::time::Instant::now() < deadline,
                "a replica never heard of the new model"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert!(
            model_id(r).as_str().is_some_and(|l| l.ends_with(" 2")),
            "{:?}",
            model_id(r)
        );
    }
}

#[test]
#[ignore = "needs PostgreSQL: scripts/test runs it"]
fn replicas_ride_out_postgres_stopping_and_one_started_meanwhile_waits_for_it() {
    // A cluster of its own (the shared one serves the other tests), from scripts/pg.
    let dir = tempfile::tempdir().expect("tempdir");
    sqlite_catalog(dir.path());
    let pg_dir = tempfile::Builder::new()
        .prefix("movierec-pg")
        .tempdir_in("/tmp")
        .expect("pg dir");
    std::fs::set_permissions(
        pg_dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod");
    let cluster = pg_dir.path().join("pg");
    let pg = |cmd: &str| {
        let out = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/pg"))
            .args([cmd, cluster.to_str().expect("utf-8")])
            .output()
            .expect("scripts/pg");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let url = pg("start");
    struct Stop<'a>(&'a dyn Fn(&str) -> String);
    impl Drop for Stop<'_> {
        fn drop(&mut self) {
            (self.0)("stop");
        }
    }
    let _stop = Stop(&pg);
    ok(&movierec(dir.path(), "m.db", &["migrate", "--to", &url]));
    let replica = serve(dir.path(), &url, &[]);
    let status = |path: &str| replica.get(path).0;
    assert!(status("/api/movies/1").contains(" 200 "));
    // Stopped: what reads memory answers, what reads the store says it cannot, readiness drops.
    let pg_ctl = |args: &[&str]| {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .expect("postgresql")
            .filter_map(Result::ok)
            .map(|e| e.path().join("bin/pg_ctl"))
            .max()
            .expect("pg_ctl");
        let data = cluster.join("data");
        let out = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(bin)
            .args(["-D", data.to_str().expect("utf-8"), "-w"])
            .args(args)
            .output()
            .expect("pg_ctl");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let options = std::fs::read_to_string(cluster.join("data/postmaster.opts")).expect("opts");
    let port = url
        .rsplit(':')
        .next()
        .and_then(|p| p.split('/').next())
        .expect("port");
    pg_ctl(&["-m", "fast", "stop"]);
    assert!(status("/api/movies/1/similar").contains(" 200 "));
    assert!(
        status("/api/movies/1").contains(" 503 "),
        "{}",
        status("/api/movies/1")
    );
    assert!(status("/health/ready").contains(" 503 "));
    assert!(status("/health/live").contains(" 200 "));
    // A replica started while PostgreSQL is down answers 503 naming why, and waits.
    let late = serve(dir.path(), &url, &[]);
    let (ready, body) = late.get("/health/ready");
    assert!(ready.contains(" 503 "), "{ready}");
    assert!(
        body.contains("starting: cannot connect to postgres://movierec@"),
        "{body}"
    );
    assert!(late.get("/api/movies/1").0.contains(" 503 "));
    assert!(late.get("/health/live").0.contains(" 200 "));
    // Started again (same port and options): the replica reconnects by itself.
    let extra = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
        cluster.join("socket").display()
    );
    assert!(options.contains(port), "{options}");
    pg_ctl(&[
        "-l",
        cluster.join("server.log").to_str().expect("utf-8"),
        "-o",
        &extra,
        "start",
    ]);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !status("/api/movies/1").contains(" 200 ") {
        assert!(std::time::Instant::now() < deadline, "never reconnected");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(status("/health/ready").contains(" 200 "));
    assert!(replica.terminate().success());
    // And the late one is up too, serving what the first serves.
    while !late.get("/health/ready").0.contains(" 200 ") {
        assert!(
            std::time::Instant::now() < deadline,
            "the late replica never started"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(late.get("/api/movies/1/similar").0.contains(" 200 "));
    assert!(late.terminate().success());
}

/// What a load may change, as one comparable value: every catalog table's rows and the runs
/// that succeeded.
fn catalog_state(pg: &PgDb) -> Vec<String> {
    let mut client = pg.client();
    [
        "SELECT COUNT(*)::TEXT || ' ' || COALESCE(md5(string_agg(m::TEXT, '|' ORDER BY MovieID)), '')
         FROM Movies AS m",
        "SELECT COUNT(*)::TEXT || ' ' || COALESCE(md5(string_agg(s::TEXT, '|' ORDER BY MovieID, provider)), '')
         FROM movie_sources AS s",
        "SELECT COUNT(*)::TEXT FROM movie_ids",
        "SELECT COUNT(*)::TEXT FROM movie_keys",
        "SELECT COUNT(*)::TEXT FROM etl_rejects",
        "SELECT COUNT(*)::TEXT FROM etl_runs WHERE status = 'succeeded'",
    ]
    .iter()
    .map(|q| client.query_one(*q, &[]).expect(q).get(0))
    .collect()
}

/// Whether an `etl` holds the writer lock (its transaction is open).
fn etl_in_progress(pg: &PgDb) -> bool {
    let n: i64 = pg
        .client()
        .query_one(
            "SELECT COUNT(*) FROM pg_stat_activity
             WHERE datname = current_database() AND application_name LIKE 'movierec etl%'",
            &[],
        )
        .expect("activity")
        .get(0);
    n > 0
}

/// The kill test of `tests/cli.rs` on PostgreSQL: an `etl` killed at several depths inside its
/// load leaves exactly the previous catalog (the server rolls back the transaction of a client
/// that went away), and the whole load still lands afterwards.
#[test]
#[ignore = "needs PostgreSQL: scripts/test runs it"]
fn a_killed_etl_on_postgres_loses_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut csv = String::from("title,release_date,rating,votes\n");
    for i in 0..60_000 {
        csv.push_str(&format!(
            "Synthetic {i},{}-06-01,{}.{},{}\n",
            1900 + i % 120,
            i % 10,
            i % 7,
            i
        ));
    }
    let big = dir.path().join("big.csv");
    std::fs::write(&big, csv).expect("csv");
    let big = big.to_str().expect("utf-8 path");
    let pg = PgDb::new();
    ok(&movierec(dir.path(), &pg.url, &["etl"]));
    let before = catalog_state(&pg);
    // How long a whole load takes, on a database of its own in the same state.
    let timing = PgDb::new();
    ok(&movierec(dir.path(), &timing.url, &["etl"]));
    let started = std::time::Instant::now();
    ok(&movierec(
        dir.path(),
        &timing.url,
        &["etl", "--source", big],
    ));
    let full_time = started.elapsed();
    drop(timing);
    let mut killed_inside = 0;
    for fraction in [0.0, 0.2, 0.4, 0.6, 0.8] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_movierec"))
            .current_dir(dir.path())
            .args(["--db", &pg.url, "etl", "--source", big])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        let deadline = std::time::Instant::now() + full_time * 4;
        while !etl_in_progress(&pg) {
            assert!(
                std::time::Instant::now() < deadline,
                "the load never started"
            );
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        std::thread::sleep(full_time.mul_f64(fraction * 0.5));
        let inside = etl_in_progress(&pg);
        let _ = child.kill();
        let status = child.wait().expect("wait");
        // The server ends the killed client's session (and its transaction) when it notices.
        let gone = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while etl_in_progress(&pg) {
            assert!(
                std::time::Instant::now() < gone,
                "the killed session lingers"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        if inside {
            killed_inside += 1;
            assert!(!status.success());
            assert_eq!(
                catalog_state(&pg),
                before,
                "killed mid-load at {fraction}: catalog must be untouched"
            );
        }
    }
    assert!(
        killed_inside >= 3,
        "only {killed_inside} kills landed inside the load"
    );
    let out = ok(&movierec(dir.path(), &pg.url, &["etl", "--source", big]));
    assert!(out.contains("inserted 60000"), "{out}");
    assert_ne!(catalog_state(&pg), before);
}

const TMDB_KEY: &str = "k3y-0f-the-postgres-suite";

/// `movierec --db DB ingest tmdb --base-url STUB ARGS` in `dir`.
fn ingest(dir: &Path, db: &str, stub: &tmdb_stub::Stub, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_movierec"));
    cmd.current_dir(dir)
        .env_remove("MOVIEREC_DB")
        .env_remove("MOVIEREC_DATA_DIR")
        .env_remove("TMDB_ACCESS_TOKEN")
        .env("TMDB_API_KEY", TMDB_KEY)
        .args(["--db", db, "--data-dir", "d", "ingest", "tmdb"])
        .args(["--base-url", &stub.base_url(), "--retry-base-ms", "20"])
        .args(args);
    cmd
}

/// (title, year, rating, votes, director) of every movie, sorted.
const CATALOG: &str = "SELECT Title, ReleaseYear, Rating, Votes, Director FROM Movies
                       ORDER BY Title, ReleaseYear, Votes";

/// Ingest on PostgreSQL: the daily quota stops a run cleanly and is shared with the next process
/// (it sends nothing), `--resume` finishes without asking anything twice, and the catalog is the
/// one the same ingest builds on SQLite. Two processes at once never overshoot the quota
/// together.
#[test]
#[ignore = "needs PostgreSQL: scripts/test runs it"]
fn ingest_on_postgres_keeps_its_quota_and_resumes_to_the_catalog_sqlite_builds() {
    let movies = tmdb_stub::fixture_movies();
    let dir = tempfile::tempdir().expect("tempdir");
    let pg = PgDb::new();
    let stub = tmdb_stub::Stub::start(tmdb_stub::StubConfig::new(movies.clone(), TMDB_KEY));
    let quota = ["--details", "--rate", "500", "--daily-quota", "50"];
    let out = ok(&ingest(dir.path(), &pg.url, &stub, &quota)
        .output()
        .expect("run"));
    assert!(out.contains("daily quota of 50 requests"), "{out}");
    assert_eq!(stub.seen().len(), 50);
    let resume = ["--resume", "--daily-quota", "50"];
    ok(&ingest(dir.path(), &pg.url, &stub, &resume)
        .output()
        .expect("run"));
    assert_eq!(
        stub.seen().len(),
        50,
        "the quota is shared: nothing more sent"
    );
    let out = ok(
        &ingest(dir.path(), &pg.url, &stub, &["--resume", "--rate", "500"])
            .output()
            .expect("run"),
    );
    assert!(out.contains("ingest run 1: completed"), "{out}");
    let mut asked: std::collections::HashMap<String, usize> = Default::default();
    for s in stub.seen() {
        let request = s.path_and_query.replace(&format!("api_key={TMDB_KEY}"), "");
        *asked.entry(request).or_default() += 1;
    }
    assert!(asked.values().all(|&n| n == 1), "a request was repeated");
    let used: i64 = pg
        .client()
        .query_one("SELECT used FROM api_quota", &[])
        .expect("used")
        .get(0);
    assert_eq!(used as usize, stub.seen().len());
    // The same ingest into SQLite, from a fresh stub.
    let stub = tmdb_stub::Stub::start(tmdb_stub::StubConfig::new(movies.clone(), TMDB_KEY));
    ok(
        &ingest(dir.path(), "m.db", &stub, &["--details", "--rate", "500"])
            .output()
            .expect("run"),
    );
    type Row = (String, i64, Option<f64>, Option<i64>, Option<String>);
    let sqlite: Vec<Row> = rusqlite::Connection::open(dir.path().join("m.db"))
        .expect("sqlite")
        .prepare(CATALOG)
        .and_then(|mut s| {
            s.query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect()
        })
        .expect("sqlite catalog");
    let postgres: Vec<Row> = pg
        .client()
        .query(CATALOG, &[])
        .expect("postgres catalog")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    assert!(sqlite.len() > 100, "{} movies", sqlite.len());
    assert_eq!(postgres, sqlite);
    every_key_holds(&pg);
    // Two processes at once, one quota: together they send exactly what it allows.
    let pg = PgDb::new();
    let stub = tmdb_stub::Stub::start(tmdb_stub::StubConfig::new(movies, TMDB_KEY));
    let both = ["--details", "--rate", "200", "--daily-quota", "40"];
    let children: Vec<_> = (0..2)
        .map(|_| {
            ingest(dir.path(), &pg.url, &stub, &both)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    for child in children {
        ok(&child.wait_with_output().expect("wait"));
    }
    assert_eq!(stub.seen().len(), 40);
}
