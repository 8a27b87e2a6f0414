//! A stub of the TMDB v3 API for tests and benchmarks: axum on 127.0.0.1:0 serving movies from a
//! TMDB-export CSV with TMDB's response shapes, paging (and its 500-page cap), its error bodies,
//! its rate limit (429 + Retry-After when exceeded), and injectable faults. It logs every request
//! it sees so tests can check what the client did.
#![allow(dead_code)] // each test binary uses a different part

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use chrono::NaiveDate;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One movie as the stub knows it.
#[derive(Debug, Clone)]
pub struct StubMovie {
    pub id: i64,
    pub title: String,
    pub release_date: Option<NaiveDate>,
    pub vote_average: f64,
    pub vote_count: u64,
    pub popularity: f64,
    pub runtime: Option<u32>,
    pub genres: Vec<(i64, String)>,
    pub keywords: Vec<(i64, String)>,
    pub overview: String,
}

/// Reads a CSV in the layout of the TMDB 5000 export (`tmdb_5000_movies.csv`).
pub fn load_csv(path: &Path) -> Vec<StubMovie> {
    let mut reader = csv::Reader::from_path(path)
        .unwrap_or_else(|e| panic!("cannot read stub data {}: {e}", path.display()));
    let headers = reader.headers().expect("header row").clone();
    let col = |name: &str| {
        headers
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("{}: no column {name}", path.display()))
    };
    let (id, title, date, avg, count, pop, runtime, genres, keywords, overview) = (
        col("id"),
        col("title"),
        col("release_date"),
        col("vote_average"),
        col("vote_count"),
        col("popularity"),
        col("runtime"),
        col("genres"),
        col("keywords"),
        col("overview"),
    );
    let pairs = |text: &str| -> Vec<(i64, String)> {
        serde_json::from_str::<Vec<Value>>(text)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|v| Some((v["id"].as_i64()?, v["name"].as_str()?.to_owned())))
            .collect()
    };
    reader
        .records()
        .map(|r| {
            let r = r.expect("csv record");
            StubMovie {
                id: r[id].parse().expect("id"),
                title: r[title].to_owned(),
                release_date: r[date].parse().ok(),
                vote_average: r[avg].parse().unwrap_or(0.0),
                vote_count: r[count].parse().unwrap_or(0),
                popularity: r[pop].parse().unwrap_or(0.0),
                runtime: r[runtime].parse::<f64>().ok().map(|v| v as u32),
                genres: pairs(&r[genres]),
                keywords: pairs(&r[keywords]),
                overview: r[overview].to_owned(),
            }
        })
        .collect()
}

/// The in-repo fixture (600 invented movies; see tests/fixtures/tmdb/make_fixture.py).
pub fn fixture_movies() -> Vec<StubMovie> {
    load_csv(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tmdb/movies.csv"))
}

/// The 3,000 real records of ../shared/data; fails loudly when they are absent.
pub fn tmdb_5000_movies() -> Vec<StubMovie> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/tmdb-5000/tmdb_5000_movies.csv");
    assert!(
        path.exists(),
        "{} is missing: this test needs the shared TMDB 5000 data beside the repository",
        path.display()
    );
    load_csv(&path)
}

/// Faults injected by request number (1-based, over every request the stub sees).
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Every k-th request: 429; odd ones say Retry-After in the header, even ones only in the body.
    pub rate_limit_every: Option<u64>,
    /// Every m-th request starts a burst of b replies alternating 500 and 503.
    pub error_burst: Option<(u64, u64)>,
    /// Every s-th request is answered only after the given delay.
    pub slow_every: Option<(u64, Duration)>,
    /// Every t-th request gets a 200 whose JSON body is cut in half.
    pub truncate_every: Option<u64>,
}

#[derive(Debug, Clone)]
pub struct StubConfig {
    pub movies: Vec<StubMovie>,
    /// The credential accepted, as `api_key` or as a Bearer token.
    pub key: String,
    pub page_size: usize,
    /// Requests per second allowed per 1 s sliding window; beyond it, 429 (like TMDB's cap).
    pub rate_limit: Option<usize>,
    /// Seconds announced in Retry-After.
    pub retry_after: u64,
    pub faults: Faults,
    /// Movies changed on a day, for /movie/changes.
    pub changes: Vec<(i64, NaiveDate)>,
    /// Ids whose details answer 404.
    pub missing: HashSet<i64>,
}

