//! Ranking figures for any real-valued score, not only probabilities.
//!
//! A rule score is points (integers, or hundredths after decay), not a probability, and
//! thousands of leads share the same few values. Ranking figures depend only on the order, so
//! they are well defined for such a score as long as ties are treated as ties: rows sharing a
//! score enter a ranking together, and a cut that falls inside a tied group shares the
//! remaining slots pro rata (the expectation over every order of the tied rows). This module
//! gives that one definition to the comparison of a model with rules: ROC AUC, average
//! precision, lift, and the cumulative gains curve ("positives captured against rows worked").

use crate::error::EvalError;
use crate::lift::{check_fraction, lift_from_groups};
use crate::ranking::ScoreGroups;

/// Labels and scores, validated and grouped by distinct score once.
///
/// ```
/// use qualify_eval::Ranking;
///
/// // Rule points: two leads tie at 10, one of which converted.
/// let ranking = Ranking::new(&[true, false, true, false], &[30.0, 10.0, 10.0, -5.0])?;
/// assert_eq!(ranking.roc_auc()?, 0.875);
/// // Working 2 leads: the 30 (converted) plus half of the tied pair at 10.
/// assert_eq!(ranking.captured(2.0), 1.5);
/// # Ok::<(), qualify_eval::EvalError>(())
/// ```
#[derive(Debug, Clone)]
pub struct Ranking {
    groups: ScoreGroups,
}

impl Ranking {
    /// Checks lengths, emptiness and that every score is finite (any range), then groups.
    pub fn new(y: &[bool], scores: &[f64]) -> Result<Ranking, EvalError> {
        if y.len() != scores.len() {
            return Err(EvalError::LengthMismatch {
                labels: y.len(),
                scores: scores.len(),
            });
        }
        if y.is_empty() {
            return Err(EvalError::Empty);
        }
        if let Some(index) = scores.iter().position(|s| !s.is_finite()) {
            return Err(EvalError::InvalidScore {
                index,
                value: scores[index],
            });
        }
        Ok(Ranking {
            groups: ScoreGroups::new(y, scores),
        })
    }

    /// Rows ranked.
    pub fn n(&self) -> usize {
        self.groups.positives + self.groups.negatives
    }

    /// Positive labels.
    pub fn positives(&self) -> usize {
        self.groups.positives
    }

    /// ROC AUC with ties counted as one half ([`crate::roc_auc`]'s definition).
    pub fn roc_auc(&self) -> Result<f64, EvalError> {
        self.groups.roc_auc()
    }

    /// Average precision, one threshold per distinct score ([`crate::average_precision`]).
    pub fn average_precision(&self) -> Result<f64, EvalError> {
        self.groups.average_precision()
    }

    /// Lift in the top `fraction` of rows, ties at the cut shared pro rata ([`crate::lift_at`]).
    pub fn lift_at(&self, fraction: f64) -> Result<f64, EvalError> {
        check_fraction(fraction)?;
        lift_from_groups(&self.groups, fraction)
    }

    /// ROC curve as `(false positive rate, true positive rate)`, one point per distinct score.
    pub fn roc_curve(&self) -> Result<Vec<(f64, f64)>, EvalError> {
        self.groups.roc_curve()
    }

    /// Expected positives among the top `k` rows (`k` is clamped to `[0, n]` and may be
    /// fractional): whole groups above the cut count fully, the group straddling it counts
    /// `pos * slots / size`.
    pub fn captured(&self, k: f64) -> f64 {
        self.groups.captured(k.clamp(0.0, self.n() as f64))
    }

    /// Cumulative gains as `(rows worked, positives captured)` counts: `(0, 0)`, then one point
    /// at the end of each distinct score's group, highest score first. Between two points the
    /// curve is linear, which is exactly [`Ranking::captured`] (ties pro rata).
    pub fn gains_curve(&self) -> Vec<(f64, f64)> {
        let mut out = Vec::with_capacity(self.groups.groups.len() + 1);
        out.push((0.0, 0.0));
        let (mut rows, mut pos) = (0usize, 0usize);
        for g in &self.groups.groups {
            rows += g.count();
            pos += g.pos;
            out.push((rows as f64, pos as f64));
        }
        out
    }
}
