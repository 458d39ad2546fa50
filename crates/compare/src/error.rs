//! The one error type of the comparison.

use thiserror::Error;

/// Why a comparison or its report could not be made.
#[derive(Debug, Error)]
pub enum CompareError {
    /// The scored leads are unusable (lengths, ranges, one class); the message says where.
    #[error("{0}")]
    Input(String),
    /// A metric could not be computed.
    #[error(transparent)]
    Eval(#[from] qualify_eval::EvalError),
    /// A plot could not be drawn.
    #[error("drawing the {plot} plot: {message}")]
    Plot {
        /// Which plot.
        plot: &'static str,
        /// What went wrong.
        message: String,
    },
}
