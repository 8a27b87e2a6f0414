//! One fit and one top-10 query on a synthetic catalog of N movies, printed in the same format as
//! the reference's `bench_model.py`, so `bench/model_vs_reference.sh` can put them side by side.
//!
//!     cargo run --release --example bench_model -- 1000000

use movierec::model::{synthetic, ContentModel};
use std::time::Instant;

fn main() -> anyhow::Result<()> {
    let n: usize = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: bench_model N"))?
        .parse()?;
    let rows = synthetic::catalog(n, 42);
    let t0 = Instant::now();
    let model = ContentModel::fit(rows)?;
    let t1 = Instant::now();
    let top = model.recommend(1, 10)?;
    let t2 = Instant::now();
    anyhow::ensure!(top.len() == 10.min(n - 1));
    println!(
        "n={n} fit_seconds={:.6} query_seconds={:.6} model_bytes={} bytes_per_movie={} peak_rss_kib={}",
        (t1 - t0).as_secs_f64(),
        (t2 - t1).as_secs_f64(),
        model.memory_bytes(),
        model.memory_bytes() / n,
        peak_rss_kib().unwrap_or(0)
    );
    Ok(())
}

/// Peak resident set size of this process (Linux `VmHWM`).
fn peak_rss_kib() -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}
