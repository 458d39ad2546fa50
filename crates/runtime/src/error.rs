//! The one error type of qualify-runtime.

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// A bundle that cannot be read, loaded or verified.
    #[error("{0}")]
    Bundle(String),
    /// A record that cannot be encoded (wrong type in a field, ...).
    #[error(transparent)]
    Input(#[from] qualify_core::Error),
    /// The model cannot explain its scores (named in the message).
    #[error("cannot explain scores of the model in {0}")]
    NotExplainable(String),
    /// The graph failed to run.
    #[error("scoring failed: {0}")]
    Score(String),
}
