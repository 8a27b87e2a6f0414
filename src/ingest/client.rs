//! The HTTP client of the movie API: credentials, one rate limiter shared by every request,
//! `429` pauses shared too, retries with exponential backoff and jitter (backon), a gate that
//! reserves each request against the daily quota before it is sent, and the raw zone that keeps
//! every response received.

use super::raw::{Envelope, RawZone, KEPT_HEADERS};
use super::tmdb::{self, Request};
use crate::domain::ingest::{KeptResponse, ResponseKind, ResponseOutcome};
use crate::store::StoreError;
use backon::{ExponentialBuilder, Retryable};
use chrono::{NaiveDate, Utc};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use secrecy::{ExposeSecret, SecretString};
use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How the client proves who it is. Never printed: `Debug` shows only the kind.
pub enum Credentials {
    /// A v3 API key, sent as the `api_key` query parameter.
    ApiKey(SecretString),
    /// A v4 read access token, sent as `Authorization: Bearer`.
    Bearer(SecretString),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Credentials::ApiKey(_) => "Credentials::ApiKey(***)",
            Credentials::Bearer(_) => "Credentials::Bearer(***)",
        })
    }
}

impl Credentials {
    /// `TMDB_ACCESS_TOKEN` (preferred: it travels in a header, not the URL) or `TMDB_API_KEY`.
    pub fn from_env() -> Option<Self> {
        let var = |name| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        var("TMDB_ACCESS_TOKEN")
            .map(|t| Credentials::Bearer(SecretString::from(t.trim().to_owned())))
            .or_else(|| var("TMDB_API_KEY").map(|k| Credentials::ApiKey(k.trim().into())))
    }
}

/// Why a request was not sent at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stop {
    /// The daily quota for this UTC day is used up.
    Quota { day: NaiveDate, quota: u64 },
    /// This invocation's `--max-requests` is reached.
    MaxRequests(u64),
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Quota { day, quota } => {
                write!(
                    f,
                    "the daily quota of {quota} requests for {day} (UTC) is used up"
                )
            }
            Stop::MaxRequests(n) => write!(f, "--max-requests {n} reached"),
        }
    }
}

/// Decides, before each request is sent, whether it may be: the quota ledger lives in the
/// database so that every process and run shares it.
pub trait Gate: Send + Sync {
    fn reserve(&self) -> Result<(), GateError>;
}

#[derive(Debug, thiserror::Error)]
pub enum GateError {
    #[error("{0}")]
    Stop(Stop),
    #[error("quota ledger: {0}")]
    Store(#[from] StoreError),
}

/// Why a request failed for good (after any retries).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("the movie API at {base} rejected the credentials (401 Unauthorized): check TMDB_API_KEY or TMDB_ACCESS_TOKEN")]
    Unauthorized { base: String },
    #[error("not found (404): {url}")]
    NotFound { url: String },
    #[error("{0}")]
    Stopped(Stop),
    #[error("malformed reply from {url}: {detail}")]
    Malformed { url: String, detail: String },
    #[error("HTTP {status} from {url}")]
    Status { url: String, status: u16 },
    #[error("cannot reach the movie API at {base}: {detail}")]
    Connect { base: String, detail: String },
    #[error("no reply from {url} within {timeout_ms} ms")]
    Timeout { url: String, timeout_ms: u128 },
    #[error("request to {url} failed: {detail}")]
    Transport { url: String, detail: String },
    #[error("raw zone: {0}")]
    Raw(#[from] std::io::Error),
    #[error("{0}")]
    Gate(GateError),
}

impl FetchError {
    /// Errors worth another attempt: the server or the network may recover.
    fn retryable(&self) -> bool {
        matches!(
            self,
            FetchError::Status { status, .. } if *status == 429 || *status >= 500
        ) || matches!(
            self,
            FetchError::Malformed { .. }
                | FetchError::Connect { .. }
                | FetchError::Timeout { .. }
                | FetchError::Transport { .. }
        )
    }
}

/// Tunables of the client; the CLI fills them from flags and environment.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base URL without trailing slash, e.g. `https://api.themoviedb.org/3`.
    pub base_url: String,
    /// Requests per second, all requests together.
    pub rate: NonZeroU32,
    pub timeout: Duration,
    /// Attempts after the first, for one request.
    pub max_retries: usize,
    /// First backoff delay; doubles per attempt, with jitter, up to `max_backoff`.
    pub retry_base: Duration,
    pub max_backoff: Duration,
}

