//! Calibrators: map a model's raw score (log-odds) to a calibrated probability.
//!
//! Fitting lives in qualify-train (on held-out folds); applying lives here because the
//! runtime applies the calibrator after the ONNX graph. The graph computes the raw log-odds
//! (`logit`) and an uncalibrated `probability`; the calibrated propensity is
//! `Calibrator::apply(logit)`.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Lowest and highest probability an isotonic calibrator returns: its output stays inside
/// (0, 1) so that log loss stays finite and no lead is ever "certain".
pub const ISOTONIC_CLAMP: f64 = 1e-4;

/// A fitted calibrator.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Calibrator {
    /// No calibration: the sigmoid of the raw score.
    Identity,
    /// Platt scaling: `sigmoid(a * logit + b)`.
    Platt { a: f64, b: f64 },
    /// Isotonic regression: piecewise-linear through (`x[i]`, `y[i]`), `x` increasing
    /// (log-odds), `y` non-decreasing, constant outside; clamped to
    /// [`ISOTONIC_CLAMP`, 1 − `ISOTONIC_CLAMP`].
    Isotonic { x: Vec<f64>, y: Vec<f64> },
}

/// The logistic function, computed without overflow.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

impl Calibrator {
    /// The calibrated probability for a raw score in log-odds.
    pub fn apply(&self, logit: f64) -> f64 {
        match self {
            Calibrator::Identity => sigmoid(logit),
            Calibrator::Platt { a, b } => sigmoid(a * logit + b),
            Calibrator::Isotonic { x, y } => {
                interpolate(x, y, logit).clamp(ISOTONIC_CLAMP, 1.0 - ISOTONIC_CLAMP)
            }
        }
    }

    /// Short name for tables and manifests.
    pub fn name(&self) -> &'static str {
        match self {
            Calibrator::Identity => "identity",
            Calibrator::Platt { .. } => "platt",
            Calibrator::Isotonic { .. } => "isotonic",
        }
    }

    /// Checks a deserialised calibrator: finite parameters, increasing knots of equal count.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::Invalid(format!("calibrator: {m}")));
        match self {
            Calibrator::Identity => Ok(()),
            Calibrator::Platt { a, b } if !(a.is_finite() && b.is_finite()) => {
                bad("non-finite Platt parameters")
            }
            Calibrator::Platt { .. } => Ok(()),
            Calibrator::Isotonic { x, y } => {
                if x.is_empty() || x.len() != y.len() {
                    return bad("isotonic knots are empty or x and y differ in length");
                }
                if x.iter().chain(y).any(|v| !v.is_finite()) {
                    return bad("non-finite isotonic knot");
                }
                if x.windows(2).any(|w| w[0] >= w[1]) || y.windows(2).any(|w| w[0] > w[1]) {
                    return bad("isotonic knots must increase in x and not decrease in y");
                }
                Ok(())
            }
        }
    }
}

/// Piecewise-linear interpolation through sorted knots, constant outside.
fn interpolate(x: &[f64], y: &[f64], at: f64) -> f64 {
    match x.partition_point(|&k| k <= at) {
        0 => y[0],
        i if i == x.len() => y[x.len() - 1],
        i => {
            let (x0, x1, y0, y1) = (x[i - 1], x[i], y[i - 1], y[i]);
            y0 + (y1 - y0) * (at - x0) / (x1 - x0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// A calibrator written into a manifest reads back bit for bit (serde_json's
        /// `float_roundtrip`): the golden check must not hide a last-digit drift.
        #[test]
        fn parameters_round_trip_through_json_exactly(a in proptest::num::f64::NORMAL, b in proptest::num::f64::NORMAL) {
            let c = Calibrator::Platt { a, b };
            let back: Calibrator = serde_json::from_str(&serde_json::to_string(&c).unwrap_or_default())
                .map_err(|e| proptest::test_runner::TestCaseError::fail(e.to_string()))?;
            proptest::prop_assert_eq!(back, c);
        }
    }

    #[test]
    fn sigmoid_is_stable_at_extremes() {
        assert_eq!(sigmoid(0.0), 0.5);
        assert!(sigmoid(-800.0) >= 0.0 && sigmoid(800.0) <= 1.0);
        assert!((sigmoid(2.0) + sigmoid(-2.0) - 1.0).abs() < 1e-15);
    }

    #[test]
    fn isotonic_interpolates_and_stays_inside() {
        let c = Calibrator::Isotonic {
            x: vec![-1.0, 0.0, 1.0],
            y: vec![0.0, 0.5, 1.0],
        };
        c.validate().expect("valid");
        assert_eq!(c.apply(-5.0), ISOTONIC_CLAMP);
        assert_eq!(c.apply(5.0), 1.0 - ISOTONIC_CLAMP);
        assert!((c.apply(0.5) - 0.75).abs() < 1e-12);
        assert!(
            Calibrator::Isotonic {
                x: vec![1.0, 0.0],
                y: vec![0.1, 0.2]
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn platt_matches_formula() {
        let c = Calibrator::Platt { a: 2.0, b: -1.0 };
        assert!((c.apply(0.25) - sigmoid(-0.5)).abs() < 1e-15);
        assert!(
            Calibrator::Platt {
                a: f64::NAN,
                b: 0.0
            }
            .validate()
            .is_err()
        );
    }
}
