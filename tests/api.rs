//! The REST API, over real HTTP on loopback: a server per test on `127.0.0.1:0`, on a temporary
//! database built by the ETL.

#[path = "support/app.rs"]
mod app;
#[path = "support/taste.rs"]
mod taste;

use app::TestApp;
use movierec::app::ServeSettings;
use movierec::domain::etl::Source;
use movierec::domain::MovieId;
use movierec::recommend::{Engine, Filters, SimilarModel};
use movierec::store::Store;
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::BTreeSet;

struct Server {
    app: TestApp,
    client: reqwest::Client,
}

impl Server {
    async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    async fn start_with(configure: impl FnOnce(&mut ServeSettings)) -> Self {
        Self {
            app: app::spawn_app(&[], configure).await,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.app.base))
            .send()
            .await
            .expect("request")
    }

    async fn json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.expect("json body")
    }

    /// Asserts `path` answers `status` with a problem document naming `parameter`.
    async fn problem(&self, path: &str, status: StatusCode, parameter: Option<&str>) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status(), status, "GET {path}");
        let content_type = response.headers()["content-type"]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert_eq!(content_type, "application/problem+json", "GET {path}");
        let body: Value = response.json().await.expect("problem json");
        assert_eq!(body["status"].as_u64(), Some(u64::from(status.as_u16())));
        assert!(
            body["type"].is_string() && body["title"].is_string() && body["detail"].is_string()
        );
        assert_eq!(body["parameter"].as_str(), parameter, "GET {path}: {body}");
        body
    }

    fn movie_count(&self) -> u64 {
        Store::open_read_only(&self.app.db)
            .expect("db")
            .movie_count()
            .expect("count")
    }
}

fn ids(items: &Value) -> Vec<i64> {
    items
        .as_array()
        .expect("array")
        .iter()
        .map(|m| m["id"].as_i64().expect("id"))
        .collect()
}

