//! Request parameters: a query extractor whose errors name the parameter, and range checks.

use super::error::ApiError;
use crate::domain::genre::Genre;
use crate::recommend::Filters;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use std::fmt::Display;
use std::ops::RangeInclusive;

/// Like `axum::extract::Query`, but a bad value is a 400 problem naming the parameter, and so is
/// any value longer than [`MAX_PARAM_BYTES`] (decoded).
pub struct ApiQuery<T>(pub T);

/// The longest value any query parameter may have, in bytes once decoded. Each parameter may
/// say less (a title search: `catalog::MAX_SEARCH_CHARS`); none needs more.
pub const MAX_PARAM_BYTES: usize = 2_000;

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        if let Some((name, value)) = form_urlencoded::parse(query.as_bytes())
            .find(|(k, v)| k.len() + v.len() > MAX_PARAM_BYTES)
        {
            // The name is echoed, so it is cut too.
            let name: String = name.chars().take(64).collect();
            return Err(ApiError::bad_parameter(
                &name,
                format!(
                    "query parameter `{name}` is {} bytes long; a parameter may have at most {MAX_PARAM_BYTES}",
                    value.len()
                ),
                "a shorter value",
            ));
        }
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let message = e.inner().to_string();
                let path = e.path().to_string();
                // Errors about the query as a whole (a repeated parameter) have the root path `.`;
                // serde names the parameter in the message instead.
                let parameter = if path == "." {
                    message.split('`').nth(1).unwrap_or("query").to_owned()
                } else {
                    path
                };
                ApiError::bad_parameter(
                    &parameter,
                    format!("query parameter `{parameter}`: {message}"),
                    "see /docs for the accepted values; each parameter at most once",
                )
            })
    }
}

/// The most recommendations one request may ask for.
pub const MAX_N: usize = 100;

/// The optional filters shared by the catalog list and the recommendations, each checked.
pub fn checked_filters(
    year_from: Option<i32>,
    year_to: Option<i32>,
    min_rating: Option<f64>,
    genre: Option<Genre>,
) -> Result<Filters, ApiError> {
    Ok(Filters {
        year_from: optional_in_range("year_from", year_from, 0..=9999)?,
        year_to: optional_in_range("year_to", year_to, 0..=9999)?,
        min_rating: optional_in_range("min_rating", min_rating, 0.0..=10.0)?,
        genre,
    })
}

/// `value` (or `default` when absent) if it lies in `range`, else a 400 naming `name`.
pub fn in_range<T: PartialOrd + Display + Copy>(
    name: &str,
    value: Option<T>,
    default: T,
    range: RangeInclusive<T>,
) -> Result<T, ApiError> {
    let v = value.unwrap_or(default);
    if range.contains(&v) {
        Ok(v)
    } else {
        let allowed = format!("{}..={}", range.start(), range.end());
        Err(ApiError::bad_parameter(
            name,
            format!("`{name}` must be in {allowed}, got {v}"),
            allowed,
        ))
    }
}

/// `value` if absent or in `range`, else a 400 naming `name`.
pub fn optional_in_range<T: PartialOrd + Display + Copy>(
    name: &str,
    value: Option<T>,
    range: RangeInclusive<T>,
) -> Result<Option<T>, ApiError> {
    value.map(|v| in_range(name, Some(v), v, range)).transpose()
}

/// A path segment that must be an integer id.
pub fn path_id(name: &str, raw: &str) -> Result<i64, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::bad_parameter(
            name,
            format!("`{name}` must be an integer, got {raw:?}"),
            "a 64-bit integer",
        )
    })
}

/// Like `axum::Json`, but every failure is a problem naming what was wrong: a body that is not
/// JSON (with its line and column), a field of the wrong type or missing (with its path), a
/// content type other than JSON (415). An oversized body is refused by the body limit (413).
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, ApiError> {
        let content_type = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let mut parts = content_type.split(';').map(str::trim);
        let mime = parts.next().unwrap_or_default();
        if !(mime == "application/json" || mime.ends_with("+json")) {
            return Err(ApiError::unsupported_media_type(
                "the body must be JSON: send `Content-Type: application/json`",
            ));
        }
        // JSON is UTF-8 (RFC 8259): a body said to be in another charset is refused, not misread.
        let charset = parts.find_map(|p| p.strip_prefix("charset="));
        if charset.is_some_and(|c| !matches!(c.trim_matches('"'), "utf-8" | "utf8")) {
            return Err(ApiError::unsupported_media_type(
                "a JSON body is UTF-8: send `Content-Type: application/json` (or `; charset=utf-8`)",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| match e.status() {
                axum::http::StatusCode::PAYLOAD_TOO_LARGE => {
                    ApiError::from_status(axum::http::StatusCode::PAYLOAD_TOO_LARGE)
                }
                _ => ApiError::bad_body("body", format!("cannot read the body: {e}")),
            })?;
        let mut de = serde_json::Deserializer::from_slice(&bytes);
        let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if inner.is_syntax() || inner.is_eof() {
                ApiError::bad_body("body", format!("the body is not valid JSON: {inner}"))
            } else {
                let field = if path == "." { "body".to_owned() } else { path };
                ApiError::bad_body(&field, format!("`{field}`: {inner}"))
            }
        })?;
        de.end().map_err(|e| {
            ApiError::bad_body("body", format!("trailing data after the JSON: {e}"))
        })?;
        Ok(ApiJson(value))
    }
}
