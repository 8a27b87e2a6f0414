//! Train/test splits over dense positions: training fixes the users and movies a model knows;
//! test rows naming others are kept (a model answers them from what it knows) and counted.

use super::ratings::{Positions, RatingMatrix};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// One rating: user id, movie id, rating.
pub type Row = (i64, i64, f32);

/// A test row: user and movie positions in training (None when training never saw them).
pub type TestRow = (Option<u32>, Option<u32>, f32);

/// Training as a matrix, test rows against its positions.
#[derive(Debug, Clone)]
pub struct Split {
    pub users: Positions<i64>,
    pub items: Positions<i64>,
    pub train: RatingMatrix,
    pub test: Vec<TestRow>,
    pub counts: SplitCounts,
}

/// What a split held, for the report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SplitCounts {
    pub train_ratings: usize,
    pub test_ratings: usize,
    /// Training rows that repeated a (user, movie) pair: the later row was kept.
    pub train_duplicates: usize,
    /// Test rows whose user has no training rating.
    pub unknown_users: usize,
    /// Test rows whose movie has no training rating.
    pub unknown_movies: usize,
}

impl Split {
    pub fn new(train: &[Row], test: &[Row]) -> Self {
        let mut users = Positions::default();
        let mut items = Positions::default();
        let mut latest: HashMap<(u32, u32), f32> = HashMap::with_capacity(train.len());
        let mut order = Vec::with_capacity(train.len());
        let mut duplicates = 0;
        for &(user, movie, rating) in train {
            let key = (users.insert(user), items.insert(movie));
            if latest.insert(key, rating).is_some() {
                duplicates += 1;
            } else {
                order.push(key);
            }
        }
        let triples: Vec<(u32, u32, f32)> = order
            .iter()
            .map(|&(u, i)| (u, i, latest[&(u, i)]))
            .collect();
        let matrix = RatingMatrix::new(users.len(), items.len(), &triples);
        let test: Vec<TestRow> = test
            .iter()
            .map(|&(user, movie, rating)| (users.get(&user), items.get(&movie), rating))
            .collect();
        let counts = SplitCounts {
            train_ratings: triples.len(),
            test_ratings: test.len(),
            train_duplicates: duplicates,
            unknown_users: test.iter().filter(|t| t.0.is_none()).count(),
            unknown_movies: test.iter().filter(|t| t.1.is_none()).count(),
        };
        Self {
            users,
            items,
            train: matrix,
            test,
            counts,
        }
    }
}

impl Split {
    /// Test users (training positions) with their test rows rated at least `positive` (movie
    /// ids), by position; and how many test users training never saw.
    pub fn relevant(&self, test: &[Row], positive: f32) -> (Vec<(u32, HashSet<i64>)>, usize) {
        let mut by_user: BTreeMap<u32, HashSet<i64>> = BTreeMap::new();
        let mut unknown_users = HashSet::new();
        for &(user, movie, rating) in test {
            if rating < positive {
                continue;
            }
            match self.users.get(&user) {
                Some(u) => {
                    by_user.entry(u).or_default().insert(movie);
                }
                None => {
                    unknown_users.insert(user);
                }
            }
        }
        (by_user.into_iter().collect(), unknown_users.len())
    }
}

/// A seeded random `fraction` of `rows` held out: (kept, held out), each in input order.
pub fn holdout(rows: &[Row], fraction: f64, seed: u64) -> (Vec<Row>, Vec<Row>) {
    let mut index: Vec<usize> = (0..rows.len()).collect();
    index.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
    let held = ((rows.len() as f64) * fraction).round() as usize;
    let mut out = vec![false; rows.len()];
    for &k in &index[..held.min(rows.len())] {
        out[k] = true;
    }
    let (mut kept, mut test) = (Vec::new(), Vec::new());
    for (row, &o) in rows.iter().zip(&out) {
        if o {
            test.push(*row);
        } else {
            kept.push(*row);
        }
    }
    (kept, test)
}

