//! Item-based k nearest neighbours, memory-bounded: each item keeps only its `keep` most similar
//! items (never an items × items matrix). Similarities are computed one item at a time, in
//! parallel, from a per-thread accumulator as long as the catalog.
//!
//! - **Rating prediction** (as Surprise's `KNNBaseline`, item-based, `pearson_baseline`):
//!   r̂_ui = b_ui + Σ_j s_ij (r_uj − b_uj) / Σ_j s_ij over the `k` most similar items j to i that u
//!   rated, positive similarities only; s_ij is the Pearson correlation of the baseline residuals
//!   over their common raters, shrunk by (n_ij − 1) / (n_ij − 1 + shrinkage).
//! - **Top-N** (as implicit's item-item cosine): s_ij = |U_i ∩ U_j| / √(|U_i| |U_j|) on who rated
//!   what; a user's score for j is Σ s_ij over the items i they rated.

use super::baseline::Baseline;
use super::ratings::RatingMatrix;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Similarity {
    /// Pearson correlation of baseline residuals, shrunk.
    PearsonBaseline { shrinkage: f64 },
    /// Cosine of the binary "rated" vectors.
    Cosine,
    /// How many users rated both (the Gram matrix XᵀX's entry): the support of sparse EASE^R.
    Count,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct KnnParams {
    /// Neighbours used per prediction.
    pub k: usize,
    /// Neighbours kept per item.
    pub keep: usize,
    pub similarity: Similarity,
}

/// Bytes [`Neighbours::build`] holds at its peak for `items` items keeping `keep` each: the
/// lists (8 bytes an entry) and a catalog-long accumulator per thread.
pub fn fit_bytes(items: usize, keep: usize) -> u64 {
    let threads = rayon::current_num_threads() as u64;
    8 * (items as u64) * (keep as u64) + threads * 36 * items as u64
}

/// Each item's most similar items, best first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Neighbours {
    ptr: Vec<usize>,
    list: Vec<(u32, f32)>,
}

impl Neighbours {
    pub fn of(&self, item: usize) -> &[(u32, f32)] {
        self.list
            .get(self.ptr[item]..self.ptr[item + 1])
            .unwrap_or_default()
    }

    pub fn items(&self) -> usize {
        self.ptr.len().saturating_sub(1)
    }

    /// Lists already ranked, item by item.
    pub fn from_lists(lists: Vec<Vec<(u32, f32)>>) -> Self {
        let mut ptr = Vec::with_capacity(lists.len() + 1);
        ptr.push(0);
        let mut list = Vec::with_capacity(lists.iter().map(Vec::len).sum());
        for l in lists {
            list.extend(l);
            ptr.push(list.len());
        }
        Self { ptr, list }
    }

    /// Computes every item's `keep` best neighbours. `residuals`, in [`RatingMatrix::triples`]
    /// order, are the values the similarity correlates; without them every value is 1.
    pub fn build(m: &RatingMatrix, params: &KnnParams, residuals: Option<&[f32]>) -> Self {
        let items = m.items();
        let by_user = m.by_user();
        let similar = |c: &(u32, CoSums), n_i: usize| similarity(params.similarity, c, n_i, m);
        let lists: Vec<Vec<(u32, f32)>> = match residuals {
            // Binary: only how many users rated both, counted in u32s (an eighth of the memory
            // traffic of the sums, the accumulator of a 62k catalog fits in L2).
            None => (0..items)
                .into_par_iter()
                .map_init(
                    || Counts::new(items),
                    |acc, i| {
                        let (users, _) = m.by_item().row(i);
                        for &u in users {
                            acc.add_all(by_user.row(u as usize).0);
                        }
                        let sims = acc.drain(i as u32, |c| similar(c, users.len()));
                        top(sims, params.keep)
                    },
                )
                .collect(),
            Some(residuals) => {
                // Offsets of each user's row in the by-user arrays, to read residuals.
                let mut user_start = Vec::with_capacity(m.users() + 1);
                let mut at = 0;
                for u in 0..m.users() {
                    user_start.push(at);
                    at += by_user.row_len(u);
                }
                let residual = |u: usize, k: usize| residuals[user_start[u] + k];
                (0..items)
                    .into_par_iter()
                    .map_init(
                        || Accumulator::new(items),
                        |acc, i| {
                            let (users, _) = m.by_item().row(i);
                            for &u in users {
                                let u = u as usize;
                                let (their_items, _) = by_user.row(u);
                                let own = their_items
                                    .binary_search(&(i as u32))
                                    .map_or(1.0, |k| residual(u, k));
                                for (k, &j) in their_items.iter().enumerate() {
                                    if j as usize != i {
                                        acc.add(j, own, residual(u, k));
                                    }
                                }
                            }
                            let sims = acc.drain(|c| similar(c, users.len()));
                            top(sims, params.keep)
                        },
                    )
                    .collect()
            }
        };
        Self::from_lists(lists)
    }
}

