//! Sparse EASE^R: the shallow linear autoencoder for catalogs too large for its dense inverse.
//!
//! EASE^R's column j is a ridge regression of movie j on every other movie,
//! B_·j = (G_{−j,−j} + λI)⁻¹ G_{−j,j} with G = XᵀX (the dense closed form −P_ij / P_jj is the
//! same thing for every column at once). Here each column regresses on movie j's `k` most
//! co-occurring movies only — the support selection of SLIM (Ning & Karypis 2011) with EASE^R's
//! L2 objective, and, like SANSA (Spišák et al. 2023), a sparsified Gram matrix: the entries
//! among a movie's neighbours come from the neighbours' own top-`k` lists, and a pair that
//! neither list holds counts as 0. One k × k Cholesky solve per movie: memory n·k and time
//! n·k³/3, never n². When every movie co-occurs with every other and k is the whole catalog,
//! it is dense EASE^R exactly (the tests hold it to that).

use super::ease::EaseError;
use super::knn::{KnnParams, Neighbours, Similarity};
use super::ratings::RatingMatrix;
use faer::linalg::solvers::Solve;
use faer::{Mat, Side};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Each movie's co-occurrence list is this many times the support, so the Gram entries among a
/// support are rarely lost: with lists only as long as the support, ml-latest-small's NDCG@10
/// fell 6% below dense EASE^R's and small λ turned unstable; at 3× it is within 2%.
const LOOKUP: usize = 4;

/// The neighbours per movie `train` and `eval` use unless told otherwise: within 3% of dense
/// EASE^R's NDCG@10 on ml-latest-small (`movierec eval --protocol topn`).
pub const DEFAULT_NEIGHBOURS: usize = 200;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SparseEase {
    pub lambda: f64,
    /// Movies each column regresses on.
    pub neighbours: usize,
    /// Row i: the movies j with B_ij ≠ 0, largest weight first.
    rows: Neighbours,
}

/// Bytes the fit holds at its peak for `items` movies and `k` neighbours: the co-occurrence
/// lists, then the columns and the rows they are turned into (8 bytes an entry each), and per
/// thread a k × k system (twice) and two catalog-long maps.
pub fn fit_bytes(items: usize, k: usize) -> u64 {
    let (n, k) = (items as u64, k as u64);
    let threads = rayon::current_num_threads() as u64;
    8 * n * k * (LOOKUP as u64 + 2) + threads * (16 * k * k + 36 * n)
}

impl SparseEase {
    /// Fits on who rated what in `m` (values ignored), each column on its `k` most
    /// co-occurring movies.
    pub fn fit(m: &RatingMatrix, lambda: f64, k: usize) -> Result<Self, EaseError> {
        if !(lambda > 0.0 && lambda.is_finite()) {
            return Err(EaseError::Lambda(lambda));
        }
        let n = m.items();
        let co = Neighbours::build(
            m,
            &KnnParams {
                k,
                keep: k * LOOKUP,
                similarity: Similarity::Count,
            },
            None,
        );
        let columns: Vec<Vec<(u32, f32)>> = (0..n)
            .into_par_iter()
            .map_init(
                || vec![u32::MAX; n],
                |at, j| solve_column(m, &co, j, lambda, at, k),
            )
            .collect::<Result<_, _>>()?;
        drop(co);
        let mut rows: Vec<Vec<(u32, f32)>> = vec![Vec::new(); n];
        for (j, column) in columns.into_iter().enumerate() {
            for (i, w) in column {
                rows[i as usize].push((j as u32, w));
            }
        }
        rows.par_iter_mut().for_each(|r| {
            r.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            r.shrink_to_fit();
        });
        Ok(Self {
            lambda,
            neighbours: k,
            rows: Neighbours::from_lists(rows),
        })
    }

    pub fn items(&self) -> usize {
        self.rows.items()
    }