/// The top-N protocol's split: for each user with at least `min_positives` ratings ≥
/// `positive`, a seeded random `fraction` of those positives (at least one, rounded down
/// otherwise) is the test set; every other row is training. Users are visited in id order, so
/// the split depends only on the rows and the seed.
pub fn positives_holdout(
    rows: &[Row],
    positive: f32,
    min_positives: usize,
    fraction: f64,
    seed: u64,
) -> (Vec<Row>, Vec<Row>) {
    let mut by_user: std::collections::BTreeMap<i64, Vec<usize>> = Default::default();
    for (k, r) in rows.iter().enumerate() {
        if r.2 >= positive {
            by_user.entry(r.0).or_default().push(k);
        }
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut held = vec![false; rows.len()];
    for positives in by_user.values_mut() {
        if positives.len() < min_positives {
            continue;
        }
        positives.shuffle(&mut rng);
        let n = ((positives.len() as f64 * fraction) as usize).max(1);
        for &k in &positives[..n] {
            held[k] = true;
        }
    }
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for (row, &h) in rows.iter().zip(&held) {
        if h {
            test.push(*row);
        } else {
            train.push(*row);
        }
    }
    (train, test)
}

/// The strong-generalisation split (Liang et al. 2018): a seeded random `users_fraction` of the
/// users with at least `min_positives` positives is held out whole, and of each of them a seeded
/// `fraction` of their positives is the test set (the rest of their rows stay in training as
/// what a model folds them in from). Returns (train, test, the held-out users).
pub fn users_holdout(
    rows: &[Row],
    positive: f32,
    min_positives: usize,
    users_fraction: f64,
    fraction: f64,
    seed: u64,
) -> (Vec<Row>, Vec<Row>, HashSet<i64>) {
    let mut positives: BTreeMap<i64, usize> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.2 >= positive) {
        *positives.entry(r.0).or_default() += 1;
    }
    let mut eligible: Vec<i64> = positives
        .into_iter()
        .filter(|&(_, n)| n >= min_positives)
        .map(|(u, _)| u)
        .collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    eligible.shuffle(&mut rng);
    let held: HashSet<i64> = eligible
        .iter()
        .take((eligible.len() as f64 * users_fraction) as usize)
        .copied()
        .collect();
    let (theirs, others): (Vec<Row>, Vec<Row>) = rows.iter().partition(|r| held.contains(&r.0));
    let (fold_in, test) = positives_holdout(&theirs, positive, min_positives, fraction, seed);
    let mut train = others;
    train.extend(fold_in);
    (train, test, held)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_holdout_holds_out_whole_users_and_keeps_their_other_rows_to_fold_in() {
        let mut rows = Vec::new();
        for u in 0..20 {
            for m in 0..10 {
                rows.push((u, m, if m < 8 { 5.0 } else { 1.0 }));
            }
        }
        // User 99 has too few positives to be held out.
        rows.extend([(99, 0, 5.0), (99, 1, 1.0)]);
        let (train, test, held) = users_holdout(&rows, 4.0, 5, 0.25, 0.2, 3);
        assert_eq!(held.len(), 5, "a quarter of the 20 eligible users");
        assert!(!held.contains(&99));
        assert_eq!(train.len() + test.len(), rows.len());
        assert!(test.iter().all(|r| held.contains(&r.0) && r.2 >= 4.0));
        for u in &held {
            // 8 positives: one fifth (1) is tested, the other 9 rows fold the user in.
            assert_eq!(test.iter().filter(|r| r.0 == *u).count(), 1);
            assert_eq!(train.iter().filter(|r| r.0 == *u).count(), 9);
        }
        assert_eq!(users_holdout(&rows, 4.0, 5, 0.25, 0.2, 3).2, held);
    }

    #[test]
    fn positives_holdout_takes_a_fifth_of_each_eligible_users_positives() {
        let mut rows = Vec::new();
        // User 1: 10 positives, 3 negatives → 2 held out. User 2: 4 positives → none.
        for m in 0..10 {
            rows.push((1, m, 4.5));
        }
        for m in 10..13 {
            rows.push((1, m, 2.0));
        }
        for m in 0..4 {
            rows.push((2, m, 5.0));
        }
        // User 3: 6 positives → max(1, 1) = 1.
        for m in 0..6 {
            rows.push((3, m, 4.0));
        }
        let (train, test) = positives_holdout(&rows, 4.0, 5, 0.2, 7);
        assert_eq!(train.len() + test.len(), rows.len());
        assert_eq!(test.iter().filter(|r| r.0 == 1).count(), 2);
        assert_eq!(test.iter().filter(|r| r.0 == 2).count(), 0);
        assert_eq!(test.iter().filter(|r| r.0 == 3).count(), 1);
        assert!(test.iter().all(|r| r.2 >= 4.0));
        assert_eq!(positives_holdout(&rows, 4.0, 5, 0.2, 7).1, test);
        assert_ne!(positives_holdout(&rows, 4.0, 5, 0.2, 8).1, test);
    }

    #[test]
    fn unknown_test_users_and_movies_are_counted_and_duplicates_keep_the_later_row() {
        let train = [(1, 10, 4.0), (1, 10, 2.0), (2, 11, 3.0)];
        let test = [(1, 11, 5.0), (3, 10, 1.0), (2, 99, 2.0)];
        let s = Split::new(&train, &test);
        assert_eq!(s.train.len(), 2);
        assert_eq!(s.train.by_user().get(0, 0), Some(2.0));
        assert_eq!(
            s.counts,
            SplitCounts {
                train_ratings: 2,
                test_ratings: 3,
                train_duplicates: 1,
                unknown_users: 1,
                unknown_movies: 1,
            }
        );
        assert_eq!(s.test[1], (None, Some(0), 1.0));
    }
}
