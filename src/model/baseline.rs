//! Baseline estimates b_ui = μ + b_u + b_i with regularised biases, fitted by alternating least
//! squares as Surprise's `BaselineOnly` does (Koren 2010, §2.1): each epoch sets every item bias
//! to Σ(r − μ − b_u) / (λ_i + |R(i)|), then every user bias to Σ(r − μ − b_i) / (λ_u + |R(u)|).
//! Unknown users or items have bias 0.

use super::ratings::RatingMatrix;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BaselineParams {
    pub reg_user: f64,
    pub reg_item: f64,
    pub epochs: usize,
}

impl Default for BaselineParams {
    /// Surprise's defaults.
    fn default() -> Self {
        Self {
            reg_user: 15.0,
            reg_item: 10.0,
            epochs: 10,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub mean: f64,
    pub user: Vec<f64>,
    pub item: Vec<f64>,
}

impl Baseline {
    pub fn fit(m: &RatingMatrix, p: &BaselineParams) -> Self {
        let mean = m.mean();
        let mut user = vec![0.0; m.users()];
        let mut item = vec![0.0; m.items()];
        for _ in 0..p.epochs {
            for (i, bi) in item.iter_mut().enumerate() {
                let (users, ratings) = m.by_item().row(i);
                let dev: f64 = users
                    .iter()
                    .zip(ratings)
                    .map(|(&u, &r)| f64::from(r) - mean - user[u as usize])
                    .sum();
                *bi = dev / (p.reg_item + users.len() as f64);
            }
            for (u, bu) in user.iter_mut().enumerate() {
                let (items, ratings) = m.by_user().row(u);
                let dev: f64 = items
                    .iter()
                    .zip(ratings)
                    .map(|(&i, &r)| f64::from(r) - mean - item[i as usize])
                    .sum();
                *bu = dev / (p.reg_user + items.len() as f64);
            }
        }
        Self { mean, user, item }
    }

    /// b_ui; a position outside the fitted range (an unknown user or item) adds no bias.
    pub fn estimate(&self, user: Option<u32>, item: Option<u32>) -> f64 {
        let bu = user.and_then(|u| self.user.get(u as usize)).copied();
        let bi = item.and_then(|i| self.item.get(i as usize)).copied();
        self.mean + bu.unwrap_or(0.0) + bi.unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_epoch_matches_the_closed_form_by_hand() {
        // Two users, two items: u0 rates i0 5 and i1 3; u1 rates i0 4. μ = 4.
        let m = RatingMatrix::new(2, 2, &[(0, 0, 5.0), (0, 1, 3.0), (1, 0, 4.0)]);
        let p = BaselineParams {
            reg_user: 1.0,
            reg_item: 1.0,
            epochs: 1,
        };
        let b = Baseline::fit(&m, &p);
        // b_i0 = ((5-4) + (4-4)) / (1 + 2) = 1/3; b_i1 = (3-4) / (1 + 1) = -1/2.
        assert!((b.item[0] - 1.0 / 3.0).abs() < 1e-12);
        assert!((b.item[1] + 0.5).abs() < 1e-12);
        // b_u0 = ((5-4-1/3) + (3-4+1/2)) / (1 + 2) = (2/3 - 1/2) / 3 = 1/18.
        assert!((b.user[0] - 1.0 / 18.0).abs() < 1e-12);
        // b_u1 = (4-4-1/3) / 2 = -1/6.
        assert!((b.user[1] + 1.0 / 6.0).abs() < 1e-12);
        assert!((b.estimate(Some(1), Some(1)) - (4.0 - 1.0 / 6.0 - 0.5)).abs() < 1e-12);
        assert!((b.estimate(None, Some(0)) - (4.0 + 1.0 / 3.0)).abs() < 1e-12);
        assert_eq!(b.estimate(Some(9), None), 4.0);
    }
}