    /// Row i of B: the movies i's rating adds to, with their weights, largest first.
    pub fn row(&self, i: usize) -> &[(u32, f32)] {
        self.rows.of(i)
    }

    /// B_ij (0 outside the support).
    #[cfg(test)]
    fn weight(&self, i: usize, j: usize) -> f32 {
        self.row(i)
            .iter()
            .find(|n| n.0 as usize == j)
            .map_or(0.0, |n| n.1)
    }

    /// Adds Σ_i w_i B_i· over (i, w_i) in `profile` into `scores` (a folded-in user, as dense
    /// EASE^R's `score_weighted`).
    pub fn score_weighted(&self, profile: &[(u32, f64)], scores: &mut [f64]) {
        for &(i, w) in profile {
            for &(j, b) in self.row(i as usize) {
                scores[j as usize] += w * f64::from(b);
            }
        }
    }

    /// Adds Σ_{i∈rated} B_i· into `scores`.
    pub fn score_items(&self, rated: &[u32], scores: &mut [f64]) {
        for &i in rated {
            for &(j, b) in self.row(i as usize) {
                scores[j as usize] += f64::from(b);
            }
        }
    }
}

/// Column j of B on j's co-occurrence neighbours S: (G_SS + λI)⁻¹ G_Sj. `at` maps a movie to its
/// place in S (u32::MAX elsewhere) and is left as it was found.
///
/// A sparsified Gram matrix need not be positive definite where the whole one is: a column
/// whose system is not is solved with λ doubled until it is (at most [`BOOSTS`] times) — more
/// shrinkage exactly where the lists describe the neighbourhood least well.
fn solve_column(
    m: &RatingMatrix,
    co: &Neighbours,
    j: usize,
    lambda: f64,
    at: &mut [u32],
    k: usize,
) -> Result<Vec<(u32, f32)>, EaseError> {
    let support = &co.of(j)[..co.of(j).len().min(k)];
    if support.is_empty() {
        return Ok(Vec::new());
    }
    for (p, &(a, _)) in support.iter().enumerate() {
        at[a as usize] = p as u32;
    }
    let k = support.len();
    let mut g = Mat::<f64>::zeros(k, k);
    for (p, &(a, _)) in support.iter().enumerate() {
        g[(p, p)] = m.by_item().row_len(a as usize) as f64;
        for &(b, count) in co.of(a as usize) {
            let q = at[b as usize];
            if q != u32::MAX && q as usize != p {
                g[(p, q as usize)] = f64::from(count);
                g[(q as usize, p)] = f64::from(count);
            }
        }
    }
    for &(a, _) in support {
        at[a as usize] = u32::MAX;
    }
    let rhs = Mat::<f64>::from_fn(k, 1, |p, _| f64::from(support[p].1));
    let mut shrink = lambda;
    for _ in 0..=BOOSTS {
        let mut system = g.clone();
        for p in 0..k {
            system[(p, p)] += shrink;
        }
        if let Ok(llt) = system.llt(Side::Lower) {
            let solution = llt.solve(&rhs);
            return Ok(support
                .iter()
                .enumerate()
                .map(|(p, &(i, _))| (i, solution[(p, 0)] as f32))
                .filter(|&(_, w)| w != 0.0)
                .collect());
        }
        shrink *= 2.0;
    }
    Err(EaseError::NotPositiveDefinite(lambda))
}

