//! Ratings as a sparse matrix over dense positions (users `0..users`, items `0..items`), stored
//! twice — by user and by item — so a model walks either side without a search. Callers map
//! their ids to positions (see [`Positions`]); the models never see an id.

use std::collections::HashMap;
use std::hash::Hash;

/// A compressed sparse row matrix: row `r` holds `cols[ptr[r]..ptr[r + 1]]` (ascending) and
/// their values.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Csr {
    ptr: Vec<usize>,
    cols: Vec<u32>,
    vals: Vec<f32>,
}

impl Csr {
    /// Builds `rows` rows from `(row, col, value)` triples in any order (a counting sort).
    fn from_triples(
        rows: usize,
        triples: &[(u32, u32, f32)],
        key: impl Fn(&(u32, u32, f32)) -> (u32, u32, f32),
    ) -> Self {
        let mut ptr = vec![0usize; rows + 1];
        for t in triples {
            ptr[key(t).0 as usize + 1] += 1;
        }
        for r in 0..rows {
            ptr[r + 1] += ptr[r];
        }
        let mut next = ptr.clone();
        let mut cols = vec![0u32; triples.len()];
        let mut vals = vec![0f32; triples.len()];
        for t in triples {
            let (r, c, v) = key(t);
            let at = &mut next[r as usize];
            cols[*at] = c;
            vals[*at] = v;
            *at += 1;
        }
        let mut csr = Self { ptr, cols, vals };
        csr.sort_rows();
        csr
    }

    fn sort_rows(&mut self) {
        for r in 0..self.rows() {
            let span = self.ptr[r]..self.ptr[r + 1];
            if self.cols[span.clone()].windows(2).all(|w| w[0] < w[1]) {
                continue;
            }
            let mut pairs: Vec<(u32, f32)> = self.cols[span.clone()]
                .iter()
                .copied()
                .zip(self.vals[span.clone()].iter().copied())
                .collect();
            pairs.sort_unstable_by_key(|p| p.0);
            for (k, (c, v)) in pairs.into_iter().enumerate() {
                self.cols[span.start + k] = c;
                self.vals[span.start + k] = v;
            }
        }
    }

    pub fn rows(&self) -> usize {
        self.ptr.len().saturating_sub(1)
    }

    pub fn nnz(&self) -> usize {
        self.cols.len()
    }

    /// Row `r`'s columns (ascending) and values.
    pub fn row(&self, r: usize) -> (&[u32], &[f32]) {
        let span = self.ptr[r]..self.ptr[r + 1];
        (&self.cols[span.clone()], &self.vals[span])
    }

    pub fn row_len(&self, r: usize) -> usize {
        self.ptr[r + 1] - self.ptr[r]
    }

    /// The value at (`r`, `c`), if stored.
    pub fn get(&self, r: usize, c: u32) -> Option<f32> {
        let (cols, vals) = self.row(r);
        cols.binary_search(&c).ok().map(|k| vals[k])
    }

    /// The same pattern with every value replaced by `f(row, col, value)`.
    pub fn map(&self, f: impl Fn(usize, u32, f32) -> f32) -> Self {
        let mut vals = Vec::with_capacity(self.vals.len());
        for r in 0..self.rows() {
            let (cols, values) = self.row(r);
            vals.extend(cols.iter().zip(values).map(|(&c, &v)| f(r, c, v)));
        }
        Self {
            ptr: self.ptr.clone(),
            cols: self.cols.clone(),
            vals,
        }
    }

    /// The transpose, with `cols` rows.
    pub fn transpose(&self, cols: usize) -> Self {
        let triples: Vec<(u32, u32, f32)> = (0..self.rows())
            .flat_map(|r| {
                let (c, v) = self.row(r);
                c.iter().zip(v).map(move |(&c, &v)| (c, r as u32, v))
            })
            .collect();
        Self::from_triples(cols, &triples, |t| *t)
    }
}

