//! The L-BFGS path: linfa-logistic, for many features and as Newton's fallback.
//!
//! Two linfa-logistic facts shape this file:
//! - it labels the *more frequent* class positive, so on imbalanced data its raw parameters
//!   describe P(not converted); [`fit_lbfgs`] flips them when needed so that the returned
//!   model always gives log-odds of conversion;
//! - its objective is the objective of [`super`] (summed log loss plus `alpha / 2 · ‖w‖²`,
//!   intercept not penalised), and its gradient tolerance applies to that sum, so the
//!   per-row tolerance of [`Solver`] is scaled by the row count.

use linfa::prelude::*;
use linfa_logistic::LogisticRegression;
use ndarray::{Array1, Array2};

use super::{LogisticModel, Solver};
use crate::error::TrainError;

/// Fits with linfa-logistic from its own starting point (zeros).
pub(super) fn fit_lbfgs(
    x: &Array2<f64>,
    y: &[bool],
    alpha: f64,
    solver: Solver,
) -> Result<LogisticModel, TrainError> {
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
    Ok(LogisticModel {
        weights: fitted.params().iter().map(|w| sign * w).collect(),
        intercept: sign * fitted.intercept(),
        alpha,
    })
}
