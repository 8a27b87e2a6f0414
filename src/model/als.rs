//! Implicit-feedback matrix factorisation by alternating least squares (Hu, Koren & Volinsky
//! 2008) with the conjugate-gradient solver of Takács, Pilászy & Tikk (2011), as the `implicit`
//! library does: each half-step solves (YᵀY + Yᵀ(C_u − I)Y + λI) x_u = Yᵀ C_u p_u for every user
//! (then item) with a few CG steps warm-started from the previous x_u, in parallel over rows.
//! Confidence c_ui = α · weight_ui, preference p_ui = 1 for every stored interaction.
//!
//! [`bm25`] is implicit's `bm25_weight` (K1, B); [`Weighting`] says over which rows it runs.

use super::ratings::{Csr, RatingMatrix};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// implicit's BM25 constants (its MovieLens example's): saturation K1, length normalisation B.
pub const BM25_K1: f64 = 100.0;
pub const BM25_B: f64 = 0.8;

/// The rows [`bm25`] normalises the binary interactions over. Over user rows, a movie's idf
/// falls with its audience and a heavy rater's movies count less each; over item rows (implicit's
/// MovieLens example), a user's idf falls with how much they rated and a popular movie's
/// interactions count less each. `movierec eval` chooses between them on validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Weighting {
    UserRows,
    ItemRows,
}

impl std::fmt::Display for Weighting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Weighting::UserRows => "bm25 over user rows",
            Weighting::ItemRows => "bm25 over item rows",
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AlsParams {
    pub factors: usize,
    pub reg: f64,
    pub iterations: usize,
    /// Confidence per unit of weight: c = α · weight.
    pub alpha: f64,
    pub weighting: Weighting,
    pub confidence: Confidence,
    pub cg_steps: usize,
    pub seed: u64,
}

impl Default for AlsParams {
    /// What `movierec eval` chose on ml-latest-small's validation holdout (implicit 0.7's
    /// solver settings: 15 iterations, 3 CG steps).
    fn default() -> Self {
        Self {
            factors: 64,
            reg: 30.0,
            iterations: 15,
            alpha: 1.0,
            weighting: Weighting::UserRows,
            confidence: Confidence::Stars,
            cg_steps: 3,
            seed: 0,
        }
    }
}

/// What one interaction is worth before BM25: 1 (who rated what, implicit's input) or the
/// stars / 5, so a 5★ counts more than a 2★ (chosen on validation, like the rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Confidence {
    Interactions,
    Stars,
}

impl Confidence {
    pub fn value(self, stars: f32) -> f32 {
        match self {
            Confidence::Interactions => 1.0,
            Confidence::Stars => stars / 5.0,
        }
    }
}

impl std::fmt::Display for Confidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Confidence::Interactions => "interactions",
            Confidence::Stars => "stars/5",
        })
    }
}

/// What BM25 needs to weigh the movies of a user who was not in training, as training weighed
/// its users'.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fold {
    confidence: Confidence,
    rows: FoldRows,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
enum FoldRows {
    /// Over item rows: each movie's length normalisation; the user's idf comes from how many
    /// they rated among `items` movies.
    ItemRows { norms: Vec<f32>, items: usize },
    /// Over user rows: each movie's idf; the user's length against training's mean length.
    UserRows { idf: Vec<f32>, mean_length: f64 },
}

impl Fold {
    /// The BM25 weight of each of `items`, rated `stars`, the movies of one new user.
    pub fn weights(&self, items: &[u32], stars: &[f32]) -> Vec<f32> {
        let values: Vec<f64> = stars
            .iter()
            .map(|&s| f64::from(self.confidence.value(s)))
            .collect();
        let saturate = |v: f64, norm: f64| v * (BM25_K1 + 1.0) / (BM25_K1 * norm + v);
        match &self.rows {
            FoldRows::ItemRows { norms, items: n } => {
                let idf = bm25_idf(*n, items.len());
                items
                    .iter()
                    .zip(&values)
                    .map(|(&i, &v)| (saturate(v, f64::from(norms[i as usize])) * idf) as f32)
                    .collect()
            }
            FoldRows::UserRows { idf, mean_length } => {
                let length: f64 = values.iter().sum();
                let norm = (1.0 - BM25_B) + BM25_B * length / mean_length.max(f64::MIN_POSITIVE);
                items
                    .iter()
                    .zip(&values)
                    .map(|(&i, &v)| (saturate(v, norm) * f64::from(idf[i as usize])) as f32)
                    .collect()
            }
        }
    }
}