/// Counters of what the client did, for the run summary and the progress bar.
#[derive(Debug, Default)]
pub struct Counters {
    pub sent: AtomicU64,
    pub retries: AtomicU64,
    pub rate_limited: AtomicU64,
    pub server_errors: AtomicU64,
    pub malformed: AtomicU64,
    pub timeouts: AtomicU64,
}

/// The result of one logical request: every response kept on the way (to be indexed by the
/// caller together with its checkpoint), and the final body.
#[derive(Debug)]
pub struct Fetched {
    pub kept: Vec<KeptResponse>,
    pub result: Result<Vec<u8>, FetchError>,
}

pub struct Client {
    http: reqwest::Client,
    config: ClientConfig,
    credentials: Credentials,
    limiter: DefaultDirectRateLimiter,
    /// Set by a `429`: no request of this client starts before it.
    paused_until: Mutex<Option<Instant>>,
    gate: Box<dyn Gate>,
    raw: RawZone,
    pub counters: Counters,
}

/// The limiter paces at 99 % of the configured rate so that timer jitter of up to 10 ms can never
/// put rate + 1 requests into one second as the server counts them.
const PACING: f64 = 0.99;

impl Client {
    pub fn new(
        config: ClientConfig,
        credentials: Credentials,
        gate: Box<dyn Gate>,
        raw: RawZone,
    ) -> reqwest::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .user_agent(concat!("movierec/", env!("CARGO_PKG_VERSION")))
            .build()?;
        let period = Duration::from_secs_f64(1.0 / (f64::from(config.rate.get()) * PACING));
        let quota = Quota::with_period(period)
            .unwrap_or_else(|| Quota::per_second(config.rate))
            .allow_burst(NonZeroU32::MIN);
        Ok(Self {
            http,
            limiter: RateLimiter::direct(quota),
            config,
            credentials,
            paused_until: Mutex::new(None),
            gate,
            raw,
            counters: Counters::default(),
        })
    }

    pub fn base_url(&self) -> &str {
        &self.config.base_url
    }

    /// Sends `request` until it succeeds or fails for good: 5xx, 429, timeouts, connection
    /// errors and malformed bodies are retried with backoff (a malformed body only once); 401,
    /// 404 and other 4xx are not. A `429` pauses every request of this client for its
    /// `Retry-After` (header, else body `retry_after`, else the backoff delay).
    pub async fn fetch(&self, request: &Request) -> Fetched {
        let kept = Mutex::new(Vec::new());
        let mut malformed_seen = 0;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.config.retry_base)
            .with_max_delay(self.config.max_backoff)
            .with_max_times(self.config.max_retries)
            .with_jitter();
        let result = (|| self.attempt(request, &kept))
            .retry(backoff)
            .when(|e: &Attempt| {
                if matches!(e.error, FetchError::Malformed { .. }) {
                    malformed_seen += 1;
                    return malformed_seen <= 1;
                }
                e.error.retryable()
            })
            .adjust(|e: &Attempt, delay| match (e.retry_after, delay) {
                (Some(after), Some(_)) => Some(after),
                (_, delay) => delay,
            })
            .notify(|_, _| {
                self.counters.retries.fetch_add(1, Ordering::Relaxed);
            })
            .await
            .map_err(|e| e.error);
        Fetched {
            kept: kept.into_inner().unwrap_or_else(|p| p.into_inner()),
            result,
        }
    }

    /// One attempt: wait out any 429 pause and the rate limiter, reserve quota, send, keep.
    async fn attempt(
        &self,
        request: &Request,
        kept: &Mutex<Vec<KeptResponse>>,
    ) -> Result<Vec<u8>, Attempt> {
        let url = request.url(&self.config.base_url);
        let pause = *self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(until) = pause {
            tokio::time::sleep_until(until.into()).await;
        }
        self.limiter.until_ready().await;
        self.gate.reserve().map_err(|e| match e {
            GateError::Stop(stop) => Attempt::from(FetchError::Stopped(stop)),
            e => Attempt::from(FetchError::Gate(e)),
        })?;
        self.counters.sent.fetch_add(1, Ordering::Relaxed);
        let started = Instant::now();
        let fetched_at = Utc::now();
        let reply = match self.send(request).await {
            Ok(reply) => reply,
            Err(e) => return Err(self.transport_error(&url, e).into()),
        };
        let status = reply.status().as_u16();
        let headers: BTreeMap<String, String> = KEPT_HEADERS
            .iter()
            .filter_map(|&name| {
                let value = reply.headers().get(name)?.to_str().ok()?;
                Some((name.to_owned(), value.to_owned()))
            })
            .collect();
        let body = match reply.bytes().await {
            Ok(body) => body,
            Err(e) => return Err(self.transport_error(&url, e).into()),
        };
        let mut envelope = Envelope {
            seq: self.raw.next_seq(),
            kind: request.kind,
            url: url.clone(),
            status,
            headers,
            fetched_at,
            elapsed_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
            body: None,
            body_text: None,
        };
        envelope.set_body(&body);
        let outcome = classify(request.kind, status, &body);
        let file = self.raw.keep(&envelope).map_err(FetchError::from)?;
        tracing::debug!(%url, status, outcome = %outcome.code(), "response");
        kept.lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(KeptResponse {
                seq: envelope.seq,
                kind: request.kind,
                url: url.clone(),
                status,
                fetched_at,
                outcome: outcome.code(),
                file,
            });
        match outcome {
            Reply::Ok => Ok(body.to_vec()),
            Reply::Malformed(detail) => {
                self.counters.malformed.fetch_add(1, Ordering::Relaxed);
                Err(FetchError::Malformed { url, detail }.into())
            }
            Reply::Error if status == 401 => Err(FetchError::Unauthorized {
                base: self.config.base_url.clone(),
            }
            .into()),
            Reply::NotFound => Err(FetchError::NotFound { url }.into()),
            Reply::Error if status == 429 => {
                self.counters.rate_limited.fetch_add(1, Ordering::Relaxed);
                let after = retry_after(&envelope);
                if let Some(after) = after {
                    self.pause_all(after);
                }
                Err(Attempt {
                    error: FetchError::Status { url, status },
                    retry_after: after,
                })
            }
            Reply::Error => {
                if status >= 500 {
                    self.counters.server_errors.fetch_add(1, Ordering::Relaxed);
                }
                Err(FetchError::Status { url, status }.into())
            }
        }
    }

    async fn send(&self, request: &Request) -> reqwest::Result<reqwest::Response> {
        let mut builder = self
            .http
            .get(format!("{}{}", self.config.base_url, request.path))
            .query(&request.query);
        builder = match &self.credentials {
            Credentials::ApiKey(key) => builder.query(&[("api_key", key.expose_secret())]),
            Credentials::Bearer(token) => builder.bearer_auth(token.expose_secret()),
        };
        builder.send().await
    }

    /// Maps a reqwest error to one that names the URL without credentials (reqwest's own
    /// message would carry the full URL, `api_key` included).
    fn transport_error(&self, url: &str, e: reqwest::Error) -> FetchError {
        let (timeout, connect) = (e.is_timeout(), e.is_connect());
        let detail = error_chain(&e.without_url());
        if timeout {
            self.counters.timeouts.fetch_add(1, Ordering::Relaxed);
            FetchError::Timeout {
                url: url.to_owned(),
                timeout_ms: self.config.timeout.as_millis(),
            }
        } else if connect {
            FetchError::Connect {
                base: self.config.base_url.clone(),
                detail,
            }
        } else {
            FetchError::Transport {
                url: url.to_owned(),
                detail,
            }
        }
    }

    fn pause_all(&self, after: Duration) {
        let until = Instant::now() + after;
        let mut paused = self.paused_until.lock().unwrap_or_else(|p| p.into_inner());
        if paused.is_none_or(|p| p < until) {
            *paused = Some(until);
        }
    }
}

