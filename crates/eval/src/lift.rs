//! Lift: how much richer in positives the top-scored rows are than the whole.
//!
//! A lift cut rarely falls on a clean row boundary: `fraction * n` need not be
//! an integer, and with coarse (e.g. rounded) scores many rows can share the
//! score at the cut. Ordering tied rows arbitrarily would make the figure
//! depend on the sort, so tied rows share the remaining slots pro rata. This
//! equals the expected lift under a uniformly random order of the tied rows
//! (for an integer cut), and it is deterministic.

use crate::error::{EvalError, validate};
use crate::ranking::ScoreGroups;

/// Lift in the top `fraction` of rows by score.
///
/// Precisely, with `n` rows and `P` positives:
///
/// 1. The cut is `k = fraction * n` rows, a real number (not rounded).
/// 2. Rows are taken in descending score order, one distinct score at a time.
///    A group of `m` tied rows with `pos` positives that fits entirely
///    (`taken + m <= k`) counts fully. The group straddling the cut gets the
///    `s = k - taken` slots left: each of its rows counts with weight `s / m`,
///    so it contributes `pos * s / m` positives. Rows below the cut count 0.
/// 3. `lift = (captured positives / k) / (P / n)`.
///
/// `fraction` must be in `(0, 1]`; `lift_at(y, p, 1.0)` is 1. Errors with
/// [`EvalError::NoPositives`] when there are no positives (the base rate is 0).
pub fn lift_at(y: &[bool], p: &[f64], fraction: f64) -> Result<f64, EvalError> {
    validate(y, p)?;
    check_fraction(fraction)?;
    lift_from_groups(&ScoreGroups::new(y, p), fraction)
}

pub(crate) fn check_fraction(fraction: f64) -> Result<(), EvalError> {
    if fraction > 0.0 && fraction <= 1.0 {
        Ok(())
    } else {
        Err(EvalError::InvalidFraction(fraction))
    }
}

pub(crate) fn lift_from_groups(groups: &ScoreGroups, fraction: f64) -> Result<f64, EvalError> {
    let n = groups.positives + groups.negatives;
    if groups.positives == 0 {
        return Err(EvalError::NoPositives { metric: "lift", n });
    }
    let k = fraction * n as f64;
    let captured = groups.captured(k);
    let base_rate = groups.positives as f64 / n as f64;
    Ok(captured / k / base_rate)
}
