//! `movierec dataset fetch` against a local stub serving zips (these machines cannot reach
//! files.grouplens.org): a good archive unpacks and loads; a checksum mismatch, a truncated zip
//! and an unreachable URL are clear errors that leave nothing behind.

use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

/// A zip of `(path, body)` entries, deflated.
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    for (name, body) in entries {
        zip.start_file(*name, options).expect("entry");
        zip.write_all(body).expect("write");
    }
    zip.finish().expect("zip").into_inner()
}

/// A small ml-latest-small-layout zip, as GroupLens packs it (one top directory).
fn dataset_zip() -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, body) in [
        (
            "movies.csv",
            "movieId,title,genres\n1,Toy Story (1995),Adventure|Animation|Children\n2,\"Matrix, The (1999)\",Action|Sci-Fi\n",
        ),
        ("links.csv", "movieId,imdbId,tmdbId\n1,0114709,862\n2,0133093,603\n"),
        (
            "ratings.csv",
            "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,2,5.0,964981247\n2,2,4.5,964982224\n",
        ),
        ("README.txt", "Summary\n=======\n"),
    ] {
        zip.start_file(format!("ml-latest-small/{name}"), options)
            .expect("entry");
        zip.write_all(body.as_bytes()).expect("write");
    }
    zip.finish().expect("zip").into_inner()
}

fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// Serves `/good.zip`, `/other.zip` (another valid archive), `/truncated.zip`, and hostile
/// ones: `/bomb.zip` (40 MB of zeros in 40 kB), `/big.zip` (10 MiB of junk), `/other-layout.zip`
/// (not MovieLens) and `/slip.zip` (an entry `../evil.csv`).
async fn stub(good: Vec<u8>) -> String {
    let zeros = vec![b'0'; 40 << 20];
    let bomb = zip_of(&[
        ("ml-latest-small/movies.csv", b"movieId,title,genres\n"),
        ("ml-latest-small/ratings.csv", &zeros),
    ]);
    let big = vec![7u8; 10 << 20];
    let other_layout = zip_of(&[("ml-latest-small/notes.txt", b"not a dataset")]);
    let slip = zip_of(&[("../evil.csv", b"x"), ("ml-latest-small/movies.csv", b"m")]);
    let truncated = good[..good.len() / 2].to_vec();
    // Same files, a different archive: a comment changes the bytes, not the content.
    let other = {
        let mut zip =
            zip::ZipWriter::new_append(std::io::Cursor::new(good.clone())).expect("append");
        zip.set_comment("repacked");
        zip.finish().expect("zip").into_inner()
    };
    let app = Router::new()
        .route("/good.zip", get(move || async move { good.clone() }))
        .route("/other.zip", get(move || async move { other.clone() }))
        .route(
            "/truncated.zip",
            get(move || async move { truncated.clone() }),
        )
        .route("/bomb.zip", get(move || async move { bomb.clone() }))
        .route("/big.zip", get(move || async move { big.clone() }))
        .route(
            "/other-layout.zip",
            get(move || async move { other_layout.clone() }),
        )
        .route("/slip.zip", get(move || async move { slip.clone() }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// A server that answers with headers promising a body, then stays silent.
async fn stalling() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = [0u8; 1024];
                let _ = socket.read(&mut request).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nPK")
                    .await;
                tokio::time::sleep(std::time::Duration::from_secs(120)).await;
            });
        }
    });
    format!("http://{addr}")
}

fn movierec(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_movierec"))
        .arg("--db")
        .arg(dir.join("m.db"))
        .args(args)
        .output()
        .expect("run movierec")
}

/// [`movierec`] on a blocking thread: the stub servers share the test's runtime. The arguments
/// are copied at once, so the future borrows nothing.
fn movierec_off_runtime<S: AsRef<str>>(
    dir: &Path,
    args: &[S],
) -> impl std::future::Future<Output = Output> {
    let dir = dir.to_owned();
    let args: Vec<String> = args.iter().map(|a| a.as_ref().to_owned()).collect();
    let run = tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        movierec(&dir, &args)
    });
    async move { run.await.expect("join") }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Everything in `dir` (hidden files included), sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread")]
