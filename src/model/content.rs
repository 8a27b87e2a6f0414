//! The seed's content model: features [rating, release year], standardised, cosine similarity,
//! top-N excluding the query movie, ties broken by MovieID ascending.
//!
//! Never the N×N matrix: the model keeps one unit vector per movie (24 bytes with its id) and a
//! query is one linear scan with a bounded heap of N entries, O(catalog) time, O(N) extra memory.

use super::StandardScaler;
use serde::Serialize;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ModelError {
    #[error("no movie with id {0}")]
    UnknownMovie(i64),
    #[error("movie id {0} appears more than once in the input")]
    DuplicateId(i64),
    #[error("movie {id} has a non-finite feature (rating {rating}, year {year})")]
    NonFinite { id: i64, rating: f64, year: f64 },
}

/// A recommended movie and its cosine similarity to the query movie.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Neighbour {
    pub id: i64,
    pub score: f64,
}

/// The fitted model: movie ids in ascending order and, at the same index, the movie's
/// standardised feature vector scaled to unit length (zero vectors stay zero, as in scikit-learn).
#[derive(Debug, Clone)]
pub struct ContentModel {
    ids: Vec<i64>,
    unit: Vec<[f64; 2]>,
    scaler: StandardScaler<2>,
}

impl ContentModel {
    /// Fits on `(MovieID, rating, release year)` rows in any order.
    pub fn fit(mut rows: Vec<(i64, f64, f64)>) -> Result<Self, ModelError> {
        rows.sort_unstable_by_key(|r| r.0);
        if let Some(w) = rows.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(ModelError::DuplicateId(w[0].0));
        }
        if let Some(&(id, rating, year)) =
            rows.iter().find(|r| !(r.1.is_finite() && r.2.is_finite()))
        {
            return Err(ModelError::NonFinite { id, rating, year });
        }
        let features: Vec<[f64; 2]> = rows
            .iter()
            .map(|&(_, rating, year)| [rating, year])
            .collect();
        let scaler = StandardScaler::fit(&features);
        let unit = features
            .into_iter()
            .map(|f| {
                let [a, b] = scaler.transform(f);
                let norm = (a * a + b * b).sqrt();
                if norm == 0.0 {
                    [0.0, 0.0]
                } else {
                    [a / norm, b / norm]
                }
            })
            .collect();
        Ok(Self {
            // A fresh allocation: collecting from `rows.into_iter()` would reuse its 24-byte slots.
            ids: rows.iter().map(|r| r.0).collect(),
            unit,
            scaler,
        })
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Movie ids in ascending order: position `i` here is position `i` for `recommend_where`.
    pub fn ids(&self) -> &[i64] {
        &self.ids
    }

    pub fn contains(&self, id: i64) -> bool {
        self.ids.binary_search(&id).is_ok()
    }

    pub fn scaler(&self) -> &StandardScaler<2> {
        &self.scaler
    }

    /// Heap memory held by the model, in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.ids.capacity() * std::mem::size_of::<i64>()
            + self.unit.capacity() * std::mem::size_of::<[f64; 2]>()
    }

    /// The `n` movies most similar to `id`, best first; fewer when the catalog is smaller.
    pub fn recommend(&self, id: i64, n: usize) -> Result<Vec<Neighbour>, ModelError> {
        self.recommend_where(id, n, |_| true)
    }

    /// Like [`ContentModel::recommend`], among the movies whose position (in ascending-id order,
    /// see [`ContentModel::ids`]) passes `keep`: filters select before ranking, so `n` stays `n`.
    pub fn recommend_where(
        &self,
        id: i64,
        n: usize,
        keep: impl Fn(usize) -> bool,
    ) -> Result<Vec<Neighbour>, ModelError> {
        let query = self
            .ids
            .binary_search(&id)
            .map_err(|_| ModelError::UnknownMovie(id))?;
        let q = self.unit[query];
        let mut heap: BinaryHeap<Candidate> = BinaryHeap::with_capacity(n + 1);
        if n == 0 {
            return Ok(Vec::new());
        }
        // Most movies lose to the current worst of the top N; comparing against a cached copy of
        // it keeps the hot loop to two multiplies and one compare.
        let mut worst = Candidate {
            score: f64::NEG_INFINITY,
            index: usize::MAX,
        };
        for (index, v) in self.unit.iter().enumerate() {
            // `+ 0.0` turns -0.0 into 0.0 so equal scores compare equal and fall to the id rule.
            let score = q[0] * v[0] + q[1] * v[1] + 0.0;
            if score < worst.score || index == query || !keep(index) {
                continue;
            }
            let candidate = Candidate { score, index };
            if heap.len() < n {
                heap.push(candidate);
            } else if candidate < worst {
                heap.pop();
                heap.push(candidate);
            } else {
                continue;
            }
            if heap.len() == n {
                worst = heap.peek().copied().unwrap_or(worst);
            }
        }
        Ok(heap
            .into_sorted_vec()
            .into_iter()
            .map(|c| Neighbour {
                id: self.ids[c.index],
                score: c.score,
            })
            .collect())
    }
}