#[tokio::test]
async fn health_reports_the_catalog_and_the_last_run() {
    let s = Server::start().await;
    let h = s.json("/health").await;
    assert_eq!(h["status"], "ok");
    assert_eq!(h["movies"].as_u64(), Some(s.movie_count()));
    assert_eq!(h["model_run_id"].as_i64(), Some(1));
    assert_eq!(h["last_etl_run"]["status"], "succeeded");
    assert!(h["model_fitted_at"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
}

#[tokio::test]
async fn movie_list_pages_filters_and_sorts() {
    let s = Server::start().await;
    let total = s.movie_count();
    let first = s.json("/api/movies").await;
    assert_eq!(
        (first["limit"].as_u64(), first["offset"].as_u64()),
        (Some(50), Some(0))
    );
    assert_eq!(first["total"].as_u64(), Some(total));
    assert_eq!(ids(&first["items"]), (1..=50).collect::<Vec<_>>());

    let last = s
        .json(&format!("/api/movies?limit=500&offset={}", total - 1))
        .await;
    assert_eq!(last["items"].as_array().map(Vec::len), Some(1));
    let beyond = s.json(&format!("/api/movies?offset={total}")).await;
    assert_eq!(beyond["items"].as_array().map(Vec::len), Some(0));
    assert_eq!(beyond["total"].as_u64(), Some(total));

    let q = s.json("/api/movies?q=STAR%20wars&limit=500").await;
    let titles: Vec<String> = q["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|m| m["title"].as_str().expect("title").to_lowercase())
        .collect();
    assert!(
        !titles.is_empty() && titles.iter().all(|t| t.contains("star wars")),
        "{titles:?}"
    );
    assert_eq!(q["total"].as_u64(), Some(titles.len() as u64));

    let filtered = s
        .json("/api/movies?year_from=1990&year_to=1999&min_rating=8&sort=-rating&limit=500")
        .await;
    let items = filtered["items"].as_array().expect("items");
    assert!(!items.is_empty());
    assert!(items.iter().all(|m| {
        let y = m["release_year"].as_i64().expect("year");
        (1990..=1999).contains(&y) && m["rating"].as_f64().expect("rating") >= 8.0
    }));
    let ratings: Vec<f64> = items
        .iter()
        .map(|m| m["rating"].as_f64().expect("rating"))
        .collect();
    assert!(
        ratings.windows(2).all(|w| w[0] >= w[1]),
        "sorted by rating descending"
    );
}

#[tokio::test]
async fn bad_list_parameters_are_400_problems_naming_the_parameter() {
    let s = Server::start().await;
    let body = s
        .problem(
            "/api/movies?limit=0",
            StatusCode::BAD_REQUEST,
            Some("limit"),
        )
        .await;
    assert_eq!(body["allowed"], "1..=500");
    s.problem(
        "/api/movies?limit=501",
        StatusCode::BAD_REQUEST,
        Some("limit"),
    )
    .await;
    s.problem(
        "/api/movies?limit=abc",
        StatusCode::BAD_REQUEST,
        Some("limit"),
    )
    .await;
    s.problem(
        "/api/movies?offset=-1",
        StatusCode::BAD_REQUEST,
        Some("offset"),
    )
    .await;
    s.problem(
        "/api/movies?min_rating=11",
        StatusCode::BAD_REQUEST,
        Some("min_rating"),
    )
    .await;
    s.problem(
        "/api/movies?min_rating=NaN",
        StatusCode::BAD_REQUEST,
        Some("min_rating"),
    )
    .await;
    s.problem(
        "/api/movies?year_from=x",
        StatusCode::BAD_REQUEST,
        Some("year_from"),
    )
    .await;
    s.problem(
        "/api/movies?sort=budget",
        StatusCode::BAD_REQUEST,
        Some("sort"),
    )
    .await;
    s.problem(
        "/api/etl/runs?limit=0",
        StatusCode::BAD_REQUEST,
        Some("limit"),
    )
    .await;
    // A 60,000-character search once reached SQLite as a LIKE pattern "too complex" (500).
    for (q, says) in [
        ("a".repeat(60_000), "at most 2000"),
        ("é".repeat(201), "at most 200 characters"),
    ] {
        let body = s
            .problem(
                &format!("/api/movies?q={q}"),
                StatusCode::BAD_REQUEST,
                Some("q"),
            )
            .await;
        let detail = body["detail"].as_str().expect("detail");
        assert!(detail.contains(says), "{body}");
    }
    let longest = s.json(&format!("/api/movies?q={}", "é".repeat(200))).await;
    assert_eq!(longest["total"], 0);
    s.problem(
        &format!("/api/etl/runs?{}=1", "x".repeat(3_000)),
        StatusCode::BAD_REQUEST,
        Some(&"x".repeat(64)),
    )
    .await;
}

#[tokio::test]
async fn one_movie_by_id() {
    let s = Server::start().await;
    let m = s.json("/api/movies/1").await;
    assert_eq!(m["id"], 1);
    assert!(m["title"].is_string() && m["release_year"].is_i64() && m["rating"].is_f64());
    s.problem("/api/movies/999999", StatusCode::NOT_FOUND, None)
        .await;
    s.problem("/api/movies/abc", StatusCode::BAD_REQUEST, Some("id"))
        .await;
    s.problem(
        "/api/movies/99999999999999999999",
        StatusCode::BAD_REQUEST,
        Some("id"),
    )
    .await;
}

#[tokio::test]
async fn a_merged_away_id_redirects_to_its_film_and_an_unknown_one_stays_404() {
    let s = Server::start().await;
    // What a load repairing an older catalog records (the repair is the store's test).
    rusqlite::Connection::open(&s.app.db)
        .and_then(|c| {
            c.execute(
                "INSERT INTO movie_redirects (old_id, MovieID, run_id) VALUES (999998, 1, 1)",
                [],
            )
        })
        .expect("redirect");
    for (from, to) in [
        ("/api/movies/999998", "/api/movies/1"),
        (
            "/api/movies/999998/similar?n=3&genre=Drama",
            "/api/movies/1/similar?n=3&genre=Drama",
        ),
    ] {
        let response = s.get(from).await;
        assert_eq!(
            response.status(),
            StatusCode::PERMANENT_REDIRECT,
            "GET {from}"
        );
        assert_eq!(response.headers()["location"], to, "GET {from}");
        assert_eq!(s.get(to).await.status(), StatusCode::OK, "GET {to}");
    }
    s.problem("/api/movies/999999", StatusCode::NOT_FOUND, None)
        .await;
    s.problem("/api/movies/999999/similar", StatusCode::NOT_FOUND, None)
        .await;
}

#[tokio::test]
async fn similar_movies_match_the_model() {
    let s = Server::start().await;
    let engine = Engine::load(
        &Store::open_read_only(&s.app.db).expect("db"),
        &s.app.dir.path().join("data"),
    )
    .expect("engine");
    for (id, n, model) in [
        (1, 10, SimilarModel::Content),
        (42, 1, SimilarModel::ContentSeed),
        (7, 100, SimilarModel::Content),
        (7, 100, SimilarModel::ContentSeed),
    ] {
        let body = s
            .json(&format!(
                "/api/movies/{id}/similar?n={n}&model={}",
                model.name()
            ))
            .await;
        assert_eq!(body["movie"]["id"], id);
        assert_eq!(body["model"], model.name());
        let want: Vec<i64> = engine
            .similar(MovieId(id), n as usize, &Filters::default(), model)
            .expect("known")
            .recommendations
            .into_iter()
            .map(|r| r.movie.id.0)
            .collect();
        assert_eq!(ids(&body["recommendations"]), want, "movie {id} n={n}");
        assert!(body["recommendations"][0]["score"].is_f64());
        // Every neighbour says why; the seed's reasons name ratings and years.
        let reason = body["recommendations"][0]["reason"]
            .as_str()
            .expect("reason");
        assert!(!reason.is_empty());
        if model == SimilarModel::ContentSeed {
            assert!(reason.starts_with("rated "), "{reason}");
        }
    }
    // The default is content v2; an unknown model is a 400 naming the parameter.
    let default_model = s.json("/api/movies/1/similar?n=3").await;
    assert_eq!(default_model["model"], "content");
    s.problem(
        "/api/movies/1/similar?model=magic",
        StatusCode::BAD_REQUEST,
        Some("model"),
    )
    .await;
    // A known model nobody trained: 404 saying how to train it.
    let untrained = s
        .problem(
            "/api/movies/1/similar?model=svd",
            StatusCode::NOT_FOUND,
            None,
        )
        .await;
    assert!(untrained["detail"]
        .as_str()
        .is_some_and(|d| d.contains("movierec train --model svd")));
    let default = s.json("/api/movies/1/similar").await;
    assert_eq!(
        default["recommendations"].as_array().map(Vec::len),
        Some(10)
    );
    let body = s
        .problem(
            "/api/movies/1/similar?n=0",
            StatusCode::BAD_REQUEST,
            Some("n"),
        )
        .await;
    assert_eq!(body["allowed"], "1..=100");
    s.problem(
        "/api/movies/1/similar?n=101",
        StatusCode::BAD_REQUEST,
        Some("n"),
    )
    .await;
    s.problem(
        "/api/movies/1/similar?n=",
        StatusCode::BAD_REQUEST,
        Some("n"),
    )
    .await;
    s.problem("/api/movies/999999/similar", StatusCode::NOT_FOUND, None)
        .await;
    s.problem(
        "/api/movies/1/similar?min_rating=10.5",
        StatusCode::BAD_REQUEST,
        Some("min_rating"),
    )
    .await;

    let filtered = s
        .json("/api/movies/1/similar?n=20&year_from=1990&year_to=1995&min_rating=7")
        .await;
    let recs = filtered["recommendations"].as_array().expect("recs");
    assert_eq!(
        recs.len(),
        20,
        "filters select before ranking, so n stays n"
    );
    assert!(recs.iter().all(|m| {
        let y = m["release_year"].as_i64().expect("year");
        (1990..=1995).contains(&y) && m["rating"].as_f64().expect("rating") >= 7.0
    }));
}

#[tokio::test]
async fn catalog_points_cover_every_rated_movie() {
    let s = Server::start().await;
    let p = s.json("/api/catalog/points").await;
    let (all, _) = Store::open_read_only(&s.app.db)
        .expect("db")
        .catalog()
        .expect("catalog");
    let rated = all.iter().filter(|m| m.rating.is_some()).count();
    assert!(rated > 0 && rated < all.len(), "{rated} of {}", all.len());
    for key in ["id", "title", "release_year", "rating"] {
        assert_eq!(p[key].as_array().map(Vec::len), Some(rated), "{key}");
    }
    assert_eq!(p["total"], rated);
    assert_eq!(p["sampled"], false);
    // A catalog larger than `max`: an even sample of at most `max`, spread across the ids.
    let max = rated / 7;
    let sample = s.json(&format!("/api/catalog/points?max={max}")).await;
    let ids: Vec<i64> = sample["id"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|v| v.as_i64().expect("id"))
        .collect();
    assert!(
        ids.len() <= max && ids.len() > max / 2,
        "{} of {max}",
        ids.len()
    );
    assert_eq!(sample["sampled"], true);
    assert_eq!(sample["total"], rated);
    assert_eq!(sample["rating"].as_array().map(Vec::len), Some(ids.len()));
    let every: Vec<i64> = p["id"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|v| v.as_i64().expect("id"))
        .collect();
    assert_eq!(ids[0], every[0]);
    assert!(
        *ids.last().expect("last") > every[every.len() * 3 / 4],
        "spread to the end"
    );
    s.problem(
        "/api/catalog/points?max=0",
        StatusCode::BAD_REQUEST,
        Some("max"),
    )
    .await;
}

#[tokio::test]
async fn etl_runs_detail_and_rejects() {
    let s = Server::start().await;
    let runs = s.json("/api/etl/runs").await;
    assert_eq!(runs["total"], 1);
    let run = s.json("/api/etl/runs/1").await;
    assert_eq!(run["status"], "succeeded");
    // No server path escapes: the snapshot is named relative to the data directory.
    let snapshot = run["snapshot_path"].as_str().expect("snapshot");
    assert!(
        snapshot.starts_with("raw/") && snapshot.ends_with(".json.gz"),
        "{snapshot}"
    );
    let dir = s.app.dir.path().to_string_lossy().into_owned();
    for path in ["/health", "/api/etl/runs", "/api/etl/runs/1"] {
        let body = s.json(path).await.to_string();
        assert!(
            !body.contains(&dir),
            "{path} publishes a server path: {body}"
        );
    }
    assert_eq!(
        run["audit"]["counts"]["loaded"].as_u64(),
        Some(s.movie_count())
    );
    assert!(run["rejects_by_reason"]["missing"]
        .as_u64()
        .is_some_and(|n| n > 0));

    let page = s.json("/api/etl/runs/1/rejects?limit=5&offset=0").await;
    let total = page["total"].as_u64().expect("total");
    assert_eq!(page["items"].as_array().map(Vec::len), Some(5));
    let tail = s
        .json(&format!(
            "/api/etl/runs/1/rejects?limit=500&offset={}",
            total - 2
        ))
        .await;
    assert_eq!(tail["items"].as_array().map(Vec::len), Some(2));
    let rows: Vec<u64> = page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| r["source_row"].as_u64().expect("row"))
        .collect();
    assert!(rows.windows(2).all(|w| w[0] <= w[1]));

    s.problem("/api/etl/runs/99", StatusCode::NOT_FOUND, None)
        .await;
    s.problem("/api/etl/runs/99/rejects", StatusCode::NOT_FOUND, None)
        .await;
    s.problem("/api/etl/runs/x", StatusCode::BAD_REQUEST, Some("run_id"))
        .await;
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems() {
    let s = Server::start().await;
    s.problem("/no/such/route", StatusCode::NOT_FOUND, None)
        .await;
    s.problem("/api/movies/1/similar/extra", StatusCode::NOT_FOUND, None)
        .await;
    let response = s
        .client
        .post(format!("{}/api/movies", s.app.base))
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    assert!(response.headers()["allow"]
        .to_str()
        .expect("allow")
        .contains("GET"));
    let big = s
        .client
        .get(format!("{}/health", s.app.base))
        .body(vec![b'x'; 100_000])
        .send()
        .await
        .expect("send");
    assert_eq!(big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(big.headers()["content-type"], "application/problem+json");
}

#[tokio::test]
async fn responses_carry_security_headers_request_ids_and_compression() {
    let s = Server::start().await;
    let r = s.get("/api/movies/1").await;
    for header in [
        "x-content-type-options",
        "x-frame-options",
        "content-security-policy",
        "x-request-id",
    ] {
        assert!(r.headers().contains_key(header), "{header}");
    }
    assert!(
        !r.headers().contains_key("access-control-allow-origin"),
        "CORS is off by default"
    );
    let gz = s
        .client
        .get(format!("{}/openapi.json", s.app.base))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .expect("get");
    assert_eq!(gz.headers()["content-encoding"], "gzip");
}

#[tokio::test]
async fn cors_allows_only_configured_origins() {
    let s = Server::start_with(|settings| {
        settings.cors_origins = vec!["http://example.test".to_owned()];
    })
    .await;
    let get = |origin: &'static str| {
        s.client
            .get(format!("{}/api/movies/1", s.app.base))
            .header("origin", origin)
            .send()
    };
    let allowed = get("http://example.test").await.expect("get");
    assert_eq!(
        allowed.headers()["access-control-allow-origin"],
        "http://example.test"
    );
    let other = get("http://evil.test").await.expect("get");
    assert!(!other.headers().contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn swagger_ui_is_served_from_the_binary() {
    let s = Server::start().await;
    let redirect = s.get("/docs").await;
    assert_eq!(redirect.status(), StatusCode::SEE_OTHER);
    assert_eq!(redirect.headers()["location"], "/docs/");
    let page = s.get("/docs/").await;
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(html.contains("swagger-ui"), "{html}");
    for asset in [
        "swagger-ui.css",
        "swagger-ui-bundle.js",
        "swagger-initializer.js",
    ] {
        let r = s.get(&format!("/docs/{asset}")).await;
        assert_eq!(r.status(), StatusCode::OK, "{asset}");
        assert!(r.bytes().await.expect("bytes").len() > 100, "{asset}");
    }
    let init = s
        .get("/docs/swagger-initializer.js")
        .await
        .text()
        .await
        .expect("js");
    assert!(
        init.contains("/openapi.json"),
        "the UI loads our document: {init}"
    );
}

/// Readiness asks the database; liveness does not. A database that can no longer be read (here:
/// its file, log and index overwritten, as a disk fault would) makes the server not ready, with
/// a problem saying why, while it stays live.
#[tokio::test]
async fn ready_is_503_when_the_database_cannot_be_read_and_live_stays_200() {
    let s = Server::start().await;
    assert_eq!(s.json("/health/ready").await["status"], "ready");
    let ready_gauge = || async {
        let r = s.get("/metrics").await;
        assert_eq!(r.status(), StatusCode::OK);
        let text = r.text().await.expect("text");
        text.lines()
            .find(|l| l.starts_with("movierec_ready "))
            .map(str::to_owned)
    };
    assert_eq!(ready_gauge().await.as_deref(), Some("movierec_ready 1"));
    for suffix in ["", "-wal", "-shm"] {
        let path = format!("{}{suffix}", s.app.db.display());
        let len = std::fs::metadata(&path).map_or(0, |m| m.len());
        if len > 0 {
            std::fs::write(&path, vec![0xA5; len as usize]).expect("overwrite");
        }
    }
    let body = s
        .problem("/health/ready", StatusCode::SERVICE_UNAVAILABLE, None)
        .await;
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("the database cannot be read")),
        "{body}"
    );
    assert_eq!(s.json("/health/live").await["status"], "live");
    // Metrics still answer, and say why no traffic should come.
    assert_eq!(ready_gauge().await.as_deref(), Some("movierec_ready 0"));
}

/// The document lists exactly the routes the router serves, and each listed route answers.
#[tokio::test]
async fn openapi_document_matches_the_router() {
    let s = Server::start().await;
    let doc = s.json("/openapi.json").await;
    assert!(doc["openapi"]
        .as_str()
        .is_some_and(|v| v.starts_with("3.1")));
    let paths: BTreeSet<&str> = doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .map(String::as_str)
        .collect();
    let served: BTreeSet<&str> = [
        "/health",
        "/health/live",
        "/health/ready",
        "/metrics",
        "/api/movies",
        "/api/movies/{id}",
        "/api/movies/{id}/similar",
        "/api/movies/popular",
        "/api/genres",
        "/api/catalog/points",
        "/api/users",
        "/api/users/{id}",
        "/api/users/{id}/recommendations",
        "/api/recommendations",
        "/api/models",
        "/api/etl/runs",
        "/api/etl/runs/{run_id}",
        "/api/etl/runs/{run_id}/rejects",
    ]
    .into_iter()
    .collect();
    assert_eq!(paths, served);
    for path in paths {
        if path == "/api/recommendations" {
            assert!(doc["paths"][path]["post"]["responses"]["200"].is_object());
            continue;
        }
        let concrete = path.replace("{id}", "1").replace("{run_id}", "1");
        let r = s.get(&concrete).await;
        // This database has no ratings, so no users: their routes answer, with a 404 problem.
        let expected = if path.starts_with("/api/users/") {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::OK
        };
        assert_eq!(r.status(), expected, "{path} is documented but not served");
        assert!(
            doc["paths"][path]["get"]["responses"]["200"].is_object(),
            "{path}"
        );
    }
    assert_eq!(movierec::web::openapi().paths.paths.len(), served.len());
    let mut operation_ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let op = if item["get"].is_object() {
            &item["get"]
        } else {
            &item["post"]
        };
        let id = op["operationId"].as_str().expect("operationId");
        assert!(operation_ids.insert(id.to_owned()), "{id} is not unique");
        assert!(
            op["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{path} has no description"
        );
    }
    assert!(doc["servers"].is_array() && doc["info"]["license"]["name"].is_string());
}

/// Every operation's example request, sent as Swagger UI's "Try it out" sends it unedited (path
/// parameters and query parameters from their `example`, the body from its schema's `example`),
/// succeeds on a database with movies and ratings.
#[tokio::test]
async fn every_documented_example_succeeds_as_swagger_ui_sends_it() {
    let ratings = tempfile::tempdir().expect("tempdir");
    taste::dataset(ratings.path());
    let s = Server {
        app: app::spawn_app(&[Source::Movielens(ratings.path().to_owned())], |_| {}).await,
        client: reqwest::Client::new(),
    };
    let doc = s.json("/openapi.json").await;
    let mut sent = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("operations") {
            let mut url = path.clone();
            let mut query = Vec::new();
            for p in op["parameters"].as_array().into_iter().flatten() {
                let name = p["name"].as_str().expect("name");
                let example = p.get("example").or_else(|| p["schema"].get("example"));
                match (p["in"].as_str(), example) {
                    (Some("path"), Some(v)) => {
                        url = url.replace(&format!("{{{name}}}"), &plain(v));
                    }
                    (Some("path"), None) => {
                        panic!("{method} {path}: path parameter {name} has no example")
                    }
                    (_, Some(v)) => query.push((name.to_owned(), plain(v))),
                    (_, None) => {}
                }
            }
            let mut request = s
                .client
                .request(
                    method.to_uppercase().parse().expect("method"),
                    format!("{}{url}", s.app.base),
                )
                .query(&query);
            if let Some(body) = op.get("requestBody") {
                let schema = &body["content"]["application/json"]["schema"];
                let schema = match schema["$ref"].as_str() {
                    Some(r) => {
                        &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")]
                    }
                    None => schema,
                };
                let example = schema
                    .get("example")
                    .unwrap_or_else(|| panic!("{method} {path}: the request body has no example"));
                request = request.json(example);
            }
            let response = request.send().await.expect("request");
            let status = response.status();
            let text = response.text().await.unwrap_or_default();
            assert!(
                status.is_success(),
                "{method} {path} as documented ({url}): {status} {text}"
            );
            sent += 1;
        }
    }
    assert_eq!(sent, 18, "every operation was tried");
}

/// A JSON example as the text a form field holds.
fn plain(v: &Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_owned)
}

/// The other direction: every route the server mounts outside the documented API (found in the
/// web layer's source, where a plain `.route(...)` would bypass the OpenAPI router) is one of the
/// dashboard's pages, never an API path.
#[test]
fn every_served_api_route_is_documented() {
    let documented: BTreeSet<String> = movierec::web::openapi()
        .paths
        .paths
        .keys()
        .cloned()
        .collect();
    let pages: BTreeSet<&str> = [
        "/",
        "/catalog",
        "/quality",
        "/for-you",
        "/users",
        "/models",
        "/static/{*path}",
    ]
    .into();
    let mut mounted = Vec::new();
    let mut stack = vec![std::path::PathBuf::from("src/web")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("src/web") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("source");
                for (i, _) in text.match_indices(".route(\"") {
                    let rest = &text[i + ".route(\"".len()..];
                    mounted.push(rest[..rest.find('"').expect("closing quote")].to_owned());
                }
            }
        }
    }
    assert!(
        mounted.iter().any(|p| p == "/catalog"),
        "the scan must see the dashboard's routes: {mounted:?}"
    );
    for path in &mounted {
        assert!(
            documented.contains(path) || pages.contains(path.as_str()),
            "{path} is served but neither documented in the OpenAPI document nor a dashboard page"
        );
    }
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let s = Server::start().await;
    s.get("/api/movies/1/similar?n=5").await;
    s.get("/api/movies/2/similar?n=5").await;
    s.get("/api/movies/1/similar?n=0").await;
    s.get("/nope").await;
    let r = s.get("/metrics").await;
    assert!(r.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .starts_with("application/openmetrics-text"));
    let text = r.text().await.expect("text");
    let line = |needle: &str| {
        text.lines()
            .find(|l| !l.starts_with('#') && l.contains(needle))
            .map(str::to_owned)
    };
    let ok = line(
        r#"movierec_http_requests_total{method="GET",route="/api/movies/{id}/similar",status="200"}"#,
    );
    assert!(ok.as_deref().is_some_and(|l| l.ends_with(" 2")), "{text}");
    assert!(
        line(r#"route="/api/movies/{id}/similar",status="400"}"#).is_some(),
        "{text}"
    );
    assert!(
        line(r#"route="unmatched",status="404"}"#).is_some(),
        "{text}"
    );
    assert!(line("movierec_http_request_duration_seconds_bucket").is_some());
    assert_eq!(
        line("movierec_catalog_movies ").as_deref(),
        Some(&*format!("movierec_catalog_movies {}", s.movie_count()))
    );
    assert!(line("movierec_model_fit_seconds ").is_some());
    assert_eq!(
        line("movierec_last_etl_run_succeeded ").as_deref(),
        Some("movierec_last_etl_run_succeeded 1")
    );
}

#[tokio::test]
async fn a_newer_etl_run_is_picked_up_without_restart() {
    let s = Server::start().await;
    let before = s.json("/health").await["movies"].as_u64().expect("count");
    let csv = s.app.dir.path().join("new.csv");
    std::fs::write(
        &csv,
        "title,release_date,rating\nBrand New Film,2020-02-02,7.7\n",
    )
    .expect("write");
    s.app.etl(&Source::File(csv));
    let mut health = Value::Null;
    for _ in 0..100 {
        health = s.json("/health").await;
        if health["model_run_id"] == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(health["model_run_id"], 2, "{health}");
    assert_eq!(health["movies"].as_u64(), Some(before + 1));
    let found = s.json("/api/movies?q=brand%20new%20film").await;
    let id = found["items"][0]["id"].as_i64().expect("new movie id");
    let similar = s.json(&format!("/api/movies/{id}/similar?n=3")).await;
    assert_eq!(similar["movie"]["title"], "Brand New Film");
    assert_eq!(similar["recommendations"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn a_movie_carries_its_attributes_and_each_providers_rating() {
    let s = Server::start().await;
    let found = s
        .json("/api/movies?q=titanic&year_from=1997&year_to=1997")
        .await;
    let id = found["items"][0]["id"].as_i64().expect("Titanic (1997)");
    let m = s.json(&format!("/api/movies/{id}")).await;
    assert_eq!(m["title"], "Titanic");
    assert_eq!(m["directors"], serde_json::json!(["James Cameron"]));
    let genres: Vec<&str> = m["genres"]
        .as_array()
        .expect("genres")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(!genres.is_empty(), "{m}");
    assert_eq!(m["genre"].as_str(), Some(genres.join("|").as_str()));
    let vega = &m["sources"][0];
    assert_eq!(vega["provider"], "vega");
    assert_eq!(
        (vega["rating"].as_f64(), vega["scale"].as_f64()),
        (Some(7.4), Some(10.0))
    );
    assert_eq!(m["ids"], serde_json::json!(["vega:titanic (1997)"]));
    assert!(m["runtime"].as_u64().is_some_and(|r| r > 120), "{m}");
}

/// Every list names whose ratings make a movie's rating and links its TMDB and IMDb pages; a
/// database from before (schema 9) gets the sources on its next open, as the policy derives them.
#[tokio::test]
async fn movies_name_their_rating_sources_and_their_tmdb_and_imdb_ids() {
    let ml = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        ml.path().join("movies.csv"),
        "movieId,title,genres\n1,Titanic (1997),Drama|Romance\n",
    )
    .expect("movies");
    std::fs::write(
        ml.path().join("links.csv"),
        "movieId,imdbId,tmdbId\n1,0120338,597\n",
    )
    .expect("links");
    let mut ratings = String::from("userId,movieId,rating,timestamp\n");
    for u in 1..=4 {
        ratings.push_str(&format!("{u},1,4.0,{}\n", 1_500_000_000 + u));
    }
    std::fs::write(ml.path().join("ratings.csv"), ratings).expect("ratings");
    let s = Server {
        app: app::spawn_app(&[Source::Movielens(ml.path().to_owned())], |_| {}).await,
        client: reqwest::Client::new(),
    };
    let found = s
        .json("/api/movies?q=titanic&year_from=1997&year_to=1997")
        .await;
    let titanic = &found["items"][0];
    assert_eq!(
        titanic["rating_from"],
        serde_json::json!(["vega", "movielens"]),
        "{titanic}"
    );
    assert_eq!(titanic["tmdb_id"], 597);
    assert_eq!(titanic["imdb_id"], "tt0120338");
    let id = titanic["id"].as_i64().expect("id");
    let one = s.json(&format!("/api/movies/{id}")).await;
    assert_eq!(
        (&one["tmdb_id"], &one["imdb_id"]),
        (&titanic["tmdb_id"], &titanic["imdb_id"])
    );
    // A movie only vega rates, and that no source gave ids.
    let other = s.json("/api/movies?q=avatar&limit=1").await;
    let avatar = &other["items"][0];
    assert_eq!(
        avatar["rating_from"],
        serde_json::json!(["vega"]),
        "{avatar}"
    );
    assert!(
        avatar["tmdb_id"].is_null() && avatar["imdb_id"].is_null(),
        "{avatar}"
    );
    // The hot path of /similar writes the same fields.
    let similar = s
        .json(&format!("/api/movies/{}/similar?n=3", avatar["id"]))
        .await;
    assert!(
        similar["recommendations"][0]["rating_from"].is_array(),
        "{similar}"
    );

    let expected: Vec<(i64, Option<String>)> = {
        let db = rusqlite::Connection::open(&s.app.db).expect("db");
        let mut stmt = db
            .prepare("SELECT MovieID, RatingFrom FROM Movies ORDER BY MovieID")
            .expect("sql");
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("rows");
        let rows: Vec<(i64, Option<String>)> = rows.map(|r| r.expect("row")).collect();
        db.execute_batch("ALTER TABLE Movies DROP COLUMN RatingFrom; PRAGMA user_version = 9;")
            .expect("back to schema 9");
        rows
    };
    drop(Store::open(&s.app.db).expect("migrates"));
    let db = rusqlite::Connection::open(&s.app.db).expect("db");
    let mut stmt = db
        .prepare("SELECT MovieID, RatingFrom FROM Movies ORDER BY MovieID")
        .expect("sql");
    let backfilled: Vec<(i64, Option<String>)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect();
    assert_eq!(backfilled, expected);
}

#[tokio::test]
async fn the_catalog_filters_by_genre_from_one_vocabulary() {
    let s = Server::start().await;
    let genres = s.json("/api/genres").await;
    let list = genres.as_array().expect("genres");
    assert_eq!(list.len(), 20);
    let thriller = list
        .iter()
        .find(|g| g["name"] == "Thriller")
        .expect("Thriller");
    let page = s.json("/api/movies?genre=Thriller&limit=500").await;
    assert_eq!(page["total"], thriller["movies"]);
    let items = page["items"].as_array().expect("items");
    assert!(!items.is_empty());
    assert!(items.iter().all(|m| m["genre"]
        .as_str()
        .is_some_and(|g| g.split('|').any(|x| x == "Thriller"))));
    assert!(
        !items
            .iter()
            .any(|m| m["genre"].as_str().is_some_and(|g| g.contains("Suspense"))),
        "vega's Thriller/Suspense is Thriller"
    );
    let body = s
        .problem(
            "/api/movies?genre=Space%20Opera",
            StatusCode::BAD_REQUEST,
            Some("genre"),
        )
        .await;
    assert!(
        body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("Science Fiction")),
        "the problem lists the genres: {body}"
    );
}

#[tokio::test]
async fn requests_past_max_in_flight_wait_then_get_503_with_retry_after() {
    use tokio::io::AsyncWriteExt;
    let s = Server::start_with(|settings| settings.max_in_flight = 1).await;
    // One request admitted and still being received holds the only slot.
    let addr = s.app.base.trim_start_matches("http://").to_owned();
    let mut slow = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    slow.write_all(
        b"POST /api/recommendations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    )
    .await
    .expect("send a part");
    let mut shed = None;
    for _ in 0..100 {
        let response = s.get("/health").await;
        if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            shed = Some(response);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let shed = shed
        .expect("a second request waits its 5 s, then gets a 503, while the first holds the slot");
    assert_eq!(shed.headers()["retry-after"], "1");
    assert_eq!(shed.headers()["content-type"], "application/problem+json");
    drop(slow);
    let mut status = StatusCode::SERVICE_UNAVAILABLE;
    for _ in 0..100 {
        status = s.get("/health").await.status();
        if status == StatusCode::OK {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        status,
        StatusCode::OK,
        "the slot comes free with the connection"
    );
}
