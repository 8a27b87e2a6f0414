//! `movierec eval` end to end on a small generated MovieLens dataset (latest layout) with two
//! kinds of users: comedy fans and drama fans. Real models, real files, the real binary.

#[path = "support/taste.rs"]
mod taste;

use serde_json::Value;
use std::process::{Command, Output};
use taste::dataset;

fn eval(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_movierec"))
        .arg("eval")
        .args(args)
        .output()
        .expect("spawn movierec")
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "eval failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("eval --json prints JSON")
}

fn row<'a>(report: &'a Value, model: &str) -> &'a Value {
    report["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|r| r["algorithm"] == model)
        .unwrap_or_else(|| panic!("no row for {model}: {report}"))
}

#[test]
fn topn_ranks_every_model_and_collaborative_filtering_finds_the_fans_taste() {
    let dir = tempfile::tempdir().expect("tempdir");
    dataset(dir.path());
    let d = dir.path().to_str().expect("utf-8 path");
    let report = json(&eval(&["--protocol", "topn", "--dataset", d, "--json"]));
    assert_eq!(report["protocol"], "topn");
    assert!(report["test_users"].as_u64().expect("users") > 60);
    for model in [
        "popularity",
        "content-seed",
        "content",
        "item-knn",
        "als",
        "ease",
        "hybrid",
    ] {
        let r = row(&report, model);
        for metric in [
            "precision_at_10",
            "recall_at_20",
            "ndcg_at_10",
            "map_at_10",
            "coverage_at_10",
        ] {
            let v = r[metric].as_f64().expect("metric");
            assert!((0.0..=1.0).contains(&v), "{model} {metric} = {v}");
        }
    }
    // Held-out movies are all of the fan's genre: a model that learns tastes beats popularity,
    // which recommends the same movies to both kinds of fans.
    let ndcg = |m: &str| row(&report, m)["ndcg_at_10"].as_f64().expect("ndcg");
    for model in ["ease", "item-knn", "content"] {
        assert!(ndcg(model) > ndcg("popularity"), "{model}: {report}");
    }
    // The same seed gives the same split and figures.
    let again = json(&eval(&[
        "--protocol",
        "topn",
        "--dataset",
        d,
        "--json",
        "--models",
        "ease",
    ]));
    assert_eq!(
        row(&again, "ease")["ndcg_at_10"],
        row(&report, "ease")["ndcg_at_10"]
    );
}

