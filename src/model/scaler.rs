//! `StandardScaler` computed exactly as scikit-learn's `StandardScaler().fit_transform` does.

/// Per-feature mean and scale. The scale is the population standard deviation (`ddof = 0`),
/// replaced by 1 for a constant feature, as scikit-learn does.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StandardScaler<const D: usize> {
    pub mean: [f64; D],
    pub scale: [f64; D],
}

impl<const D: usize> StandardScaler<D> {
    /// Fits on `rows`. Mirrors sklearn's `_incremental_mean_and_var` on a first fit: the mean,
    /// then the variance by the corrected two-pass formula
    /// `(Σ(x-μ)² - (Σ(x-μ))²/n) / n`, and `_is_constant_feature` for zero-variance columns.
    pub fn fit(rows: &[[f64; D]]) -> Self {
        let n = rows.len() as f64;
        let mut mean = [0.0; D];
        let mut scale = [1.0; D];
        if rows.is_empty() {
            return Self { mean, scale };
        }
        for d in 0..D {
            mean[d] = rows.iter().map(|r| r[d]).sum::<f64>() / n;
            let (mut correction, mut squares) = (0.0, 0.0);
            for r in rows {
                let t = r[d] - mean[d];
                correction += t;
                squares += t * t;
            }
            let var = (squares - correction * correction / n) / n;
            let eps = f64::EPSILON;
            let upper_bound = n * eps * var + (n * mean[d] * eps).powi(2);
            if var > upper_bound {
                scale[d] = var.sqrt();
            }
        }
        Self { mean, scale }
    }

    pub fn transform(&self, row: [f64; D]) -> [f64; D] {
        std::array::from_fn(|d| (row[d] - self.mean[d]) / self.scale[d])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standardises_with_population_std() {
        let s = StandardScaler::fit(&[[1.0, 10.0], [3.0, 10.0], [5.0, 10.0]]);
        assert_eq!(s.mean, [3.0, 10.0]);
        // population variance of 1,3,5 is 8/3
        assert!((s.scale[0] - (8.0f64 / 3.0).sqrt()).abs() < 1e-15);
        // constant column: scale 1, so it maps to 0 rather than NaN
        assert_eq!(s.scale[1], 1.0);
        assert_eq!(s.transform([3.0, 10.0]), [0.0, 0.0]);
    }

    #[test]
    fn empty_input_is_identity() {
        let s = StandardScaler::<2>::fit(&[]);
        assert_eq!(s.transform([2.0, 3.0]), [2.0, 3.0]);
    }
}