async fn a_verified_download_unpacks_and_loads() {
    let zip = dataset_zip();
    let hash = sha256(&zip);
    let base = stub(zip).await;
    let work = tempfile::tempdir().expect("tempdir");
    let datasets = work.path().join("datasets");
    std::fs::create_dir(&datasets).expect("mkdir");
    let dir = datasets.to_str().expect("utf-8");
    let url = format!("{base}/good.zip");
    let out = movierec_off_runtime(
        work.path(),
        &[
            "dataset",
            "fetch",
            "ml-latest-small",
            "--dir",
            dir,
            "--url",
            &url,
            "--sha256",
            &hash,
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("verified"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(entries(&datasets), ["ml-latest-small"], "nothing else left");
    let unpacked = datasets.join("ml-latest-small");
    assert_eq!(
        entries(&unpacked),
        [
            "DOWNLOAD.json",
            "README.txt",
            "links.csv",
            "movies.csv",
            "ratings.csv"
        ]
    );
    let source = format!("movielens:{}", unpacked.display());
    let load = movierec(work.path(), &["etl", "--source", &source, "--json"]);
    assert!(load.status.success(), "{}", text(&load.stderr));
    let report: serde_json::Value = serde_json::from_slice(&load.stdout).expect("json");
    assert_eq!(report["counts"]["loaded"], 2);
    assert_eq!(report["ratings"]["inserted"], 3);
    let again = movierec(
        work.path(),
        &["dataset", "fetch", "ml-latest-small", "--dir", dir],
    );
    assert!(
        text(&again.stdout).contains("already there"),
        "{}",
        text(&again.stdout)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_downloads_are_clear_errors_and_leave_nothing_behind() {
    let zip = dataset_zip();
    let base = stub(zip).await;
    let work = tempfile::tempdir().expect("tempdir");
    let datasets = work.path().join("datasets");
    std::fs::create_dir(&datasets).expect("mkdir");
    let dir = datasets.to_str().expect("utf-8").to_owned();
    // A port nothing listens on.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    let cases = [
        (format!("{base}/good.zip"), Some("0".repeat(64)), "SHA-256"),
        (format!("{base}/truncated.zip"), None, "not a complete zip"),
        (
            format!("http://{closed}/ml-latest-small.zip"),
            None,
            "cannot download",
        ),
        (format!("{base}/missing.zip"), None, "404"),
        (
            format!("{base}/bomb.zip"),
            None,
            "more than 100 times (a zip bomb?)",
        ),
        (
            format!("{base}/big.zip"),
            None,
            "over the 8388608-byte limit (--max-bytes)",
        ),
        (
            format!("{base}/other-layout.zip"),
            None,
            "missing: movies.csv, ratings.csv, links.csv",
        ),
        (
            format!("{base}/slip.zip"),
            None,
            "entry \"../evil.csv\" would be written outside",
        ),
        (format!("{}/stall.zip", stalling().await), None, "timed out"),
    ];
    for (url, hash, expected) in cases {
        let mut args = vec![
            "dataset",
            "fetch",
            "ml-latest-small",
            "--dir",
            &dir,
            "--url",
            &url,
        ];
        if let Some(h) = &hash {
            args.extend(["--sha256", h]);
        }
        if url.ends_with("/stall.zip") {
            args.extend(["--timeout", "2"]);
        }
        let out = movierec_off_runtime(work.path(), &args).await;
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{url}: {stderr}");
        assert!(
            stderr.contains(expected) && stderr.contains(url.as_str()),
            "{url}: {stderr}"
        );
        assert!(
            entries(&datasets).is_empty(),
            "{url} left {:?}",
            entries(&datasets)
        );
    }
    // A checksum that cannot be one is refused before anything is downloaded.
    let bad = movierec(
        work.path(),
        &[
            "dataset",
            "fetch",
            "ml-latest-small",
            "--dir",
            &dir,
            "--sha256",
            "xyz",
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad.stderr).contains("is not a SHA-256 (64 hexadecimal digits)"),
        "{}",
        text(&bad.stderr)
    );
    // A killed fetch's part file and staging directory are removed by the next fetch.
    let part = datasets.join(".ml-latest-small.zip.movierec-4294967294-x.part");
    let staging = datasets.join(".ml-latest-small.movierec-4294967294-y");
    std::fs::write(&part, b"half").expect("part");
    std::fs::create_dir_all(staging.join("ml-latest-small")).expect("staging");
    let url = format!("{base}/good.zip");
    let out = movierec_off_runtime(
        work.path(),
        &[
            "dataset",
            "fetch",
            "ml-latest-small",
            "--dir",
            &dir,
            "--url",
            &url,
        ],
    )
    .await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(entries(&datasets), ["ml-latest-small"]);
    let unknown = movierec(work.path(), &["dataset", "fetch", "ml-9m"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        text(&unknown.stderr).contains("ml-latest-small"),
        "{}",
        text(&unknown.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_pinned_checksum_the_first_download_is_recorded_and_later_ones_checked() {
    let zip = dataset_zip();
    let hash = sha256(&zip);
    let base = stub(zip).await;
    let work = tempfile::tempdir().expect("tempdir");
    let dir = work.path().to_str().expect("utf-8").to_owned();
    let run = |args: Vec<String>| movierec_off_runtime(work.path(), &args);
    let fetch = |url: &str, force: bool| {
        let mut args: Vec<String> = [
            "dataset",
            "fetch",
            "ml-latest-small",
            "--dir",
            &dir,
            "--url",
            url,
        ]
        .map(str::to_owned)
        .into();
        if force {
            args.push("--force".into());
        }
        args
    };
    let first = run(fetch(&format!("{base}/good.zip"), false)).await;
    assert!(first.status.success(), "{}", text(&first.stderr));
    assert!(
        text(&first.stdout).contains(&hash),
        "{}",
        text(&first.stdout)
    );
    let record =
        std::fs::read_to_string(work.path().join("ml-latest-small/DOWNLOAD.json")).expect("record");
    assert!(record.contains(&hash), "{record}");
    let other = run(fetch(&format!("{base}/other.zip"), true)).await;
    assert_eq!(
        other.status.code(),
        Some(1),
        "a different archive than the recorded one"
    );
    assert!(
        text(&other.stderr).contains(&hash),
        "{}",
        text(&other.stderr)
    );
    assert!(
        work.path().join("ml-latest-small/movies.csv").is_file(),
        "the good copy stays"
    );
}
