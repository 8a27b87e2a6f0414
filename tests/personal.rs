//! Personal recommendations: for users of the ratings table and for anyone from the ratings
//! they send (API and CLI), by every model, with reasons, filters and the popular fallback;
//! and every bad input the issue lists, each answered with a problem naming it.

#[path = "support/app.rs"]
mod app;
#[path = "support/taste.rs"]
mod taste;

use movierec::domain::etl::Source;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::HashSet;
use std::path::Path;
use std::process::Output;

fn movierec(db: &Path, data_dir: &Path, args: &[&str]) -> Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_movierec"))
        .arg("--db")
        .arg(db)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .expect("spawn movierec")
}

struct Fixture {
    app: app::TestApp,
    client: reqwest::Client,
    /// MovieID of "Movie k" (k = 1..=40; even k comedies, odd dramas), at index k.
    ids: Vec<i64>,
    _ratings: tempfile::TempDir,
}

impl Fixture {
    /// The taste dataset loaded after the embedded one, with item-kNN, SVD, ALS and EASE^R
    /// trained on it, and a server that serves them. Its 40 movies and 80 users want smaller
    /// sizes and shrinkage than the defaults chosen on ml-latest-small (ALS's λ = 30 would
    /// flatten 80 users' factors to nothing).
    async fn start() -> Self {
        let ratings = tempfile::tempdir().expect("tempdir");
        taste::implicit_dataset(ratings.path());
        let app = app::spawn_app(&[Source::Movielens(ratings.path().to_owned())], |_| {}).await;
        for model in [
            &["--model", "item-knn"][..],
            &["--model", "svd"],
            &["--model", "als", "--factors", "8", "--reg", "1"],
            &["--model", "ease", "--lambda", "50"],
        ] {
            let out = movierec(&app.db, &app.data_dir(), &[&["train"], model].concat());
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let store = movierec::store::Store::open_read_only(&app.db).expect("db");
        let mut ids = vec![0];
        for k in 1..=40 {
            ids.push(
                store.movies_titled(&format!("movie {k}")).expect("title")[0]
                    .id
                    .0,
            );
        }
        let fixture = Self {
            app,
            client: reqwest::Client::new(),
            ids,
            _ratings: ratings,
        };
        // Wait for the server to pick the four models up.
        for _ in 0..200 {
            let models = fixture.get("/api/models").await.1;
            if models["serving"].as_array().is_some_and(|s| s.len() == 4) {
                return fixture;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("the trained models were not served");
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .client
            .get(format!("{}{path}", self.app.base))
            .send()
            .await
            .expect("request");
        let status = r.status();
        (status, r.json().await.expect("json"))
    }

    async fn post_raw(&self, content_type: &str, body: Vec<u8>) -> (StatusCode, String, Value) {
        let r = self
            .client
            .post(format!("{}/api/recommendations", self.app.base))
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("request");
        let status = r.status();
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        (status, ct, r.json().await.expect("json"))
    }

    async fn post(&self, body: &Value) -> (StatusCode, Value) {
        let (status, _, v) = self
            .post_raw("application/json", serde_json::to_vec(body).expect("json"))
            .await;
        (status, v)
    }

    /// A comedy fan's profile: four comedies at 5★ and 4.5★, two dramas at 1★.
    fn comedy_fan(&self) -> Value {
        let ids = &self.ids;
        json!([
            {"movie_id": ids[2], "rating": 5},
            {"movie_id": ids[4], "rating": 5},
            {"movie_id": ids[6], "rating": 4.5},
            {"movie_id": ids[8], "rating": 4.5},
            {"movie_id": ids[3], "rating": 1},
            {"movie_id": ids[5], "rating": 1},
        ])
    }

    /// Asserts a problem document with `status` whose `parameter` is `parameter` and whose
    /// detail contains `says`.
    fn assert_problem(
        status: StatusCode,
        body: &Value,
        want: StatusCode,
        parameter: &str,
        says: &str,
    ) {
        assert_eq!(status, want, "{body}");
        assert_eq!(body["status"], want.as_u16(), "{body}");
        if !parameter.is_empty() {
            assert_eq!(body["parameter"], parameter, "{body}");
        }
        let detail = body["detail"].as_str().expect("detail");
        assert!(detail.contains(says), "{detail:?} should say {says:?}");
    }
}

fn titles(list: &Value) -> Vec<String> {
    list["recommendations"]
        .as_array()
        .expect("recommendations")
        .iter()
        .map(|r| r["title"].as_str().expect("title").to_owned())
        .collect()
}

#[tokio::test]
async fn a_newcomer_gets_their_taste_from_every_model_with_reasons_and_nothing_they_rated() {
    let f = Fixture::start().await;
    let profile = f.comedy_fan();
    let rated: HashSet<i64> = profile
        .as_array()
        .expect("profile")
        .iter()
        .map(|r| r["movie_id"].as_i64().expect("id"))
        .collect();
    let comedies_rated: HashSet<i64> = [2, 4, 6, 8].iter().map(|&k| f.ids[k]).collect();
    for model in ["content", "content-seed", "item-knn", "svd", "als", "ease"] {
        let (status, body) = f
            .post(&json!({"ratings": profile, "n": 5, "model": model}))
            .await;
        assert_eq!(status, StatusCode::OK, "{model}: {body}");
        assert_eq!(body["model"], model);
        assert_eq!(body["fallback"], Value::Null);
        assert_eq!(body["rated"], 6);
        let recs = body["recommendations"].as_array().expect("recs");
        assert_eq!(recs.len(), 5, "{model}: {body}");
        for r in recs {
            assert!(
                !rated.contains(&r["id"].as_i64().expect("id")),
                "{model} recommended a rated movie"
            );
        }
        if model == "content-seed" {
            // The seed model knows only rating and year: no taste to learn, but still a list.
            continue;
        }
        for r in recs {
            assert_eq!(r["genre"], "Comedy", "{model}: {body}");
            let reason = r["reason"].as_str().expect("reason");
            let because = r["because"].as_array().expect("because");
            assert!(!because.is_empty(), "{model}: {r}");
            for b in because {
                let id = b["movie_id"].as_i64().expect("id");
                assert!(
                    comedies_rated.contains(&id),
                    "{model}: a reason names a liked comedy: {r}"
                );
                let named = format!("{} {}/5", b["title"].as_str().expect("title"), b["rating"]);
                assert!(
                    reason.starts_with("because you rated ")
                        && reason.contains(&named.replace(".0/5", "/5")),
                    "{model}: {reason:?} names {named:?}"
                );
            }
        }
    }
    // No model asked: the best trained one (EASE^R) answers.
    let (_, body) = f.post(&json!({"ratings": profile, "n": 3})).await;
    assert_eq!(body["model"], "ease");
    // Filters apply before ranking: a drama-only list for the same person, still n long.
    let (_, body) = f
        .post(&json!({"ratings": profile, "n": 4, "genre": "Drama", "year_from": 2000}))
        .await;
    let recs = body["recommendations"].as_array().expect("recs");
    assert_eq!(recs.len(), 4, "{body}");
    for r in recs {
        assert_eq!(r["genre"], "Drama");
        assert!(r["release_year"].as_i64().expect("year") >= 2000);
    }
}

/// "Not interested": excluded movies never come back, and the list stays `n` long; a rating
/// model says what it expects the person to give each pick, a ranking model does not.
#[tokio::test]
async fn excluded_movies_never_come_back_and_rating_models_predict_stars() {
    let f = Fixture::start().await;
    let profile = f.comedy_fan();
    let (_, first) = f
        .post(&json!({"ratings": profile, "n": 5, "model": "ease"}))
        .await;
    let dismissed: Vec<i64> = first["recommendations"]
        .as_array()
        .expect("recs")
        .iter()
        .take(2)
        .map(|r| r["id"].as_i64().expect("id"))
        .collect();
    let (status, second) = f
        .post(&json!({"ratings": profile, "n": 5, "model": "ease", "exclude": dismissed}))
        .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    let ids: Vec<i64> = second["recommendations"]
        .as_array()
        .expect("recs")
        .iter()
        .map(|r| r["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(ids.len(), 5);
    assert!(
        ids.iter().all(|id| !dismissed.contains(id)),
        "{ids:?} {dismissed:?}"
    );
    assert!(first["recommendations"]
        .as_array()
        .expect("recs")
        .iter()
        .all(|r| r["predicted_rating"].is_null()));
    let (_, svd) = f
        .post(&json!({"ratings": profile, "n": 5, "model": "svd"}))
        .await;
    for r in svd["recommendations"].as_array().expect("recs") {
        let stars = r["predicted_rating"].as_f64().expect("svd predicts stars");
        assert!((0.5..=5.0).contains(&stars), "{r}");
    }
    let too_many: Vec<i64> = (1..=1001).collect();
    let (status, body) = f
        .post(&json!({"ratings": profile, "exclude": too_many}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["parameter"], "exclude", "{body}");
}

#[tokio::test]
async fn users_of_the_ratings_table_get_history_and_recommendations_and_the_cli_agrees() {
    let f = Fixture::start().await;
    let (status, page) = f.get("/api/users?limit=5").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["total"], 80);
    let users = page["items"].as_array().expect("users");
    assert_eq!(users.len(), 5);
    // External user 2 rates comedies 4–5 (even users are comedy fans).
    let user = users
        .iter()
        .find(|u| u["external_id"] == 2)
        .expect("user 2 on the first page");
    let id = user["id"].as_i64().expect("id");
    let (status, history) = f.get(&format!("/api/users/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    let ratings = history["ratings"].as_array().expect("ratings");
    assert_eq!(
        ratings.len() as u64,
        user["ratings"].as_u64().expect("count")
    );
    let times: Vec<&str> = ratings
        .iter()
        .map(|r| r["rated_at"].as_str().expect("time"))
        .collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]), "latest first");
    let rated: HashSet<i64> = ratings
        .iter()
        .map(|r| r["movie_id"].as_i64().expect("id"))
        .collect();
    for model in ["ease", "item-knn", "als", "svd", "content"] {
        let (status, body) = f
            .get(&format!(
                "/api/users/{id}/recommendations?n=3&model={model}"
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["rated"], rated.len());
        let recs = body["recommendations"].as_array().expect("recs");
        assert!(!recs.is_empty(), "{model}: {body}");
        for r in recs {
            assert!(
                !rated.contains(&r["id"].as_i64().expect("id")),
                "{model}: rated movie recommended"
            );
            assert_eq!(r["genre"], "Comedy", "{model}: {body}");
            assert!(r["reason"]
                .as_str()
                .expect("reason")
                .starts_with("because they rated"));
        }
    }
    let (status, body) = f
        .get(&format!("/api/users/{id}/recommendations?n=2&genre=Drama"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["recommendations"]
        .as_array()
        .expect("recs")
        .iter()
        .all(|r| r["genre"] == "Drama"));

    // The CLI answers from the same engine.
    let out = movierec(
        &f.app.db,
        &f.app.data_dir(),
        &["recommend", "--user", &id.to_string(), "-n", "3", "--json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cli: Value = serde_json::from_slice(&out.stdout).expect("json");
    let (_, api) = f.get(&format!("/api/users/{id}/recommendations?n=3")).await;
    assert_eq!(titles(&cli), titles(&api));
    let out = movierec(
        &f.app.db,
        &f.app.data_dir(),
        &[
            "recommend",
            "--rated",
            "Movie 2=5,Movie 4=4.5,Movie 3=1",
            "--model",
            "item-knn",
        ],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        text.contains("Recommended by item-knn from 3 ratings"),
        "{text}"
    );
    assert!(text.contains("because you rated Movie 2"), "{text}");
    for (args, says) in [
        (
            &["recommend", "--user", "999999"][..],
            "no user with id 999999",
        ),
        (
            &["recommend", "--rated", "Movie 2=7"],
            "stars are 0.5–5 in halves",
        ),
        (
            &["recommend", "--rated", "Movie 2=5,Movie 2=4"],
            "rated twice",
        ),
        (
            &["recommend", "--rated", "No Such Film Anywhere=4"],
            "no movie titled",
        ),
        (
            &["recommend", "--rated", "Movie 2=5", "--model", "magic"],
            "known: content",
        ),
    ] {
        let out = movierec(&f.app.db, &f.app.data_dir(), args);
        assert!(!out.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

#[tokio::test]
async fn bad_requests_are_problems_that_name_what_was_wrong() {
    let f = Fixture::start().await;
    let ids = &f.ids;
    // Unknown user.
    let (status, body) = f.get("/api/users/999999/recommendations").await;
    Fixture::assert_problem(
        status,
        &body,
        StatusCode::NOT_FOUND,
        "",
        "no user with id 999999",
    );
    let (status, body) = f.get("/api/users/999999").await;
    Fixture::assert_problem(
        status,
        &body,
        StatusCode::NOT_FOUND,
        "",
        "no user with id 999999",
    );
    let (status, body) = f.get("/api/users/abc/recommendations").await;
    Fixture::assert_problem(status, &body, StatusCode::BAD_REQUEST, "id", "integer");

    // No ratings: the popular fallback, said so.
    for empty in [json!({}), json!({"ratings": []})] {
        let (status, body) = f.post(&empty).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["fallback"], "popular");
        assert_eq!(body["model"], Value::Null);
        assert!(body["notice"]
            .as_str()
            .expect("notice")
            .contains("no ratings yet"));
        let votes: Vec<u64> = body["recommendations"]
            .as_array()
            .expect("recs")
            .iter()
            .map(|r| r["votes"].as_u64().unwrap_or(0))
            .collect();
        assert_eq!(votes.len(), 10);
        assert!(
            votes.windows(2).all(|w| w[0] >= w[1]),
            "most votes first: {votes:?}"
        );
    }

    let one = |movie: i64, rating: f64| json!({"movie_id": movie, "rating": rating});
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"ratings": [one(ids[2], 5.0), one(987_654_321, 4.0), one(987_654_322, 3.0)]}),
            "ratings[1].movie_id",
            "no movie with id 987654321, 987654322",
        ),
        (
            json!({"ratings": [one(ids[2], 5.5)]}),
            "ratings[0].rating",
            "0.5–5 stars in halves",
        ),
        (
            json!({"ratings": [one(ids[2], 0.0)]}),
            "ratings[0].rating",
            "got 0",
        ),
        (
            json!({"ratings": [one(ids[2], 4.3)]}),
            "ratings[0].rating",
            "got 4.3",
        ),
        (
            json!({"ratings": [one(ids[2], 5.0), one(ids[4], 3.0), one(ids[2], 1.0)]}),
            "ratings[2].movie_id",
            "rated twice (ratings[0] and ratings[2])",
        ),
        (
            json!({"ratings": [one(ids[2], 5.0)], "model": "magic"}),
            "model",
            "expected one of `content`, `content-seed`, `item-knn`, `svd`, `svd++`, `als`, `ease`",
        ),
        (
            json!({"ratings": [{"movie_id": "two", "rating": 5}]}),
            "ratings[0].movie_id",
            "invalid type",
        ),
        (
            json!({"ratings": [{"rating": 5}]}),
            "ratings[0]",
            "missing field `movie_id`",
        ),
        (
            json!({"ratings": [one(ids[2], 5.0)], "n": 0}),
            "n",
            "must be in 1..=100",
        ),
        (
            json!({"ratings": [one(ids[2], 5.0)], "genre": "Jazz"}),
            "genre",
            "unknown variant `Jazz`",
        ),
        (
            json!({"ratings": [one(ids[2], 5.0)], "year_from": -5}),
            "year_from",
            "0..=9999",
        ),
        (
            json!({"ratings": [one(ids[2], 5.0)], "min_rating": 11}),
            "min_rating",
            "0..=10",
        ),
        (
            json!({"ratings": [one(ids[2], 5.0)], "colour": "red"}),
            "colour",
            "unknown field `colour`",
        ),
        (
            json!({"ratings": (1..=1001).map(|i| one(i, 4.0)).collect::<Vec<_>>()}),
            "ratings",
            "at most 1000 ratings per request, got 1001",
        ),
    ];
    for (body, parameter, says) in cases {
        let (status, problem) = f.post(&body).await;
        Fixture::assert_problem(status, &problem, StatusCode::BAD_REQUEST, parameter, says);
        assert_eq!(problem["type"], "/problems/invalid-body");
    }
    // A known but untrained model: 404 naming the command.
    let (status, body) = f
        .post(&json!({"ratings": [one(ids[2], 5.0)], "model": "svd++"}))
        .await;
    Fixture::assert_problem(
        status,
        &body,
        StatusCode::NOT_FOUND,
        "",
        "movierec train --model svd++",
    );
    // Not JSON, cut short, trailing garbage, the wrong content type, a body over the limit.
    for (raw, says) in [
        (&b"{\"ratings\": ["[..], "not valid JSON: EOF while parsing"),
        (
            b"ratings=5",
            "not valid JSON: expected value at line 1 column 1",
        ),
        (b"{} {}", "trailing data"),
    ] {
        let (status, ct, body) = f.post_raw("application/json", raw.to_vec()).await;
        assert_eq!(ct, "application/problem+json");
        Fixture::assert_problem(status, &body, StatusCode::BAD_REQUEST, "body", says);
    }
    let (status, _, body) = f.post_raw("text/plain", b"{}".to_vec()).await;
    Fixture::assert_problem(
        status,
        &body,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "",
        "Content-Type: application/json",
    );
    let (status, _, body) = f
        .post_raw("application/json; charset=latin1", b"{}".to_vec())
        .await;
    Fixture::assert_problem(
        status,
        &body,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "",
        "a JSON body is UTF-8",
    );
    let (status, _, _) = f
        .post_raw(
            "application/json; charset=UTF-8",
            b"{\"ratings\": []}".to_vec(),
        )
        .await;
    assert_ne!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let big = format!(
        "{{\"ratings\": [], \"pad\": \"{}\"}}",
        "x".repeat(70 * 1024)
    );
    let (status, ct, body) = f.post_raw("application/json", big.into_bytes()).await;
    assert_eq!(ct, "application/problem+json");
    Fixture::assert_problem(
        status,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "",
        "larger than the server accepts",
    );

    // The popular endpoint: by genre and period, most votes first; a bad genre is named.
    let (status, body) = f
        .get("/api/movies/popular?genre=Comedy&year_from=2000&n=5")
        .await;
    assert_eq!(status, StatusCode::OK);
    let items = body["items"].as_array().expect("items");
    assert_eq!(items.len(), 5);
    for m in items {
        assert!(m["genre"]
            .as_str()
            .expect("genre")
            .split('|')
            .any(|g| g == "Comedy"));
        assert!(m["release_year"].as_i64().expect("year") >= 2000);
    }
    let (status, body) = f.get("/api/movies/popular?genre=Jazz").await;
    Fixture::assert_problem(status, &body, StatusCode::BAD_REQUEST, "genre", "Jazz");
}