/// An attempt's error, with the delay the server asked for, if it did.
#[derive(Debug)]
struct Attempt {
    error: FetchError,
    retry_after: Option<Duration>,
}

impl From<FetchError> for Attempt {
    fn from(error: FetchError) -> Self {
        Self {
            error,
            retry_after: None,
        }
    }
}

/// What a reply is, with the parse error of a malformed one.
enum Reply {
    Ok,
    Malformed(String),
    NotFound,
    Error,
}

impl Reply {
    fn code(&self) -> ResponseOutcome {
        match self {
            Reply::Ok => ResponseOutcome::Ok,
            Reply::Malformed(_) => ResponseOutcome::Malformed,
            Reply::NotFound => ResponseOutcome::NotFound,
            Reply::Error => ResponseOutcome::Error,
        }
    }
}

fn classify(kind: ResponseKind, status: u16, body: &[u8]) -> Reply {
    match status {
        200..=299 => match tmdb::check_shape(kind, body) {
            Ok(()) => Reply::Ok,
            Err(e) => Reply::Malformed(e.to_string()),
        },
        404 => Reply::NotFound,
        _ => Reply::Error,
    }
}

/// `Retry-After` in seconds from the header, else TMDB's body field `retry_after`.
fn retry_after(envelope: &Envelope) -> Option<Duration> {
    let header = envelope
        .headers
        .get("retry-after")
        .and_then(|v| v.trim().parse::<f64>().ok());
    let body = || {
        serde_json::from_slice::<serde_json::Value>(envelope.body_bytes())
            .ok()?
            .get("retry_after")?
            .as_f64()
    };
    header
        .or_else(body)
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(3600.0)))
}