/// How many times a column's λ may double before its system counts as unsolvable.
const BOOSTS: usize = 20;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ease::Ease;

    /// 40 users over 12 movies in overlapping tastes, and one who rated every movie.
    fn ratings() -> RatingMatrix {
        let mut t: Vec<(u32, u32, f32)> = (0..12).map(|i| (40, i, 1.0)).collect();
        for u in 0..40u32 {
            for i in 0..12u32 {
                if (u % 3 == i % 3 || (u + i) % 7 == 0) && (u * 5 + i) % 4 != 0 {
                    t.push((u, i, 1.0));
                }
            }
        }
        RatingMatrix::new(41, 12, &t)
    }

    #[test]
    fn with_every_co_occurring_movie_as_support_it_is_dense_ease() {
        let m = ratings();
        let dense = Ease::fit(&m, 5.0).expect("dense");
        let sparse = SparseEase::fit(&m, 5.0, 11).expect("sparse");
        for i in 0..12 {
            for j in 0..12 {
                let (d, s) = (dense.weight(i, j), sparse.weight(i, j));
                assert!((d - s).abs() < 1e-4, "B_{i}{j}: dense {d}, sparse {s}");
            }
        }
        let (mut a, mut b) = (vec![0.0; 12], vec![0.0; 12]);
        dense.score_weighted(&[(0, 1.0), (4, -0.5)], &mut a);
        sparse.score_weighted(&[(0, 1.0), (4, -0.5)], &mut b);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-4, "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn a_smaller_support_keeps_k_weights_per_column_and_the_strongest_ones() {
        let m = ratings();
        let dense = Ease::fit(&m, 5.0).expect("dense");
        let sparse = SparseEase::fit(&m, 5.0, 3).expect("sparse");
        let mut per_column = vec![0usize; 12];
        for i in 0..12 {
            for &(j, _) in sparse.row(i) {
                per_column[j as usize] += 1;
            }
            // Each movie's strongest dense weight survives the restriction, with its sign.
            let best = (0..12)
                .filter(|&j| j != i)
                .max_by(|&a, &b| dense.weight(i, a).total_cmp(&dense.weight(i, b)))
                .expect("other movies");
            assert!(sparse.weight(i, best) > 0.0, "movie {i}'s best, {best}");
        }
        assert!(per_column.iter().all(|&c| c <= 3), "{per_column:?}");
        let mut scores = vec![0.0; 12];
        sparse.score_items(&[0, 3], &mut scores);
        let expected: f64 = f64::from(sparse.weight(0, 6)) + f64::from(sparse.weight(3, 6));
        assert!((scores[6] - expected).abs() < 1e-9);
        assert_eq!(SparseEase::fit(&m, -1.0, 3), Err(EaseError::Lambda(-1.0)));
    }

    #[test]
    fn a_column_whose_sparsified_system_is_indefinite_is_shrunk_until_it_solves() {
        // Four users rated all four movies; movie 0's support is {1, 2, 3}, but the lists lost
        // the pair 2–3: [[4,4,4],[4,4,0],[4,0,4]] + λI is indefinite below λ = 4√2 − 4.
        let t: Vec<(u32, u32, f32)> = (0..4u32)
            .flat_map(|u| (0..4u32).map(move |i| (u, i, 1.0)))
            .collect();
        let m = RatingMatrix::new(4, 4, &t);
        let co = Neighbours::from_lists(vec![
            vec![(1, 4.0), (2, 4.0), (3, 4.0)],
            vec![(0, 4.0), (2, 4.0), (3, 4.0)],
            vec![(0, 4.0), (1, 4.0)],
            vec![(0, 4.0), (1, 4.0)],
        ]);
        let mut at = vec![u32::MAX; 4];
        let column = solve_column(&m, &co, 0, 0.01, &mut at, 3).expect("solved after shrinking");
        assert_eq!(column.len(), 3);
        // Positive definite from the start, it is solved with λ as given: B_10 = 4 / (4 + 10).
        let lone = Neighbours::from_lists(vec![vec![(1, 4.0)], vec![], vec![], vec![]]);
        let exact = solve_column(&m, &lone, 0, 10.0, &mut at, 3).expect("solved");
        assert!((exact[0].1 - 4.0 / 14.0).abs() < 1e-6, "{exact:?}");
        assert!(column.iter().all(|(_, w)| w.is_finite()), "{column:?}");
        assert!(
            at.iter().all(|&p| p == u32::MAX),
            "the map is left as found"
        );
    }
}