/// Ratings (or interactions) by user and by item, and their mean.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct RatingMatrix {
    by_user: Csr,
    by_item: Csr,
    mean: f64,
}

impl RatingMatrix {
    /// From `(user, item, rating)` triples, one per pair (the caller removes duplicates).
    pub fn new(users: usize, items: usize, triples: &[(u32, u32, f32)]) -> Self {
        let by_user = Csr::from_triples(users, triples, |t| *t);
        let by_item = Csr::from_triples(items, triples, |&(u, i, r)| (i, u, r));
        let mean = if triples.is_empty() {
            0.0
        } else {
            triples.iter().map(|t| f64::from(t.2)).sum::<f64>() / triples.len() as f64
        };
        Self {
            by_user,
            by_item,
            mean,
        }
    }

    pub fn users(&self) -> usize {
        self.by_user.rows()
    }

    pub fn items(&self) -> usize {
        self.by_item.rows()
    }

    pub fn len(&self) -> usize {
        self.by_user.nnz()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn mean(&self) -> f64 {
        self.mean
    }

    pub fn by_user(&self) -> &Csr {
        &self.by_user
    }

    pub fn by_item(&self) -> &Csr {
        &self.by_item
    }

    /// Every rating as `(user, item, rating)`, by user then item.
    pub fn triples(&self) -> impl Iterator<Item = (u32, u32, f32)> + '_ {
        (0..self.users()).flat_map(move |u| {
            let (items, ratings) = self.by_user.row(u);
            items
                .iter()
                .zip(ratings)
                .map(move |(&i, &r)| (u as u32, i, r))
        })
    }
}

/// Dense positions for ids, in order of first sight.
#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Positions<K: Eq + Hash> {
    ids: Vec<K>,
    #[serde(skip)]
    index: HashMap<K, u32>,
}

impl<K: Eq + Hash + Clone> Positions<K> {
    /// The position of `id`, assigning the next one to a new id.
    pub fn insert(&mut self, id: K) -> u32 {
        let next = self.ids.len() as u32;
        *self.index.entry(id.clone()).or_insert_with(|| {
            self.ids.push(id);
            next
        })
    }

    pub fn get(&self, id: &K) -> Option<u32> {
        self.index.get(id).copied()
    }

    pub fn id(&self, position: u32) -> &K {
        &self.ids[position as usize]
    }

    pub fn ids(&self) -> &[K] {
        &self.ids
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Rebuilds the lookup after deserialising (it is not stored).
    pub fn reindex(&mut self) {
        self.index = self
            .ids
            .iter()
            .enumerate()
            .map(|(k, id)| (id.clone(), k as u32))
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_sides_hold_the_same_ratings_sorted() {
        let m = RatingMatrix::new(3, 4, &[(2, 1, 3.0), (0, 3, 5.0), (0, 1, 4.0), (1, 3, 1.0)]);
        assert_eq!(m.by_user().row(0), (&[1u32, 3][..], &[4.0f32, 5.0][..]));
        assert_eq!(m.by_item().row(3), (&[0u32, 1][..], &[5.0f32, 1.0][..]));
        assert_eq!(m.by_item().row(0).0.len(), 0);
        assert_eq!(m.by_user().get(2, 1), Some(3.0));
        assert_eq!(m.by_user().get(2, 3), None);
        assert!((m.mean() - 3.25).abs() < 1e-12);
        assert_eq!(m.by_user().transpose(4), *m.by_item());
        assert_eq!(m.triples().count(), 4);
    }

    #[test]
    fn positions_are_stable_and_dense() {
        let mut p = Positions::default();
        assert_eq!(p.insert(40i64), 0);
        assert_eq!(p.insert(7), 1);
        assert_eq!(p.insert(40), 0);
        assert_eq!(p.get(&7), Some(1));
        assert_eq!(p.id(1), &7);
        assert_eq!(p.get(&8), None);
    }
}
