//! How a long training run reports where it is, without knowing who listens.
//!
//! The pipeline calls a [`Progress`] at each stage and after each model fit; the CLI
//! implements it with indicatif bars, a library user may ignore it ([`Silent`]) or forward it
//! (to a Python callback, a job log). Warnings arrive here as they happen and are also
//! returned with the result, so a caller that ignores progress loses nothing.

use std::fmt;

use qualify_core::schema::Monotone;

/// A named point of a training run, in the order they happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Labels read and checked, the schema fixed; the rows are being split and encoded.
    Preparing,
    /// Model fitting starts: `fits` fits in all (progress follows through
    /// [`Progress::fitted`]).
    Fitting { fits: usize },
    /// Candidates are being scored on the test part and (for `auto`) compared.
    Evaluating,
    /// The hidden version directory exists and its files are being written (reported after
    /// the first one, `model.onnx`).
    Staging,
    /// The staged bundle is complete and being loaded through the runtime (golden rows).
    Verifying,
    /// Verified; the staged bundle is about to be renamed into place.
    Publishing,
}

impl Stage {
    /// A stable lower-case name (`preparing`, `fitting`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Stage::Preparing => "preparing",
            Stage::Fitting { .. } => "fitting",
            Stage::Evaluating => "evaluating",
            Stage::Staging => "staging",
            Stage::Verifying => "verifying",
            Stage::Publishing => "publishing",
        }
    }
}

/// Something the user should know that does not stop training.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainWarning {
    /// Schema inference flagged a column (possible leakage, an id-like column, ...).
    InferredColumn { column: String, message: String },
    /// A logistic weight goes against a declared monotone direction (only the GBM enforces
    /// them).
    MonotoneAgainst {
        feature: String,
        direction: Monotone,
        weight: f64,
    },
}

impl fmt::Display for TrainWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrainWarning::InferredColumn { column, message } => {
                write!(f, "column {column:?}: {message}")
            }
            TrainWarning::MonotoneAgainst {
                feature,
                direction,
                weight,
            } => write!(
                f,
                "{feature:?} is declared {direction:?} but the logistic weight is {weight:.4}; \
                 only the GBM (model gbm) enforces monotone constraints"
            ),
        }
    }
}

/// Receives a training run's progress. Every method has a do-nothing default. Fits run in
/// parallel, so implementations are `Sync`.
pub trait Progress: Sync {
    /// A new stage begins.
    fn stage(&self, _stage: Stage) {}
    /// `done` of `total` model fits are finished.
    fn fitted(&self, _done: usize, _total: usize) {}
    /// A warning, as it happens.
    fn warning(&self, _warning: &TrainWarning) {}
}

/// Ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {}
