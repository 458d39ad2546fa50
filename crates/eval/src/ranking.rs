//! Ranking metrics: ROC AUC, average precision and their curves.
//!
//! All of them depend only on the order of the scores, so the rows are sorted
//! once (descending) and collapsed into one group per distinct score. Every
//! metric is then a single linear sweep over the groups, giving O(n log n)
//! overall, and treating tied scores as one threshold — which is exactly how
//! scikit-learn's `roc_auc_score` and `average_precision_score` handle ties.

use crate::error::{EvalError, validate};

/// Rows sharing one distinct score.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Group {
    pub(crate) score: f64,
    pub(crate) pos: usize,
    pub(crate) neg: usize,
}

impl Group {
    pub(crate) fn count(&self) -> usize {
        self.pos + self.neg
    }
}

/// Rows grouped by distinct score, highest score first.
#[derive(Debug, Clone)]
pub(crate) struct ScoreGroups {
    pub(crate) groups: Vec<Group>,
    pub(crate) positives: usize,
    pub(crate) negatives: usize,
}

impl ScoreGroups {
    /// Sorts once and groups equal scores. Assumes `validate` has passed.
    pub(crate) fn new(y: &[bool], p: &[f64]) -> Self {
        let mut rows: Vec<(f64, bool)> = p.iter().copied().zip(y.iter().copied()).collect();
        rows.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
        let mut groups: Vec<Group> = Vec::new();
        for (score, label) in rows {
            // `==` (not total order) so that -0.0 and 0.0, adjacent after sorting, merge.
            if groups.last().is_none_or(|g| g.score != score) {
                groups.push(Group {
                    score,
                    pos: 0,
                    neg: 0,
                });
            }
            let Some(last) = groups.last_mut() else {
                continue;
            };
            if label {
                last.pos += 1;
            } else {
                last.neg += 1;
            }
        }
        let positives = groups.iter().map(|g| g.pos).sum();
        let negatives = groups.iter().map(|g| g.neg).sum();
        Self {
            groups,
            positives,
            negatives,
        }
    }

    fn n(&self) -> usize {
        self.positives + self.negatives
    }

    fn require_both(&self, metric: &'static str) -> Result<(), EvalError> {
        if self.positives == 0 || self.negatives == 0 {
            return Err(EvalError::SingleClass {
                metric,
                positives: self.positives,
                n: self.n(),
            });
        }
        Ok(())
    }

    fn require_positive(&self, metric: &'static str) -> Result<(), EvalError> {
        if self.positives == 0 {
            return Err(EvalError::NoPositives {
                metric,
                n: self.n(),
            });
        }
        Ok(())
    }

    /// Expected positives among the top `k` rows (`0 <= k <= n`, possibly fractional): whole
    /// groups above the cut count fully; the group straddling it gets the `k - taken` slots
    /// left, each of its rows weighted `slots / size` (ties shared pro rata).
    pub(crate) fn captured(&self, k: f64) -> f64 {
        let mut taken = 0usize;
        let mut captured = 0.0f64;
        for g in &self.groups {
            let m = g.count();
            if (taken + m) as f64 <= k {
                taken += m;
                captured += g.pos as f64;
            } else {
                captured += g.pos as f64 * (k - taken as f64) / m as f64;
                break;
            }
        }
        captured
    }

    /// Mann–Whitney U with ties counted as one half, divided by `P * N`.
    ///
    /// Accumulates `2U` in integers so the result is exact up to the final division.
    pub(crate) fn roc_auc(&self) -> Result<f64, EvalError> {
        self.require_both("ROC AUC")?;
        let mut pos_above: u128 = 0;
        let mut twice_u: u128 = 0;
        for g in &self.groups {
            twice_u += g.neg as u128 * (2 * pos_above + g.pos as u128);
            pos_above += g.pos as u128;
        }
        let pairs = self.positives as f64 * self.negatives as f64;
        Ok(twice_u as f64 / (2.0 * pairs))
    }

    /// `sum_k (R_k - R_{k-1}) P_k` over distinct thresholds, as scikit-learn defines it.
    pub(crate) fn average_precision(&self) -> Result<f64, EvalError> {
        self.require_positive("average precision")?;
        let (mut tp, mut seen) = (0usize, 0usize);
        let mut sum = 0.0;
        for g in &self.groups {
            tp += g.pos;
            seen += g.count();
            if g.pos > 0 {
                sum += g.pos as f64 * (tp as f64 / seen as f64);
            }
        }
        Ok(sum / self.positives as f64)
    }

    pub(crate) fn roc_curve(&self) -> Result<Vec<(f64, f64)>, EvalError> {
        self.require_both("ROC curve")?;
        let (p, n) = (self.positives as f64, self.negatives as f64);
        let mut out = Vec::with_capacity(self.groups.len() + 1);
        out.push((0.0, 0.0));
        let (mut tp, mut fp) = (0usize, 0usize);
        for g in &self.groups {
            tp += g.pos;
            fp += g.neg;
            out.push((fp as f64 / n, tp as f64 / p));
        }
        Ok(out)
    }

    pub(crate) fn precision_recall(&self) -> Result<Vec<(f64, f64)>, EvalError> {
        self.require_positive("precision-recall curve")?;
        let p = self.positives as f64;
        let (mut tp, mut seen) = (0usize, 0usize);
        let mut out = Vec::with_capacity(self.groups.len());
        for g in &self.groups {
            tp += g.pos;
            seen += g.count();
            out.push((tp as f64 / p, tp as f64 / seen as f64));
        }
        Ok(out)
    }
}

/// Area under the ROC curve, ties averaged (Mann–Whitney U with mid-ranks).
///
/// Equals scikit-learn's `roc_auc_score`. Errors with [`EvalError::SingleClass`]
/// when all labels are equal, since the AUC is then undefined.
pub fn roc_auc(y: &[bool], p: &[f64]) -> Result<f64, EvalError> {
    validate(y, p)?;
    ScoreGroups::new(y, p).roc_auc()
}

/// Area under the precision–recall curve as average precision.
///
/// `AP = sum_k (R_k - R_{k-1}) * P_k`, with one threshold per distinct score
/// (tied rows enter together), exactly as scikit-learn's
/// `average_precision_score`. If every label is positive the result is 1;
/// with no positive labels it errors with [`EvalError::NoPositives`].
pub fn average_precision(y: &[bool], p: &[f64]) -> Result<f64, EvalError> {
    validate(y, p)?;
    ScoreGroups::new(y, p).average_precision()
}

/// ROC curve as `(false positive rate, true positive rate)` points.
///
/// Starts at `(0, 0)` and has one further point per distinct score, in
/// descending score order, ending at `(1, 1)` (no intermediate points dropped).
pub fn roc_curve(y: &[bool], p: &[f64]) -> Result<Vec<(f64, f64)>, EvalError> {
    validate(y, p)?;
    ScoreGroups::new(y, p).roc_curve()
}

/// Precision–recall curve as `(recall, precision)` points.
///
/// One point per distinct score, thresholds in descending order, so recall is
/// non-decreasing and the last point has recall 1. No artificial `(0, 1)`
/// point is added.
pub fn precision_recall_curve(y: &[bool], p: &[f64]) -> Result<Vec<(f64, f64)>, EvalError> {
    validate(y, p)?;
    ScoreGroups::new(y, p).precision_recall()
}