/// "a: b: c" from an error and its sources; reqwest's top level alone says little.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(headers: &[(&str, &str)], body: &[u8]) -> Envelope {
        let mut e = Envelope {
            seq: 0,
            kind: ResponseKind::Discover,
            url: String::new(),
            status: 429,
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            fetched_at: Utc::now(),
            elapsed_ms: 0,
            body: None,
            body_text: None,
        };
        e.set_body(body);
        e
    }

    #[test]
    fn retry_after_prefers_the_header_then_the_body() {
        let body = br#"{"status_code":25,"status_message":"limit","retry_after":3}"#;
        assert_eq!(
            retry_after(&envelope(&[("retry-after", "2")], body)),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            retry_after(&envelope(&[], body)),
            Some(Duration::from_secs(3))
        );
        assert_eq!(retry_after(&envelope(&[], b"{}")), None);
        assert_eq!(
            retry_after(&envelope(&[("retry-after", "soon")], b"oops")),
            None
        );
    }

    #[test]
    fn credentials_never_show_in_debug() {
        let c = Credentials::ApiKey("s3cret-key".into());
        assert!(!format!("{c:?}").contains("s3cret"));
    }

    #[test]
    fn statuses_classify() {
        assert!(matches!(
            classify(ResponseKind::Details, 200, br#"{"id":1}"#),
            Reply::Ok
        ));
        assert!(matches!(
            classify(ResponseKind::Details, 200, br#"{"id":"#),
            Reply::Malformed(_)
        ));
        assert!(matches!(
            classify(ResponseKind::Details, 404, b"{}"),
            Reply::NotFound
        ));
        assert!(matches!(
            classify(ResponseKind::Details, 503, b""),
            Reply::Error
        ));
    }
}
