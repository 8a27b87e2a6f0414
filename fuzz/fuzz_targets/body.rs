//! `POST /api/recommendations` bodies through the real application (every layer, the JSON
//! extractor and the checks), on the embedded dataset: any body is answered, never with a 500.
#![no_main]
use axum::body::Body;
use axum::extract::Request;
use libfuzzer_sys::fuzz_target;
use movierec::domain::etl::Source;
use movierec::domain::source::RatingPolicy;
use movierec::store::Store;
use movierec::web::state::AppState;
use movierec::web::{app, WebConfig};
use std::sync::OnceLock;
use std::time::Duration;
use axum::response::Response;
use tower::util::BoxCloneService;
use tower::ServiceExt;

struct Served {
    _dir: tempfile::TempDir,
    runtime: tokio::runtime::Runtime,
    state: AppState,
    config: WebConfig,
}

type App = BoxCloneService<Request, Response, std::convert::Infallible>;

thread_local! {
    /// The application, built once: building the router and its OpenAPI document per input
    /// would make this target a few dozen runs a second.
    static APP: App = {
        let s = served();
        BoxCloneService::new(app(s.state.clone(), &s.config))
    };
}

fn served() -> &'static Served {
    static SERVED: OnceLock<Served> = OnceLock::new();
    SERVED.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("m.db");
        let mut store = Store::open(&db).expect("open");
        movierec::etl::run(&mut store, dir.path(), &Source::Embedded, &RatingPolicy::VoteWeighted)
            .expect("etl");
        drop(store);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let state = AppState::open(&db, dir.path(), 2).expect("state");
        let config = WebConfig {
            request_timeout: Duration::from_secs(10),
            body_limit: 65_536,
            cors_origins: Vec::new(),
            reload_interval: Duration::from_secs(3600),
            max_in_flight: 64,
        };
        Served { _dir: dir, runtime, state, config }
    })
}

fuzz_target!(|data: &[u8]| {
    let s = served();
    let request = Request::post("/api/recommendations")
        .header("content-type", "application/json")
        .body(Body::from(data.to_vec()))
        .expect("request");
    let service = APP.with(App::clone);
    let response = s.runtime.block_on(service.oneshot(request)).expect("infallible");
    assert_ne!(response.status().as_u16(), 500, "{:?}", String::from_utf8_lossy(data));
});
