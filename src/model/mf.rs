//! Biased matrix factorisation by stochastic gradient descent — SVD (Funk; as Surprise's `SVD`)
//! and SVD++ (Koren 2008; as Surprise's `SVDpp`):
//!
//! r̂_ui = μ + b_u + b_i + q_iᵀ (p_u + |N(u)|^−½ Σ_{j∈N(u)} y_j)   (SVD: without the y term)
//!
//! Each epoch visits users in a seeded random order and each user's ratings in a seeded random
//! order, so a fit is deterministic given the seed. SVD++ applies the y_j gradient once per user
//! visit (summed over the user's ratings) instead of once per rating: the same fixed point, and
//! O(|R|·f) per epoch instead of O(Σ_u |R(u)|²·f).

use super::ratings::RatingMatrix;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MfParams {
    pub factors: usize,
    pub epochs: usize,
    pub learning_rate: f64,
    pub reg: f64,
    /// Regularisation of the biases.
    pub reg_bias: f64,
    /// Standard deviation of the normal the factors start from.
    pub init_std: f64,
    /// Whether to learn the implicit y_j factors (SVD++).
    pub implicit: bool,
    pub seed: u64,
}

impl MfParams {
    /// Surprise's `SVD` defaults.
    pub fn svd() -> Self {
        Self {
            factors: 100,
            epochs: 20,
            learning_rate: 0.005,
            reg: 0.02,
            reg_bias: 0.02,
            init_std: 0.1,
            implicit: false,
            seed: 0,
        }
    }

    /// Surprise's `SVDpp` defaults.
    pub fn svdpp() -> Self {
        Self {
            factors: 20,
            epochs: 20,
            learning_rate: 0.007,
            reg: 0.02,
            reg_bias: 0.005,
            init_std: 0.1,
            implicit: true,
            seed: 0,
        }
    }
}

/// A fitted factorisation. Factor rows are `factors` long, row-major.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatrixFactorization {
    pub params: MfParams,
    pub mean: f64,
    pub user_bias: Vec<f64>,
    pub item_bias: Vec<f64>,
    pub user_factors: Vec<f32>,
    pub item_factors: Vec<f32>,
    /// SVD++'s y_j (empty for SVD).
    pub implicit_factors: Vec<f32>,
    /// Per user: p_u + |N(u)|^−½ Σ y_j, precomputed after fitting (p_u for SVD).
    user_vectors: Vec<f32>,
}

impl MatrixFactorization {
    pub fn fit(m: &RatingMatrix, params: MfParams) -> Self {
        let f = params.factors;
        let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
        // N(0, init_std²) as a standard normal scaled (a non-finite or negative std starts at 0).
        let std = if params.init_std.is_finite() {
            params.init_std.max(0.0)
        } else {
            0.0
        };
        let mut init = |n: usize| -> Vec<f32> {
            (0..n * f)
                .map(|_| {
                    let z: f64 = StandardNormal.sample(&mut rng);
                    (std * z) as f32
                })
                .collect()
        };
        let pu = init(m.users());
        let qi = init(m.items());
        let yj = if params.implicit {
            init(m.items())
        } else {
            Vec::new()
        };
        let mut state = State {
            pu,
            qi,
            yj,
            bu: vec![0.0; m.users()],
            bi: vec![0.0; m.items()],
        };
        let mean = m.mean();
        with_avx2!(epochs(m, &params, mean, &mut state, &mut rng));
        let State { pu, qi, yj, bu, bi } = state;
        let mut model = Self {
            params,
            mean,
            user_bias: bu,
            item_bias: bi,
            user_factors: pu,
            item_factors: qi,
            implicit_factors: yj,
            user_vectors: Vec::new(),
        };
        model.user_vectors = (0..m.users())
            .flat_map(|u| model.fold_in_vector(u, m.by_user().row(u).0))
            .collect();
        model
    }

    /// p_u + |N(u)|^−½ Σ_{j∈N(u)} y_j for a fitted user `u` who rated `items`.
    fn fold_in_vector(&self, u: usize, items: &[u32]) -> Vec<f32> {
        let f = self.params.factors;
        let mut v = self.fold_in_vector_of(items);
        v.iter_mut()
            .zip(&self.user_factors[u * f..][..f])
            .for_each(|(v, p)| *v += p);
        v
    }

    pub fn items(&self) -> usize {
        self.item_bias.len()
    }

