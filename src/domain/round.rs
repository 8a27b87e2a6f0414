//! How numbers are written to JSON: no float noise (`7.034000000000001`) and no false precision
//! (`0.1948476632716183`). Ratings keep two decimals — the sources give at most one, so theirs
//! are exact, and a MovieLens mean on the 0–10 scale keeps what a reader can see; scores, metrics
//! and statistics keep four significant digits, enough to order and compare them. Only
//! serialisation rounds (values in memory and in the database's columns stay exact; the audit
//! report, kept as JSON, keeps its rounded means), so the OpenAPI types are unchanged.

use serde::Serializer;

/// `x` to `digits` significant digits (0, NaN and infinities as they are).
pub fn significant(x: f64, digits: i32) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let scale = 10f64.powi(digits - 1 - x.abs().log10().floor() as i32);
    let rounded = (x * scale).round() / scale;
    if rounded.is_finite() {
        rounded
    } else {
        x
    }
}

/// `x` to two decimals.
pub fn two_decimals(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A rating: two decimals.
pub fn rating<S: Serializer>(value: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(two_decimals(*value))
}

/// An optional rating: two decimals.
pub fn rating_opt<S: Serializer>(value: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(v) => s.serialize_some(&two_decimals(*v)),
        None => s.serialize_none(),
    }
}

/// Ratings: two decimals each.
pub fn ratings<S: Serializer>(values: &[f64], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(values.iter().map(|v| two_decimals(*v)))
}

/// A score, metric or statistic: four significant digits.
pub fn score<S: Serializer>(value: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(significant(*value, 4))
}

/// Named scores: four significant digits each.
pub fn scores<S: Serializer>(
    values: &std::collections::BTreeMap<String, f64>,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_map(values.iter().map(|(k, v)| (k, significant(*v, 4))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn significant_digits_drop_noise_and_keep_magnitude() {
        assert_eq!(significant(1.3205888271331787, 4), 1.321);
        assert_eq!(significant(0.1948476632716183, 4), 0.1948);
        assert_eq!(significant(1991.9697335234127, 4), 1992.0);
        assert_eq!(significant(123456.0, 4), 123500.0);
        assert_eq!(significant(-0.000123456, 4), -0.0001235);
        assert_eq!(significant(0.0, 4), 0.0);
        assert!(significant(f64::NAN, 4).is_nan());
        assert_eq!(significant(f64::MAX, 4), f64::MAX);
    }

    #[test]
    fn ratings_keep_two_decimals_and_the_sources_exact_values() {
        assert_eq!(two_decimals(7.034000000000001), 7.03);
        assert_eq!(two_decimals(3.3340000000000005), 3.33);
        for tenth in 0..=100 {
            let given = f64::from(tenth) / 10.0;
            assert_eq!(two_decimals(given), given);
        }
        let json = serde_json::to_string(&Row {
            r: Some(7.034000000000001),
            s: 0.8604142599697437,
        })
        .expect("json");
        assert_eq!(json, r#"{"r":7.03,"s":0.8604}"#);
    }

    #[derive(serde::Serialize)]
    struct Row {
        #[serde(serialize_with = "rating_opt")]
        r: Option<f64>,
        #[serde(serialize_with = "score")]
        s: f64,
    }
}