/// The user × item confidences (before α) of `ratings` (stars) under `weighting` and
/// `confidence`, and what a new user's weights need.
pub fn bm25_weights(
    ratings: &RatingMatrix,
    weighting: Weighting,
    confidence: Confidence,
) -> (Csr, Fold) {
    let (users, items) = (ratings.users(), ratings.items());
    let m = RatingMatrix::new(
        users,
        items,
        &ratings
            .triples()
            .map(|(u, i, r)| (u, i, confidence.value(r)))
            .collect::<Vec<_>>(),
    );
    let sums = |rows: &Csr| -> Vec<f64> {
        (0..rows.rows())
            .map(|r| rows.row(r).1.iter().map(|&v| f64::from(v)).sum())
            .collect()
    };
    match weighting {
        Weighting::UserRows => {
            let lengths = sums(m.by_user());
            let rows = FoldRows::UserRows {
                idf: (0..items)
                    .map(|i| bm25_idf(users, m.by_item().row_len(i)) as f32)
                    .collect(),
                mean_length: lengths.iter().sum::<f64>() / (users as f64).max(1.0),
            };
            (
                bm25(m.by_user(), items, BM25_K1, BM25_B),
                Fold { confidence, rows },
            )
        }
        Weighting::ItemRows => {
            let lengths = sums(m.by_item());
            let mean = lengths.iter().sum::<f64>() / (items as f64).max(1.0);
            let rows = FoldRows::ItemRows {
                norms: lengths
                    .iter()
                    .map(|l| ((1.0 - BM25_B) + BM25_B * l / mean) as f32)
                    .collect(),
                items,
            };
            (
                bm25(m.by_item(), users, BM25_K1, BM25_B).transpose(users),
                Fold { confidence, rows },
            )
        }
    }
}

/// BM25 weights of a `rows` × `cols` matrix, as implicit's `bm25_weight`: each value v becomes
/// v (K1 + 1) / (K1 · len_r + v) · idf_c with idf_c = ln(rows) − ln(1 + nnz of column c) and
/// len_r = (1 − B) + B · Σ_r v / mean row sum. implicit's own MovieLens example weights the
/// item × user matrix (idf per user, length per item); [`Weighting`] chooses the rows.
pub fn bm25(m: &Csr, cols: usize, k1: f64, b: f64) -> Csr {
    let rows = m.rows() as f64;
    let mut column_count = vec![0usize; cols];
    let mut row_sums = Vec::with_capacity(m.rows());
    for r in 0..m.rows() {
        let (c, v) = m.row(r);
        c.iter().for_each(|&c| column_count[c as usize] += 1);
        row_sums.push(v.iter().map(|&v| f64::from(v)).sum::<f64>());
    }
    let idf: Vec<f64> = column_count
        .iter()
        .map(|&n| bm25_idf(m.rows(), n))
        .collect();
    let average = row_sums.iter().sum::<f64>() / rows.max(1.0);
    m.map(|r, c, v| {
        let v = f64::from(v);
        let norm = (1.0 - b) + b * row_sums[r] / average;
        (v * (k1 + 1.0) / (k1 * norm + v) * idf[c as usize]) as f32
    })
}

/// [`bm25`]'s idf of a column with `n` stored values in a matrix of `rows` rows.
pub fn bm25_idf(rows: usize, n: usize) -> f64 {
    (rows as f64).ln() - (n as f64).ln_1p()
}

/// Bytes a fit holds at its peak: the user and item factors (f32) and the weights twice, by
/// user and by item (a u32 column and an f32 value an entry).
pub fn fit_bytes(users: usize, items: usize, ratings: usize, factors: usize) -> u64 {
    4 * (factors as u64) * (users + items) as u64 + 16 * ratings as u64
}

/// Fitted user and item factors (row-major, `factors` wide).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Als {
    pub params: AlsParams,
    pub user_factors: Vec<f32>,
    pub item_factors: Vec<f32>,
}

impl Als {
    /// Fits on `weights` (user × item confidences before α; `items` columns).
    pub fn fit(weights: &Csr, items: usize, params: AlsParams) -> Self {
        let f = params.factors;
        let mut rng = ChaCha8Rng::seed_from_u64(params.seed);
        let mut init =
            |n: usize| -> Vec<f32> { (0..n * f).map(|_| rng.random::<f32>() * 0.01).collect() };
        let mut user_factors = init(weights.rows());
        let mut item_factors = init(items);
        let by_item = weights.transpose(items);
        for _ in 0..params.iterations {
            solve_half(weights, &mut user_factors, &item_factors, &params);
            solve_half(&by_item, &mut item_factors, &user_factors, &params);
        }
        Self {
            params,
            user_factors,
            item_factors,
        }
    }

