//! Parity with the Python reference: the content model must rank exactly as
//! `../shared/reference/recommender_model.py` did on `tests/fixtures/golden/movies.csv`
//! (expected output produced by `tests/fixtures/golden/regenerate.py`, see its docstring).

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

fn fixture_model() -> ContentModel {
    let mut reader =
        csv::Reader::from_path("tests/fixtures/golden/movies.csv").expect("fixture csv");
    let rows = reader
        .records()
        .map(|r| {
            let r = r.expect("csv record");
            let field = |i: usize| r.get(i).expect("column").to_owned();
            (
                field(0).parse().expect("id"),
                field(3).parse().expect("rating"),
                field(2).parse().expect("year"),
            )
        })
        .collect();
    ContentModel::fit(rows).expect("fit")
}

#[test]
fn recommendations_match_the_reference_implementation() {
    let golden: Golden = serde_json::from_str(
        &std::fs::read_to_string("tests/fixtures/golden/expected.json").expect("golden file"),
    )
    .expect("golden json");
    let model = fixture_model();
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