/// How many users rated both item i and each other item, as long as the catalog, reused per
/// item: the binary case of [`Accumulator`].
struct Counts {
    counts: Vec<u32>,
    touched: Vec<u32>,
}

impl Counts {
    fn new(items: usize) -> Self {
        Self {
            counts: vec![0; items],
            touched: Vec::new(),
        }
    }

    /// One user's items, each co-rated once more.
    fn add_all(&mut self, items: &[u32]) {
        for &j in items {
            let c = &mut self.counts[j as usize];
            if *c == 0 {
                self.touched.push(j);
            }
            *c += 1;
        }
    }

    /// Each touched item but `own` with its similarity, resetting the counts. Every value being
    /// 1, the sums of products and squares are the count itself.
    fn drain(&mut self, own: u32, sim: impl Fn(&(u32, CoSums)) -> f64) -> Vec<(u32, f32)> {
        let mut out = Vec::with_capacity(self.touched.len());
        for j in self.touched.drain(..) {
            let n = std::mem::take(&mut self.counts[j as usize]);
            if j == own {
                continue;
            }
            let v = f64::from(n);
            let s = sim(&(
                j,
                CoSums {
                    n,
                    prod: v,
                    sq_i: v,
                    sq_j: v,
                },
            ));
            if s > 0.0 {
                out.push((j, s as f32));
            }
        }
        out
    }
}

/// Co-occurrence sums of item i with every other item, as long as the catalog, reused per item.
struct Accumulator {
    sums: Vec<CoSums>,
    touched: Vec<u32>,
}

#[derive(Debug, Clone, Copy, Default)]
struct CoSums {
    n: u32,
    prod: f64,
    sq_i: f64,
    sq_j: f64,
}

impl Accumulator {
    fn new(items: usize) -> Self {
        Self {
            sums: vec![CoSums::default(); items],
            touched: Vec::new(),
        }
    }

    fn add(&mut self, j: u32, ei: f32, ej: f32) {
        let s = &mut self.sums[j as usize];
        if s.n == 0 {
            self.touched.push(j);
        }
        let (ei, ej) = (f64::from(ei), f64::from(ej));
        s.n += 1;
        s.prod += ei * ej;
        s.sq_i += ei * ei;
        s.sq_j += ej * ej;
    }

    /// Each touched item with its similarity, resetting the sums.
    fn drain(&mut self, sim: impl Fn(&(u32, CoSums)) -> f64) -> Vec<(u32, f32)> {
        let mut out = Vec::with_capacity(self.touched.len());
        for j in self.touched.drain(..) {
            let c = std::mem::take(&mut self.sums[j as usize]);
            let s = sim(&(j, c));
            if s > 0.0 {
                out.push((j, s as f32));
            }
        }
        out
    }
}

fn similarity(kind: Similarity, (j, c): &(u32, CoSums), n_i: usize, m: &RatingMatrix) -> f64 {
    match kind {
        Similarity::PearsonBaseline { shrinkage } => {
            let denominator = (c.sq_i * c.sq_j).sqrt();
            if denominator == 0.0 {
                return 0.0;
            }
            let n = f64::from(c.n);
            c.prod / denominator * (n - 1.0) / (n - 1.0 + shrinkage)
        }
        Similarity::Cosine => {
            let n_j = m.by_item().row_len(*j as usize);
            f64::from(c.n) / ((n_i * n_j) as f64).sqrt()
        }
        Similarity::Count => f64::from(c.n),
    }
}

/// The `keep` highest similarities, best first, ties by item.
fn top(mut sims: Vec<(u32, f32)>, keep: usize) -> Vec<(u32, f32)> {
    let order = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if sims.len() > keep {
        sims.select_nth_unstable_by(keep, order);
        sims.truncate(keep);
    }
    sims.sort_unstable_by(order);
    // The list was as long as every co-occurring item: kept whole, the lists of a large
    // catalog would hold its square.
    sims.shrink_to_fit();
    sims
}

/// A fitted item-kNN model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemKnn {
    pub params: KnnParams,
    /// Present for rating prediction (`PearsonBaseline`).
    pub baseline: Option<Baseline>,
    pub neighbours: Neighbours,
}

impl ItemKnn {
    /// Fits on `m`; `baseline` (fitted on the same `m`) is required for `PearsonBaseline`.
    pub fn fit(m: &RatingMatrix, params: KnnParams, baseline: Option<Baseline>) -> Self {
        let residuals: Option<Vec<f32>> = baseline.as_ref().map(|b| {
            m.triples()
                .map(|(u, i, r)| (f64::from(r) - b.estimate(Some(u), Some(i))) as f32)
                .collect()
        });
        let residuals = match params.similarity {
            Similarity::PearsonBaseline { .. } => residuals,
            Similarity::Cosine | Similarity::Count => None,
        };
        let neighbours = Neighbours::build(m, &params, residuals.as_deref());
        Self {
            params,
            baseline,
            neighbours,
        }
    }

