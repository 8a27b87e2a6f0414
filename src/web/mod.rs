//! The web layer: the REST API (axum handlers, one module per resource, OpenAPI generated from
//! them with utoipa, Swagger UI embedded at `/docs`) and the dashboard, sharing one state and one
//! error type, behind the production layers.

mod bodies;
mod dashboard;
pub mod error;
mod etl_runs;
mod health;
pub mod metrics;
mod models;
mod movies;
mod params;
mod recommendations;
pub mod state;
mod users;

use axum::extract::{Request, State};
use axum::http::{header, HeaderName, HeaderValue, Method, StatusCode};

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use axum::Router;
use error::{ApiError, PROBLEM_JSON};
use state::AppState;
use std::convert::Infallible;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::util::MapResponseLayer;
use tower::{Service, ServiceBuilder};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::map_response_body::MapResponseBodyLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::SwaggerUi;

/// What the web layer needs to know; the application's settings fill it (defaults live there).
#[derive(Debug, Clone)]
pub struct WebConfig {
    pub request_timeout: Duration,
    pub body_limit: usize,
    /// Origins allowed by CORS; empty means CORS is off.
    pub cors_origins: Vec<HeaderValue>,
    /// How often to look for a newer successful ETL run.
    pub reload_interval: Duration,
    /// Requests handled at once; more wait their turn (in order, holding no thread) up to
    /// [`state::DB_WAIT`], then get a 503 with `Retry-After`.
    pub max_in_flight: usize,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "movierec",
        description = "Movie catalog, ETL lineage and content-based recommendations. Reads only its SQLite database.",
        contact(name = "movierec maintainers", url = "https://github.com/movierec/movierec"),
        license(name = "MIT", url = "https://opensource.org/licenses/MIT")
    ),
    servers((url = "/", description = "The server this document is served from")),
    tags(
        (name = "movies", description = "The catalog and recommendations"),
        (name = "etl", description = "ETL runs, audit reports and rejected rows"),
        (name = "users", description = "Personal recommendations: for users of the ratings table, and for anyone from the ratings they send"),
        (name = "models", description = "Models trained on the ratings (`movierec train`)"),
        (name = "operations", description = "Health and metrics")
    )
)]
struct ApiDoc;

/// The API routes with their OpenAPI document; the two are built from the same handler list, so
/// they cannot drift apart.
fn api_routes() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::health))
        .routes(routes!(health::live))
        .routes(routes!(health::ready))
        .routes(routes!(health::metrics))
        .routes(routes!(movies::list))
        .routes(routes!(movies::get))
        .routes(routes!(movies::genres))
        .routes(routes!(movies::popular))
        .routes(routes!(movies::similar))
        .routes(routes!(movies::points))
        .routes(routes!(users::list))
        .routes(routes!(users::get))
        .routes(routes!(users::recommendations))
        .routes(routes!(recommendations::recommend))
        .routes(routes!(models::list))
        .routes(routes!(etl_runs::list))
        .routes(routes!(etl_runs::get))
        .routes(routes!(etl_runs::rejects))
        .split_for_parts();
    prune_unused_schemas(&mut doc);
    (router, doc)
}

/// Drops component schemas nothing refers to. utoipa registers the type argument of a generic
/// response (`Page<Reject>`) as a component of its own although it inlines it, and an unused
/// component is noise to clients generated from the document.
fn prune_unused_schemas(doc: &mut utoipa::openapi::OpenApi) {
    loop {
        let text = serde_json::to_string(&*doc).unwrap_or_default();
        let Some(components) = doc.components.as_mut() else {
            return;
        };
        let unused: Vec<String> = components
            .schemas
            .keys()
            .filter(|name| !text.contains(&format!("\"#/components/schemas/{name}\"")))
            .cloned()
            .collect();
        if unused.is_empty() {
            return;
        }
        for name in unused {
            components.schemas.remove(&name);
        }
    }
}

