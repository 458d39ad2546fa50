//! The one error type of the comparison: what is wrong, and with which lead, column or file.

use std::path::PathBuf;

use thiserror::Error;

/// Why a comparison or its report could not be made.
#[derive(Debug, Error)]
pub enum CompareError {
    #[error("no leads to compare")]
    NoLeads,
    /// Per-lead columns of different lengths.
    #[error("{labels} labels but {len} {what}")]
    Length {
        labels: usize,
        len: usize,
        what: &'static str,
    },
    #[error("lead {index} (row {}): propensity {value} is not a probability", index + 1)]
    Propensity { index: usize, value: f64 },
    #[error("lead {index} (row {}): rule score {value} is not finite", index + 1)]
    RuleScore { index: usize, value: f64 },
    #[error(
        "{positives} of {leads} leads converted: comparing rankings needs both converted and \
         unconverted leads"
    )]
    OneClass { positives: usize, leads: usize },
    #[error("{leads} leads but a threshold basis of {anyway} and {by_points}")]
    ThresholdBasis {
        leads: usize,
        anyway: usize,
        by_points: usize,
    },
    #[error("capacity {capacity} is more than the {leads} leads in the data")]
    CapacityAboveLeads { capacity: usize, leads: usize },
    #[error(
        "the rules mark no lead MQL or better, so there is no default capacity: give a \
         capacity (--capacity)"
    )]
    NoDefaultCapacity,
    /// A metric could not be computed.
    #[error(transparent)]
    Eval(#[from] qualify_eval::EvalError),
    /// A plot could not be drawn.
    #[error("drawing the {plot} plot: {message}")]
    Plot {
        /// Which plot.
        plot: &'static str,
        /// What the drawing library reported.
        message: String,
    },
    /// The rules (as written, or a variant the comparison runs) do not compile.
    #[error("the rules {variant}: {source}")]
    Rules {
        variant: &'static str,
        #[source]
        source: qualify_rules::RulesError,
    },
    /// The label column is missing or not binary (the error names the column and rows).
    #[cfg(feature = "pipeline")]
    #[error(transparent)]
    Label(#[from] qualify_data::label::LabelError),
    #[error("id column {column:?} is not in the data")]
    IdColumn { column: String },
    /// The model could not score the leads.
    #[cfg(feature = "pipeline")]
    #[error(transparent)]
    Score {
        #[from]
        source: qualify_runtime::RuntimeError,
    },
    /// The per-lead table could not be built.
    #[error("the leads table: {source}")]
    Table {
        #[source]
        source: qualify_core::value::TableError,
    },
    /// An output could not be written.
    #[cfg(feature = "pipeline")]
    #[error(transparent)]
    Write {
        #[from]
        source: qualify_data::DataError,
    },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("comparison.json: {source}")]
    Json {
        #[source]
        source: serde_json::Error,
    },
}
