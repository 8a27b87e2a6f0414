//! Synthetic catalogs for benchmarks, shaped like the reference's `bench_model.py`: ids 1..=n,
//! release years uniform in 1920..2025, ratings uniform in 1–10 rounded to 0.1.

/// `(MovieID, rating, release year)` rows, deterministic for a given `seed`.
pub fn catalog(n: usize, seed: u64) -> Vec<(i64, f64, f64)> {
    let mut state = seed;
    // SplitMix64: tiny, fast and good enough to spread benchmark data.
    let mut next = move || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    (1..=n as i64)
        .map(|id| {
            let year = 1920 + (next() % 105) as i64;
            let rating = (10 + next() % 91) as f64 / 10.0;
            (id, rating, year as f64)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_in_range() {
        let a = catalog(1000, 42);
        assert_eq!(a, catalog(1000, 42));
        assert_ne!(a, catalog(1000, 43));
        assert!(a
            .iter()
            .all(|&(_, r, y)| (1.0..=10.0).contains(&r) && (1920.0..2025.0).contains(&y)));
        assert_eq!(a.last().map(|r| r.0), Some(1000));
    }
}
