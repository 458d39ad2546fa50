//! Newton's method with a backtracking line search on the objective of [`super`].
//!
//! **Why Newton here.** When rows far outnumber features, one pass over the matrix can give
//! the exact Hessian as well as the gradient ([`super::kernel`]), and Newton then converges in
//! a handful of passes (quadratically near the optimum), where L-BFGS needs a pass per
//! function evaluation and several evaluations per iteration. Each iteration solves
//! `H d = -g` ([`super::cholesky`]) and tries the full step first; the pass at the trial point
//! already computes the next gradient and Hessian, so an accepted full step costs one pass
//! (and the last one skips the Hessian when convergence is predicted, see [`minimise`]).
//! A rejected one falls back to halving the step on the loss alone (cheap passes), until the
//! Armijo condition holds, which makes the method globally convergent on this convex
//! objective.
//!
//! **Stopping.** As the L-BFGS path: when the Euclidean norm of the gradient of the summed
//! objective (weights and intercept) is at most `gradient_tolerance × rows`, after at least
//! one step (so that a warm start already within the tolerance still gets the quadratic
//! convergence of one step).
//!
//! **Failure.** A Hessian that is not numerically positive definite, a line search that
//! cannot decrease the loss, or the iteration cap are reported as [`NewtonFailure`]; the
//! caller ([`super::fit_warm`]) then fits with linfa-logistic's L-BFGS instead.

use super::cholesky::{self, NotPositiveDefinite};
use super::kernel::{Columns, Eval, Want, evaluate};

/// Sufficient-decrease constant of the Armijo condition.
const ARMIJO: f64 = 1e-4;
/// Halvings of the step before the line search gives up (a step of 2^-40).
const MAX_HALVINGS: u32 = 40;

/// Why Newton's method stopped without converging (the fit then falls back to L-BFGS).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NewtonFailure {
    #[error(
        "iteration {iteration}: the Hessian is not positive definite (column {column}: pivot \
         {pivot:e} of diagonal {diagonal:e}): collinear or constant columns without L2, or \
         saturated probabilities"
    )]
    NotPositiveDefinite {
        iteration: u64,
        column: usize,
        pivot: f64,
        diagonal: f64,
    },
    #[error(
        "iteration {iteration}: no step along the Newton direction decreases the loss \
         (gradient norm {gradient_norm:e})"
    )]
    LineSearch { iteration: u64, gradient_norm: f64 },
    #[error("no convergence in {iterations} iterations (gradient norm {gradient_norm:e})")]
    Iterations { iterations: u64, gradient_norm: f64 },
    #[error("iteration {iteration}: the loss is not finite")]
    NonFinite { iteration: u64 },
}

/// A converged Newton fit.
#[derive(Debug, Clone)]
pub(super) struct Solution {
    /// `p` weights, then the intercept.
    pub theta: Vec<f64>,
    pub iterations: u64,
}