/// Ordered so that the *worse* candidate is the greater: lower score, then higher MovieID (ids are
/// sorted, so a higher index is a higher id). The heap's top is then the one to evict.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    score: f64,
    index: usize,
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .score
            .total_cmp(&self.score)
            .then(self.index.cmp(&other.index))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Candidate {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The seed's algorithm, spelled out naively: full score row, stable sort.
    fn brute_force(rows: &[(i64, f64, f64)], id: i64, n: usize) -> Vec<(i64, f64)> {
        let model = ContentModel::fit(rows.to_vec()).expect("fit");
        let q = model.ids.binary_search(&id).expect("id");
        let mut scored: Vec<(i64, f64)> = (0..model.len())
            .filter(|&i| i != q)
            .map(|i| {
                let (a, b) = (model.unit[q], model.unit[i]);
                (model.ids[i], a[0] * b[0] + a[1] * b[1] + 0.0)
            })
            .collect();
        scored.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        scored.truncate(n);
        scored
    }

    #[test]
    fn excludes_query_and_breaks_ties_by_id() {
        // ids 2, 3 and 5 have identical features, so identical scores.
        let rows = vec![
            (5, 7.0, 2000.0),
            (1, 7.0, 2000.0),
            (3, 7.0, 2000.0),
            (2, 7.0, 2000.0),
            (9, 2.0, 1950.0),
        ];
        let recs = ContentModel::fit(rows)
            .expect("fit")
            .recommend(1, 3)
            .expect("known id");
        let ids: Vec<i64> = recs.iter().map(|r| r.id).collect();
        assert_eq!(ids, vec![2, 3, 5]);
        assert!(recs.iter().all(|r| (r.score - 1.0).abs() < 1e-12));
    }

    #[test]
    fn filter_selects_before_ranking() {
        let rows = vec![
            (1, 7.0, 2000.0),
            (2, 7.0, 2000.0),
            (3, 7.0, 2001.0),
            (4, 1.0, 1950.0),
            (5, 6.9, 2000.0),
        ];
        let model = ContentModel::fit(rows).expect("fit");
        let even = |i: usize| model.ids()[i] % 2 == 0;
        let ids: Vec<i64> = model
            .recommend_where(1, 2, even)
            .expect("ok")
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, vec![2, 4]);
    }

    #[test]
    fn unknown_id_is_an_error() {
        let model = ContentModel::fit(vec![(1, 5.0, 1990.0), (2, 6.0, 1991.0)]).expect("fit");
        assert_eq!(model.recommend(3, 5), Err(ModelError::UnknownMovie(3)));
    }

    #[test]
    fn n_larger_than_catalog_returns_everything_else() {
        let model = ContentModel::fit(vec![(1, 5.0, 1990.0), (2, 6.0, 1991.0), (3, 1.0, 2001.0)])
            .expect("fit");
        assert_eq!(model.recommend(2, 100).expect("ok").len(), 2);
        assert!(model.recommend(2, 0).expect("ok").is_empty());
    }

    #[test]
    fn duplicate_ids_are_rejected() {
        assert_eq!(
            ContentModel::fit(vec![(1, 5.0, 1990.0), (1, 6.0, 1991.0)]).unwrap_err(),
            ModelError::DuplicateId(1)
        );
    }

    #[test]
    fn memory_is_linear_and_small() {
        let rows: Vec<_> = (0..10_000)
            .map(|i| (i, (i % 100) as f64 / 10.0, 1900.0 + (i % 120) as f64))
            .collect();
        let model = ContentModel::fit(rows).expect("fit");
        assert!(
            model.memory_bytes() / model.len() < 100,
            "{} bytes",
            model.memory_bytes()
        );
    }

    proptest! {
        #[test]
        fn heap_top_n_equals_full_sort(
            ratings in prop::collection::vec((0u8..=100, 1900u16..2030), 2..200),
            pick in any::<prop::sample::Index>(),
            n in 0usize..50,
        ) {
            let rows: Vec<_> = ratings.iter().enumerate()
                .map(|(i, &(r, y))| (i as i64 * 3 + 1, f64::from(r) / 10.0, f64::from(y)))
                .collect();
            let id = rows[pick.index(rows.len())].0;
            let got: Vec<(i64, f64)> = ContentModel::fit(rows.clone()).expect("fit")
                .recommend(id, n).expect("known id")
                .into_iter().map(|r| (r.id, r.score)).collect();
            prop_assert_eq!(got, brute_force(&rows, id, n));
        }
    }
}
