//! The seed's content model: features [rating, release year], standardised, cosine similarity,
//! top-N excluding the query movie, ties broken by MovieID ascending.
//!
//! Never the N×N matrix. The model keeps one unit vector per movie and, because the features are
//! two-dimensional, an *angular index*: the cosine of two unit vectors in the plane is the cosine
//! of the angle between them, so the most similar movies are the nearest in angle. A query finds
//! its own place in the angle order and walks outwards in both directions, scoring each movie
//! exactly (dot product) and stopping as soon as the next one cannot beat the current N-th best:
//! O(N + ties) work instead of a pass over the catalog, 32 bytes per movie in all.

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
    #[error("{0} movies are more than the model indexes (2^32 - 1)")]
    TooLarge(usize),
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
    /// Indices of the non-zero vectors, sorted by angle (then index).
    by_angle: Vec<u32>,
    /// For each index, its position in `by_angle`; `NO_ANGLE` for a zero vector.
    position: Vec<u32>,
    /// Indices of zero vectors (features exactly at the mean): similarity 0 with everything.
    zeros: Vec<u32>,
}

const NO_ANGLE: u32 = u32::MAX;

/// Walk margin: rounding makes a dot product differ from the exact cosine by ~1e-16, so a movie
/// is only ruled out once the nearest unvisited one scores this much below the N-th best.
const MARGIN: f64 = 1e-12;

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
        if rows.len() >= NO_ANGLE as usize {
            return Err(ModelError::TooLarge(rows.len()));
        }
        let features: Vec<[f64; 2]> = rows
            .iter()
            .map(|&(_, rating, year)| [rating, year])
            .collect();
        let scaler = StandardScaler::fit(&features);
        let unit: Vec<[f64; 2]> = features
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
        let zeros: Vec<u32> = (0..unit.len() as u32)
            .filter(|&i| unit[i as usize] == [0.0, 0.0])
            .collect();
        let mut angles: Vec<(f64, u32)> = (0..unit.len() as u32)
            .filter(|&i| unit[i as usize] != [0.0, 0.0])
            .map(|i| (angle(unit[i as usize]), i))
            .collect();
        angles.sort_unstable_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let by_angle: Vec<u32> = angles.into_iter().map(|(_, i)| i).collect();
        let mut position = vec![NO_ANGLE; unit.len()];
        for (p, &i) in by_angle.iter().enumerate() {
            position[i as usize] = p as u32;
        }
        Ok(Self {
            // A fresh allocation: collecting from `rows.into_iter()` would reuse its 24-byte slots.
            ids: rows.iter().map(|r| r.0).collect(),
            unit,
            by_angle,
            position,
            zeros,
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

    /// Heap memory held by the model, in bytes.
    pub fn memory_bytes(&self) -> usize {
        self.ids.capacity() * std::mem::size_of::<i64>()
            + self.unit.capacity() * std::mem::size_of::<[f64; 2]>()
            + (self.by_angle.capacity() + self.position.capacity() + self.zeros.capacity())
                * std::mem::size_of::<u32>()
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
        Ok(self.top_n(self.unit[query], Some(query), n, keep))
    }

    /// The unit feature vector of a movie (zero for a movie exactly at the mean).
    pub fn vector(&self, id: i64) -> Option<[f64; 2]> {
        self.ids.binary_search(&id).ok().map(|i| self.unit[i])
    }

    /// The `n` movies passing `keep` whose vectors are nearest in angle to `direction` (any
    /// length; zero ranks by id): how a profile — a weighted sum of movie vectors — is scored.
    pub fn nearest(
        &self,
        direction: [f64; 2],
        n: usize,
        keep: impl Fn(usize) -> bool,
    ) -> Vec<Neighbour> {
        let norm = (direction[0] * direction[0] + direction[1] * direction[1]).sqrt();
        let q = if norm > 0.0 && norm.is_finite() {
            [direction[0] / norm, direction[1] / norm]
        } else {
            [0.0, 0.0]
        };
        self.top_n(q, None, n, keep)
    }

    /// The walk: best `n` by cosine with unit vector `q`, excluding the movie at index `query`.
    fn top_n(
        &self,
        q: [f64; 2],
        query: Option<usize>,
        n: usize,
        keep: impl Fn(usize) -> bool,
    ) -> Vec<Neighbour> {
        let mut top = TopN::new(n);
        if n == 0 {
            return Vec::new();
        }
        let offer = |top: &mut TopN, index: usize| {
            if Some(index) != query && keep(index) {
                let v = self.unit[index];
                // `+ 0.0` turns -0.0 into 0.0 so equal scores compare equal and fall to the id rule.
                top.offer(Candidate {
                    score: q[0] * v[0] + q[1] * v[1] + 0.0,
                    index,
                });
            }
        };
        let m = self.by_angle.len();
        // Where the walk starts: beside the query movie's own place in the angle order, or at
        // the place a free direction would take.
        let start = match query.map(|i| self.position[i]) {
            Some(p) if p != NO_ANGLE => {
                Some(((p as usize + m - 1) % m, (p as usize + 1) % m, m - 1))
            }
            _ if q == [0.0, 0.0] || m == 0 => None,
            _ => {
                let theta = angle(q);
                let at = self
                    .by_angle
                    .partition_point(|&i| angle(self.unit[i as usize]) < theta);
                Some(((at + m - 1) % m, at % m, m))
            }
        };
        let Some((mut l, mut r, mut remaining)) = start else {
            // A zero vector is similar to nothing: every score is 0, so the ranking is by id.
            for index in 0..self.len() {
                offer(&mut top, index);
                if top.is_full() {
                    break;
                }
            }
            return self.sorted(top);
        };
        // The nearer of two unit vectors in angle is the one with the larger dot product with `q`
        // (cosine falls as the angle grows), so the walk compares the scores it needs anyway.
        let cosine = |k: usize| {
            let v = self.unit[self.by_angle[k] as usize];
            q[0] * v[0] + q[1] * v[1]
        };
        let (mut cl, mut cr) = (cosine(l), cosine(r));
        while remaining > 0 {
            remaining -= 1;
            let (k, c) = if cl >= cr {
                let taken = (l, cl);
                l = (l + m - 1) % m;
                cl = cosine(l);
                taken
            } else {
                let taken = (r, cr);
                r = (r + 1) % m;
                cr = cosine(r);
                taken
            };
            let index = self.by_angle[k] as usize;
            if top.is_full() && c < top.worst.score - MARGIN {
                break;
            }
            offer(&mut top, index);
        }
        if !top.is_full() || top.worst.score <= MARGIN {
            // Zero vectors score 0: they matter only once the ranking reaches that far.
            for &index in &self.zeros {
                offer(&mut top, index as usize);
            }
        }
        self.sorted(top)
    }

    fn sorted(&self, top: TopN) -> Vec<Neighbour> {
        top.into_sorted()
            .map(|c| Neighbour {
                id: self.ids[c.index],
                score: c.score,
            })
            .collect()
    }
}

/// The angle of a unit vector, in (-π, π].
fn angle(v: [f64; 2]) -> f64 {
    v[1].atan2(v[0])
}

/// The best `n` candidates seen so far, in a bounded heap whose top is the one to evict.
struct TopN {
    n: usize,
    heap: BinaryHeap<Candidate>,
    /// A copy of the heap's top once it is full, so most offers cost one comparison.
    worst: Candidate,
}

impl TopN {
    fn new(n: usize) -> Self {
        Self {
            n,
            heap: BinaryHeap::with_capacity(n + 1),
            worst: Candidate {
                score: f64::NEG_INFINITY,
                index: usize::MAX,
            },
        }
    }

    fn is_full(&self) -> bool {
        self.heap.len() >= self.n
    }

    fn offer(&mut self, candidate: Candidate) {
        if self.heap.len() < self.n {
            self.heap.push(candidate);
        } else if candidate < self.worst {
            self.heap.pop();
            self.heap.push(candidate);
        } else {
            return;
        }
        if self.is_full() {
            self.worst = self.heap.peek().copied().unwrap_or(self.worst);
        }
    }

    /// Best first.
    fn into_sorted(self) -> impl Iterator<Item = Candidate> {
        self.heap.into_sorted_vec().into_iter()
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
        brute_force_where(rows, id, n, |_| true)
    }

    fn brute_force_where(
        rows: &[(i64, f64, f64)],
        id: i64,
        n: usize,
        keep: impl Fn(usize) -> bool,
    ) -> Vec<(i64, f64)> {
        let model = ContentModel::fit(rows.to_vec()).expect("fit");
        let q = model.ids.binary_search(&id).expect("id");
        let mut scored: Vec<(i64, f64)> = (0..model.len())
            .filter(|&i| i != q && keep(i))
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
    fn zero_vector_scores_zero_with_everything() {
        // The mean is (6, 2005): movie 3 standardises to the zero vector.
        let rows = vec![
            (1, 5.0, 2000.0),
            (2, 7.0, 2010.0),
            (3, 6.0, 2005.0),
            (4, 5.0, 2010.0),
            (5, 7.0, 2000.0),
        ];
        let model = ContentModel::fit(rows.clone()).expect("fit");
        let from_zero: Vec<(i64, f64)> = model
            .recommend(3, 4)
            .expect("ok")
            .into_iter()
            .map(|r| (r.id, r.score))
            .collect();
        assert_eq!(from_zero, vec![(1, 0.0), (2, 0.0), (4, 0.0), (5, 0.0)]);
        for id in [1, 2, 4, 5] {
            let got: Vec<(i64, f64)> = model
                .recommend(id, 3)
                .expect("ok")
                .into_iter()
                .map(|r| (r.id, r.score))
                .collect();
            assert_eq!(got, brute_force(&rows, id, 3), "query {id}");
        }
    }

    #[test]
    fn nearest_to_a_free_direction_equals_a_full_sort() {
        let rows: Vec<(i64, f64, f64)> = (0..200)
            .map(|i: i64| (i, (i % 17) as f64 * 0.6, 1950.0 + ((i * 7) % 60) as f64))
            .collect();
        let model = ContentModel::fit(rows).expect("fit");
        for direction in [[1.0, 0.0], [-0.3, 0.9], [0.0, -2.0], [0.7, 0.7]] {
            let got = model.nearest(direction, 15, |i| i % 3 != 0);
            let norm = (direction[0] * direction[0] + direction[1] * direction[1]).sqrt();
            let q = [direction[0] / norm, direction[1] / norm];
            let mut all: Vec<(i64, f64)> = (0..model.len())
                .filter(|i| i % 3 != 0)
                .map(|i| {
                    (
                        model.ids[i],
                        q[0] * model.unit[i][0] + q[1] * model.unit[i][1] + 0.0,
                    )
                })
                .collect();
            all.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
            let want: Vec<i64> = all.iter().take(15).map(|x| x.0).collect();
            let got_ids: Vec<i64> = got.iter().map(|x| x.id).collect();
            assert_eq!(got_ids, want, "direction {direction:?}");
        }
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

        #[test]
        fn filtered_top_n_equals_filtered_full_sort(
            ratings in prop::collection::vec((0u8..=20, 1990u16..2000), 2..150),
            pick in any::<prop::sample::Index>(),
            n in 1usize..30,
            modulus in 2usize..5,
        ) {
            let rows: Vec<_> = ratings.iter().enumerate()
                .map(|(i, &(r, y))| (i as i64 + 1, f64::from(r) / 2.0, f64::from(y)))
                .collect();
            let id = rows[pick.index(rows.len())].0;
            let keep = |i: usize| i % modulus != 0;
            let got: Vec<(i64, f64)> = ContentModel::fit(rows.clone()).expect("fit")
                .recommend_where(id, n, keep).expect("known id")
                .into_iter().map(|r| (r.id, r.score)).collect();
            prop_assert_eq!(got, brute_force_where(&rows, id, n, keep));
        }
    }
}
