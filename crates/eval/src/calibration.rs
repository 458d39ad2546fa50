//! Calibration metrics: log loss, Brier score, ECE and the reliability table.
//!
//! These judge the probabilities themselves rather than their order, so they
//! need no sorting: each is one pass over the rows. ECE is derived from the
//! reliability table so the number printed and the table shown beside it
//! can never disagree.

use serde::{Deserialize, Serialize};

use crate::error::{EvalError, validate};

/// Probabilities are clipped to `[LOG_LOSS_EPS, 1 - LOG_LOSS_EPS]` before taking logs.
pub const LOG_LOSS_EPS: f64 = 1e-15;

/// One equal-width probability bin of a reliability diagram.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityBin {
    /// Inclusive lower edge, `b / bins`.
    pub lower: f64,
    /// Upper edge, `(b + 1) / bins`; exclusive except for the last bin, which includes 1.0.
    pub upper: f64,
    /// Rows whose probability falls in this bin.
    pub count: usize,
    /// Mean predicted probability in the bin; `None` when the bin is empty.
    pub mean_predicted: Option<f64>,
    /// Fraction of positive labels in the bin; `None` when the bin is empty.
    pub observed_rate: Option<f64>,
}

/// Mean binary cross-entropy, with `p` clipped to `[1e-15, 1 - 1e-15]`.
pub fn log_loss(y: &[bool], p: &[f64]) -> Result<f64, EvalError> {
    validate(y, p)?;
    let total: f64 = y
        .iter()
        .zip(p)
        .map(|(&label, &prob)| {
            let q = prob.clamp(LOG_LOSS_EPS, 1.0 - LOG_LOSS_EPS);
            if label { -q.ln() } else { -(1.0 - q).ln() }
        })
        .sum();
    Ok(total / y.len() as f64)
}

/// Brier score: mean of `(p - y)^2` with `y` as 0/1.
pub fn brier(y: &[bool], p: &[f64]) -> Result<f64, EvalError> {
    validate(y, p)?;
    let total: f64 = y
        .iter()
        .zip(p)
        .map(|(&label, &prob)| {
            let d = prob - f64::from(u8::from(label));
            d * d
        })
        .sum();
    Ok(total / y.len() as f64)
}

/// Bin index of a probability: `min(floor(p * bins), bins - 1)`, computed in `f64`.
///
/// So bin `b` holds `b/bins <= p < (b+1)/bins`, and `p == 1.0` lands in the last bin.
pub fn bin_index(p: f64, bins: usize) -> usize {
    // `p` is validated to lie in [0, 1], so the cast cannot truncate a negative value.
    ((p * bins as f64).floor() as usize).min(bins - 1)
}

/// Reliability table with `bins` equal-width bins on `[0, 1]`, empty bins included.
///
/// Bin membership follows [`bin_index`]. Empty bins have `count == 0` and
/// `None` for both means, so no NaN ever reaches a report or JSON.
pub fn reliability_table(
    y: &[bool],
    p: &[f64],
    bins: usize,
) -> Result<Vec<ReliabilityBin>, EvalError> {
    validate(y, p)?;
    if bins == 0 {
        return Err(EvalError::ZeroBins);
    }
    let mut count = vec![0usize; bins];
    let mut sum_p = vec![0.0f64; bins];
    let mut pos = vec![0usize; bins];
    for (&label, &prob) in y.iter().zip(p) {
        let b = bin_index(prob, bins);
        count[b] += 1;
        sum_p[b] += prob;
        pos[b] += usize::from(label);
    }
    Ok((0..bins)
        .map(|b| {
            let c = count[b];
            let mean = |x: f64| (c > 0).then(|| x / c as f64);
            ReliabilityBin {
                lower: b as f64 / bins as f64,
                upper: (b + 1) as f64 / bins as f64,
                count: c,
                mean_predicted: mean(sum_p[b]),
                observed_rate: mean(pos[b] as f64),
            }
        })
        .collect())
}

/// Expected calibration error: `sum_b (n_b / n) * |mean_p_b - rate_b|`.
///
/// Bins are `bins` equal-width bins on `[0, 1]` as in [`reliability_table`];
/// the design's standard figure uses 10 bins ([`crate::ECE_BINS`]).
pub fn ece(y: &[bool], p: &[f64], bins: usize) -> Result<f64, EvalError> {
    Ok(ece_from_table(&reliability_table(y, p, bins)?, y.len()))
}

pub(crate) fn ece_from_table(table: &[ReliabilityBin], n: usize) -> f64 {
    table
        .iter()
        .filter_map(|b| {
            let gap = (b.mean_predicted? - b.observed_rate?).abs();
            Some(b.count as f64 / n as f64 * gap)
        })
        .sum()
}