    /// A user who is not in the model, from their ratings of fitted `items`: b_u and p_u solved
    /// by ridge least squares against the fixed item biases and factors (the objective SGD
    /// minimises for that one user, with its per-rating regularisation), SVD++'s implicit term
    /// from the same items. Nothing is retrained.
    pub fn fold_in(&self, items: &[u32], ratings: &[f32]) -> FoldedUser {
        let f = self.params.factors;
        let known: Vec<(usize, f64)> = items
            .iter()
            .zip(ratings)
            .filter(|(i, _)| (**i as usize) < self.items())
            .map(|(&i, &r)| (i as usize, f64::from(r)))
            .collect();
        let implicit =
            self.fold_in_vector_of(&known.iter().map(|k| k.0 as u32).collect::<Vec<_>>());
        let n = known.len() as f64;
        let d = f + 1;
        let mut a = vec![0.0f64; d * d];
        let mut b = vec![0.0f64; d];
        let mut x = vec![0.0f64; d];
        for &(i, r) in &known {
            let q = &self.item_factors[i * f..][..f];
            x[0] = 1.0;
            x[1..]
                .iter_mut()
                .zip(q)
                .for_each(|(x, q)| *x = f64::from(*q));
            let offset: f64 = q.iter().zip(&implicit).map(|(q, y)| f64::from(q * y)).sum();
            let target = r - self.mean - self.item_bias[i] - offset;
            for p in 0..d {
                b[p] += x[p] * target;
                for c in 0..d {
                    a[p * d + c] += x[p] * x[c];
                }
            }
        }
        a[0] += self.params.reg_bias * n.max(1.0);
        for p in 1..d {
            a[p * d + p] += self.params.reg * n.max(1.0);
        }
        let z = super::solve_spd(&a, &b).unwrap_or_else(|| vec![0.0; d]);
        FoldedUser {
            bias: z[0],
            vector: z[1..]
                .iter()
                .zip(&implicit)
                .map(|(p, y)| *p as f32 + y)
                .collect(),
        }
    }

    /// |N|^−½ Σ_{j∈N} y_j over `items` (SVD++), zeros for SVD.
    fn fold_in_vector_of(&self, items: &[u32]) -> Vec<f32> {
        let f = self.params.factors;
        let mut v = vec![0.0f32; f];
        if self.params.implicit && !items.is_empty() {
            let norm = 1.0 / (items.len() as f32).sqrt();
            for &j in items {
                let y = &self.implicit_factors[j as usize * f..][..f];
                v.iter_mut().zip(y).for_each(|(v, y)| *v += y * norm);
            }
        }
        v
    }

    /// A folded-in user's predicted rating of every item, into `scores`.
    pub fn score_folded(&self, user: &FoldedUser, scores: &mut [f64]) {
        let f = self.params.factors;
        for (i, s) in scores.iter_mut().enumerate() {
            let q = &self.item_factors[i * f..][..f];
            let dot: f32 = q.iter().zip(&user.vector).map(|(a, b)| a * b).sum();
            *s = self.mean + user.bias + self.item_bias[i] + f64::from(dot);
        }
    }

    /// Predicted rating; an unknown user or item gets μ plus the biases that are known.
    pub fn predict(&self, user: Option<u32>, item: Option<u32>) -> f64 {
        let f = self.params.factors;
        let u = user
            .map(|u| u as usize)
            .filter(|&u| u < self.user_bias.len());
        let i = item
            .map(|i| i as usize)
            .filter(|&i| i < self.item_bias.len());
        let mut estimate = self.mean;
        if let Some(u) = u {
            estimate += self.user_bias[u];
        }
        if let Some(i) = i {
            estimate += self.item_bias[i];
        }
        if let (Some(u), Some(i)) = (u, i) {
            let p = &self.user_vectors[u * f..][..f];
            let q = &self.item_factors[i * f..][..f];
            estimate += f64::from(p.iter().zip(q).map(|(a, b)| a * b).sum::<f32>());
        }
        estimate
    }
}

/// A user folded into a fitted model: their bias and their vector (p_u plus SVD++'s implicit
/// term).
#[derive(Debug, Clone, PartialEq)]
pub struct FoldedUser {
    pub bias: f64,
    pub vector: Vec<f32>,
}

/// What SGD updates.
struct State {
    pu: Vec<f32>,
    qi: Vec<f32>,
    yj: Vec<f32>,
    bu: Vec<f64>,
    bi: Vec<f64>,
}

