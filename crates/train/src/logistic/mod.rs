//! L2-regularised logistic regression, oriented to the converted class.
//!
//! **The objective** is the *summed* log loss plus `alpha / 2 · ‖w‖²`, the intercept not
//! penalised: `alpha` plays the role of scikit-learn's `1 / C`. There are no sample weights
//! (the trainer passes none).
//!
//! **Two solvers for it.**
//! - Newton–Cholesky (`newton`): one fused pass over the column-major matrix per iteration
//!   gives loss, gradient and the `(p + 1)²` Hessian (`kernel`), and a Cholesky solve
//!   (`cholesky`) gives the step. It costs `n p² / 2` multiply-adds per iteration and
//!   converges in a handful, so it wins while rows far outnumber features.
//! - linfa-logistic's L-BFGS (`lbfgs`): `O(n p)` per function evaluation, more of them. It is
//!   used above [`NEWTON_MAX_FEATURES`] features (wide one-hot encodings), where the Hessian
//!   costs more than it saves, for a training set with a single class (linfa's error says
//!   so), and as the fallback when Newton fails ([`NewtonFailure`]: a Hessian that is not
//!   positive definite, e.g. collinear columns with `alpha = 0`; a stalled line search; the
//!   iteration cap). [`fit_warm`] reports which path fitted.
//!
//! Both stop when the gradient norm of the summed objective is at most
//! `gradient_tolerance × rows` (scikit-learn's `tol` is per row too). The tests hold the two
//! solvers to the same optimum on random problems.

mod cholesky;
mod kernel;
mod lanes;
mod lbfgs;
mod newton;
#[cfg(test)]
mod tests;

use ndarray::{Array1, Array2, ArrayView2};
use serde::{Deserialize, Serialize};

use crate::error::TrainError;
use kernel::Columns;
pub use newton::NewtonFailure;

/// Above this many features [`Method::Auto`] fits with L-BFGS: the Newton iteration's
/// `n p² / 2` Hessian then costs more than L-BFGS's extra passes (measured crossover in
/// docs/benchmarks.md, section 1).
pub const NEWTON_MAX_FEATURES: usize = 256;

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

/// Which solver fits (see the module docs).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Method {
    /// Newton up to [`NEWTON_MAX_FEATURES`] features, L-BFGS above.
    #[default]
    Auto,
    /// Newton whatever the width (still falling back to L-BFGS on failure).
    Newton,
    /// linfa-logistic's L-BFGS only.
    Lbfgs,
}

/// Limits of the optimiser.
#[derive(Debug, Clone, Copy)]
pub struct Solver {
    pub max_iterations: u64,
    /// Tolerance on the gradient norm of the *mean* log loss; the objective is the sum, so
    /// the fit scales it by the row count (scikit-learn's `tol` is also per-row).
    pub gradient_tolerance: f64,
    pub method: Method,
}

impl Default for Solver {
    fn default() -> Self {
        Solver {
            max_iterations: 500,
            gradient_tolerance: 1e-4,
            method: Method::Auto,
        }
    }
}

/// Which solver produced a fit.
#[derive(Debug, Clone, PartialEq)]
pub enum FitPath {
    Newton {
        iterations: u64,
    },
    /// L-BFGS, chosen by [`Method`] or the data (`None`), or after Newton failed.
    Lbfgs {
        newton_failed: Option<NewtonFailure>,
    },
}

/// A fitted model and how it was fitted.
#[derive(Debug, Clone)]
pub struct Fitted {
    pub model: LogisticModel,
    pub path: FitPath,
}

/// Fits on `x` (column-major is fastest, see [`crate::matrix`]; any layout works) and `y`.
pub fn fit(
    x: &Array2<f64>,
    y: &[bool],
    alpha: f64,
    solver: Solver,
) -> Result<LogisticModel, TrainError> {
    fit_warm(x, y, alpha, solver, None).map(|fitted| fitted.model)
}

