//! The one error type for every metric.
//!
//! Inputs are validated once, up front, so the numeric code behind it can
//! assume non-empty, equal-length data with probabilities in `[0, 1]`, and
//! so a bad row is reported by index instead of surfacing later as a NaN.

use thiserror::Error;

/// Why a metric could not be computed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum EvalError {
    /// No rows were given.
    #[error("no rows to evaluate")]
    Empty,
    /// Labels and probabilities differ in length.
    #[error("length mismatch: {labels} labels but {scores} probabilities")]
    LengthMismatch {
        /// Number of labels.
        labels: usize,
        /// Number of probabilities.
        scores: usize,
    },
    /// Only one class is present, so a ranking metric has nothing to rank against.
    #[error(
        "only one class present ({positives} positives among {n} rows): {metric} is undefined \
         unless both positive and negative labels occur"
    )]
    SingleClass {
        /// The metric that could not be computed.
        metric: &'static str,
        /// Positive labels seen.
        positives: usize,
        /// Rows seen.
        n: usize,
    },
    /// No positive labels, so a metric normalised by the positives is undefined.
    #[error("no positive labels among {n} rows: {metric} is undefined")]
    NoPositives {
        /// The metric that could not be computed.
        metric: &'static str,
        /// Rows seen.
        n: usize,
    },
    /// A probability is NaN, infinite, or outside `[0, 1]`.
    #[error("probability at index {index} is {value}; expected a finite value in [0, 1]")]
    InvalidProbability {
        /// Row index of the offending value.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// A score to rank by is NaN or infinite.
    #[error("score at index {index} is {value}; expected a finite number")]
    InvalidScore {
        /// Row index of the offending value.
        index: usize,
        /// The offending value.
        value: f64,
    },
    /// A reliability table or ECE was asked for with zero bins.
    #[error("the number of calibration bins must be at least 1")]
    ZeroBins,
    /// A lift fraction outside `(0, 1]`.
    #[error("lift fraction {0} is outside (0, 1]")]
    InvalidFraction(f64),
}

/// Checks emptiness, equal lengths and that every probability is finite and in `[0, 1]`.
pub(crate) fn validate(y: &[bool], p: &[f64]) -> Result<(), EvalError> {
    if y.len() != p.len() {
        return Err(EvalError::LengthMismatch {
            labels: y.len(),
            scores: p.len(),
        });
    }
    if y.is_empty() {
        return Err(EvalError::Empty);
    }
    match p
        .iter()
        .position(|v| !(v.is_finite() && (0.0..=1.0).contains(v)))
    {
        Some(index) => Err(EvalError::InvalidProbability {
            index,
            value: p[index],
        }),
        None => Ok(()),
    }
}