#[test]
fn held_out_users_over_seeds_report_errors_and_a_paired_comparison() {
    let dir = tempfile::tempdir().expect("tempdir");
    taste::implicit_dataset(dir.path());
    let d = dir.path().to_str().expect("utf-8 path");
    let report = json(&eval(&[
        "--protocol",
        "topn",
        "--dataset",
        d,
        "--holdout",
        "users",
        "--seeds",
        "3",
        "--models",
        "popularity,ease,als",
        "--compare",
        "ease,popularity",
        "--json",
    ]));
    assert_eq!(report["holdout"], "users");
    assert_eq!(report["seeds"], serde_json::json!([42, 43, 44]));
    let runs = report["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 3);
    // Each seed holds out different users, never fitted on: a fifth of the 80.
    let tested = |r: &Value| r["test_users"].as_u64().expect("users");
    assert!(
        runs.iter().all(|r| (12..=16).contains(&tested(r))),
        "{report}"
    );
    assert_ne!(
        runs[0]["rows"], runs[1]["rows"],
        "another seed, another split"
    );
    let ease = row(&report, "ease");
    let (mean, se) = (
        ease["ndcg_at_10"]["mean"].as_f64().expect("mean"),
        ease["ndcg_at_10"]["se"].as_f64().expect("se over 3 seeds"),
    );
    let per_seed: Vec<f64> = runs
        .iter()
        .map(|r| row(r, "ease")["ndcg_at_10"].as_f64().expect("ndcg"))
        .collect();
    assert!((mean - per_seed.iter().sum::<f64>() / 3.0).abs() < 1e-9);
    assert!(se > 0.0, "{report}");
    // Folded in from the rest of their ratings, held-out fans get their genre: EASE^R beats
    // popularity, which ranks the same movies for both kinds of fans, beyond the error.
    let c = &report["comparison"];
    assert_eq!(
        (c["a"].as_str(), c["b"].as_str()),
        (Some("ease"), Some("popularity"))
    );
    assert_eq!(c["verdict"], "a-beats-b", "{c}");
    assert!(
        row(&report, "als")["ndcg_at_10"]["mean"]
            .as_f64()
            .expect("als")
            > 0.0
    );
}

#[test]
fn bad_seed_holdout_and_model_arguments_are_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    dataset(dir.path());
    let d = dir.path().to_str().expect("utf-8 path");
    // 30 users: a fifth held out is 6, too few to measure anything on.
    let few = dir.path().join("few");
    std::fs::create_dir(&few).expect("mkdir");
    std::fs::copy(dir.path().join("movies.csv"), few.join("movies.csv")).expect("movies");
    let ratings = std::fs::read_to_string(dir.path().join("ratings.csv")).expect("ratings");
    let kept: String = ratings
        .lines()
        .filter(|l| {
            l.split(',')
                .next()
                .and_then(|u| u.parse::<u32>().ok())
                .is_none_or(|u| u <= 30)
        })
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(few.join("ratings.csv"), kept).expect("write");
    let few = few.to_str().expect("utf-8 path");
    for (args, says) in [
        (vec!["--dataset", d, "--seeds", "0"], "0 is not in 1..=100"),
        (
            vec!["--dataset", d, "--models", "ease,als,ease"],
            "model `ease` is named twice in --models",
        ),
        (
            vec!["--dataset", few, "--holdout", "users", "--models", "ease"],
            "left 6 of them to test or validate on, fewer than the 10",
        ),
        (
            vec![
                "--dataset",
                d,
                "--models",
                "ease,als",
                "--compare",
                "ease,hybrid",
            ],
            "--compare needs two different models of those evaluated",
        ),
        (
            vec!["--dataset", d, "--seeds", "2", "--train", d, "--test", d],
            "one fixed split",
        ),
    ] {
        let out = eval(&[&["--protocol", "topn"][..], &args].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

#[test]
fn rating_protocol_on_given_files_counts_unknown_users_and_movies() {
    let dir = tempfile::tempdir().expect("tempdir");
    dataset(dir.path());
    let d = dir.path().to_str().expect("utf-8 path");
    let all = std::fs::read_to_string(dir.path().join("ratings.csv")).expect("ratings");
    let mut lines = all.lines();
    let header = lines.next().expect("header");
    let (mut train, mut test) = (format!("{header}\n"), format!("{header}\n"));
    for (k, line) in lines.enumerate() {
        let to = if k % 5 == 0 { &mut test } else { &mut train };
        to.push_str(line);
        to.push('\n');
    }
    // A user and a movie training never saw, and a row that is not a rating.
    test.push_str("999,1,4.0,1\n1,999,3.0,1\n1,2,abc,1\n");
    let (train_path, test_path) = (dir.path().join("train.csv"), dir.path().join("test.csv"));
    std::fs::write(&train_path, train).expect("train");
    std::fs::write(&test_path, test).expect("test");
    let report = json(&eval(&[
        "--protocol",
        "rating",
        "--dataset",
        d,
        "--train",
        train_path.to_str().expect("path"),
        "--test",
        test_path.to_str().expect("path"),
        "--models",
        "baseline,item-knn,svd",
        "--json",
    ]));
    assert_eq!(report["folds"], 1);
    assert_eq!(report["splits"][0]["unknown_users"], 1);
    assert_eq!(report["splits"][0]["unknown_movies"], 1);
    assert_eq!(report["rejected_rows"], 1);
    let rmse = |m: &str| row(&report, m)["rmse"].as_f64().expect("rmse");
    // Ratings follow genre taste, which biases alone cannot express (every movie is loved by
    // half the users and disliked by the other half): the baseline stays near the spread of
    // ratings, the models that learn tastes get far below it.
    assert!(rmse("baseline") > 1.2, "{report}");
    for model in ["item-knn", "svd"] {
        assert!(rmse(model) < 0.8, "{model}: {report}");
    }
}

#[test]
fn bad_input_names_the_problem() {
    let missing = eval(&["--protocol", "rating", "--dataset", "/nonexistent/ml-100k"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/ml-100k"));

    let dir = tempfile::tempdir().expect("tempdir");
    dataset(dir.path());
    let d = dir.path().to_str().expect("utf-8 path");
    let unknown = eval(&[
        "--protocol",
        "topn",
        "--dataset",
        d,
        "--models",
        "ease,magic",
    ]);
    assert!(!unknown.status.success());
    let text = String::from_utf8_lossy(&unknown.stderr);
    assert!(
        text.contains("unknown model `magic`") && text.contains("popularity, content-seed"),
        "{text}"
    );

    // The rating protocol without --train/--test needs ml-100k's folds: the first missing one
    // is named.
    let folds = eval(&["--protocol", "rating", "--dataset", d]);
    assert!(!folds.status.success());
    assert!(String::from_utf8_lossy(&folds.stderr).contains("u1.base"));

    // An incomplete dataset (no ratings file) names the missing file.
    std::fs::remove_file(dir.path().join("ratings.csv")).expect("rm");
    let incomplete = eval(&["--protocol", "topn", "--dataset", d]);
    assert!(!incomplete.status.success());
    assert!(String::from_utf8_lossy(&incomplete.stderr).contains("ratings.csv"));
}