/// [`fit`], starting Newton from `start` (another fit's weights and intercept, e.g. the
/// neighbouring L2 strength's) rather than from zero weights and the base rate's log-odds.
/// The L-BFGS path always starts from zero.
pub fn fit_warm(
    x: &Array2<f64>,
    y: &[bool],
    alpha: f64,
    solver: Solver,
    start: Option<&LogisticModel>,
) -> Result<Fitted, TrainError> {
    let (rows, cols) = x.dim();
    if rows != y.len() {
        return Err(TrainError::Rows {
            what: "labels",
            got: y.len(),
            rows,
        });
    }
    if !(alpha.is_finite() && alpha >= 0.0) {
        return Err(TrainError::L2 { alpha });
    }
    if let Some(start) = start.filter(|s| s.weights.len() != cols) {
        return Err(TrainError::Shape {
            what: "warm-start weights",
            values: start.weights.len(),
            rows: 1,
            cols,
        });
    }
    let positives = y.iter().filter(|&&v| v).count();
    let newton = match solver.method {
        Method::Auto => cols <= NEWTON_MAX_FEATURES,
        Method::Newton => true,
        Method::Lbfgs => false,
    };
    let mut newton_failed = None;
    if newton && positives > 0 && positives < rows {
        match fit_newton(x, y, positives, alpha, solver, start)? {
            Ok(fitted) => return Ok(fitted),
            Err(failure) => newton_failed = Some(failure),
        }
    }
    let model = lbfgs::fit_lbfgs(x, y, alpha, solver)?;
    check_finite(&model)?;
    Ok(Fitted {
        model,
        path: FitPath::Lbfgs { newton_failed },
    })
}

/// The Newton path; its inner error is a failure to fall back from, the outer one a bad input.
fn fit_newton(
    x: &Array2<f64>,
    y: &[bool],
    positives: usize,
    alpha: f64,
    solver: Solver,
    start: Option<&LogisticModel>,
) -> Result<Result<Fitted, NewtonFailure>, TrainError> {
    let (rows, cols) = x.dim();
    // Column-major data is used in place; any other layout is copied once.
    let xt = x.t();
    let copied: Vec<f64>;
    let data = match xt.as_slice() {
        Some(data) => data,
        None => {
            copied = xt.iter().copied().collect();
            &copied
        }
    };
    let columns = Columns { data, rows, cols };
    let labels: Vec<f64> = y.iter().map(|&v| f64::from(u8::from(v))).collect();
    let theta = match start {
        Some(s) => s.weights.iter().copied().chain([s.intercept]).collect(),
        None => {
            let rate = positives as f64 / rows as f64;
            let mut theta = vec![0.0; cols + 1];
            theta[cols] = (rate / (1.0 - rate)).ln();
            theta
        }
    };
    let solution = match newton::minimise(
        columns,
        &labels,
        alpha,
        theta,
        solver.max_iterations,
        solver.gradient_tolerance,
    ) {
        Ok(solution) => solution,
        Err(NewtonFailure::NonFinite { iteration: 0 }) => {
            // A non-finite loss at the start: name the cell if the matrix holds one.
            if let Some((row, feature, value)) = first_non_finite(x) {
                return Err(TrainError::NonFinite {
                    what: "logistic training matrix",
                    row,
                    feature,
                    value: value as f32,
                });
            }
            return Ok(Err(NewtonFailure::NonFinite { iteration: 0 }));
        }
        Err(failure) => return Ok(Err(failure)),
    };
    let model = LogisticModel {
        weights: solution.theta[..cols].to_vec(),
        intercept: solution.theta[cols],
        alpha,
    };
    check_finite(&model)?;
    Ok(Ok(Fitted {
        model,
        path: FitPath::Newton {
            iterations: solution.iterations,
        },
    }))
}

/// The first non-finite cell of `x` (row, feature, value).
fn first_non_finite(x: &Array2<f64>) -> Option<(usize, usize, f64)> {
    x.indexed_iter()
        .find(|(_, v)| !v.is_finite())
        .map(|((i, j), &v)| (i, j, v))
}

fn check_finite(model: &LogisticModel) -> Result<(), TrainError> {
    if model.weights.iter().any(|w| !w.is_finite()) || !model.intercept.is_finite() {
        return Err(TrainError::Diverged { alpha: model.alpha });
    }
    Ok(())
}
