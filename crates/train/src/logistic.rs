//! L2-regularised logistic regression with linfa-logistic, oriented and cross-validated.
//!
//! Two linfa-logistic facts shape this module:
//! - it labels the *more frequent* class positive, so on imbalanced data its raw parameters
//!   describe P(not converted); [`fit`] flips them when needed so that the returned model
//!   always gives log-odds of conversion;
//! - its objective is the *summed* log loss plus `alpha / 2 · ‖w‖²` (the intercept is not
//!   penalised), so `alpha` plays the role of scikit-learn's `1 / C`.

use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::error::TrainError;

/// A fitted logistic model: log-odds of conversion = `weights · x + intercept`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LogisticModel {
    pub weights: Vec<f64>,
    pub intercept: f64,
    /// The L2 strength it was fitted with.
    pub alpha: f64,
}

impl LogisticModel {
    /// Log-odds of conversion for each row of `x`.
    pub fn logits(&self, x: ArrayView2<'_, f64>) -> Vec<f64> {
        let w = Array1::from(self.weights.clone());
        (x.dot(&w) + self.intercept).to_vec()
    }
}

/// Limits of the optimiser.
#[derive(Debug, Clone, Copy)]
pub struct Solver {
    pub max_iterations: u64,
    /// Tolerance on the gradient norm of the *mean* log loss; linfa's objective is the sum,
    /// so [`fit`] scales it by the row count (scikit-learn's `tol` is also per-row).
    pub gradient_tolerance: f64,
}

impl Default for Solver {
    fn default() -> Self {
        Solver {
            max_iterations: 500,
            gradient_tolerance: 1e-4,
        }
    }
}

/// Fits on `x` (column-major for speed, see [`crate::matrix`]) and `y`.
pub fn fit(
    x: &Array2<f64>,
    y: &[bool],
    alpha: f64,
    solver: Solver,
) -> Result<LogisticModel, TrainError> {
    if x.nrows() != y.len() {
        return Err(TrainError::Rows {
            what: "labels",
            got: y.len(),
            rows: x.nrows(),
        });
    }
    if !(alpha.is_finite() && alpha >= 0.0) {
        return Err(TrainError::L2 { alpha });
    }
    let targets = Array1::from(y.to_vec());
    let dataset = DatasetBase::new(x.view(), targets);
    let fitted = LogisticRegression::default()
        .alpha(alpha)
        .max_iterations(solver.max_iterations)
        .gradient_tolerance(solver.gradient_tolerance * y.len() as f64)
        .fit(&dataset)
        .map_err(|source| TrainError::Logistic { source })?;
    // linfa's positive class is the more frequent one; orient to "converted".
    let sign = if fitted.labels().pos.class { 1.0 } else { -1.0 };
    let model = LogisticModel {
        weights: fitted.params().iter().map(|w| sign * w).collect(),
        intercept: sign * fitted.intercept(),
        alpha,
    };
    if model.weights.iter().any(|w| !w.is_finite()) || !model.intercept.is_finite() {
        return Err(TrainError::Diverged { alpha });
    }
    Ok(model)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::column_major;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    /// Rare positives generated from known weights: the fitted model must give P(converted),
    /// recover the weights' signs, and predict the base rate on average.
    #[test]
    fn orients_to_the_converted_class_on_imbalanced_data() {
        let mut rng = StdRng::seed_from_u64(1);
        let (n, true_w, true_b) = (4000, [1.5, -2.0, 0.0], -2.5);
        let mut x = Vec::with_capacity(n * 3);
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            let row: Vec<f32> = (0..3).map(|_| rng.random_range(-1.0..1.0)).collect();
            let z: f64 = true_b
                + row
                    .iter()
                    .zip(true_w)
                    .map(|(a, w)| f64::from(*a) * w)
                    .sum::<f64>();
            y.push(rng.random::<f64>() < 1.0 / (1.0 + (-z).exp()));
            x.extend(row);
        }
        let rate = y.iter().filter(|&&v| v).count() as f64 / n as f64;
        assert!(rate < 0.2, "positives are the minority ({rate})");
        let m = fit(&column_major(&x, n, 3), &y, 1e-3, Solver::default()).expect("fit");
        assert!(
            m.weights[0] > 1.0 && m.weights[1] < -1.4 && m.weights[2].abs() < 0.3,
            "{m:?}"
        );
        assert!((m.intercept - true_b).abs() < 0.4, "{m:?}");
        let mean_p: f64 = m
            .logits(column_major(&x, n, 3).view())
            .iter()
            .map(|z| 1.0 / (1.0 + (-z).exp()))
            .sum::<f64>()
            / n as f64;
        assert!(
            (mean_p - rate).abs() < 0.01,
            "mean prediction {mean_p} vs rate {rate}"
        );
    }

    #[test]
    fn rejects_bad_parameters() {
        let x = column_major(&[0.0, 1.0], 2, 1);
        assert!(fit(&x, &[true], 1.0, Solver::default()).is_err());
        assert!(fit(&x, &[true, false], f64::NAN, Solver::default()).is_err());
    }
}