    /// Predicted rating of `item` by `user`, whose ratings are row `user` of `m`.
    pub fn predict(&self, m: &RatingMatrix, user: Option<u32>, item: Option<u32>) -> f64 {
        let Some(b) = &self.baseline else {
            return m.mean();
        };
        let estimate = b.estimate(user, item);
        let (Some(u), Some(i)) = (user, item) else {
            return estimate;
        };
        let (Some(_), true) = (
            b.user.get(u as usize),
            (i as usize) < self.neighbours.items(),
        ) else {
            return estimate;
        };
        let (mut num, mut den, mut used) = (0.0, 0.0, 0);
        for &(j, s) in self.neighbours.of(i as usize) {
            if used == self.params.k {
                break;
            }
            if let Some(r) = m.by_user().get(u as usize, j) {
                let s = f64::from(s);
                num += s * (f64::from(r) - b.estimate(Some(u), Some(j)));
                den += s;
                used += 1;
            }
        }
        if den > 0.0 {
            estimate + num / den
        } else {
            estimate
        }
    }

    /// Adds Σ w_i s_ij over (i, w_i) in `profile` into `scores`: [`Self::score_items`] for a
    /// folded-in user whose ratings weigh their items.
    pub fn score_weighted(&self, profile: &[(u32, f64)], scores: &mut [f64]) {
        for &(i, w) in profile {
            for &(j, s) in self.neighbours.of(i as usize).iter().take(self.params.k) {
                scores[j as usize] += w * f64::from(s);
            }
        }
    }

    /// Adds Σ s_ij over `rated` items i into `scores` (one slot per item).
    pub fn score_items(&self, rated: &[u32], scores: &mut [f64]) {
        for &i in rated {
            for &(j, s) in self.neighbours.of(i as usize).iter().take(self.params.k) {
                scores[j as usize] += f64::from(s);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::baseline::BaselineParams;

    #[test]
    fn cosine_neighbours_match_a_hand_computed_case() {
        // i0 rated by u0,u1; i1 by u0,u1,u2; i2 by u2. s(0,1) = 2/√6, s(1,2) = 1/√3, s(0,2) = 0.
        let m = RatingMatrix::new(
            3,
            3,
            &[
                (0, 0, 1.0),
                (1, 0, 1.0),
                (0, 1, 1.0),
                (1, 1, 1.0),
                (2, 1, 1.0),
                (2, 2, 1.0),
            ],
        );
        let p = KnnParams {
            k: 10,
            keep: 10,
            similarity: Similarity::Cosine,
        };
        let knn = ItemKnn::fit(&m, p, None);
        let n1 = knn.neighbours.of(1);
        assert_eq!(n1.len(), 2);
        assert_eq!(n1[0].0, 0);
        assert!((f64::from(n1[0].1) - 2.0 / 6f64.sqrt()).abs() < 1e-6);
        assert!((f64::from(n1[1].1) - 1.0 / 3f64.sqrt()).abs() < 1e-6);
        assert_eq!(knn.neighbours.of(0).len(), 1);
        let mut scores = vec![0.0; 3];
        knn.score_items(&[0, 2], &mut scores);
        let mut weighted = vec![0.0; scores.len()];
        knn.score_weighted(&[(0, 1.0), (2, 1.0)], &mut weighted);
        assert_eq!(weighted, scores);
        assert!((scores[1] - (2.0 / 6f64.sqrt() + 1.0 / 3f64.sqrt())).abs() < 1e-6);
        let kept = ItemKnn::fit(&m, KnnParams { keep: 1, ..p }, None);
        assert_eq!(kept.neighbours.of(1), &n1[..1]);
    }

    #[test]
    fn predictions_follow_similar_items_residuals() {
        // Users who rate i0 high rate i1 high: u2's unknown rating of i1 follows its i0 rating.
        let mut t = Vec::new();
        for u in 0..20u32 {
            let taste = if u % 2 == 0 { 5.0 } else { 1.0 };
            t.push((u, 0, taste));
            t.push((u, 1, taste));
            t.push((u, 2, 3.0));
        }
        t.retain(|&(u, i, _)| !((u == 2 || u == 3) && i == 1));
        let m = RatingMatrix::new(20, 3, &t);
        let b = Baseline::fit(&m, &BaselineParams::default());
        let p = KnnParams {
            k: 40,
            keep: 10,
            similarity: Similarity::PearsonBaseline { shrinkage: 0.0 },
        };
        let knn = ItemKnn::fit(&m, p, Some(b.clone()));
        let lover = knn.predict(&m, Some(2), Some(1));
        let hater = knn.predict(&m, Some(3), Some(1));
        assert!(
            lover > b.estimate(Some(2), Some(1)) && lover > 4.0,
            "{lover}"
        );
        assert!(hater < 2.0, "{hater}");
        // An unknown item falls back to the baseline.
        assert_eq!(knn.predict(&m, Some(2), None), b.estimate(Some(2), None));
    }
}
