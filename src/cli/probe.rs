//! `movierec probe`: asks a running server's health endpoint and exits 0 on a 2xx answer, 1
//! otherwise. The container image's HEALTHCHECK (deploy/Dockerfile) runs it: the runtime image
//! has no shell and no curl.

use anyhow::Context;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// URL to ask; any 2xx answer is healthy.
    #[arg(default_value = "http://127.0.0.1:8000/health/ready")]
    url: reqwest::Url,

    /// Milliseconds to wait for the answer (1–60000).
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    timeout_ms: u64,
}

pub fn run(args: &Args) -> anyhow::Result<ExitCode> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(args.timeout_ms))
        .build()?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let status = runtime
        .block_on(async { client.get(args.url.clone()).send().await })
        .with_context(|| format!("no answer from {}", args.url))?
        .status();
    if status.is_success() {
        println!("{}: {status}", args.url);
        Ok(ExitCode::SUCCESS)
    } else {
        eprintln!("{}: {status}", args.url);
        Ok(ExitCode::FAILURE)
    }
}