/// The SGD epochs (run through `with_avx2!`).
#[inline(always)]
fn epochs(m: &RatingMatrix, params: &MfParams, mean: f64, state: &mut State, rng: &mut ChaCha8Rng) {
    let (lr, reg, reg_b) = (params.learning_rate, params.reg, params.reg_bias);
    let f = params.factors;
    let mut users: Vec<usize> = (0..m.users()).collect();
    let mut order: Vec<usize> = Vec::new();
    let mut implicit_sum = vec![0.0f32; f];
    let mut y_grad = vec![0.0f32; f];
    let (lr32, reg32) = (lr as f32, reg as f32);
    for _ in 0..params.epochs {
        users.shuffle(rng);
        for &u in &users {
            let (items, ratings) = m.by_user().row(u);
            if items.is_empty() {
                continue;
            }
            let norm = 1.0 / (items.len() as f32).sqrt();
            implicit_sum.fill(0.0);
            if params.implicit {
                for &j in items {
                    let y = &state.yj[j as usize * f..][..f];
                    implicit_sum
                        .iter_mut()
                        .zip(y)
                        .for_each(|(s, y)| *s += y * norm);
                }
                y_grad.fill(0.0);
            }
            order.clear();
            order.extend(0..items.len());
            order.shuffle(rng);
            for &k in &order {
                let i = items[k] as usize;
                let r = f64::from(ratings[k]);
                let p = &mut state.pu[u * f..][..f];
                let q = &mut state.qi[i * f..][..f];
                let dot = dot_sum(q, p, &implicit_sum);
                let err = r - (mean + state.bu[u] + state.bi[i] + f64::from(dot));
                state.bu[u] += lr * (err - reg_b * state.bu[u]);
                state.bi[i] += lr * (err - reg_b * state.bi[i]);
                let e = err as f32;
                if params.implicit {
                    y_grad
                        .iter_mut()
                        .zip(q.iter())
                        .for_each(|(g, q)| *g += e * q * norm);
                }
                for ((p, q), s) in p.iter_mut().zip(q.iter_mut()).zip(&implicit_sum) {
                    let (pc, qc) = (*p, *q);
                    *p += lr32 * (e * qc - reg32 * pc);
                    *q += lr32 * (e * (pc + s) - reg32 * qc);
                }
            }
            if params.implicit {
                for &j in items {
                    let y = &mut state.yj[j as usize * f..][..f];
                    y.iter_mut()
                        .zip(&y_grad)
                        .for_each(|(y, g)| *y += lr32 * (g - reg32 * *y));
                }
            }
        }
    }
}

/// q · (p + s) with eight independent partial sums, which the compiler keeps in vector registers
/// (one running float sum cannot be reordered, so it would not vectorise).
#[inline(always)]
fn dot_sum(q: &[f32], p: &[f32], s: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (qc, pc, sc) = (q.chunks_exact(8), p.chunks_exact(8), s.chunks_exact(8));
    let tail: f32 = qc
        .remainder()
        .iter()
        .zip(pc.remainder().iter().zip(sc.remainder()))
        .map(|(q, (p, s))| q * (p + s))
        .sum();
    for (q, (p, s)) in qc.zip(pc.zip(sc)) {
        for k in 0..8 {
            acc[k] += q[k] * (p[k] + s[k]);
        }
    }
    acc.iter().sum::<f32>() + tail
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rank-1 taste matrix: users who like one group dislike the other.
    fn two_tastes() -> (RatingMatrix, Vec<(u32, u32, f32)>) {
        let mut train = Vec::new();
        let mut held = Vec::new();
        for u in 0..40u32 {
            for i in 0..20u32 {
                let likes = (u % 2 == 0) == (i % 2 == 0);
                let r = if likes { 5.0 } else { 1.0 };
                if (u + i) % 7 == 0 {
                    held.push((u, i, r));
                } else {
                    train.push((u, i, r));
                }
            }
        }
        (RatingMatrix::new(40, 20, &train), held)
    }

    fn rmse(model: &MatrixFactorization, held: &[(u32, u32, f32)]) -> f64 {
        let se: f64 = held
            .iter()
            .map(|&(u, i, r)| (model.predict(Some(u), Some(i)) - f64::from(r)).powi(2))
            .sum();
        (se / held.len() as f64).sqrt()
    }

    /// SVD and SVD++ sized for the 40 × 20 two-tastes matrix.
    fn small() -> [MfParams; 2] {
        [MfParams::svd(), MfParams::svdpp()].map(|p| MfParams {
            epochs: 60,
            factors: 8,
            ..p
        })
    }

    #[test]
    fn svd_and_svdpp_learn_held_out_tastes_and_are_deterministic() {
        let (m, held) = two_tastes();
        for params in small() {
            let model = MatrixFactorization::fit(&m, params);
            // The mean alone misses every held-out rating by 2.
            assert!(rmse(&model, &held) < 0.8, "{}", rmse(&model, &held));
            assert_eq!(model, MatrixFactorization::fit(&m, params));
        }
    }

    #[test]
    fn a_folded_in_newcomer_gets_their_taste_without_retraining() {
        let (m, _) = two_tastes();
        for params in small() {
            let model = MatrixFactorization::fit(&m, params);
            // Likes the even items 0, 2, 4; dislikes the odd 1, 3.
            let user = model.fold_in(&[0, 2, 4, 1, 3], &[5.0, 5.0, 5.0, 1.0, 1.0]);
            let mut scores = vec![0.0; 20];
            model.score_folded(&user, &mut scores);
            for even in (6..20).step_by(2) {
                for odd in (5..20).step_by(2) {
                    assert!(scores[even] > scores[odd] + 1.0, "{scores:?}");
                }
            }
            // The fitted model is unchanged.
            assert_eq!(model, MatrixFactorization::fit(&m, params));
        }
    }

    #[test]
    fn unknown_users_and_items_get_the_known_biases() {
        let (m, _) = two_tastes();
        let model = MatrixFactorization::fit(&m, MfParams::svd());
        assert_eq!(model.predict(None, None), model.mean);
        assert_eq!(
            model.predict(Some(999), Some(3)),
            model.mean + model.item_bias[3]
        );
    }
}