    pub fn items(&self) -> usize {
        self.item_factors.len() / self.params.factors.max(1)
    }

    pub fn item(&self, i: usize) -> &[f32] {
        &self.item_factors[i * self.params.factors..][..self.params.factors]
    }

    pub fn user(&self, u: usize) -> &[f32] {
        &self.user_factors[u * self.params.factors..][..self.params.factors]
    }

    /// YᵀY + λI (f × f, row-major): what [`Self::fold_in`] needs for every new user, computed
    /// once.
    pub fn gram(&self) -> Vec<f32> {
        gram(&self.item_factors, self.params.factors, self.params.reg)
    }

    /// The factors of a user who is not in the model, from the items they interacted with and
    /// their weights (before α): the same least-squares problem a training half-step solves
    /// for a user, (YᵀY + λI + Yᵀ(C − I)Y) x = Yᵀ C p, solved exactly rather than by a few CG
    /// steps from a warm start (there is none). `gram` is [`Self::gram`]. The item factors stay
    /// fixed: nothing is retrained.
    pub fn fold_in(&self, gram: &[f32], items: &[u32], weights: &[f32]) -> Vec<f32> {
        let f = self.params.factors;
        let mut a: Vec<f64> = gram.iter().map(|&v| f64::from(v)).collect();
        let mut b = vec![0.0f64; f];
        for (&i, &w) in items.iter().zip(weights) {
            let c = self.params.alpha * f64::from(w);
            if c <= 0.0 || i as usize >= self.items() {
                continue;
            }
            let y = self.item(i as usize);
            for p in 0..f {
                let yp = f64::from(y[p]);
                b[p] += c * yp;
                for q in 0..f {
                    a[p * f + q] += (c - 1.0) * yp * f64::from(y[q]);
                }
            }
        }
        super::solve_spd(&a, &b)
            .map(|x| x.into_iter().map(|v| v as f32).collect())
            .unwrap_or_else(|| vec![0.0; f])
    }

    /// x · y_i for every item, into `scores`.
    pub fn score_vector(&self, x: &[f32], scores: &mut [f64]) {
        for (i, s) in scores.iter_mut().enumerate() {
            *s = f64::from(dot8(x, self.item(i)));
        }
    }

    /// x_u · y_i for every item, into `scores`.
    pub fn score_user(&self, u: usize, scores: &mut [f64]) {
        let x = self.user(u);
        for (i, s) in scores.iter_mut().enumerate() {
            *s = f64::from(dot8(x, self.item(i)));
        }
    }
}

/// One ALS half-step: every row of `x` re-solved against the fixed `y`.
fn solve_half(rows: &Csr, x: &mut [f32], y: &[f32], p: &AlsParams) {
    let f = p.factors;
    let gram = gram(y, f, p.reg);
    x.par_chunks_mut(f).enumerate().for_each_init(
        || Scratch::new(f),
        |scratch, (u, xu)| {
            let (cols, vals) = rows.row(u);
            with_avx2!(conjugate_gradient(xu, cols, vals, y, &gram, p, scratch));
        },
    );
}

/// YᵀY + λI (f × f, row-major), summed in f64 then kept in f32.
fn gram(y: &[f32], f: usize, reg: f64) -> Vec<f32> {
    // Fixed-size blocks summed in order: the same result whatever the thread scheduling.
    let blocks: Vec<Vec<f64>> = y
        .par_chunks(f * 1024)
        .map(|block| with_avx2!(gram_block(block, f)))
        .collect();
    let mut g = vec![0.0f64; f * f];
    for block in blocks {
        g.iter_mut().zip(block).for_each(|(a, b)| *a += b);
    }
    for a in 0..f {
        g[a * f + a] += reg;
        for b in 0..a {
            g[a * f + b] = g[b * f + a];
        }
    }
    g.into_iter().map(|v| v as f32).collect()
}

