//! The HTTP stack's limit, for `bench/similar_vs_http_limit.sh`: an axum server (same axum,
//! same allocator, release build) that answers every GET with one fixed body, as
//! `application/json`. What `/api/movies/{id}/similar` costs beyond this is the handler and the
//! production layers.
//!
//! usage: cargo run --release --example fixed_body -- BODY_FILE ADDR

use axum::http::header;
use axum::routing::get;
use axum::Router;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(file), Some(addr)) = (args.next(), args.next()) else {
        eprintln!("usage: fixed_body BODY_FILE ADDR");
        std::process::exit(2);
    };
    let body: &'static [u8] = Vec::leak(std::fs::read(&file)?);
    let app = Router::new().fallback(get(move || async move {
        ([(header::CONTENT_TYPE, "application/json")], body)
    }));
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    eprintln!("listening on http://{}/", listener.local_addr()?);
    axum::serve(listener, app).await
}
