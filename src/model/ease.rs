//! EASE^R (Steck 2019), the shallow linear autoencoder: with X the binary user × item matrix,
//! P = (XᵀX + λI)⁻¹ and B_ij = −P_ij / P_jj (B_jj = 0); a user's score for j is Σ_{i∈I_u} B_ij.
//!
//! B is dense items × items by construction — the model *is* that matrix — so this is the one
//! model whose memory grows with the square of the catalog it is fitted on (8 bytes per pair
//! while fitting, 4 kept). The inverse goes through faer's Cholesky factorisation (XᵀX + λI is
//! symmetric positive definite for λ > 0), in parallel.

use super::ratings::RatingMatrix;
use faer::linalg::solvers::DenseSolveCore;
use faer::{MatRef, Side};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EaseError {
    #[error("EASE^R needs a regularisation λ > 0, got {0}")]
    Lambda(f64),
    #[error("the Gram matrix plus λI is not positive definite (λ = {0})")]
    NotPositiveDefinite(f64),
}

/// Bytes the dense fit holds at its peak for `items` movies: two n × n matrices of 8-byte
/// entries at once (the Gram matrix and its Cholesky factor, then the factor and the inverse).
pub fn fit_bytes(items: usize) -> u64 {
    16 * (items as u64).pow(2)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ease {
    pub lambda: f64,
    items: usize,
    /// B, row-major.
    weights: Vec<f32>,
}

impl Ease {
    /// Fits on who rated what in `m` (values ignored).
    pub fn fit(m: &RatingMatrix, lambda: f64) -> Result<Self, EaseError> {
        if !(lambda > 0.0 && lambda.is_finite()) {
            return Err(EaseError::Lambda(lambda));
        }
        let n = m.items();
        // G = XᵀX + λI; symmetric, so row-major and column-major are the same buffer.
        let mut gram = vec![0.0f64; n * n];
        gram.par_chunks_mut(n.max(1))
            .enumerate()
            .for_each(|(i, row)| {
                for &u in m.by_item().row(i).0 {
                    for &j in m.by_user().row(u as usize).0 {
                        row[j as usize] += 1.0;
                    }
                }
                row[i] += lambda;
            });
        let inverse = {
            let g = MatRef::from_column_major_slice(&gram, n, n);
            let llt = g
                .llt(Side::Lower)
                .map_err(|_| EaseError::NotPositiveDefinite(lambda))?;
            drop(gram);
            llt.inverse()
        };
        let mut weights = vec![0.0f32; n * n];
        weights
            .par_chunks_mut(n.max(1))
            .enumerate()
            .for_each(|(i, row)| {
                // Row i of B is column i of P (P is symmetric), each entry over its own P_jj.
                for (j, w) in row.iter_mut().enumerate() {
                    *w = if i == j {
                        0.0
                    } else {
                        (-inverse[(i, j)] / inverse[(j, j)]) as f32
                    };
                }
            });
        Ok(Self {
            lambda,
            items: n,
            weights,
        })
    }

    pub fn items(&self) -> usize {
        self.items
    }

    /// B_ij.
    pub fn weight(&self, i: usize, j: usize) -> f32 {
        self.weights[i * self.items + j]
    }

    /// Adds Σ_i w_i B_i· over (i, w_i) in `profile` into `scores`: a folded-in user whose row of
    /// X holds weights rather than ones (a disliked movie, weighted below zero, pushes away).
    pub fn score_weighted(&self, profile: &[(u32, f64)], scores: &mut [f64]) {
        // Summed in f32 (B's own precision), a row at a time: one vectorised pass per rated
        // movie, so a profile of thousands of ratings stays a few milliseconds.
        let mut sum = vec![0.0f32; self.items];
        with_avx2!(add_rows(&self.weights, self.items, profile, &mut sum));
        scores
            .iter_mut()
            .zip(&sum)
            .for_each(|(s, v)| *s += f64::from(*v));
    }

    /// Adds Σ_{i∈rated} B_i· into `scores`.
    pub fn score_items(&self, rated: &[u32], scores: &mut [f64]) {
        for &i in rated {
            let row = &self.weights[i as usize * self.items..][..self.items];
            scores
                .iter_mut()
                .zip(row)
                .for_each(|(s, w)| *s += f64::from(*w));
        }
    }
}

/// sum += w_i · B_i· over the profile's rows (run through `with_avx2!`).
#[inline(always)]
fn add_rows(weights: &[f32], items: usize, profile: &[(u32, f64)], sum: &mut [f32]) {
    for &(i, w) in profile {
        let w = w as f32;
        let row = &weights[i as usize * items..][..items];
        sum.iter_mut().zip(row).for_each(|(s, b)| *s += w * b);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_items_match_the_closed_form() {
        // Three users: u0 rated both items, u1 only i0, u2 only i1. XᵀX = [[2,1],[1,2]].
        // With λ: P = 1/((2+λ)² − 1) · [[2+λ, −1], [−1, 2+λ]], so B_01 = 1/(2+λ).
        let m = RatingMatrix::new(3, 2, &[(0, 0, 1.0), (0, 1, 4.0), (1, 0, 2.0), (2, 1, 5.0)]);
        let ease = Ease::fit(&m, 1.0).expect("fit");
        assert!((f64::from(ease.weight(0, 1)) - 1.0 / 3.0).abs() < 1e-6);
        assert!((f64::from(ease.weight(1, 0)) - 1.0 / 3.0).abs() < 1e-6);
        assert_eq!(ease.weight(0, 0), 0.0);
        let mut scores = vec![0.0; 2];
        ease.score_items(&[0], &mut scores);
        assert!((scores[1] - 1.0 / 3.0).abs() < 1e-6 && scores[0] == 0.0);
        let mut weighted = vec![0.0; 2];
        ease.score_weighted(&[(0, -0.5)], &mut weighted);
        assert!((weighted[1] + 0.5 / 3.0).abs() < 1e-6);
        assert_eq!(Ease::fit(&m, 0.0), Err(EaseError::Lambda(0.0)));
    }
}
