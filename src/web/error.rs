//! The one error type of the HTTP layer, rendered as RFC 9457 `application/problem+json`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document, with the offending parameter as an extension member.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Problem {
    /// URI reference naming the kind of problem.
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    pub status: u16,
    pub detail: String,
    /// The request parameter that was wrong, when one was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// What the parameter accepts, e.g. `1..=500`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub allowed: Option<String>,
    /// Seconds to wait before retrying, sent as the `Retry-After` header (503s).
    #[serde(skip)]
    #[schema(ignore)]
    pub retry_after: Option<u32>,
}

/// An error a handler returns; becomes a problem response.
#[derive(Debug, Clone)]
pub struct ApiError(Box<Problem>);

impl ApiError {
    fn new(status: StatusCode, kind: &str, detail: impl Into<String>) -> Self {
        Self(Box::new(Problem {
            kind: format!("/problems/{kind}"),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            parameter: None,
            allowed: None,
            retry_after: None,
        }))
    }

    /// The server is at capacity (every database connection busy, or too many requests in
    /// flight): 503 with `Retry-After`, never a 500 — nothing is wrong but the load.
    pub fn unavailable(detail: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::SERVICE_UNAVAILABLE, "overloaded", detail);
        e.0.retry_after = Some(1);
        e
    }

    /// The server is stopping or cannot reach its database: 503, so a load balancer's
    /// readiness check sends traffic elsewhere.
    pub fn not_ready(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "not-ready", detail)
    }

    /// The database cannot be reached (down, restarting): 503 with `Retry-After`.
    pub fn unreachable(detail: impl Into<String>) -> Self {
        let mut e = Self::not_ready(detail);
        e.0.retry_after = Some(1);
        e
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not-found", detail)
    }

    /// A malformed or out-of-range request parameter.
    pub fn bad_parameter(
        parameter: &str,
        detail: impl Into<String>,
        allowed: impl Into<String>,
    ) -> Self {
        let mut e = Self::new(StatusCode::BAD_REQUEST, "invalid-parameter", detail);
        e.0.parameter = Some(parameter.to_owned());
        e.0.allowed = Some(allowed.into());
        e
    }

    /// A request body that is malformed or fails validation; `field` is its JSON path.
    pub fn bad_body(field: &str, detail: impl Into<String>) -> Self {
        let mut e = Self::new(StatusCode::BAD_REQUEST, "invalid-body", detail);
        e.0.parameter = Some(field.to_owned());
        e
    }

    /// The same problem about a field of the request body rather than a query parameter.
    pub fn in_body(mut self) -> Self {
        if self.0.kind == "/problems/invalid-parameter" {
            self.0.kind = "/problems/invalid-body".to_owned();
        }
        self
    }

    /// A body sent with a content type the route does not read.
    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported-media-type",
            detail,
        )
    }

    /// A bug or an unavailable database: logged in full, answered without internals.
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the server failed to answer; the error is logged",
        )
    }

    /// The problem for a bare status produced outside the handlers (405, 408, 413, ...).
    pub fn from_status(status: StatusCode) -> Self {
        let detail = match status {
            StatusCode::METHOD_NOT_ALLOWED => {
                "this route does not accept that method; see the Allow header"
            }
            StatusCode::REQUEST_TIMEOUT => "the request took too long and was abandoned",
            StatusCode::PAYLOAD_TOO_LARGE => "the request body is larger than the server accepts",
            StatusCode::NOT_FOUND => "no such route; see /docs for the API",
            _ => status.canonical_reason().unwrap_or("error"),
        };
        let kind = status
            .canonical_reason()
            .unwrap_or("error")
            .to_lowercase()
            .replace(' ', "-");
        Self::new(status, &kind, detail)
    }

    pub fn problem(&self) -> &Problem {
        &self.0
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(e: crate::store::StoreError) -> Self {
        match e {
            // No connection came free in time: load, not a fault — unless making one failed
            // (r2d2 then names the last error), when the database is down or unreachable.
            crate::store::StoreError::Pool(e) if e.to_string().contains(": ") => {
                tracing::warn!(error = %e, "the database cannot be reached");
                Self::unreachable("the database cannot be reached; retry shortly")
            }
            crate::store::StoreError::Pool(_) => {
                Self::unavailable("every database connection is busy; retry shortly")
            }
            e => Self::internal(e),
        }
    }
}

/// An unknown movie or an untrained model is a 404; anything else is the server's fault.
impl From<crate::recommend::RecommendError> for ApiError {
    fn from(e: crate::recommend::RecommendError) -> Self {
        use crate::recommend::RecommendError;
        match e {
            RecommendError::UnknownMovie(_) | RecommendError::NotTrained(_) => {
                Self::not_found(e.to_string())
            }
            e => Self::internal(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.0.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&*self.0).unwrap_or_default();
        let mut response = (status, body).into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Some(seconds) = self.0.retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