/// The upper triangle of one block's Yᵀ Y, in f64 (the Gram matrix is symmetric).
#[inline(always)]
fn gram_block(block: &[f32], f: usize) -> Vec<f64> {
    let mut g = vec![0.0f64; f * f];
    let mut r64 = vec![0.0f64; f];
    for row in block.chunks(f) {
        r64.iter_mut()
            .zip(row)
            .for_each(|(d, v)| *d = f64::from(*v));
        for a in 0..f {
            let ra = r64[a];
            g[a * f + a..(a + 1) * f]
                .iter_mut()
                .zip(&r64[a..])
                .for_each(|(g, r)| *g += ra * r);
        }
    }
    g
}

/// a · b with eight partial sums (vectorises; one running float sum would not).
#[inline(always)]
fn dot8(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ac
        .remainder()
        .iter()
        .zip(bc.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ac.zip(bc) {
        for k in 0..8 {
            acc[k] += x[k] * y[k];
        }
    }
    acc.iter().sum::<f32>() + tail
}

/// Per-thread vectors of the solver.
struct Scratch {
    r: Vec<f32>,
    dir: Vec<f32>,
    ap: Vec<f32>,
}

impl Scratch {
    fn new(f: usize) -> Self {
        Self {
            r: vec![0.0; f],
            dir: vec![0.0; f],
            ap: vec![0.0; f],
        }
    }
}

#[inline(always)]
fn conjugate_gradient(
    x: &mut [f32],
    cols: &[u32],
    vals: &[f32],
    y: &[f32],
    gram: &[f32],
    p: &AlsParams,
    s: &mut Scratch,
) {
    let f = p.factors;
    let alpha = p.alpha as f32;
    let yi = |i: u32| &y[i as usize * f..][..f];
    let times_gram = |v: &[f32], out: &mut [f32]| {
        for (o, g) in out.iter_mut().zip(gram.chunks_exact(f)) {
            *o = dot8(g, v);
        }
    };
    // r = Yᵀ C p − (YᵀY + λI + Yᵀ(C − I)Y) x
    times_gram(x, &mut s.r);
    s.r.iter_mut().for_each(|v| *v = -*v);
    for (&i, &w) in cols.iter().zip(vals) {
        let c = alpha * w;
        if c <= 0.0 {
            continue;
        }
        let yi = yi(i);
        let scale = c - (c - 1.0) * dot8(yi, x);
        s.r.iter_mut().zip(yi).for_each(|(r, y)| *r += scale * y);
    }
    s.dir.copy_from_slice(&s.r);
    let mut rs_old = dot8(&s.r, &s.r);
    for _ in 0..p.cg_steps {
        if rs_old < 1e-20 {
            break;
        }
        times_gram(&s.dir, &mut s.ap);
        for (&i, &w) in cols.iter().zip(vals) {
            let c = alpha * w;
            if c <= 0.0 {
                continue;
            }
            let yi = yi(i);
            let scale = (c - 1.0) * dot8(yi, &s.dir);
            s.ap.iter_mut().zip(yi).for_each(|(a, y)| *a += scale * y);
        }
        let step = rs_old / dot8(&s.dir, &s.ap);
        if !step.is_finite() {
            break;
        }
        x.iter_mut().zip(&s.dir).for_each(|(x, d)| *x += step * d);
        s.r.iter_mut().zip(&s.ap).for_each(|(r, a)| *r -= step * a);
        let rs_new = dot8(&s.r, &s.r);
        let beta = rs_new / rs_old;
        s.dir
            .iter_mut()
            .zip(&s.r)
            .for_each(|(d, r)| *d = r + beta * *d);
        rs_old = rs_new;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::model::ratings::RatingMatrix;

    #[test]
    fn bm25_matches_the_formula_by_hand() {
        // Row 0 has columns 0, 1; row 1 has column 0. idf_0 = ln 2 − ln 3, idf_1 = ln 2 − ln 2.
        let m = RatingMatrix::new(2, 2, &[(0, 0, 1.0), (0, 1, 1.0), (1, 0, 1.0)]);
        let w = bm25(m.by_user(), 2, 100.0, 0.8);
        let average = 1.5;
        let norm0 = 0.2 + 0.8 * 2.0 / average;
        let expected = 101.0 / (100.0 * norm0 + 1.0) * (2f64.ln() - 3f64.ln());
        assert!((f64::from(w.get(0, 0).expect("stored")) - expected).abs() < 1e-6);
        assert_eq!(w.get(0, 1), Some(0.0));
    }

    #[test]
    fn a_new_users_weights_are_what_training_gave_a_user_with_the_same_movies() {
        let m = RatingMatrix::new(
            3,
            4,
            &[
                (0, 0, 4.0),
                (0, 1, 5.0),
                (0, 3, 2.0),
                (1, 0, 3.0),
                (2, 2, 1.0),
                (2, 0, 4.5),
            ],
        );
        for weighting in [Weighting::UserRows, Weighting::ItemRows] {
            for confidence in [Confidence::Interactions, Confidence::Stars] {
                let (weights, fold) = bm25_weights(&m, weighting, confidence);
                for u in 0..3 {
                    let (items, trained) = weights.row(u);
                    let folded = fold.weights(items, m.by_user().row(u).1);
                    for (a, b) in trained.iter().zip(&folded) {
                        assert!(
                            (a - b).abs() < 1e-6,
                            "{weighting} {confidence}: {trained:?} vs {folded:?}"
                        );
                    }
                }
                // Over user rows the rarer movie weighs more; over item rows the lighter user
                // does; by stars the better rated of two otherwise alike does.
                let w = |u, i| weights.get(u, i).expect("stored");
                match weighting {
                    Weighting::UserRows => assert!(w(0, 1) > w(0, 0)),
                    Weighting::ItemRows => assert!(w(1, 0) > w(0, 0)),
                }
                if confidence == Confidence::Stars {
                    let fives = fold.weights(&[1, 3], &[5.0, 5.0]);
                    let mixed = fold.weights(&[1, 3], &[5.0, 1.0]);
                    assert!(mixed[1] < fives[1], "{weighting}: {mixed:?} vs {fives:?}");
                }
            }
        }
    }

    #[test]
    fn users_rank_the_items_of_their_own_group_first_and_fits_repeat() {
        // Two groups of users, each interacting with most of its own group of items.
        let mut t = Vec::new();
        for u in 0..30u32 {
            for i in 0..20u32 {
                if (u % 2 == i % 2) && (u + i) % 5 != 0 {
                    t.push((u, i, 1.0));
                }
            }
        }
        let m = RatingMatrix::new(30, 20, &t);
        let params = AlsParams {
            factors: 4,
            reg: 0.1,
            iterations: 10,
            alpha: 10.0,
            ..AlsParams::default()
        };
        let als = Als::fit(m.by_user(), 20, params);
        let mut scores = vec![0.0; 20];
        // User 0 (even) did not see item 10 (even) or any odd item: 10 ranks above every odd.
        als.score_user(0, &mut scores);
        let best_odd = (1..20)
            .step_by(2)
            .map(|i| scores[i])
            .fold(f64::MIN, f64::max);
        assert!(scores[10] > best_odd, "{scores:?}");
        assert_eq!(als, Als::fit(m.by_user(), 20, params));
    }

    #[test]
    fn a_folded_in_user_ranks_like_the_fitted_user_with_the_same_items() {
        let mut t = Vec::new();
        for u in 0..40u32 {
            for i in 0..24u32 {
                if (u % 2 == i % 2) && (u + i) % 5 != 0 {
                    t.push((u, i, 1.0));
                }
            }
        }
        let m = RatingMatrix::new(40, 24, &t);
        let params = AlsParams {
            factors: 6,
            reg: 0.1,
            iterations: 15,
            alpha: 10.0,
            cg_steps: 6,
            ..AlsParams::default()
        };
        let als = Als::fit(m.by_user(), 24, params);
        let (items, weights) = m.by_user().row(0);
        let x = als.fold_in(&als.gram(), items, weights);
        let (mut fitted, mut folded) = (vec![0.0; 24], vec![0.0; 24]);
        als.score_user(0, &mut fitted);
        als.score_vector(&x, &mut folded);
        for (a, b) in fitted.iter().zip(&folded) {
            assert!((a - b).abs() < 0.05, "{fitted:?} vs {folded:?}");
        }
        // An even-group newcomer who saw four even items prefers the unseen even items.
        let seen = [2, 4, 6, 8];
        let x = als.fold_in(&als.gram(), &seen, &[1.0; 4]);
        als.score_vector(&x, &mut folded);
        let mean = |odd: bool| {
            let s: Vec<f64> = (0..24)
                .filter(|i| i % 2 == usize::from(odd) && !seen.contains(&(*i as u32)))
                .map(|i| folded[i])
                .collect();
            s.iter().sum::<f64>() / s.len() as f64
        };
        assert!(mean(false) > mean(true) + 0.1, "{folded:?}");
    }
}