/// Minimises the objective from `theta` (`p` weights, then the intercept).
pub(super) fn minimise(
    x: Columns<'_>,
    y: &[f64],
    alpha: f64,
    mut theta: Vec<f64>,
    max_iterations: u64,
    gradient_tolerance: f64,
) -> Result<Solution, NewtonFailure> {
    let m = x.cols + 1;
    let tolerance = gradient_tolerance * x.rows as f64;
    let mut at = Eval::new(x.cols);
    let mut trial_eval = Eval::new(x.cols);
    let mut step = vec![0.0; m];
    let mut trial = vec![0.0; m];
    evaluate(x, y, &theta, alpha, Want::All, &mut at);
    if !at.loss.is_finite() {
        return Err(NewtonFailure::NonFinite { iteration: 0 });
    }
    let mut iteration = 0;
    let mut previous_norm = None;
    loop {
        let gradient_norm = norm(&at.grad);
        // At least one step: a warm start may already be within the tolerance, and one
        // Newton step from there lands far inside it, as a cold fit's last step does.
        if gradient_norm <= tolerance && iteration > 0 {
            return Ok(Solution {
                theta,
                iterations: iteration,
            });
        }
        if iteration == max_iterations {
            return Err(NewtonFailure::Iterations {
                iterations: iteration,
                gradient_norm,
            });
        }
        iteration += 1;
        if !at.has_hessian {
            // The pass here skipped the Hessian, expecting convergence (below): compute it.
            evaluate(x, y, &theta, alpha, Want::All, &mut at);
        }
        cholesky::factorize(&mut at.hess, m).map_err(|e: NotPositiveDefinite| {
            NewtonFailure::NotPositiveDefinite {
                iteration,
                column: e.column,
                pivot: e.pivot,
                diagonal: e.diagonal,
            }
        })?;
        for (s, g) in step.iter_mut().zip(&at.grad) {
            *s = -g;
        }
        cholesky::solve(&at.hess, m, &mut step);
        let slope: f64 = step.iter().zip(&at.grad).map(|(s, g)| s * g).sum();
        // The full step, with the gradient and Hessian there in the same pass; without the
        // Hessian when quadratic convergence (`|g'| ≈ |g|³ / |g_prev|²`) predicts that the
        // point will pass the test with a margin (a wrong guess costs one more pass).
        let want = match previous_norm {
            Some(prev) if gradient_norm < prev => {
                let predicted = gradient_norm * (gradient_norm / prev).powi(2);
                if predicted <= 0.1 * tolerance {
                    Want::Gradient
                } else {
                    Want::All
                }
            }
            _ => Want::All,
        };
        previous_norm = Some(gradient_norm);
        move_to(&theta, &step, 1.0, &mut trial);
        evaluate(x, y, &trial, alpha, want, &mut trial_eval);
        let accepted = sufficient(at.loss, trial_eval.loss, 1.0, slope)
            // Near the optimum the decrease falls below the loss's rounding: accept a step
            // that does not raise the loss beyond it and shrinks the gradient.
            || (trial_eval.loss <= at.loss + 1e-14 * at.loss.abs()
                && norm(&trial_eval.grad) < gradient_norm);
        if !accepted {
            let t = backtrack(
                x,
                y,
                alpha,
                &theta,
                &step,
                at.loss,
                slope,
                &mut trial,
                &mut trial_eval,
            )
            .ok_or(NewtonFailure::LineSearch {
                iteration,
                gradient_norm,
            })?;
            move_to(&theta, &step, t, &mut trial);
            evaluate(x, y, &trial, alpha, Want::All, &mut trial_eval);
        }
        if !trial_eval.loss.is_finite() {
            return Err(NewtonFailure::NonFinite { iteration });
        }
        std::mem::swap(&mut theta, &mut trial);
        std::mem::swap(&mut at, &mut trial_eval);
    }
}

/// Halves the step until the Armijo condition holds, on the loss alone; the accepted step
/// length, or `None`.
#[allow(clippy::too_many_arguments)]
fn backtrack(
    x: Columns<'_>,
    y: &[f64],
    alpha: f64,
    theta: &[f64],
    step: &[f64],
    loss: f64,
    slope: f64,
    trial: &mut [f64],
    eval: &mut Eval,
) -> Option<f64> {
    let mut t = 1.0;
    for _ in 0..MAX_HALVINGS {
        t *= 0.5;
        move_to(theta, step, t, trial);
        evaluate(x, y, trial, alpha, Want::Loss, eval);
        if sufficient(loss, eval.loss, t, slope) {
            return Some(t);
        }
    }
    None
}

fn sufficient(loss: f64, new_loss: f64, t: f64, slope: f64) -> bool {
    new_loss <= loss + ARMIJO * t * slope
}

fn move_to(theta: &[f64], step: &[f64], t: f64, out: &mut [f64]) {
    for ((o, a), s) in out.iter_mut().zip(theta).zip(step) {
        *o = a + t * s;
    }
}

fn norm(v: &[f64]) -> f64 {
    v.iter().map(|a| a * a).sum::<f64>().sqrt()
}
