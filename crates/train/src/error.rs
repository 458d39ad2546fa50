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
    /// Writing the bundle directory failed.
    #[error("writing the bundle: {0}")]
    Bundle(String),
}