impl StubConfig {
    pub fn new(movies: Vec<StubMovie>, key: &str) -> Self {
        Self {
            movies,
            key: key.to_owned(),
            page_size: 20,
            rate_limit: None,
            retry_after: 1,
            faults: Faults::default(),
            changes: Vec::new(),
            missing: HashSet::new(),
        }
    }
}

/// One request as the stub saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub at: Instant,
    pub path_and_query: String,
    pub status: u16,
    /// A 429 the stub's rate limit gave (not an injected fault).
    pub over_limit: bool,
}

struct Shared {
    config: Mutex<Arc<StubConfig>>,
    seen: Mutex<Vec<Seen>>,
    burst_left: Mutex<u64>,
}

pub struct Stub {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Stub {
    /// Starts the stub on its own thread and runtime.
    pub fn start(config: StubConfig) -> Stub {
        let shared = Arc::new(Shared {
            config: Mutex::new(Arc::new(config)),
            seen: Mutex::new(Vec::new()),
            burst_left: Mutex::new(0),
        });
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (shutdown, shutdown_rx) = tokio::sync::oneshot::channel::<()>();
        let state = Arc::clone(&shared);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("stub runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                addr_tx
                    .send(listener.local_addr().expect("addr"))
                    .expect("send addr");
                let app = axum::Router::new().fallback(handle).with_state(state);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = shutdown_rx.await;
                    })
                    .await
                    .expect("stub serve");
            });
        });
        let addr = addr_rx.recv().expect("stub address");
        Stub {
            addr,
            shared,
            shutdown: Some(shutdown),
            thread: Some(thread),
        }
    }

    pub fn base_url(&self) -> String {
        format!("http://{}/3", self.addr)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().expect("seen").clone()
    }

    pub fn update(&self, change: impl FnOnce(&mut StubConfig)) {
        change(Arc::make_mut(
            &mut self.shared.config.lock().expect("config"),
        ));
    }

    /// The most requests the stub saw within any one-second window.
    pub fn max_per_second(&self) -> usize {
        max_in_window(&self.seen(), Duration::from_secs(1))
    }
}