/// The OpenAPI document the server publishes at `/openapi.json`.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_routes().1
}

/// The whole application: routes, docs and every layer.
///
/// The production layers wrap the router once, as one service (not `Router::layer`, which
/// wraps every route and clones that boxed stack on each request); only the metrics, which need
/// the matched route, are a route layer. Outermost first: panics become 500 problems, request
/// ids, the request log, problem documents and security headers, admission (at most
/// `max_in_flight` requests at once), the timeout, the body limit, compression, CORS.
pub fn app(
    state: AppState,
    config: &WebConfig,
) -> impl Service<
    Request,
    Response = Response,
    Error = Infallible,
    Future = impl Future<Output = Result<Response, Infallible>> + Send + 'static,
> + Clone
       + Send
       + Sync
       + 'static {
    let (api, openapi) = api_routes();
    let api = api
        .merge(dashboard::routes())
        .route_layer(metrics::TrackLayer::new(state.metrics.clone()))
        .fallback(unmatched)
        .with_state(state);
    let cors = if config.cors_origins.is_empty() {
        None
    } else {
        Some(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(config.cors_origins.clone()))
                .allow_methods([Method::GET, Method::HEAD, Method::POST])
                .allow_headers([header::CONTENT_TYPE]),
        )
    };
    let router = Router::new()
        .merge(SwaggerUi::new("/docs").url("/openapi.json", openapi))
        .merge(api);
    ServiceBuilder::new()
        .layer(MapResponseBodyLayer::new(Body::new))
        .layer(CatchPanicLayer::custom(|_panic: Box<dyn std::any::Any + Send>| {
            ApiError::internal("a handler panicked").into_response()
        }))
        .layer(SetRequestIdLayer::x_request_id(RequestIds::default()))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request| {
                    let id = request
                        .headers()
                        .get("x-request-id")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    // `route` (the matched template) is filled in by the metrics layer once routed.
                    tracing::info_span!("request", id, method = %request.method(), path = request.uri().path(), route = tracing::field::Empty)
                })
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO).latency_unit(tower_http::LatencyUnit::Micros)),
        )
        .layer(MapResponseLayer::new(finish_response))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(Semaphore::new(config.max_in_flight)),
            admit,
        ))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout,
        ))
        .layer(MapResponseBodyLayer::new(Body::new))
        .layer(RequestBodyLimitLayer::new(config.body_limit))
        .layer(CompressionLayer::new())
        .option_layer(cors)
        .service(router)
}

/// Admits a request once fewer than `max_in_flight` are being handled. A flood of connections
/// waits here — a task each, no thread, fair order — and one that waits longer than
/// [`state::DB_WAIT`] is told to come back (503, `Retry-After`): bounded work and memory
/// without failing requests a short queue would have served.
async fn admit(
    State(gate): State<Arc<Semaphore>>,
    request: Request,
    next: axum::middleware::Next,
) -> Response {
    // The usual case, a free slot, sets no timer.
    let permit = match gate.try_acquire() {
        Ok(permit) => Ok(permit),
        Err(_) => match tokio::time::timeout(state::DB_WAIT, gate.acquire()).await {
            Ok(Ok(permit)) => Ok(permit),
            _ => Err(()),
        },
    };
    match permit {
        Ok(_permit) => next.run(request).await,
        Err(()) => ApiError::unavailable(
            "the server is handling as many requests as it takes; retry shortly",
        )
        .into_response(),
    }
}

/// Headers every response carries unless a handler set its own.
const SECURITY_HEADERS: [(HeaderName, &str); 4] = [
    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    (header::X_FRAME_OPTIONS, "DENY"),
    (header::REFERRER_POLICY, "no-referrer"),
    (
        header::CONTENT_SECURITY_POLICY,
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; \
         object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    ),
];

