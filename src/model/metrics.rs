//! Offline evaluation metrics, defined here once and unit-tested on hand-computed cases.
//!
//! Top-N metrics score one user's ranked list against the set of their held-out relevant items
//! (positives); averages over users are the caller's. Binary relevance throughout.
//!
//! - **Precision@k** = hits in the top k / k.
//! - **Recall@k** = hits in the top k / |relevant| (not capped at k).
//! - **NDCG@k** = DCG@k / IDCG@k with DCG@k = Σ_{i=1..k} rel_i / log2(i + 1) and IDCG@k the DCG of
//!   a list with min(k, |relevant|) hits at the top.
//! - **AP@k** (its mean over users is MAP@k) = Σ_{i=1..k} rel_i · Precision@i / min(k, |relevant|).
//! - **Catalog coverage@k** = distinct items in all users' top k / catalog size.
//!
//! Rating-prediction metrics: **RMSE** = √(mean squared error), **MAE** = mean absolute error.
//!
//! A user with no relevant items scores 0 on every top-N metric (the protocols never include one);
//! an empty list of predictions has no RMSE or MAE (`None`).

use serde::Serialize;
use std::collections::HashSet;
use std::hash::Hash;

/// The list length the top-N protocol reads (Recall@20), and its cut-off for the others.
pub const LIST: usize = 20;
pub const K: usize = 10;

/// The top-N protocol's figures, averaged over users (coverage over every list).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct TopNScores {
    pub precision_at_10: f64,
    pub recall_at_20: f64,
    pub ndcg_at_10: f64,
    pub map_at_10: f64,
    pub coverage_at_10: f64,
}

impl TopNScores {
    /// From each user's ranked list and relevant items (same order) over a catalog of
    /// `catalog` items.
    pub fn of<T: Eq + Hash>(lists: &[Vec<T>], relevant: &[&HashSet<T>], catalog: usize) -> Self {
        let n = lists.len().max(1) as f64;
        let mean = |f: &dyn Fn(&[T], &HashSet<T>) -> f64| {
            lists
                .iter()
                .zip(relevant)
                .map(|(l, r)| f(l, r))
                .sum::<f64>()
                / n
        };
        Self {
            precision_at_10: mean(&|l, r| precision_at(K, l, r)),
            recall_at_20: mean(&|l, r| recall_at(LIST, l, r)),
            ndcg_at_10: mean(&|l, r| ndcg_at(K, l, r)),
            map_at_10: mean(&|l, r| average_precision_at(K, l, r)),
            coverage_at_10: catalog_coverage_at(K, lists.iter().map(Vec::as_slice), catalog),
        }
    }
}

/// How many of the first `k` ranked items are relevant.
fn hits<T: Eq + Hash>(ranked: &[T], relevant: &HashSet<T>, k: usize) -> usize {
    ranked
        .iter()
        .take(k)
        .filter(|i| relevant.contains(i))
        .count()
}

pub fn precision_at<T: Eq + Hash>(k: usize, ranked: &[T], relevant: &HashSet<T>) -> f64 {
    if k == 0 || relevant.is_empty() {
        return 0.0;
    }
    hits(ranked, relevant, k) as f64 / k as f64
}

pub fn recall_at<T: Eq + Hash>(k: usize, ranked: &[T], relevant: &HashSet<T>) -> f64 {
    if relevant.is_empty() {
        return 0.0;
    }
    hits(ranked, relevant, k) as f64 / relevant.len() as f64
}

pub fn ndcg_at<T: Eq + Hash>(k: usize, ranked: &[T], relevant: &HashSet<T>) -> f64 {
    let gain = |position: usize| 1.0 / ((position + 2) as f64).log2();
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .filter(|(_, item)| relevant.contains(item))
        .map(|(i, _)| gain(i))
        .sum();
    let ideal: f64 = (0..k.min(relevant.len())).map(gain).sum();
    if ideal == 0.0 {
        0.0
    } else {
        dcg / ideal
    }
}

pub fn average_precision_at<T: Eq + Hash>(k: usize, ranked: &[T], relevant: &HashSet<T>) -> f64 {
    let denominator = k.min(relevant.len());
    if denominator == 0 {
        return 0.0;
    }
    let mut found = 0;
    let mut sum = 0.0;
    for (i, item) in ranked.iter().take(k).enumerate() {
        if relevant.contains(item) {
            found += 1;
            sum += found as f64 / (i + 1) as f64;
        }
    }
    sum / denominator as f64
}

