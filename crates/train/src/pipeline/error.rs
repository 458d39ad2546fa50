//! Why a training run stopped: what, and where (column, row, part), before or after fitting.

use qualify_core::bundle::BundleError;

use crate::bundle_writer::WriteError;
use crate::error::TrainError;

/// A training-run failure. Messages name config fields (`test_fraction`, `folds`, ...), not
/// command-line flags; the CLI adds those.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error("the test fraction must be between 0 and 1 (exclusive), got {value}")]
    TestFraction { value: f64 },
    #[error("cross-validation needs at least 2 folds, got {folds}")]
    TooFewFolds { folds: usize },
    #[error(
        "the number of folds ({folds}) must be at most the rarer class's count in the training \
         part ({rarer})"
    )]
    TooManyFolds { folds: usize, rarer: usize },
    #[error("class weights apply to the GBM only (model gbm, or the GBM of model auto)")]
    ClassWeightWithoutGbm,
    #[error("the L2 grid must hold at least one finite, non-negative strength: {grid:?}")]
    L2Grid { grid: Vec<f64> },
    #[error("no label: name the label column, or give a schema that names it")]
    NoLabel,
    #[error("the label {given:?} differs from the schema's label {schema:?}")]
    LabelMismatch {
        given: String,
        schema: Option<String>,
    },
    /// The label column is missing, not binary, or not trainable (the error names the column
    /// and the rows).
    #[error(transparent)]
    Label(#[from] qualify_data::label::LabelError),
    /// The training part alone is not trainable (one class, too few of one).
    #[error("training part: {0}")]
    TrainingPart(#[source] qualify_data::label::LabelError),
    #[error(
        "the test part ({rows} rows, test fraction {test_fraction}) has {positives} positive and \
         {negatives} negative rows; it needs both to be evaluated: raise the test fraction"
    )]
    TestPartOneClass {
        rows: usize,
        test_fraction: f64,
        positives: usize,
        negatives: usize,
    },
    #[error("row groups: {groups} groups given for {rows} rows")]
    Groups { groups: usize, rows: usize },
    #[error("time column {column:?} is not in the data")]
    NoTimeColumn { column: String },
    #[error("time column {column:?}, row {row}: not a time (RFC 3339 or YYYY-MM-DD)")]
    NotATime { column: String, row: usize },
    /// Schema inference failed (the error names the column).
    #[error(transparent)]
    Infer(#[from] qualify_data::infer::InferError),
    /// The encoder could not be fitted or could not encode a row (the error names the
    /// column and row).
    #[error(transparent)]
    Encode(#[from] qualify_core::encoder::EncodeError),
    /// No model was fitted (an empty candidate list).
    #[error("no model was trained")]
    NoCandidate,
    /// Fitting, calibration or export failed.
    #[error(transparent)]
    Train(#[from] TrainError),
    /// A metric on the test part could not be computed.
    #[error("{what}: {source}")]
    Metric {
        what: &'static str,
        #[source]
        source: qualify_eval::EvalError,
    },
    /// Writing, verifying or publishing the bundle failed; nothing was published.
    #[error(transparent)]
    Write(#[from] WriteError),
}

impl From<BundleError> for PipelineError {
    fn from(e: BundleError) -> Self {
        PipelineError::Write(WriteError::Bundle(e))
    }
}
