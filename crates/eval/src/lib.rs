//! Evaluation metrics for binary lead-conversion models.
//!
//! Labels are `&[bool]` (converted = `true`), scores are predicted
//! probabilities `&[f64]` in `[0, 1]`. The definitions follow the design's
//! "Metric definitions" so figures compare across tools: ROC AUC with ties
//! averaged, PR AUC as average precision (both as scikit-learn computes them),
//! log loss clipped to `[1e-15, 1 - 1e-15]`, Brier score, ECE over 10
//! equal-width bins weighted by count, and lift at 10% with ties at the cut
//! shared pro rata.
//!
//! Ranking metrics sort once, so everything is O(n log n). [`Ranking`] gives the same ranking
//! figures, plus cumulative gains, for any real-valued score (e.g. rule points), ties included.
//!
//! ```
//! use qualify_eval::{Metrics, roc_auc};
//!
//! let y = [false, false, true, true];
//! let p = [0.1, 0.4, 0.35, 0.8];
//! assert_eq!(roc_auc(&y, &p)?, 0.75);
//!
//! let model = Metrics::compute(&y, &p)?;
//! let baseline = Metrics::constant_prior(&y)?;
//! assert!(model.roc_auc > baseline.roc_auc); // baseline AUC is 0.5
//! assert_eq!(model.reliability.len(), 10);
//! # Ok::<(), qualify_eval::EvalError>(())
//! ```

mod calibration;
mod error;
mod lift;
mod metrics;
mod ranker;
mod ranking;

pub use calibration::{
    LOG_LOSS_EPS, ReliabilityBin, bin_index, brier, ece, log_loss, reliability_table,
};
pub use error::EvalError;
pub use lift::lift_at;
pub use metrics::{ECE_BINS, LIFT_FRACTION, Metrics};
pub use ranker::Ranking;
pub use ranking::{average_precision, precision_recall_curve, roc_auc, roc_curve};
