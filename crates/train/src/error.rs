//! The one error type of qualify-train: which input, parameter, fit or conversion failed, and
//! the underlying library's error as the source.

use qualify_core::bundle::metrics::CvPoint;

/// An error another library reports in its own type (the ONNX writer's, the tree check's).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// A row-major matrix whose length is not rows × features.
    #[error("{what}: {values} values do not form {rows} rows of {cols} features")]
    Shape {
        what: &'static str,
        values: usize,
        rows: usize,
        cols: usize,
    },
    /// Two per-row inputs of different lengths.
    #[error("{what}: {got} for {rows} rows")]
    Rows {
        what: &'static str,
        got: usize,
        rows: usize,
    },
    #[error("{what}: no rows")]
    NoRows { what: &'static str },
    #[error("{what}: row {row}, feature {feature} is {value} (the encoder never produces that)")]
    NonFinite {
        what: &'static str,
        row: usize,
        feature: usize,
        value: f32,
    },
    #[error("cross-validation needs at least 2 folds, got {folds}")]
    Folds { folds: usize },
    #[error("the L2 grid is empty")]
    EmptyL2Grid,
    #[error("L2 strength must be finite and >= 0, got {alpha}")]
    L2 { alpha: f64 },
    /// A GBM hyperparameter out of its range.
    #[error("GBM parameter {name} {requirement}, got {value}")]
    GbmParameter {
        name: &'static str,
        requirement: &'static str,
        value: f64,
    },
    #[error("the early-stopping share must be in (0, 0.5), got {share}")]
    EarlyStoppingShare { share: f64 },
    #[error(
        "fold {fold}: the early-stopping rows ({rows} of {of}) hold {positives} converted and \
         {negatives} other leads; need both: use more data or fewer folds"
    )]
    EarlyStoppingRows {
        fold: usize,
        rows: usize,
        of: usize,
        positives: usize,
        negatives: usize,
    },
    #[error("column {column:?}: monotone applies to numeric columns only")]
    MonotoneNotNumeric { column: String },
    #[error("monotone constraint on feature {feature} of {features}")]
    MonotoneFeature { feature: usize, features: usize },
    /// linfa-logistic failed.
    #[error("logistic regression (linfa-logistic): {source}")]
    Logistic {
        #[source]
        source: linfa_logistic::error::Error,
    },
    #[error("the logistic optimiser diverged (non-finite weights) at L2 {alpha}")]
    Diverged { alpha: f64 },
    #[error("no L2 strength gave a finite cross-validated log loss: {cv:?}")]
    NoFiniteCv { cv: Vec<CvPoint> },
    #[error("a cross-validation fit panicked")]
    FitPanicked,
    #[error("Platt scaling: {source}")]
    Platt {
        #[source]
        source: linfa::composing::platt_scaling::PlattError,
    },
    /// A fitted calibrator that is not valid (non-finite parameters, ...).
    #[error("calibrator: {source}")]
    Calibrator {
        #[source]
        source: qualify_core::Error,
    },
    /// A cross-validation metric could not be computed.
    #[error("{what}: {source}")]
    Metric {
        what: &'static str,
        #[source]
        source: qualify_eval::EvalError,
    },
    /// The GBM trainer refused its rows or parameters, or failed.
    #[error("gbm: {source}")]
    Gbm {
        #[source]
        source: qualify_gbm::GbmError,
    },
    #[error(
        "the trees disagree with the booster's own score on training row {row}: {got} vs {want}"
    )]
    Conversion { row: usize, got: f64, want: f64 },
    #[error("converted trees are invalid: {source}")]
    InvalidTrees {
        #[source]
        source: BoxError,
    },
    /// Writing the ONNX graph failed.
    #[error("ONNX export: {source}")]
    Export {
        #[source]
        source: BoxError,
    },
    /// The model and the encoder disagree on the feature count.
    #[error("the model reads {model} features but the encoder writes {encoder}")]
    Width { model: usize, encoder: usize },
    /// The hyperparameters could not be written as JSON.
    #[error("hyperparameters: {source}")]
    Hyperparameters {
        #[source]
        source: serde_json::Error,
    },
}

impl TrainError {
    /// A metric's error, naming the metric.
    pub(crate) fn metric(what: &'static str) -> impl Fn(qualify_eval::EvalError) -> TrainError {
        move |source| TrainError::Metric { what, source }
    }
}
