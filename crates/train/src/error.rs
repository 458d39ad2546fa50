//! The one error type of qualify-train.

#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// Inputs or parameters that cannot be trained on; the message says which.
    #[error("{0}")]
    Invalid(String),
    /// The optimiser or a calibrator failed.
    #[error("fitting failed: {0}")]
    Fit(String),
    /// Writing the ONNX graph failed.
    #[error("ONNX export: {0}")]
    Export(String),
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
