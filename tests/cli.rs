//! End-to-end tests of the `movierec` binary: real processes on a real database, a SQLite file
//! in a temp dir or, with `MOVIEREC_TEST_ENGINE=postgres`, a PostgreSQL database of the test's
//! own. The tests about the SQLite file itself are in [`sqlite_file`], always on SQLite.

#[path = "support/app.rs"]
mod app;
#[path = "support/engine.rs"]
mod engine;

use app::Served;
use engine::TestDb;
use serde_json::Value;
use std::path::PathBuf;
use std::process::{Command, Output};

/// A test's directory and database: on the engine the run asks for (`MOVIEREC_TEST_ENGINE`;
/// `scripts/test` runs this file on both), or on a SQLite file for tests about the file.
struct Env {
    dir: tempfile::TempDir,
    db: TestDb,
}

impl Env {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = TestDb::new(dir.path().join("movies.db"));
        Self { dir, db }
    }

    /// On a SQLite file whatever the run asks for: the test is about the file itself.
    fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = TestDb::Sqlite(dir.path().join("movies.db"));
        Self { dir, db }
    }

    /// What `--db` takes.
    fn db(&self) -> String {
        self.db.arg()
    }

    /// The SQLite file (only for the tests made with [`Env::sqlite`]).
    fn db_file(&self) -> PathBuf {
        match &self.db {
            TestDb::Sqlite(p) => p.clone(),
            TestDb::Postgres(_) => panic!("a SQLite test was given PostgreSQL"),
        }
    }

    /// Where movierec keeps snapshots and reports for this database by default.
    fn data_dir(&self) -> PathBuf {
        self.db.default_data_dir(self.dir.path())
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(name);
        std::fs::write(&path, bytes).expect("write input");
        path
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_movierec"));
        cmd.current_dir(self.dir.path())
            .env_remove("MOVIEREC_DB")
            .env_remove("MOVIEREC_DATA_DIR");
        cmd
    }

    /// Runs `movierec --db <test db> ARGS`.
    fn run(&self, args: &[&str]) -> Output {
        self.command()
            .arg("--db")
            .arg(self.db())
            .args(args)
            .output()
            .expect("spawn movierec")
    }

    fn etl_json(&self, extra: &[&str]) -> Value {
        let mut args = vec!["etl", "--json"];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        assert!(out.status.success(), "etl failed: {}", stderr(&out));
        serde_json::from_slice(&out.stdout).expect("etl --json prints JSON")
    }

    /// Everything the catalog holds, in a comparable form.
    fn catalog(&self) -> String {
        self.db
            .value(
                "SELECT (SELECT COUNT(*) FROM Movies) || ':' ||
                        COALESCE((SELECT string_agg(MovieID || '/' || Title || '/' || ReleaseYear || '/'
                                                    || Rating || '/' || TitleKey || '/' || ReleaseDate || '/'
                                                    || COALESCE(CAST(Votes AS TEXT), '') || '/'
                                                    || COALESCE(Genre, '') || '/'
                                                    || COALESCE(Director, '') || '/' || CreatedRunId || '/'
                                                    || UpdatedRunId, '|' ORDER BY MovieID)
                                  FROM Movies), '') || ':' ||
                        (SELECT COUNT(*) FROM etl_rejects)",
                &[],
            )
            .text()
    }

    fn last_run_status(&self) -> (String, Option<String>) {
        let row = self.db.row(
            "SELECT status, error FROM etl_runs ORDER BY run_id DESC LIMIT 1",
            &[],
        );
        (row[0].text(), row[1].opt_text())
    }

    /// Whether the database holds nothing: no SQLite file, or no table in PostgreSQL.
    fn db_is_empty(&self) -> bool {
        match &self.db {
            TestDb::Sqlite(p) => !p.exists(),
            TestDb::Postgres(_) => self
                .db
                .value(
                    "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'",
                    &[],
                )
                .int()
                == 0,
        }
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn counts(report: &Value) -> (u64, u64, u64, u64, u64) {
    let c = &report["counts"];
    let n = |k: &str| c[k].as_u64().expect("count");
    (
        n("extracted"),
        n("loaded"),
        n("inserted"),
        n("updated"),
        n("unchanged"),
    )
}

#[test]
fn etl_of_embedded_data_loads_and_a_rerun_changes_nothing() {
    let env = Env::new();
    let first = env.etl_json(&[]);
    let (extracted, loaded, inserted, updated, unchanged) = counts(&first);
    assert_eq!(extracted, 3201, "vega movies.json has 3201 records");
    assert!(
        loaded > 2500 && loaded < extracted,
        "dirty rows must be rejected: loaded {loaded}"
    );
    assert_eq!((inserted, updated, unchanged), (loaded, 0, 0));
    assert_eq!(
        first["counts"]["rejected"].as_u64(),
        Some(extracted - loaded)
    );
    // vega's mojibake is repaired and counted; real accents and stylised titles are kept.
    let repairs = &first["repairs"]["title"];
    assert_eq!(repairs["count"].as_u64(), Some(18), "{repairs}");
    let titles = |like: &str| -> Vec<String> {
        env.db
            .rows(
                "SELECT Title FROM Movies WHERE Title LIKE ?1 ORDER BY Title",
                &[like],
            )
            .iter()
            .map(|r| r[0].text())
            .collect()
    };
    assert_eq!(
        titles("Le Fabuleux%"),
        ["Le Fabuleux destin d'Amélie Poulain"]
    );
    assert_eq!(titles("D_j_ Vu"), ["Déjà Vu"]);
    assert_eq!(titles("Ri%h"), ["Ri¢hie Ri¢h"]);
    assert_eq!(titles("Alien³"), ["Alien³"]);
    // Creative Type is not a genre: "Historical Fiction" no longer makes Titanic History.
    let genre = env
        .db
        .value("SELECT Genre FROM Movies WHERE Title = 'Titanic'", &[])
        .opt_text();
    assert!(
        !genre.as_deref().unwrap_or("").contains("History"),
        "{genre:?}"
    );
    let before = env.catalog();

    let out = env.run(&["etl"]);
    assert!(out.status.success());
    assert!(
        stdout(&out).contains(&format!("inserted 0, updated 0, unchanged {loaded}")),
        "{}",
        stdout(&out)
    );
    let movies_part = |c: &str| {
        c.rsplit_once(':')
            .map(|(m, _)| m.to_owned())
            .expect("catalog")
    };
    assert_eq!(
        movies_part(&env.catalog()),
        movies_part(&before),
        "rerun must not touch Movies"
    );
}

#[test]
fn rejects_are_stored_with_row_field_reason_and_raw_value() {
    let env = Env::new();
    let report = env.etl_json(&[]);
    let first = env.db.row(
        "SELECT source_row, raw_value FROM etl_rejects WHERE reason = 'year_out_of_range' ORDER BY source_row LIMIT 1",
        &[],
    );
    let (row, raw) = (first[0].int(), first[1].text());
    assert!(
        raw.ends_with("2046") || raw.ends_with("2044") || raw.starts_with("Mar"),
        "{raw}"
    );
    assert!(row >= 1);
    let rejected_rows = env
        .db
        .value("SELECT COUNT(DISTINCT source_row) FROM etl_rejects", &[])
        .int();
    assert_eq!(
        u64::try_from(rejected_rows).ok(),
        report["counts"]["rejected"].as_u64()
    );
    let numeric_title = env
        .db
        .value("SELECT COUNT(*) FROM Movies WHERE Title = '300'", &[])
        .int();
    assert_eq!(numeric_title, 1, "numeric titles are titles, not rejects");
    let by_reason = env
        .db
        .value(
            "SELECT rejects_by_reason FROM etl_runs WHERE run_id = 1",
            &[],
        )
        .text();
    assert!(by_reason.contains("\"missing\""), "{by_reason}");
}

#[test]
fn snapshot_and_audit_report_are_written_beside_the_database() {
    let env = Env::new();
    let report = env.etl_json(&[]);
    let sha = report["source_sha256"].as_str().expect("sha");
    assert!(env.data_dir().join(format!("raw/{sha}.json.gz")).exists());
    let md =
        std::fs::read_to_string(env.data_dir().join("reports/run-1.md")).expect("markdown report");
    assert!(md.contains("## Rejects by reason") && md.contains("year_out_of_range"));
}

#[test]
fn csv_source_then_changed_csv_updates_and_replay_restores() {
    let env = Env::new();
    let v1 = env.write(
        "movies.csv",
        b"title,release_date,rating,votes\nHeat,1995-12-15,8.2,500\nAlien,1979-05-25,8.4,800\nBad,1999-01-01,11,1\n",
    );
    let first = env.etl_json(&["--source", v1.to_str().expect("utf8 path")]);
    assert_eq!(counts(&first), (3, 2, 2, 0, 0));

    env.write(
        "movies2.csv",
        b"title,release_date,rating,votes\nheat ,1995-12-15,8.3,510\nAlien,1979-05-25,8.4,800\n",
    );
    let second = env.etl_json(&["--source", "movies2.csv"]);
    assert_eq!(counts(&second), (2, 2, 0, 1, 1));
    let rating = env
        .db
        .value("SELECT Rating FROM Movies WHERE TitleKey = 'heat'", &[])
        .real();
    assert_eq!(rating, 8.3);

    std::fs::remove_file(&v1).expect("remove source");
    let replay = env.etl_json(&["--replay", "1"]);
    assert_eq!(
        counts(&replay),
        (3, 2, 0, 1, 1),
        "replaying run 1 restores its values"
    );
}

#[test]
fn malformed_json_names_line_and_column_and_leaves_the_database_as_it_was() {
    let env = Env::new();
    env.etl_json(&[]);
    let before = env.catalog();
    env.write(
        "bad.json",
        b"[\n {\"Title\": \"A\", \"IMDB Rating\": 5},\n {\"Title\": \"B\",, }\n]\n",
    );
    let out = env.run(&["etl", "--source", "bad.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("malformed JSON at line 3, column"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.catalog(), before);
    let (status, error) = env.last_run_status();
    assert_eq!(status, "failed");
    assert!(error.unwrap_or_default().contains("line 3"));
    // The bad input is kept whole as evidence, not the part read before the error.
    let lineage = env.db.row(
        "SELECT source_sha256, snapshot_path FROM etl_runs ORDER BY run_id DESC LIMIT 1",
        &[],
    );
    let (sha, snapshot) = (lineage[0].text(), lineage[1].text());
    let whole = std::fs::read(env.path("bad.json")).expect("input");
    let digest: String = <sha2::Sha256 as sha2::Digest>::digest(&whole)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(sha, digest);
    assert!(env.data_dir().join(&snapshot).is_file(), "{snapshot}");
}

/// The file's records are read on a thread of their own while the load writes: a load that
/// fails part-way stops the reading, and the run reports the load's own error.
#[test]
fn a_load_failing_mid_file_reports_its_own_error_and_leaves_the_database_as_it_was() {
    let env = Env::new();
    env.etl_json(&[]);
    let before = env.catalog();
    let mut csv = String::from("Title,Release Date,IMDB Rating,IMDB Votes,Major Genre,Director\n");
    for i in 0..5_000 {
        csv.push_str(&format!("Film {i},1990-01-01,6.5,100,Drama,Director {i}\n"));
    }
    env.write("many.csv", csv.as_bytes());
    // Several batches in, the store refuses a write (on PostgreSQL, a trigger that fires even
    // while the load has turned the key checks' triggers off).
    env.db.execute(
        "CREATE TRIGGER refuse BEFORE INSERT ON movie_sources
         WHEN NEW.title = 'Film 3000' BEGIN SELECT RAISE(ABORT, 'disk refused the write'); END;",
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
           IF NEW.title = 'Film 3000' THEN RAISE EXCEPTION 'disk refused the write'; END IF;
           RETURN NEW;
         END $$;
         CREATE TRIGGER refuse BEFORE INSERT ON movie_sources
         FOR EACH ROW EXECUTE FUNCTION refuse();
         ALTER TABLE movie_sources ENABLE ALWAYS TRIGGER refuse;",
    );
    let out = env.run(&["etl", "--source", "many.csv"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("disk refused the write"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("load stopped"), "{}", stderr(&out));
    assert_eq!(env.catalog(), before);
    let (status, error) = env.last_run_status();
    assert_eq!(status, "failed");
    assert!(error.unwrap_or_default().contains("disk refused the write"));
}

#[test]
fn a_huge_title_is_a_short_too_long_reject_and_a_huge_line_fails_the_run_cleanly() {
    let env = Env::new();
    let title = "T".repeat(900_000);
    env.write(
        "big.csv",
        format!("Title,Release Date\nHeat,1995-12-15\n{title},1999-01-01\nAlien,1979-05-25\n")
            .as_bytes(),
    );
    let out = env.run(&["etl", "--source", "big.csv"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        out.stdout.len() < 8_000,
        "{} bytes printed",
        out.stdout.len()
    );
    assert!(stdout(&out).contains("too_long"), "{}", stdout(&out));
    let reject = env.db.row(
        "SELECT source_row, raw_value, raw_bytes, raw_sha256 FROM etl_rejects
         WHERE reason = 'too_long' AND field = 'title'",
        &[],
    );
    let (row, kept, bytes, sha) = (
        reject[0].int(),
        reject[1].text(),
        reject[2].int(),
        reject[3].text(),
    );
    assert_eq!((row, kept.len(), bytes), (2, 256, 900_000));
    let digest = <sha2::Sha256 as sha2::Digest>::digest(title.as_bytes());
    assert_eq!(sha, format!("{digest:x}"));
    let reports: u64 = std::fs::read_dir(env.data_dir().join("reports"))
        .expect("reports")
        .map(|e| e.expect("entry").metadata().expect("meta").len())
        .sum();
    assert!(reports < 64_000, "reports hold {reports} bytes");
    let before = env.catalog();
    assert!(before.starts_with("2:"), "{before}");

    // A 16 MB line without a newline: refused after about 1 MiB, nothing written.
    let mut huge = b"Title,Release Date\nHeat,1995-12-15\n".to_vec();
    huge.resize(16 << 20, b'x');
    env.write("huge.csv", &huge);
    let out = env.run(&["etl", "--source", "huge.csv"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("huge.csv: record 2 is longer than 1048576 bytes"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.catalog(), before);
    assert_eq!(env.last_run_status().0, "failed");
}

#[test]
fn export_writes_only_regular_files_and_replaces_one_only_with_force() {
    use std::os::unix::fs::FileTypeExt;
    let env = Env::new();
    env.etl_json(&[]);
    let out = env.run(&["export", "--table", "genres", "--out", "/dev/null"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("/dev/null: is a device; export writes only regular files"),
        "{}",
        stderr(&out)
    );
    let null = std::fs::metadata("/dev/null").expect("/dev/null");
    assert!(null.file_type().is_char_device());
    let file = env.path("genres.csv");
    let args = ["export", "--table", "genres", "--format", "csv", "--out"];
    let path = file.to_str().expect("utf-8 path");
    let first = env.run(&[&args[..], &[path]].concat());
    assert!(first.status.success(), "{}", stderr(&first));
    let again = env.run(&[&args[..], &[path]].concat());
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("exists; pass --force"),
        "{}",
        stderr(&again)
    );
    let forced = env.run(&[&args[..], &[path, "--force"]].concat());
    assert!(forced.status.success(), "{}", stderr(&forced));
    let leftovers: Vec<_> = std::fs::read_dir(env.dir.path())
        .expect("dir")
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn csv_missing_a_required_column_names_the_column() {
    let env = Env::new();
    env.write("m.csv", b"Title,IMDB Rating\nHeat,8.2\n");
    let out = env.run(&["etl", "--source", "m.csv"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("missing required column for `release_date`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn empty_file_is_a_clear_error() {
    let env = Env::new();
    env.write("empty.json", b"");
    let out = env.run(&["etl", "--source", "empty.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("empty.json: contains no records"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn non_utf8_input_reports_the_byte_offset() {
    let env = Env::new();
    env.write(
        "latin1.csv",
        b"title,release_date,rating\nCaf\xe9,1999-01-01,7\n",
    );
    let out = env.run(&["etl", "--source", "latin1.csv"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("not valid UTF-8 at byte offset 29 (line 2, column 4)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn missing_source_file_and_unknown_format_are_clear_errors() {
    let env = Env::new();
    let out = env.run(&["etl", "--source", "nope.json"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("nope.json: no such file"),
        "{}",
        stderr(&out)
    );
    env.write("movies.xml", b"<movies/>");
    let out = env.run(&["etl", "--source", "movies.xml"]);
    assert!(
        stderr(&out).contains("unsupported file type"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("panicked"));
}

#[test]
fn database_in_a_missing_directory_is_a_clear_error() {
    let env = Env::new();
    let out = env
        .command()
        .args(["--db", "no/such/dir/m.db", "etl"])
        .output()
        .expect("spawn");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("directory no/such/dir does not exist"),
        "{}",
        stderr(&out)
    );
    assert!(!env.path("no").exists());
}

#[test]
fn recommend_by_id_and_title_agree() {
    let env = Env::new();
    env.etl_json(&[]);
    let by_title = env.run(&[
        "recommend",
        "--title",
        "  the DARK knight ",
        "-n",
        "5",
        "--json",
    ]);
    assert!(by_title.status.success(), "{}", stderr(&by_title));
    let by_title: Value = serde_json::from_slice(&by_title.stdout).expect("json");
    let id = by_title["movie"]["id"].as_i64().expect("id");
    assert_eq!(by_title["movie"]["title"], "The Dark Knight");
    let recs = by_title["recommendations"].as_array().expect("list");
    assert_eq!(recs.len(), 5);
    assert!(
        recs.iter().all(|r| r["id"].as_i64() != Some(id)),
        "the query movie is excluded"
    );
    let scores: Vec<f64> = recs
        .iter()
        .map(|r| r["score"].as_f64().expect("score"))
        .collect();
    assert!(
        scores.windows(2).all(|w| w[0] >= w[1]),
        "best first: {scores:?}"
    );

    let by_id: Value = serde_json::from_slice(
        &env.run(&["recommend", "--id", &id.to_string(), "-n", "5", "--json"])
            .stdout,
    )
    .expect("json");
    assert_eq!(by_id, by_title);
}

#[test]
fn ambiguous_title_lists_candidates_and_exits_2() {
    let env = Env::new();
    env.etl_json(&[]);
    let out = env.run(&["recommend", "--title", "the alamo"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("matches 2 movies") && err.contains("1960") && err.contains("2004"),
        "{err}"
    );
}

#[test]
fn unknown_title_suggests_closest_matches() {
    let env = Env::new();
    env.etl_json(&[]);
    let out = env.run(&["recommend", "--title", "Titanc"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("closest matches") && stderr(&out).contains("Titanic (1997)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn review_lists_each_held_decision_with_both_sides() {
    let env = Env::new();
    let report = env.etl_json(&[]);
    let held = report["identity"]["ambiguous"]
        .as_array()
        .expect("held records")
        .len();
    assert!(held > 0, "vega holds some records for review: {report}");
    let out = env.run(&["review", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let cases: Value = serde_json::from_slice(&out.stdout).expect("review --json prints JSON");
    let cases = cases.as_array().expect("a list");
    assert_eq!(cases.len(), held, "every held record is listed once");
    // Hostel (2006) was held beside its sequel: both sides name their movie, title and ids.
    let hostel = cases
        .iter()
        .find(|c| c["title"] == "Hostel")
        .expect("Hostel is held");
    assert_eq!(hostel["loaded_as_movie"]["title"], "Hostel");
    assert_eq!(hostel["loaded_as_movie"]["id"], hostel["loaded_as"]);
    let candidate = &hostel["candidate_movies"][0];
    assert_eq!(candidate["title"], "Hostel: Part II");
    assert_eq!(candidate["id"], hostel["candidates"][0]);
    assert!(
        candidate["ids"].as_array().is_some_and(|ids| ids
            .iter()
            .any(|i| i.as_str().is_some_and(|i| i.starts_with("vega:")))),
        "{candidate}"
    );
    // The table names the reason in words and both sides.
    let text = stdout(&env.run(&["review", "--run", "1"]));
    assert!(
        text.contains("Hostel (2006)") && text.contains("loaded as") && text.contains("candidate"),
        "{text}"
    );
    let out = env.run(&["review", "--run", "99"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("--run 99: no such ETL run"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn identity_overrides_merge_and_keep_apart_and_a_bad_file_fails_the_run_by_line() {
    let env = Env::new();
    env.etl_json(&[]);
    let movie_of = |title: &str, provider: &str| -> i64 {
        env.db
            .value(
                "SELECT MovieID FROM movie_sources WHERE title = ?1 AND provider = ?2",
                &[title, provider],
            )
            .int()
    };
    let input = env.write(
        "more.csv",
        b"title,release_date,rating,votes\nHostel Saga,2006-01-06,6.0,10\nScary Movie,2000-07-07,6.1,20\n",
    );
    let input = input.to_str().expect("utf8 path");
    let overrides = env.data_dir().join("identity-overrides.csv");
    let write_overrides = |text: &str| std::fs::write(&overrides, text).expect("overrides");

    // A contradiction and an unknown id each fail the run, naming the line; nothing changes.
    let before = env.catalog();
    for (text, says) in [
        (
            "merge, file:hostel saga (2006), vega:hostel (2006)\nmerge, vega:hostel (2006), vega:scary movie (2000)\nnever, file:hostel saga (2006), vega:scary movie (2000)\n",
            "identity-overrides.csv: line 3: never file:hostel saga (2006) vega:scary movie (2000) contradicts",
        ),
        (
            "merge, tmdb:999999999, vega:hostel (2006)\n",
            "identity-overrides.csv: line 1: tmdb:999999999 is no movie's id",
        ),
        ("merge, tmdb:1\n", "identity-overrides.csv: line 1: expected `merge|never, ID, ID`"),
    ] {
        write_overrides(text);
        let out = env.run(&["etl", "--source", input]);
        assert_eq!(out.status.code(), Some(1), "{text}");
        assert!(stderr(&out).contains(says), "{text}: {}", stderr(&out));
        assert_eq!(env.catalog(), before, "a refused run leaves the catalog as it was");
    }

    // Without rules the policy decides: Scary Movie is vega's film, Hostel Saga a new one.
    // With them, Hostel Saga is merged into vega's Hostel and Scary Movie kept apart.
    write_overrides(
        "# reviewed by hand\nmerge, file:hostel saga (2006), vega:hostel (2006)\nnever,\"file:scary movie (2000)\", vega:scary movie (2000)\n",
    );
    let report = env.etl_json(&["--source", input]);
    assert_eq!(movie_of("Hostel Saga", "file"), movie_of("Hostel", "vega"));
    assert_ne!(
        movie_of("Scary Movie", "file"),
        movie_of("Scary Movie", "vega")
    );
    let lineage = &report["identity"]["overrides"];
    assert_eq!(lineage["file"], "identity-overrides.csv");
    assert_eq!(
        (lineage["rules"].as_u64(), lineage["applied"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(lineage["sha256"].as_str().map(str::len), Some(64));
}

#[test]
fn bad_recommend_arguments_are_refused_clearly() {
    let env = Env::new();
    env.etl_json(&[]);
    let out = env.run(&["recommend", "--id", "999999"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no movie with id 999999"));
    for n in ["0", "100000", "-3", "ten"] {
        let out = env.run(&["recommend", "--id", "1", &format!("-n={n}")]);
        assert_eq!(out.status.code(), Some(2), "-n {n}");
        assert!(
            stderr(&out).contains(&format!("invalid value '{n}' for '-n <N>'")),
            "-n {n}: {}",
            stderr(&out)
        );
    }
    let out = env.run(&["recommend"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn read_commands_on_a_missing_database_say_how_to_create_it() {
    let env = Env::new();
    let out = env.run(&["movies"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("run `movierec etl`"),
        "{}",
        stderr(&out)
    );
    assert!(
        env.db_is_empty(),
        "a read command must not create the database"
    );
}

#[test]
fn movies_search_is_case_insensitive_and_limited() {
    let env = Env::new();
    env.etl_json(&[]);
    let out = env.run(&["movies", "--search", "STAR WARS", "--limit", "3", "--json"]);
    let rows: Vec<Value> = serde_json::from_slice(&out.stdout).expect("json");
    assert!(!rows.is_empty() && rows.len() <= 3);
    assert!(rows.iter().all(|r| r["title"]
        .as_str()
        .unwrap_or_default()
        .to_lowercase()
        .contains("star wars")));
}

#[test]
fn sigterm_drains_ready_first_then_closes_and_ctrl_c_does_not_wait() {
    let env = Env::new();
    env.etl_json(&[]);
    // `serve` on the test database with a drain of `ms`.
    let serve = |ms: &str| {
        let mut cmd = env.command();
        cmd.env("MOVIEREC_DRAIN_MS", ms)
            .arg("--db")
            .arg(env.db())
            .arg("serve");
        Served::spawn(cmd)
    };
    // `movierec probe`, the container's health check, on this server's readiness.
    let probe = |server: &Served| {
        env.command()
            .arg("probe")
            .arg(server.url("/health/ready"))
            .output()
            .expect("probe")
    };
    let mut server = serve("3000");
    assert_eq!(
        server.get("/health/ready"),
        (
            "HTTP/1.1 200 OK".to_owned(),
            r#"{"status":"ready"}"#.to_owned()
        )
    );
    let ready = probe(&server);
    assert!(ready.status.success(), "{ready:?}");
    assert!(String::from_utf8_lossy(&ready.stdout).contains("200 OK"));
    assert!(server.get("/metrics").1.contains("\nmovierec_ready 1\n"));
    server.signal_terminate();
    // Not ready from SIGTERM on, while the rest is still served until the drain ends.
    let mut draining = None;
    for _ in 0..200 {
        let (status, body) = server.get("/health/ready");
        if status.contains("503") {
            draining = Some(body);
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let body = draining.expect("/health/ready never answered 503 after SIGTERM");
    let problem: Value = serde_json::from_str(&body).expect("problem json");
    assert_eq!(problem["status"], 503, "{problem}");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("shutting down")),
        "{problem}"
    );
    assert!(server.get("/health/live").0.contains("200"));
    assert!(server.get("/api/movies/1").0.contains("200"));
    assert!(server.get("/metrics").1.contains("\nmovierec_ready 0\n"));
    let draining = probe(&server);
    assert_eq!(draining.status.code(), Some(1), "{draining:?}");
    assert!(String::from_utf8_lossy(&draining.stderr).contains("503 Service Unavailable"));
    assert!(
        server.child.wait().expect("wait").success(),
        "a drained server exits 0"
    );

    // Ctrl-C (SIGINT) stops at once, even with a drain configured: nothing answers 503 first.
    let mut server = serve("600000");
    Command::new("kill")
        .args(["-INT", &server.child.id().to_string()])
        .status()
        .expect("kill -INT");
    let mut exited = None;
    for _ in 0..300 {
        exited = server.child.try_wait().expect("try_wait");
        if exited.is_some() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = server.child.kill();
    assert!(
        exited.is_some_and(|s| s.success()),
        "Ctrl-C must stop at once and exit 0: {exited:?}"
    );
}

#[test]
fn bare_command_loads_the_catalog_once_and_serves_it() {
    let env = Env::new();
    let mut first = env.command();
    first.env("MOVIEREC_DB", env.db());
    let server = Served::spawn(first);
    let (status, body) = server.get("/health");
    assert!(status.contains("200"), "{status}");
    let health: Value = serde_json::from_str(&body).expect("health json");
    assert!(
        health["movies"].as_u64().is_some_and(|n| n > 2500),
        "{health}"
    );
    assert!(
        server.terminate().success(),
        "SIGTERM is a graceful shutdown"
    );

    let mut again = env.command();
    again.env("MOVIEREC_DB", env.db()).arg("up");
    let server = Served::spawn(again);
    let (status, _) = server.get("/api/movies/1/similar?n=3");
    assert!(status.contains("200"), "{status}");
    assert!(server.terminate().success());
    let runs = env.db.value("SELECT COUNT(*) FROM etl_runs", &[]).int();
    assert_eq!(runs, 1, "a loaded catalog is not reloaded");
}

#[test]
fn sighup_reloads_the_model_after_a_new_etl_run() {
    let env = Env::new();
    env.etl_json(&[]);
    let mut cmd = env.command();
    // Polling is made too slow to matter: only the signal can trigger the reload.
    cmd.arg("--db")
        .arg(env.db())
        .args(["serve", "--reload-interval-ms", "86400000"]);
    let server = Served::spawn(cmd);
    let run_of = |server: &Served| -> Value {
        let (_, body) = server.get("/health");
        serde_json::from_str::<Value>(&body).expect("health json")["model_run_id"].clone()
    };
    assert_eq!(run_of(&server), 1);
    env.write(
        "more.csv",
        b"title,release_date,rating\nA Signal Film,2011-01-01,6.5\n",
    );
    env.etl_json(&["--source", "more.csv"]);
    assert_eq!(run_of(&server), 1, "no reload before the signal");
    let pid = server.child.id().to_string();
    Command::new("kill")
        .args(["-HUP", &pid])
        .status()
        .expect("kill -HUP");
    let mut seen = Value::Null;
    for _ in 0..100 {
        seen = run_of(&server);
        if seen == 2 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(seen, 2, "SIGHUP swaps in the catalog of run 2");
    assert!(server.terminate().success());
}

#[test]
fn serve_refuses_a_missing_database_and_a_busy_port() {
    let env = Env::new();
    let out = env.run(&["serve", "--addr", "127.0.0.1:0"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("run `movierec etl`"),
        "{}",
        stderr(&out)
    );
    env.etl_json(&[]);
    let busy = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = busy.local_addr().expect("addr").to_string();
    let out = env.run(&["serve", "--addr", &port]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains(&format!("cannot listen on {port}")),
        "{}",
        stderr(&out)
    );
}

#[test]
fn etl_help_mentions_every_source_kind() {
    let out = Env::new()
        .command()
        .args(["etl", "--help"])
        .output()
        .expect("spawn");
    let help = stdout(&out);
    assert!(
        help.contains("embedded")
            && help.contains(".csv")
            && help.contains("tmdb:")
            && help.contains("movielens:")
            && help.contains("--replay"),
        "{help}"
    );
}

#[test]
fn probe_fails_naming_a_server_that_does_not_answer() {
    let env = Env::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let url = format!("http://127.0.0.1:{port}/health/ready");
    let out = env
        .command()
        .args(["probe", &url, "--timeout-ms", "2000"])
        .output()
        .expect("probe");
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("no answer from {url}")),
        "{stderr}"
    );
}

/// The tests about the SQLite file itself: its write lock, its permissions, a process killed
/// while writing it, its schema version. Always on SQLite (tests/postgres.rs has PostgreSQL's
/// lock, kill and migration tests).
mod sqlite_file {
    use super::*;
    use rusqlite::Connection;

    fn conn(env: &Env) -> Connection {
        Connection::open(env.db_file()).expect("open db")
    }

    #[test]
    fn a_writer_waits_for_the_lock_saying_for_whom_and_gives_up_only_after_its_wait() {
        use std::io::Read;
        let env = Env::sqlite();
        env.etl_json(&[]);
        // Another writer: holds the write lock and, as movierec's writers do, says who it is.
        let holder = conn(&env);
        holder.execute_batch("BEGIN IMMEDIATE").expect("lock");
        let note = PathBuf::from(format!("{}.writer", env.db_file().display()));
        std::fs::write(
            &note,
            "movierec etl --source big.csv (pid 1, since 12:00:00 UTC)",
        )
        .expect("note");
        let out = env.run(&["--lock-wait", "1", "etl"]);
        assert_eq!(out.status.code(), Some(1));
        let err = stderr(&out);
        assert!(
            err.contains("waiting for movierec etl --source big.csv (pid 1"),
            "{err}"
        );
        assert!(
            err.contains("is still locked by movierec etl --source big.csv"),
            "{err}"
        );
        assert_eq!(err.matches("database is locked").count(), 0, "{err}");
        // With time to wait, it waits, then runs once the holder is done.
        let mut child = env
            .command()
            .arg("--db")
            .arg(env.db_file())
            .args(["--lock-wait", "60", "etl"])
            .stderr(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("spawn");
        let mut stderr_pipe = child.stderr.take().expect("stderr");
        let mut seen = Vec::new();
        let mut byte = [0u8];
        while !String::from_utf8_lossy(&seen).contains("waiting for") {
            assert_eq!(
                stderr_pipe.read(&mut byte).expect("read"),
                1,
                "stderr ended early"
            );
            seen.push(byte[0]);
        }
        holder.execute_batch("COMMIT").expect("release");
        std::fs::remove_file(&note).expect("note");
        assert!(child.wait().expect("wait").success());
        assert!(!note.exists(), "the writer's note is gone with its lock");
        let runs: i64 = conn(&env)
            .query_row(
                "SELECT COUNT(*) FROM etl_runs WHERE status = 'succeeded'",
                [],
                |r| r.get(0),
            )
            .expect("runs");
        assert_eq!(runs, 2);
    }

    #[test]
    fn read_only_database_is_refused_and_left_intact() {
        use std::os::unix::fs::PermissionsExt;
        let env = Env::sqlite();
        env.etl_json(&[]);
        let bytes_before = std::fs::read(env.db_file()).expect("db bytes");
        std::fs::set_permissions(env.db_file(), std::fs::Permissions::from_mode(0o444))
            .expect("chmod");
        let out = env.run(&["etl"]);
        assert_eq!(out.status.code(), Some(1));
        assert!(stderr(&out).contains("is read-only"), "{}", stderr(&out));
        assert_eq!(
            std::fs::read(env.db_file()).expect("db bytes"),
            bytes_before
        );
    }

    /// Whether some process holds the database's write lock: the ETL holds it from the start of its
    /// load transaction to its commit, so "locked" means "a load is in progress".
    fn load_in_progress(db: &std::path::Path) -> bool {
        let conn = Connection::open(db).expect("open db");
        conn.busy_timeout(std::time::Duration::ZERO)
            .expect("no waiting");
        match conn.execute_batch("BEGIN IMMEDIATE; ROLLBACK;") {
            Ok(()) => false,
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::DatabaseBusy =>
            {
                true
            }
            Err(e) => panic!("probe failed: {e}"),
        }
    }

    /// Kills the ETL inside its load transaction, at several depths: the database must always be
    /// intact and hold exactly its previous catalog. Every attempt starts from a copy of the same
    /// previous state, so each one really has 150,000 new movies to load.
    #[test]
    fn a_killed_etl_loses_nothing() {
        let env = Env::sqlite();
        env.etl_json(&[]);
        let before = env.catalog();
        let pristine = env.path("pristine.db");
        std::fs::copy(env.db_file(), &pristine).expect("copy");
        let mut csv = String::from("title,release_date,rating,votes\n");
        for i in 0..150_000 {
            csv.push_str(&format!(
                "Synthetic {i},{}-06-01,{}.{},{}\n",
                1900 + i % 120,
                i % 10,
                i % 7,
                i
            ));
        }
        let big = env.write("big.csv", csv.as_bytes());
        let etl = |db: &std::path::Path| {
            let mut cmd = env.command();
            cmd.arg("--db").arg(db).args(["etl", "--source"]).arg(&big);
            cmd
        };
        // The complete new state, and how long a whole load takes.
        let started = std::time::Instant::now();
        let full = etl(&env.db_file()).output().expect("spawn");
        assert!(full.status.success(), "{}", stderr(&full));
        let full_time = started.elapsed();
        let complete = env.catalog();
        assert_ne!(complete, before);
        let mut killed_inside = 0;
        for fraction in [0.0, 0.2, 0.4, 0.6, 0.8] {
            // The previous state, whole: the pristine file is checkpointed, so a killed run's WAL goes.
            for suffix in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(env.path(&format!("movies.db{suffix}")));
            }
            std::fs::copy(&pristine, env.db_file()).expect("restore the previous state");
            let mut child = etl(&env.db_file()).spawn().expect("spawn");
            let deadline = std::time::Instant::now() + full_time * 4;
            while !load_in_progress(&env.db_file()) {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the load never started"
                );
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            std::thread::sleep(full_time.mul_f64(fraction * 0.5));
            let inside = load_in_progress(&env.db_file());
            let _ = child.kill();
            let status = child.wait().expect("wait");
            let conn = conn(&env);
            let check: String = conn
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .expect("check");
            assert_eq!(check, "ok");
            let now = env.catalog();
            if inside {
                killed_inside += 1;
                assert!(!status.success());
                assert_eq!(
                    now, before,
                    "killed mid-load at {fraction}: catalog must be untouched"
                );
            } else {
                assert!(
                    now == before || now == complete,
                    "a part of a load is visible"
                );
            }
        }
        assert!(
            killed_inside >= 3,
            "only {killed_inside} kills landed inside the load"
        );
    }

    /// A database of an older schema: the read-only commands name the version and the fix instead
    /// of failing on a missing column; `migrate` applies what is pending, once.
    #[test]
    fn an_older_schema_is_named_by_readers_and_migrate_brings_it_up() {
        let env = Env::sqlite();
        let first = env.run(&["etl"]);
        assert!(first.status.success(), "{}", stderr(&first));
        let latest: i64 = Connection::open(env.db_file())
            .and_then(|c| c.pragma_query_value(None, "user_version", |r| r.get(0)))
            .expect("version");
        // Version 10 added Movies.RatingFrom: undone, the database is at version 9.
        let older = 9;
        assert!(latest > older, "{latest}");
        Connection::open(env.db_file())
            .and_then(|c| {
                c.execute_batch(&format!(
                    "ALTER TABLE Movies DROP COLUMN RatingFrom; PRAGMA user_version = {older};"
                ))
            })
            .expect("back to version 9");
        let runs = env.run(&["runs"]);
        assert!(!runs.status.success());
        let says = stderr(&runs);
        assert!(
            says.contains(&format!(
                "has schema version {older}, older than this movierec reads ({latest})"
            )) && says.contains("migrate` once"),
            "{says}"
        );
        let migrate = env.run(&["migrate"]);
        assert!(migrate.status.success(), "{}", stderr(&migrate));
        assert!(
            stdout(&migrate).ends_with(&format!("schema version {latest}\n")),
            "{}",
            stdout(&migrate)
        );
        let again = env.run(&["migrate"]);
        assert_eq!(
            stdout(&again),
            stdout(&migrate),
            "a second migrate changes nothing"
        );
        let runs = env.run(&["runs"]);
        assert!(runs.status.success(), "{}", stderr(&runs));
        let missing = env
            .command()
            .args(["--db", "nowhere.db", "migrate"])
            .output()
            .expect("spawn");
        assert!(!missing.status.success() && stderr(&missing).contains("does not exist"));
        assert!(
            !env.path("nowhere.db").exists(),
            "migrate never creates a database"
        );
    }
}
