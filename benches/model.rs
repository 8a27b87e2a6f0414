//! Content model: fit and one top-10 query on synthetic catalogs of 10k, 100k and 1M movies.
//! Targets at 1M: fit < 1 s, top-10 < 10 ms, < 100 bytes of model memory per movie.

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};
use movierec::model::{synthetic, ContentModel};

fn model(c: &mut Criterion) {
    let mut group = c.benchmark_group("content_model");
    group.sample_size(10);
    for n in [10_000usize, 100_000, 1_000_000] {
        let rows = synthetic::catalog(n, 42);
        group.bench_with_input(BenchmarkId::new("fit", n), &rows, |b, rows| {
            b.iter(|| ContentModel::fit(black_box(rows.clone())))
        });
        let fitted = ContentModel::fit(rows).expect("fit");
        eprintln!(
            "content_model n={n}: {} bytes of model memory per movie",
            fitted.memory_bytes() / fitted.len()
        );
        group.bench_with_input(BenchmarkId::new("top10", n), &fitted, |b, m| {
            b.iter(|| m.recommend(black_box(1), 10))
        });
    }
    group.finish();
}

criterion_group!(benches, model);
criterion_main!(benches);
