//! The standard metric bundle reported for every model.
//!
//! Bundling fixes the definitions (10 ECE bins, lift at 10%) in one place so
//! every report, baseline and cross-tool comparison uses the same figures, and
//! computing them together lets the ranking metrics share one sort.

use serde::{Deserialize, Serialize};

use crate::calibration::{ReliabilityBin, brier, ece_from_table, log_loss, reliability_table};
use crate::error::{EvalError, validate};
use crate::lift::lift_from_groups;
use crate::ranking::ScoreGroups;

/// Number of equal-width bins for [`Metrics::ece`] and [`Metrics::reliability`].
pub const ECE_BINS: usize = 10;
/// Fraction of rows for [`Metrics::lift_at_10`].
pub const LIFT_FRACTION: f64 = 0.1;

/// All standard figures for one set of predictions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// Rows evaluated.
    pub n: usize,
    /// Positive labels.
    pub positives: usize,
    /// `positives / n`.
    pub positive_rate: f64,
    /// ROC AUC, ties averaged ([`crate::roc_auc`]).
    pub roc_auc: f64,
    /// PR AUC as average precision ([`crate::average_precision`]).
    pub pr_auc: f64,
    /// Mean log loss, probabilities clipped to `[1e-15, 1 - 1e-15]` ([`crate::log_loss`]).
    pub log_loss: f64,
    /// Brier score ([`crate::brier`]).
    pub brier: f64,
    /// ECE over [`ECE_BINS`] equal-width bins ([`crate::ece`]).
    pub ece: f64,
    /// Lift in the top [`LIFT_FRACTION`] of scores ([`crate::lift_at`]).
    pub lift_at_10: f64,
    /// Reliability table over [`ECE_BINS`] bins, empty bins included.
    pub reliability: Vec<ReliabilityBin>,
}

impl Metrics {
    /// Computes every figure for labels `y` and predicted probabilities `p`.
    ///
    /// Needs both classes present, since ROC AUC is otherwise undefined.
    pub fn compute(y: &[bool], p: &[f64]) -> Result<Self, EvalError> {
        validate(y, p)?;
        let groups = ScoreGroups::new(y, p);
        let roc_auc = groups.roc_auc()?;
        let pr_auc = groups.average_precision()?;
        let lift_at_10 = lift_from_groups(&groups, LIFT_FRACTION)?;
        let reliability = reliability_table(y, p, ECE_BINS)?;
        let n = y.len();
        Ok(Self {
            n,
            positives: groups.positives,
            positive_rate: groups.positives as f64 / n as f64,
            roc_auc,
            pr_auc,
            log_loss: log_loss(y, p)?,
            brier: brier(y, p)?,
            ece: ece_from_table(&reliability, n),
            lift_at_10,
            reliability,
        })
    }

    /// The same figures for the constant prior: predicting the base rate for every row.
    ///
    /// This is the no-skill baseline printed beside a model's figures: ROC AUC 0.5,
    /// PR AUC = positive rate, lift 1, ECE 0, log loss = the label entropy.
    pub fn constant_prior(y: &[bool]) -> Result<Self, EvalError> {
        if y.is_empty() {
            return Err(EvalError::Empty);
        }
        let rate = y.iter().filter(|&&l| l).count() as f64 / y.len() as f64;
        Self::compute(y, &vec![rate; y.len()])
    }
}
