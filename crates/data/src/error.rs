//! The one error type of qualify-data: what went wrong, and in which file.

use std::path::Path;

/// An error about a data file; the message names the row and column where they are known.
#[derive(Debug, thiserror::Error)]
#[error("{file}: {message}")]
pub struct DataError {
    pub file: String,
    pub message: String,
}

impl DataError {
    pub fn new(file: &Path, message: impl Into<String>) -> Self {
        DataError {
            file: file.display().to_string(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = DataError> = std::result::Result<T, E>;
