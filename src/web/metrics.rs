//! Prometheus metrics (OpenMetrics text): requests and latency per route and status, catalog
//! size, model fit time, and the last ETL run.

use crate::domain::etl::{EtlRun, EtlRunStatus};
use crate::recommend::Snapshot;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::time::Instant;

pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
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
    last_run_id: Gauge,
    last_run_succeeded: Gauge,
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
        let last_run_id = Gauge::default();
        let last_run_succeeded = Gauge::default();
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
            "last_etl_run_id",
            "Newest ETL run in the database",
            last_run_id.clone(),
        );
        registry.register(
            "last_etl_run_succeeded",
            "1 if the newest ETL run succeeded, 0 if it failed",
            last_run_succeeded.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            catalog_movies,
            model_fit_seconds,
            catalog_run_id,
            last_run_id,
            last_run_succeeded,
        }
    }
}

impl Metrics {
    pub fn observe_snapshot(&self, snapshot: &Snapshot) {
        self.catalog_movies.set(snapshot.movies().len() as i64);
        self.model_fit_seconds.set(snapshot.fit_seconds);
        self.catalog_run_id.set(snapshot.run_id.map_or(0, |r| r.0));
    }

    pub fn observe_last_run(&self, run: Option<&EtlRun>) {
        self.last_run_id.set(run.map_or(0, |r| r.run_id.0));
        self.last_run_succeeded.set(i64::from(
            run.is_some_and(|r| r.status == EtlRunStatus::Succeeded),
        ));
    }

    /// The registry in OpenMetrics text format.
    pub fn render(&self) -> Result<String, std::fmt::Error> {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// Middleware: counts and times every request under its route template (`/api/movies/{id}`),
/// so ids do not explode the label set, and records that route on the request's log span. Installed
/// as a route layer, so it sees matched routes only.
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unknown".to_owned(), |p| p.as_str().to_owned());
    tracing::Span::current().record("route", route.as_str());
    let response = next.run(request).await;
    let labels = RequestLabels {
        method,
        route,
        status: response.status().as_u16(),
    };
    metrics.requests.get_or_create(&labels).inc();
    metrics
        .latency
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    response
}

/// Counts a request no route matched (the fallback), under the route `unmatched`.
pub fn track_unmatched(metrics: &Metrics, method: &axum::http::Method) {
    let labels = RequestLabels {
        method: method.to_string(),
        route: "unmatched".to_owned(),
        status: 404,
    };
    metrics.requests.get_or_create(&labels).inc();
}
