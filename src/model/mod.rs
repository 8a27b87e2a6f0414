//! Recommendation models. Free of HTTP and database concerns: they take plain feature rows and
//! answer queries, so they can be fitted from SQLite, a file or a synthetic benchmark alike.

/// Runs `f(args)` compiled with AVX2 when the CPU has it (twice the float lanes of the x86-64
/// baseline), else as compiled for the baseline. For hot numeric loops marked
/// `#[inline(always)]`: their sums keep fixed partial sums and element order, so both give the
/// same numbers.
macro_rules! with_avx2 {
    ($f:ident($($arg:expr),* $(,)?)) => {{
        #[cfg(target_arch = "x86_64")]
        {
            #[target_feature(enable = "avx2")]
            fn avx2<R>(run: impl FnOnce() -> R) -> R {
                run()
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                // SAFETY: the CPU was just checked for AVX2, the only feature `avx2` enables.
                unsafe { avx2(|| $f($($arg),*)) }
            } else {
                $f($($arg),*)
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            $f($($arg),*)
        }
    }};
}

pub mod als;
pub mod baseline;
pub mod blocks;
pub mod content;
pub mod ease;
pub mod knn;
pub mod metrics;
pub mod mf;
pub mod ratings;
pub mod scaler;
pub mod sparse_ease;
pub mod split;
pub mod synthetic;

pub use content::{ContentModel, ModelError, Neighbour};
pub use scaler::StandardScaler;

/// How much one rating pulls a content profile: its distance from the person's mean rating
/// (liked films pull, disliked ones push). A single rating, or one exactly at the mean, pulls
/// with weight 1: it still says "like this".
pub fn profile_weights(ratings: &[f64]) -> Vec<f64> {
    let mean = ratings.iter().sum::<f64>() / ratings.len().max(1) as f64;
    ratings
        .iter()
        .map(|&r| {
            if ratings.len() > 1 && r != mean {
                r - mean
            } else {
                1.0
            }
        })
        .collect()
}

/// The solution x of A x = b for a symmetric positive definite `d` × `d` matrix A (row-major),
/// by faer's Cholesky factorisation; `None` when A is not positive definite.
pub fn solve_spd(a: &[f64], b: &[f64]) -> Option<Vec<f64>> {
    let d = b.len();
    let llt = faer::Mat::from_fn(d, d, |p, q| a[p * d + q])
        .llt(faer::Side::Lower)
        .ok()?;
    let rhs = faer::Mat::from_fn(d, 1, |p, _| b[p]);
    let x = faer::linalg::solvers::Solve::solve(&llt, &rhs);
    Some((0..d).map(|p| x[(p, 0)]).collect())
}

/// The best `n` positions of `scores` that are not `rated`, best first, ties by position;
/// positions scoring −∞ (a model cannot place them) are left out. `scores` is scratch: the rated
/// positions are overwritten.
pub fn top_unrated(scores: &mut [f64], rated: &[u32], n: usize) -> Vec<u32> {
    for &i in rated {
        scores[i as usize] = f64::NEG_INFINITY;
    }
    let mut idx: Vec<u32> = (0..scores.len() as u32).collect();
    let order = |a: &u32, b: &u32| {
        scores[*b as usize]
            .total_cmp(&scores[*a as usize])
            .then(a.cmp(b))
    };
    if idx.len() > n {
        idx.select_nth_unstable_by(n, order);
        idx.truncate(n);
    }
    idx.sort_unstable_by(order);
    idx.retain(|&i| scores[i as usize] > f64::NEG_INFINITY);
    idx
}

/// A candidate in [`top_n`]'s heap: the worst on top; of equal scores the larger position is
/// worse (so the smaller wins).
#[derive(PartialEq)]
struct Candidate(f64, usize);

impl Eq for Candidate {}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        other.0.total_cmp(&self.0).then(self.1.cmp(&other.1))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The `n` best (position, score) pairs that `admit` lets through, best first, ties by
/// position. `admit` is asked only of a pair that would enter the current top `n`.
pub fn top_n(
    n: usize,
    scored: impl Iterator<Item = (usize, f64)>,
    admit: impl Fn(usize) -> bool,
) -> Vec<(usize, f64)> {
    let mut heap: std::collections::BinaryHeap<Candidate> =
        std::collections::BinaryHeap::with_capacity(n + 1);
    if n == 0 {
        return Vec::new();
    }
    // The current n-th best, in a local (a register) rather than read from the heap per item.
    let mut worst = f64::NEG_INFINITY;
    for (p, s) in scored {
        if s <= worst {
            continue;
        }
        if admit(p) {
            heap.push(Candidate(s, p));
            if heap.len() > n {
                heap.pop();
            }
            if heap.len() == n {
                worst = heap.peek().map_or(f64::NEG_INFINITY, |w| w.0);
            }
        }
    }
    heap.into_sorted_vec()
        .into_iter()
        .map(|Candidate(s, p)| (p, s))
        .collect()
}