/// The last step of every response: errors produced outside the handlers (405 from the router,
/// 408 from the timeout, 413 from the body limit) come with no body, so they get the same problem
/// document as every other error; and the security headers are added. A plain function over
/// the response (tower's `MapResponse`): no boxing, no cloned service per request.
fn finish_response(response: Response) -> Response {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(PROBLEM_JSON.as_bytes()));
    let mut response = if (status.is_client_error() || status.is_server_error()) && !is_problem {
        let (mut parts, _) = response.into_parts();
        let problem = ApiError::from_status(status).into_response();
        parts.headers.remove(header::CONTENT_LENGTH);
        parts
            .headers
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        Response::from_parts(parts, problem.into_body())
    } else {
        response
    };
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers
            .entry(name)
            .or_insert_with(|| HeaderValue::from_static(value));
    }
    response
}

/// 404 for a path no route knows, counted under the route `unmatched`.
async fn unmatched(State(state): State<AppState>, request: Request) -> ApiError {
    metrics::track_unmatched(&state.metrics, request.method());
    ApiError::not_found(format!(
        "no route {}; see /docs for the API",
        request.uri().path()
    ))
}

/// Request ids: a per-process random prefix and a counter, cheap and unique enough for logs.
#[derive(Clone)]
struct RequestIds {
    prefix: u32,
    next: Arc<AtomicU64>,
}

impl Default for RequestIds {
    fn default() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        Self {
            prefix: nanos ^ std::process::id(),
            next: Arc::new(AtomicU64::new(1)),
        }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _request: &axum::http::Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        HeaderValue::from_str(&format!("{:08x}-{n}", self.prefix))
            .ok()
            .map(RequestId::new)
    }
}

/// Serves `state` on `listener` until `shutdown` resolves, then drains in-flight requests.
/// A background task swaps in a new catalog when a newer ETL run succeeds (polled every
/// `reload_interval`, or at once on SIGHUP).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    config: &WebConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // Registered before the "listening" line: an early SIGHUP must not meet its default action (exit).
    #[cfg(unix)]
    let hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    #[cfg(not(unix))]
    let hangups = None;
    let addr = listener.local_addr()?;
    tracing::info!(
        %addr,
        movies = state.engine.load().movies().len(),
        "listening on http://{addr}/ (API docs at http://{addr}/docs)"
    );
    let reloader = tokio::spawn(reload_loop(state.clone(), config.reload_interval, hangups));
    let app = app(state, config);
    let result = axum::serve(
        listener,
        axum::ServiceExt::<Request>::into_make_service(app),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    reloader.abort();
    result
}

/// What a server answers while its database cannot be reached at start, until `ready`
/// resolves: `/health/live` 200 (the process is fine: do not restart it), everything else a
/// 503 problem with `Retry-After`, naming why (`why`, updated by whoever keeps trying).
pub async fn serve_starting(
    listener: TcpListener,
    why: Arc<std::sync::Mutex<String>>,
    ready: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = Router::new()
        .route("/health/live", axum::routing::get(health::live))
        .fallback(move || {
            let why = why.lock().map(|w| w.clone()).unwrap_or_default();
            async move { ApiError::unreachable(format!("starting: {why}")).into_response() }
        });
    axum::serve(listener, router)
        .with_graceful_shutdown(ready)
        .await
}

#[cfg(unix)]
type Hangups = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Hangups = Option<std::convert::Infallible>;

async fn reload_loop(state: AppState, every: Duration, mut hangups: Hangups) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let hangup = async {
            match hangups.as_mut() {
                #[cfg(unix)]
                Some(signal) => signal.recv().await,
                _ => std::future::pending().await,
            }
        };
        tokio::select! {
            _ = tick.tick() => {}
            _ = hangup => tracing::info!("SIGHUP: checking for a newer catalog"),
            _ = state.changes.notified() => tracing::debug!("the database announced a change"),
        }
        if let Err(e) = state.reload_if_newer().await {
            tracing::warn!(problem = ?e.problem(), "catalog reload failed; still serving the previous one");
        }
    }
}
