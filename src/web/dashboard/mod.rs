//! The dashboard: six pages served by the same binary as the API. Page shells are minijinja
//! templates (auto-escaped); the data comes from the JSON API through small plain-JS files and is
//! drawn with Chart.js. Every asset is compiled into the binary.

use super::error::ApiError;
use super::state::AppState;
use crate::domain::genre::Genre;
use crate::recommend::SimilarModel;
use axum::extract::{Path, RawQuery, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use minijinja::{context, Environment, Value};
use std::sync::LazyLock;

static TEMPLATES: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    for (name, source) in [
        ("base.html", include_str!("templates/base.html")),
        ("fields.html", include_str!("templates/fields.html")),
        ("recommend.html", include_str!("templates/recommend.html")),
        ("catalog.html", include_str!("templates/catalog.html")),
        ("quality.html", include_str!("templates/quality.html")),
        ("for-you.html", include_str!("templates/for-you.html")),
        ("users.html", include_str!("templates/users.html")),
        ("models.html", include_str!("templates/models.html")),
    ] {
        // The templates are part of the binary: a syntax error is a build defect caught by tests.
        if let Err(e) = env.add_template(name, source) {
            tracing::error!(template = name, error = %e, "dashboard template does not compile");
        }
    }
    env
});

/// Static files: (path under /static/, content type, bytes).
const ASSETS: &[(&str, &str, &[u8])] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("static/app.css"),
    ),
    (
        "favicon.svg",
        "image/svg+xml",
        include_bytes!("static/favicon.svg"),
    ),
    (
        "common.js",
        "text/javascript; charset=utf-8",
        include_bytes!("static/common.js"),
    ),
    (
        "recommend.js",
        "text/javascript; charset=utf-8",
        include_bytes!("static/recommend.js"),
    ),
    (
        "catalog.js",
        "text/javascript; charset=utf-8",
        include_bytes!("static/catalog.js"),
    ),
    (
        "quality.js",
        "text/javascript; charset=utf-8",
        include_bytes!("static/quality.js"),
    ),
    (
        "for-you.js",
        "text/javascript; charset=utf-8",
        include_bytes!("static/for-you.js"),
    ),
    (
        "users.js",
        "text/javascript; charset=utf-8",
        include_bytes!("static/users.js"),
    ),
    (
        "models.js",
        "text/javascript; charset=utf-8",
        include_bytes!("static/models.js"),
    ),
    (
        "vendor/chart.umd.min.js",
        "text/javascript; charset=utf-8",
        include_bytes!("static/vendor/chart.umd.min.js"),
    ),
];

/// Routes of the dashboard, to be merged into the application router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(recommend))
        .route("/catalog", get(catalog))
        .route("/quality", get(quality))
        .route("/for-you", get(for_you))
        .route("/users", get(users))
        .route("/models", get(models))
        .route("/static/{*path}", get(asset))
}

/// `?id=ID` picks a movie: its list's space is held from the first paint until it arrives.
async fn recommend(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, ApiError> {
    render(
        &state,
        "recommend",
        context! { selected => picks(query, "id") },
    )
    .await
}

/// `?movie=ID` opens a movie's detail above the table: its space is held from the first paint
/// until it arrives, so the detail does not push the page down.
async fn catalog(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, ApiError> {
    render(
        &state,
        "catalog",
        context! { selected => picks(query, "movie") },
    )
    .await
}

/// Whether the query string sets `key` to something.
fn picks(query: Option<String>, key: &str) -> bool {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .any(|(k, v)| k == key && !v.is_empty())
}

async fn quality(State(state): State<AppState>) -> Result<Html<String>, ApiError> {
    page(&state, "quality").await
}

async fn for_you(State(state): State<AppState>) -> Result<Html<String>, ApiError> {
    page(&state, "for-you").await
}

/// `?id=ID` picks a user: their lists' space is held from the first paint until they arrive.
/// Without users the page says so from the first paint, holding no space for a table that
/// stays empty.
async fn users(
    State(state): State<AppState>,
    RawQuery(query): RawQuery,
) -> Result<Html<String>, ApiError> {
    let users = state
        .db(|s| s.users_page(1, 0).map(|(_, total)| total))
        .await?;
    render(
        &state,
        "users",
        context! { selected => picks(query, "id"), users => users },
    )
    .await
}

async fn models(State(state): State<AppState>) -> Result<Html<String>, ApiError> {
    page(&state, "models").await
}

async fn page(state: &AppState, name: &str) -> Result<Html<String>, ApiError> {
    render(state, name, context! {}).await
}

/// Renders page `name` with what every page shows and what this one adds in `extra` (such as
/// `selected`: the URL picks an item whose panel loads after the page).
async fn render(state: &AppState, name: &str, extra: Value) -> Result<Html<String>, ApiError> {
    // The default model's name is on every page: its artifact is read first, if it is not.
    let engine = state.engine_for(None).await?;
    TEMPLATES
        .get_template(&format!("{name}.html"))
        .and_then(|t| {
            t.render(context! {
                page => name,
                movies => engine.movies().len(),
                fitted_at => engine.fitted_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                run_id => engine.run_id.map(|r| r.0),
                genres => Genre::ALL.iter().map(|g| g.name()).collect::<Vec<_>>(),
                models => SimilarModel::ALL.iter().map(|m| m.name()).collect::<Vec<_>>(),
                trained => engine.trained().map(|t| t.kind.as_str()).collect::<Vec<_>>(),
                default_model => engine.default_personal_model().name(),
                ..extra
            })
        })
        .map(Html)
        .map_err(ApiError::internal)
}

async fn asset(Path(path): Path<String>) -> Response {
    match ASSETS.iter().find(|(name, _, _)| *name == path) {
        Some((_, content_type, bytes)) => (
            [
                (header::CONTENT_TYPE, *content_type),
                (header::CACHE_CONTROL, "public, max-age=300"),
            ],
            *bytes,
        )
            .into_response(),
        None => ApiError::not_found(format!("no static file {path}")).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every page, by name (its template is `NAME.html`).
    const PAGES: [&str; 6] = [
        "recommend",
        "catalog",
        "quality",
        "for-you",
        "users",
        "models",
    ];

    #[test]
    fn every_template_compiles_and_escapes() {
        for name in PAGES {
            let html = TEMPLATES
                .get_template(&format!("{name}.html"))
                .and_then(|t| t.render(context! { page => name, movies => 3, fitted_at => "<b>x</b>", run_id => 1 }))
                .expect("template renders");
            assert!(
                html.contains("&lt;b&gt;x") && !html.contains("<b>"),
                "{name} must auto-escape"
            );
            assert!(
                !html.contains("<script>"),
                "{name} must not hold inline script"
            );
        }
    }

    #[test]
    fn every_page_script_is_served() {
        for name in PAGES {
            let html = TEMPLATES
                .get_template(&format!("{name}.html"))
                .and_then(|t| {
                    t.render(context! { page => name, movies => 3, fitted_at => "", run_id => 1 })
                })
                .expect("template renders");
            for src in html.split("src=\"/static/").skip(1) {
                let path = src.split('"').next().unwrap_or_default();
                assert!(
                    ASSETS.iter().any(|(p, _, _)| *p == path),
                    "{name} loads /static/{path}, which is not embedded"
                );
            }
        }
    }
}
