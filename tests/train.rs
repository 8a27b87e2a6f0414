//! `movierec train` and `movierec models` on a database with ratings, and the server serving
//! what was trained — swapped in without a restart.

#[path = "support/app.rs"]
mod app;
#[path = "support/engine.rs"]
mod engine;
#[path = "support/taste.rs"]
mod taste;

use movierec::domain::etl::Source;
use reqwest::StatusCode;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::process::Output;
use std::time::Duration;

fn movierec(db: impl AsRef<std::ffi::OsStr>, data_dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_movierec"))
        .arg("--db")
        .arg(db)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .expect("spawn movierec")
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

async fn get(url: &str) -> (StatusCode, Value) {
    let response = reqwest::get(url).await.expect("request");
    let status = response.status();
    (status, response.json().await.expect("json"))
}

#[tokio::test]
async fn trained_models_are_recorded_listed_and_served_without_a_restart() {
    let ratings = tempfile::tempdir().expect("tempdir");
    taste::dataset(ratings.path());
    let source = Source::Movielens(ratings.path().to_owned());
    let s = app::spawn_app(&[source], |_| {}).await;
    let (db, data) = (s.db.clone(), s.data_dir());

    // Not trained yet: 404 naming the command, and nothing served.
    let (status, body) = get(&format!("{}/api/movies/1/similar?model=item-knn", s.base)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body["detail"]
        .as_str()
        .expect("detail")
        .contains("movierec train --model item-knn"));
    let (_, models) = get(&format!("{}/api/models", s.base)).await;
    assert_eq!(models["items"], Value::Array(Vec::new()));

    let record = json(&movierec(
        &db,
        &data,
        &["train", "--model", "item-knn", "--json"],
    ));
    assert_eq!(record["kind"], "item-knn");
    assert_eq!(record["users"], 80);
    let ndcg = record["metrics"]["ndcg_at_10"]
        .as_f64()
        .expect("held-out NDCG");
    assert!(ndcg > 0.0 && ndcg <= 1.0, "{record}");
    let artifact = data.join(record["artifact"].as_str().expect("path"));
    let bytes = std::fs::read(&artifact).expect("artifact written under the data dir");
    assert_eq!(
        format!("{:x}", Sha256::digest(&bytes)),
        record["artifact_sha256"]
    );

    let listed = json(&movierec(&db, &data, &["models", "--json"]));
    assert_eq!(listed[0]["id"], record["id"]);

    // Tastes live in the ratings' values (everyone rates both genres): SVD learns them.
    let svd = json(&movierec(
        &db,
        &data,
        &["train", "--model", "svd", "--json"],
    ));
    assert!(
        svd["metrics"]["rmse"].as_f64().expect("rmse") < 0.8,
        "{svd}"
    );

    // The server notices the new models and serves them: SVD's neighbours of a comedy are
    // comedies.
    let catalog = movierec::store::Store::open_read_only(&db).expect("db");
    let comedy = catalog.movies_titled("movie 2").expect("lookup")[0].id;
    let mut served = None;
    for _ in 0..100 {
        let (status, body) = get(&format!(
            "{}/api/movies/{comedy}/similar?model=svd&n=5",
            s.base
        ))
        .await;
        if status == StatusCode::OK {
            served = Some(body);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let body = served.expect("the trained model is served within 10 s");
    assert_eq!(body["model"], "svd");
    let recs = body["recommendations"].as_array().expect("recs");
    assert_eq!(recs.len(), 5);
    for r in recs {
        assert_eq!(r["genre"], "Comedy", "{body}");
        assert!(r["reason"]
            .as_str()
            .expect("reason")
            .contains("taste space"));
    }
    let (status, body) = get(&format!(
        "{}/api/movies/{comedy}/similar?model=item-knn&n=3",
        s.base
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["recommendations"][0]["reason"]
        .as_str()
        .expect("reason")
        .contains("same people"));
    let (_, models) = get(&format!("{}/api/models", s.base)).await;
    assert_eq!(
        models["serving"],
        serde_json::json!([record["id"], svd["id"]])
    );

    // A corrupt artifact is refused (checksum): the older model of its kind serves instead, and
    // /health says so. A killed train's temporary file is cleaned up by the next train.
    let good_ease = json(&movierec(
        &db,
        &data,
        &["train", "--model", "ease", "--lambda", "50", "--json"],
    ));
    let stale = data.join("models/.ease.postcard.movierec-4294967294-x.tmp");
    std::fs::write(&stale, b"half a model").expect("stale temp");
    let ease = json(&movierec(
        &db,
        &data,
        &["train", "--model", "ease", "--lambda", "60", "--json"],
    ));
    assert!(!stale.exists(), "a dead train's temporary file is removed");
    std::fs::write(
        data.join(ease["artifact"].as_str().expect("path")),
        b"not a model",
    )
    .expect("corrupt");
    let again = json(&movierec(
        &db,
        &data,
        &["train", "--model", "svd", "--epochs", "5", "--json"],
    ));
    assert!(
        again["metrics"]["rmse"].as_f64().expect("rmse") < 1.5,
        "{again}"
    );
    // The newest model (the second SVD) reloads the engine; EASE^R's artifact fails its check.
    let mut serving = Value::Null;
    for _ in 0..100 {
        serving = get(&format!("{}/api/models", s.base)).await.1["serving"].clone();
        if serving.as_array().is_some_and(|a| a.contains(&again["id"])) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Models are read when first asked for: until EASE^R is, its newest is the one it will try.
    assert_eq!(
        serving,
        serde_json::json!([ease["id"], record["id"], again["id"]]),
    );
    let (_, health) = get(&format!("{}/health", s.base)).await;
    assert_eq!(health["status"], "ok", "{health}");
    assert!(
        !health["models_loaded"]
            .as_array()
            .expect("models_loaded")
            .contains(&Value::from("ease")),
        "{health}"
    );
    let (status, _) = get(&format!(
        "{}/api/movies/{comedy}/similar?model=ease",
        s.base
    ))
    .await;
    assert_eq!(status, StatusCode::OK);
    let serving = get(&format!("{}/api/models", s.base)).await.1["serving"].clone();
    assert_eq!(
        serving,
        serde_json::json!([good_ease["id"], record["id"], again["id"]]),
        "ease's corrupt newest artifact is left out, its older one served"
    );
    let (_, health) = get(&format!("{}/health", s.base)).await;
    assert!(
        health["models_loaded"]
            .as_array()
            .expect("models_loaded")
            .contains(&Value::from("ease")),
        "{health}"
    );
    assert_eq!(health["status"], "degraded", "{health}");
    let problem = &health["problems"][0];
    assert_eq!(problem["model_id"], ease["id"], "{health}");
    assert_eq!(problem["instead"], good_ease["id"], "{health}");
    assert!(
        problem["reason"]
            .as_str()
            .expect("reason")
            .contains("SHA-256"),
        "{health}"
    );

    // Pruning keeps the newest of each kind, and removes the rest with their artifacts.
    let pruned = json(&movierec(
        &db,
        &data,
        &["models", "--json", "prune", "--keep", "1"],
    ));
    let ids: Vec<&Value> = pruned
        .as_array()
        .expect("pruned")
        .iter()
        .map(|m| &m["id"])
        .collect();
    assert_eq!(ids, [&svd["id"], &good_ease["id"]]);
    for m in pruned.as_array().expect("pruned") {
        assert!(!data.join(m["artifact"].as_str().expect("path")).exists());
    }
    let left = json(&movierec(&db, &data, &["models", "--json"]));
    assert_eq!(left.as_array().expect("models").len(), 3);
}

#[test]
fn train_refuses_an_empty_database_and_unknown_models() {
    let dir = tempfile::tempdir().expect("tempdir");
    // On the engine the run asks for (`MOVIEREC_TEST_ENGINE`; scripts/test: both).
    let db = engine::TestDb::new(dir.path().join("m.db"));
    let (db, data) = (db.arg(), dir.path().join("data"));
    assert!(movierec(&db, &data, &["etl"]).status.success());
    let empty = movierec(&db, &data, &["train", "--model", "als"]);
    assert_eq!(empty.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&empty.stderr).contains("no ratings to train on"));
    let unknown = movierec(&db, &data, &["train", "--model", "magic"]);
    assert!(!unknown.status.success());
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("known: item-knn, svd, svd++, als, ease")
    );
    let bad = movierec(&db, &data, &["train", "--model", "ease", "--lambda=-1"]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--lambda must be a positive number"));
    let none = movierec(&db, &data, &["models"]);
    assert!(String::from_utf8_lossy(&none.stdout).contains("no trained models"));
}

/// A model's artifact is read when the model is first asked for: `recommend` with the content
/// model never reads a trained one (here EASE^R's, made unreadable), and asking for EASE^R
/// reads it and names what is wrong with it.
#[test]
fn a_command_reads_only_the_models_it_uses() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ratings = dir.path().join("taste");
    std::fs::create_dir(&ratings).expect("mkdir");
    taste::dataset(&ratings);
    let db = engine::TestDb::new(dir.path().join("m.db"));
    let (db, data) = (db.arg(), dir.path().join("data"));
    let source = format!("movielens:{}", ratings.display());
    assert!(movierec(&db, &data, &["etl", "--source", &source])
        .status
        .success());
    // EASE^R's dense fit (16 bytes per pair of the 40 movies) is refused up front when it
    // would not fit the memory it may use, and nothing is recorded.
    let refused = movierec(
        &db,
        &data,
        &["train", "--model", "ease", "--memory-limit", "1000"],
    );
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "ease on 40 movies needs 25.0 KiB of memory to fit, more than the 1000 bytes"
        ) && stderr.contains("train `sparse-ease`"),
        "{stderr}"
    );
    // The sparse form is checked too, against its own (linear) size.
    let refused = movierec(
        &db,
        &data,
        &["train", "--model", "sparse-ease", "--memory-limit", "1000"],
    );
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("sparse-ease on 40 movies needs") && stderr.contains("`--k`"),
        "{stderr}"
    );
    let none = movierec(&db, &data, &["models"]);
    assert!(String::from_utf8_lossy(&none.stdout).contains("no trained models"));
    // Trained, it is recorded with its neighbours and answers from them.
    let sparse = json(&movierec(
        &db,
        &data,
        &["train", "--model", "sparse-ease", "--k", "10", "--json"],
    ));
    assert_eq!(sparse["params"]["neighbours"], 10, "{sparse}");
    assert!(
        sparse["metrics"]["ndcg_at_10"].as_f64().expect("ndcg") > 0.0,
        "{sparse}"
    );
    let similar = movierec(
        &db,
        &data,
        &[
            "recommend",
            "--id",
            "1",
            "--model",
            "sparse-ease",
            "-n",
            "3",
        ],
    );
    assert!(
        similar.status.success(),
        "{}",
        String::from_utf8_lossy(&similar.stderr)
    );
    let ease = json(&movierec(
        &db,
        &data,
        &["train", "--model", "ease", "--json"],
    ));
    // A FIFO with no writer: reading it would block for ever.
    let artifact = data.join(ease["artifact"].as_str().expect("path"));
    std::fs::remove_file(&artifact).expect("remove");
    let made = std::process::Command::new("mkfifo").arg(&artifact).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo");
    let mut content = std::process::Command::new(env!("CARGO_BIN_EXE_movierec"))
        .arg("--db")
        .arg(&db)
        .arg("--data-dir")
        .arg(&data)
        .args(["recommend", "--id", "1", "--model", "content"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = content.try_wait().expect("wait") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = content.kill();
            panic!("`recommend --model content` is reading EASE^R's artifact");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success());
    std::fs::remove_file(&artifact).expect("remove");
    std::fs::write(&artifact, b"not a model").expect("corrupt");
    let asked = movierec(&db, &data, &["recommend", "--id", "1", "--model", "ease"]);
    let stderr = String::from_utf8_lossy(&asked.stderr);
    assert!(!asked.status.success());
    assert!(
        stderr.contains("model `ease` is trained, but its artifact cannot be read")
            && stderr.contains("SHA-256"),
        "{stderr}"
    );
}