impl Drop for Stub {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Most arrivals in any half-open window `[t, t + width)`.
pub fn max_in_window(seen: &[Seen], width: Duration) -> usize {
    let mut times: Vec<Instant> = seen.iter().map(|s| s.at).collect();
    times.sort();
    let mut best = 0;
    let mut start = 0;
    for end in 0..times.len() {
        while times[end].duration_since(times[start]) >= width {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

fn tmdb_error(status: StatusCode, code: u32, message: &str) -> (StatusCode, Value) {
    (
        status,
        json!({"success": false, "status_code": code, "status_message": message}),
    )
}

async fn handle(State(shared): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response {
    let at = Instant::now();
    let path_and_query = uri
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    let config = Arc::clone(&shared.config.lock().expect("config"));
    let (n, over_limit) = {
        let seen = shared.seen.lock().expect("seen");
        let recent = seen
            .iter()
            .rev()
            .take_while(|s| at.duration_since(s.at) < Duration::from_secs(1))
            .count();
        (
            seen.len() as u64 + 1,
            config.rate_limit.is_some_and(|limit| recent >= limit),
        )
    };
    let mut delay = None;
    let mut truncate = false;
    let mut extra_headers = Vec::new();
    let (status, body) = if over_limit {
        extra_headers.push(("retry-after", config.retry_after.to_string()));
        let (s, mut b) = tmdb_error(
            StatusCode::TOO_MANY_REQUESTS,
            25,
            "Your request count (#) is over the allowed limit of (40).",
        );
        b["retry_after"] = json!(config.retry_after);
        (s, b)
    } else if !authorized(&uri, &headers, &config.key) {
        tmdb_error(
            StatusCode::UNAUTHORIZED,
            7,
            "Invalid API key: You must be granted a valid key.",
        )
    } else if let Some(fault) = injected(&shared, &config.faults, n) {
        match fault {
            Fault::RateLimit { in_header } => {
                let (s, mut b) = tmdb_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    25,
                    "Your request count (#) is over the allowed limit of (40).",
                );
                if in_header {
                    extra_headers.push(("retry-after", config.retry_after.to_string()));
                } else {
                    b["retry_after"] = json!(config.retry_after);
                }
                (s, b)
            }
            Fault::Server(status) => tmdb_error(
                status,
                11,
                "Internal error: Something went wrong, contact TMDB.",
            ),
            Fault::Slow(d) => {
                delay = Some(d);
                route(&config, &uri)
            }
            Fault::Truncate => {
                truncate = true;
                route(&config, &uri)
            }
        }
    } else {
        route(&config, &uri)
    };
    shared.seen.lock().expect("seen").push(Seen {
        at,
        path_and_query,
        status: status.as_u16(),
        over_limit,
    });
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    let mut text = body.to_string();
    if truncate {
        text.truncate(text.len() / 2);
    }
    let mut response = Response::builder()
        .status(status)
        .header("content-type", "application/json;charset=utf-8");
    for (name, value) in extra_headers {
        response = response.header(name, value);
    }
    response.body(Body::from(text)).expect("response")
}

fn authorized(uri: &Uri, headers: &HeaderMap, key: &str) -> bool {
    let by_query = query(uri).get("api_key").is_some_and(|k| k == key);
    let by_header = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {key}"));
    by_query || by_header
}

enum Fault {
    RateLimit { in_header: bool },
    Server(StatusCode),
    Slow(Duration),
    Truncate,
}

fn injected(shared: &Shared, faults: &Faults, n: u64) -> Option<Fault> {
    let mut burst_left = shared.burst_left.lock().expect("burst");
    if let Some((every, len)) = faults.error_burst {
        if n % every == 0 {
            *burst_left = len;
        }
    }
    if *burst_left > 0 {
        *burst_left -= 1;
        let status = if *burst_left % 2 == 0 {
            StatusCode::SERVICE_UNAVAILABLE
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        };
        return Some(Fault::Server(status));
    }
    if let Some(k) = faults.rate_limit_every.filter(|k| n % k == 0) {
        return Some(Fault::RateLimit {
            in_header: (n / k) % 2 == 1,
        });
    }
    if let Some((s, d)) = faults.slow_every.filter(|(s, _)| n % s == 0) {
        let _ = s;
        return Some(Fault::Slow(d));
    }
    if faults.truncate_every.is_some_and(|t| n % t == 0) {
        return Some(Fault::Truncate);
    }
    None
}

fn query(uri: &Uri) -> HashMap<String, String> {
    uri.query()
        .map(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .into_owned()
                .collect()
        })
        .unwrap_or_default()
}

/// Serves one authorised request like TMDB.
fn route(config: &StubConfig, uri: &Uri) -> (StatusCode, Value) {
    let q = query(uri);
    let path = uri.path();
    let not_found = || {
        tmdb_error(
            StatusCode::NOT_FOUND,
            34,
            "The resource you requested could not be found.",
        )
    };
    match path {
        "/3/genre/movie/list" => {
            let genres: BTreeMap<i64, String> = config
                .movies
                .iter()
                .flat_map(|m| m.genres.iter().cloned())
                .collect();
            let list: Vec<Value> = genres
                .into_iter()
                .map(|(id, name)| json!({"id": id, "name": name}))
                .collect();
            (StatusCode::OK, json!({ "genres": list }))
        }
        "/3/discover/movie" => discover(config, &q),
        "/3/movie/changes" => changes(config, &q),
        _ => {
            let Some(id) = path
                .strip_prefix("/3/movie/")
                .and_then(|s| s.parse::<i64>().ok())
            else {
                return not_found();
            };
            match config.movies.iter().find(|m| m.id == id) {
                Some(m) if !config.missing.contains(&id) => {
                    (StatusCode::OK, details(m, q.get("append_to_response")))
                }
                _ => not_found(),
            }
        }
    }
}

fn page_param(q: &HashMap<String, String>) -> Result<usize, (StatusCode, Value)> {
    match q.get("page").map(|p| p.parse::<usize>()) {
        None => Ok(1),
        Some(Ok(p)) if (1..=500).contains(&p) => Ok(p),
        _ => Err(tmdb_error(
            StatusCode::BAD_REQUEST,
            22,
            "Invalid page: Pages start at 1 and max at 500. They are expected to be an integer.",
        )),
    }
}

fn date_param(q: &HashMap<String, String>, name: &str) -> Option<NaiveDate> {
    q.get(name).and_then(|d| d.parse().ok())
}

fn paged(items: Vec<Value>, page: usize, page_size: usize) -> Value {
    let total = items.len();
    let results: Vec<Value> = items
        .into_iter()
        .skip((page - 1) * page_size)
        .take(page_size)
        .collect();
    json!({
        "page": page,
        "results": results,
        "total_pages": total.div_ceil(page_size),
        "total_results": total,
    })
}

fn discover(config: &StubConfig, q: &HashMap<String, String>) -> (StatusCode, Value) {
    let page = match page_param(q) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let gte = date_param(q, "primary_release_date.gte");
    let lte = date_param(q, "primary_release_date.lte");
    let mut movies: Vec<&StubMovie> = config
        .movies
        .iter()
        .filter(|m| {
            m.release_date
                .is_some_and(|d| gte.is_none_or(|g| d >= g) && lte.is_none_or(|l| d <= l))
        })
        .collect();
    movies.sort_by_key(|m| (m.release_date, m.id));
    let items = movies.into_iter().map(summary).collect();
    (StatusCode::OK, paged(items, page, config.page_size))
}

fn changes(config: &StubConfig, q: &HashMap<String, String>) -> (StatusCode, Value) {
    let page = match page_param(q) {
        Ok(p) => p,
        Err(e) => return e,
    };
    let (Some(start), Some(end)) = (date_param(q, "start_date"), date_param(q, "end_date")) else {
        return tmdb_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            47,
            "The input is not valid.",
        );
    };
    if end < start || (end - start).num_days() > 14 {
        return tmdb_error(
            StatusCode::UNPROCESSABLE_ENTITY,
            47,
            "Invalid date range: Should be a range no longer than 14 days.",
        );
    }
    let mut ids: Vec<i64> = config
        .changes
        .iter()
        .filter(|(_, d)| *d >= start && *d <= end)
        .map(|(id, _)| *id)
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let items = ids
        .into_iter()
        .map(|id| json!({"id": id, "adult": false}))
        .collect();
    (StatusCode::OK, paged(items, page, 100))
}

fn date_text(m: &StubMovie) -> String {
    m.release_date.map(|d| d.to_string()).unwrap_or_default()
}

fn summary(m: &StubMovie) -> Value {
    json!({
        "adult": false,
        "genre_ids": m.genres.iter().map(|g| g.0).collect::<Vec<_>>(),
        "id": m.id,
        "original_language": "en",
        "original_title": m.title,
        "overview": m.overview,
        "popularity": m.popularity,
        "release_date": date_text(m),
        "title": m.title,
        "video": false,
        "vote_average": m.vote_average,
        "vote_count": m.vote_count,
    })
}

/// `/movie/{id}`: like TMDB, `keywords` and `credits` come only when `append_to_response` (a
/// comma-separated list) asks for them; names it does not know are ignored.
fn details(m: &StubMovie, append: Option<&String>) -> Value {
    let wants = |name: &str| append.is_some_and(|a| a.split(',').any(|n| n.trim() == name));
    let named = |pairs: &[(i64, String)]| -> Vec<Value> {
        pairs
            .iter()
            .map(|(id, name)| json!({"id": id, "name": name}))
            .collect()
    };
    // The export has no credits: the stub invents a stable cast and director per movie.
    let cast: Vec<Value> = (0..8)
        .map(|k| json!({"name": format!("Actor {}-{k}", m.id), "order": k, "character": "Self"}))
        .collect();
    let mut body = json!({
        "adult": false,
        "id": m.id,
        "imdb_id": format!("tt{:07}", m.id),
        "title": m.title,
        "original_title": m.title,
        "release_date": date_text(m),
        "vote_average": m.vote_average,
        "vote_count": m.vote_count,
        "popularity": m.popularity,
        "runtime": m.runtime,
        "overview": m.overview,
        "status": "Released",
        "genres": named(&m.genres),
    });
    if wants("keywords") {
        body["keywords"] = json!({"keywords": named(&m.keywords)});
    }
    if wants("credits") {
        body["credits"] = json!({
            "cast": cast,
            "crew": [{"name": format!("Director {}", m.id), "job": "Director", "department": "Directing"}],
        });
    }
    body
}
