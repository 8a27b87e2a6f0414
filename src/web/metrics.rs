//! Prometheus metrics (OpenMetrics text): requests and latency per route and status, catalog
//! size, model fit time, and the last ETL run.

use crate::domain::etl::{EtlRun, EtlRunStatus};
use crate::recommend::Engine;
use axum::extract::{MatchedPath, Request};
use axum::http::Method;
use axum::response::Response;
use pin_project_lite::pin_project;
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::fmt::Write as _;
use std::future::Future;
use std::hash::{Hash, Hasher};
use std::pin::Pin;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Labels of one request. Built per request without allocating: the method and the matched
/// route template are shared values.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: MethodLabel,
    route: RouteLabel,
    status: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct MethodLabel(Method);

impl EncodeLabelValue for MethodLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.0.as_str())
    }
}

/// A route template (`/api/movies/{id}`), or `unmatched` for a path no route knows.
#[derive(Debug, Clone)]
enum RouteLabel {
    Matched(MatchedPath),
    Unmatched,
}

impl RouteLabel {
    fn as_str(&self) -> &str {
        match self {
            RouteLabel::Matched(path) => path.as_str(),
            RouteLabel::Unmatched => "unmatched",
        }
    }
}

impl PartialEq for RouteLabel {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for RouteLabel {}

impl Hash for RouteLabel {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

impl EncodeLabelValue for RouteLabel {
    fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
        encoder.write_str(self.as_str())
    }
}

fn latency_histogram() -> Histogram {
    // 50 µs .. ~1.6 s
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

/// All metrics of one server, registered once.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RequestLabels, Histogram, fn() -> Histogram>,
    catalog_movies: Gauge,
    model_fit_seconds: Gauge<f64, AtomicU64>,
    catalog_run_id: Gauge,
    model_id: Gauge,
    last_run_id: Gauge,
    last_run_succeeded: Gauge,
    ready: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("movierec");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RequestLabels, Histogram, fn() -> Histogram>::new_with_constructor(
            latency_histogram,
        );
        let catalog_movies = Gauge::default();
        let model_fit_seconds = Gauge::<f64, AtomicU64>::default();
        let catalog_run_id = Gauge::default();
        let model_id = Gauge::default();
        let last_run_id = Gauge::default();
        let last_run_succeeded = Gauge::default();
        let ready = Gauge::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, route and status",
            requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by method, route and status",
            latency.clone(),
        );
        registry.register(
            "catalog_movies",
            "Movies in the served catalog",
            catalog_movies.clone(),
        );
        registry.register(
            "model_fit_seconds",
            "Seconds to load the catalog and fit the model, last time",
            model_fit_seconds.clone(),
        );
        registry.register(
            "catalog_etl_run_id",
            "ETL run the served catalog was loaded after",
            catalog_run_id.clone(),
        );
        registry.register(
            "model_id",
            "Trained model served (0: none); replicas that agree serve the same one",
            model_id.clone(),
        );
        registry.register(
            "last_etl_run_id",
            "Newest ETL run in the database",
            last_run_id.clone(),
        );
        registry.register(
            "last_etl_run_succeeded",
            "1 if the newest ETL run succeeded, 0 if it failed",
            last_run_succeeded.clone(),
        );
        registry.register(
            "ready",
            "1 while this server takes traffic (database readable, not draining), else 0",
            ready.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            catalog_movies,
            model_fit_seconds,
            catalog_run_id,
            model_id,
            last_run_id,
            last_run_succeeded,
            ready,
        }
    }
}

impl Metrics {
    pub fn observe_engine(&self, engine: &Engine) {
        self.catalog_movies.set(engine.movies().len() as i64);
        self.model_fit_seconds.set(engine.fit_seconds);
        self.catalog_run_id.set(engine.run_id.map_or(0, |r| r.0));
        self.model_id.set(engine.model_id.unwrap_or(0));
    }

    pub fn observe_last_run(&self, run: Option<&EtlRun>) {
        self.last_run_id.set(run.map_or(0, |r| r.run_id.0));
        self.last_run_succeeded.set(i64::from(
            run.is_some_and(|r| r.status == EtlRunStatus::Succeeded),
        ));
    }

    /// Whether this server takes traffic, as `/health/ready` would say.
    pub fn observe_ready(&self, ready: bool) {
        self.ready.set(i64::from(ready));
    }

    /// The registry in OpenMetrics text format.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

impl Metrics {
    fn observe_request(&self, labels: &RequestLabels, seconds: f64) {
        self.requests.get_or_create(labels).inc();
        self.latency.get_or_create(labels).observe(seconds);
    }
}

/// Counts a request no route matched (the fallback), under the route `unmatched`.
pub fn track_unmatched(metrics: &Metrics, method: &Method) {
    let labels = RequestLabels {
        method: MethodLabel(method.clone()),
        route: RouteLabel::Unmatched,
        status: 404,
    };
    metrics.requests.get_or_create(&labels).inc();
}

/// Layer that counts and times every request under its route template (`/api/movies/{id}`), so
/// ids do not explode the label set, and records that route on the request's log span. Installed
/// as a route layer, so it sees matched routes only. A plain tower service: no boxing, no
/// allocation per request.
#[derive(Clone)]
pub struct TrackLayer {
    metrics: Arc<Metrics>,
}

impl TrackLayer {
    pub fn new(metrics: Arc<Metrics>) -> Self {
        Self { metrics }
    }
}

impl<S> tower::Layer<S> for TrackLayer {
    type Service = Track<S>;

    fn layer(&self, inner: S) -> Track<S> {
        Track {
            inner,
            metrics: Arc::clone(&self.metrics),
        }
    }
}

/// The service [`TrackLayer`] wraps around each route.
#[derive(Clone)]
pub struct Track<S> {
    inner: S,
    metrics: Arc<Metrics>,
}

impl<S> tower::Service<Request> for Track<S>
where
    S: tower::Service<Request, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = TrackFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let route = match request.extensions().get::<MatchedPath>() {
            Some(path) => RouteLabel::Matched(path.clone()),
            None => RouteLabel::Unmatched,
        };
        tracing::Span::current().record("route", route.as_str());
        TrackFuture {
            method: MethodLabel(request.method().clone()),
            route: Some(route),
            metrics: Arc::clone(&self.metrics),
            started: Instant::now(),
            inner: self.inner.call(request),
        }
    }
}

pin_project! {
    /// A request in flight; observed once its response is ready.
    pub struct TrackFuture<F> {
        #[pin]
        inner: F,
        method: MethodLabel,
        route: Option<RouteLabel>,
        metrics: Arc<Metrics>,
        started: Instant,
    }
}

impl<F, E> Future for TrackFuture<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = std::task::ready!(this.inner.poll(cx));
        if let (Ok(response), Some(route)) = (&result, this.route.take()) {
            let labels = RequestLabels {
                method: this.method.clone(),
                route,
                status: response.status().as_u16(),
            };
            this.metrics
                .observe_request(&labels, this.started.elapsed().as_secs_f64());
        }
        Poll::Ready(result)
    }
}
