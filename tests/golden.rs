//! Parity with the Python reference: the content model must rank exactly as
//! `../shared/reference/recommender_model.py` did on `tests/fixtures/golden/movies.csv`
//! (expected output produced by `tests/fixtures/golden/regenerate.py`, see its docstring).

#[path = "support/app.rs"]
mod app;

use movierec::model::ContentModel;
use serde::Deserialize;

#[derive(Deserialize)]
struct Golden {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    query: i64,
    n: usize,
    expected: Vec<Expected>,
}

#[derive(Deserialize)]
struct Expected {
    id: i64,
    score: f64,
}

/// The fixture's rows: (MovieID, title, year, rating), in the file's (ascending id) order.
fn fixture() -> Vec<(i64, String, i32, f64)> {
    let mut reader =
        csv::Reader::from_path("tests/fixtures/golden/movies.csv").expect("fixture csv");
    reader
        .records()
        .map(|r| {
            let r = r.expect("csv record");
            let field = |i: usize| r.get(i).expect("column").to_owned();
            (
                field(0).parse().expect("id"),
                field(1),
                field(2).parse().expect("year"),
                field(3).parse().expect("rating"),
            )
        })
        .collect()
}

fn golden() -> Golden {
    serde_json::from_str(
        &std::fs::read_to_string("tests/fixtures/golden/expected.json").expect("golden file"),
    )
    .expect("golden json")
}

#[test]
fn recommendations_match_the_reference_implementation() {
    let golden = golden();
    let model = ContentModel::fit(
        fixture()
            .into_iter()
            .map(|(id, _, year, rating)| (id, rating, f64::from(year)))
            .collect(),
    )
    .expect("fit");
    assert!(golden.cases.len() >= 10);
    for case in golden.cases {
        let got = model.recommend(case.query, case.n).expect("known id");
        let got_ids: Vec<i64> = got.iter().map(|r| r.id).collect();
        let want_ids: Vec<i64> = case.expected.iter().map(|r| r.id).collect();
        assert_eq!(
            got_ids, want_ids,
            "ranking for movie {} n={}",
            case.query, case.n
        );
        for (g, w) in got.iter().zip(&case.expected) {
            assert!(
                (g.score - w.score).abs() < 1e-9,
                "score of {} for {}: {} vs {}",
                g.id,
                case.query,
                g.score,
                w.score
            );
        }
    }
}

/// The same reference output, through every layer a user's request crosses: the fixture goes
/// through the ETL into the store, the server builds its engine from the store, and the answer
/// comes from `/api/movies/{id}/similar`. A wrong column anywhere on the way fails here.
#[tokio::test]
async fn the_served_api_matches_the_reference_implementation() {
    let rows = fixture();
    let dir = tempfile::tempdir().expect("tempdir");
    let csv = dir.path().join("golden.csv");
    let mut text = String::from("title,release_date,rating\n");
    for (_, title, year, rating) in &rows {
        text.push_str(&format!(
            "\"{}\",{year}-01-01,{rating}\n",
            title.replace('"', "\"\"")
        ));
    }
    std::fs::write(&csv, text).expect("write csv");
    let server = app::spawn_golden(&csv).await;
    // New MovieIDs follow the input order, which is the fixture's ascending-id order: the k-th
    // fixture movie is MovieID k, and ties broken by id break the same way.
    let ours = |fixture_id: i64| {
        rows.iter()
            .position(|r| r.0 == fixture_id)
            .map(|p| p as i64 + 1)
            .expect("fixture id")
    };
    let client = reqwest::Client::new();
    for case in golden().cases {
        let url = format!(
            "{}/api/movies/{}/similar?n={}&model=content-seed",
            server.base,
            ours(case.query),
            case.n
        );
        let body: serde_json::Value = client
            .get(&url)
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("json");
        let got: Vec<(i64, f64)> = body["recommendations"]
            .as_array()
            .expect("recommendations")
            .iter()
            .map(|r| {
                (
                    r["id"].as_i64().expect("id"),
                    r["score"].as_f64().expect("score"),
                )
            })
            .collect();
        let want: Vec<i64> = case.expected.iter().map(|e| ours(e.id)).collect();
        assert_eq!(
            got.iter().map(|g| g.0).collect::<Vec<_>>(),
            want,
            "ranking for fixture movie {} n={}",
            case.query,
            case.n
        );
        // The API writes scores to four significant digits: the reference's score, so rounded.
        for (g, w) in got.iter().zip(&case.expected) {
            let half_unit = 0.5001 * 10f64.powi(w.score.abs().log10().floor() as i32 - 3);
            assert!(
                (g.1 - w.score).abs() <= half_unit,
                "{url}: {} vs {}",
                g.1,
                w.score
            );
        }
    }
}