/// Distinct items among every list's top `k`, over the catalog's size.
pub fn catalog_coverage_at<'a, T: Eq + Hash + 'a>(
    k: usize,
    lists: impl IntoIterator<Item = &'a [T]>,
    catalog_size: usize,
) -> f64 {
    if catalog_size == 0 {
        return 0.0;
    }
    let mut seen: HashSet<&T> = HashSet::new();
    for list in lists {
        seen.extend(list.iter().take(k));
    }
    seen.len() as f64 / catalog_size as f64
}

/// Root mean squared error of (predicted, actual) pairs.
pub fn rmse(pairs: impl IntoIterator<Item = (f64, f64)>) -> Option<f64> {
    let (sum, n) = pairs.into_iter().fold((0.0, 0usize), |(s, n), (p, a)| {
        (s + (p - a) * (p - a), n + 1)
    });
    (n > 0).then(|| (sum / n as f64).sqrt())
}

/// Mean absolute error of (predicted, actual) pairs.
pub fn mae(pairs: impl IntoIterator<Item = (f64, f64)>) -> Option<f64> {
    let (sum, n) = pairs
        .into_iter()
        .fold((0.0, 0usize), |(s, n), (p, a)| (s + (p - a).abs(), n + 1));
    (n > 0).then(|| sum / n as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[u32]) -> HashSet<u32> {
        items.iter().copied().collect()
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-12
    }

    /// Ranked 1..=5 with items 1, 3 and 9 relevant (9 never ranked): hits at positions 1 and 3.
    const RANKED: [u32; 5] = [1, 2, 3, 4, 5];

    #[test]
    fn precision_and_recall_count_hits_in_the_top_k() {
        let relevant = set(&[1, 3, 9]);
        assert!(close(precision_at(1, &RANKED, &relevant), 1.0));
        assert!(close(precision_at(5, &RANKED, &relevant), 2.0 / 5.0));
        assert!(
            close(precision_at(10, &RANKED, &relevant), 2.0 / 10.0),
            "k, not the list's length"
        );
        assert!(close(recall_at(2, &RANKED, &relevant), 1.0 / 3.0));
        assert!(close(recall_at(20, &RANKED, &relevant), 2.0 / 3.0));
    }

    #[test]
    fn ndcg_discounts_by_log2_of_the_position_against_the_ideal_list() {
        let relevant = set(&[1, 3, 9]);
        // DCG@5 = 1/log2(2) + 1/log2(4) = 1 + 0.5; IDCG@5 (3 relevant) = 1 + 1/log2(3) + 1/log2(4).
        let ideal = 1.0 + 1.0 / 3f64.log2() + 0.5;
        assert!(close(ndcg_at(5, &RANKED, &relevant), 1.5 / ideal));
        // At k = 1 the ideal holds one hit, and the list has it.
        assert!(close(ndcg_at(1, &RANKED, &relevant), 1.0));
        assert!(close(ndcg_at(10, &[7u32, 8], &relevant), 0.0));
        assert!(close(ndcg_at(10, &RANKED, &set(&[])), 0.0));
    }

    #[test]
    fn average_precision_averages_the_precision_at_each_hit() {
        let relevant = set(&[1, 3, 9]);
        // Hits at 1 (P = 1) and 3 (P = 2/3), over min(5, 3) = 3.
        assert!(close(
            average_precision_at(5, &RANKED, &relevant),
            (1.0 + 2.0 / 3.0) / 3.0
        ));
        // Over min(2, 3) = 2: only the hit at 1 is inside the top 2.
        assert!(close(
            average_precision_at(2, &RANKED, &relevant),
            1.0 / 2.0
        ));
        assert!(close(
            average_precision_at(5, &[1u32, 3], &set(&[1, 3])),
            1.0
        ));
    }

    #[test]
    fn coverage_counts_distinct_items_of_every_top_k() {
        let lists: [&[u32]; 2] = [&[1, 2, 3], &[3, 4, 5]];
        assert!(
            close(catalog_coverage_at(2, lists, 10), 4.0 / 10.0),
            "1, 2, 3, 4"
        );
        assert!(close(catalog_coverage_at(3, lists, 10), 5.0 / 10.0));
    }

    #[test]
    fn rmse_and_mae_of_hand_computed_errors() {
        let pairs = [(3.0, 4.0), (5.0, 3.0), (2.5, 2.5)];
        assert!(close(rmse(pairs).expect("rmse"), (5.0f64 / 3.0).sqrt()));
        assert!(close(mae(pairs).expect("mae"), 1.0));
        assert_eq!(rmse(std::iter::empty()), None);
    }
}
