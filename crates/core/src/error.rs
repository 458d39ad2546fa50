//! The one error type of qualify-core.

/// Errors of the shared contract: bad schemas, bad values, bad bundles.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value or structure that breaks the contract; the message says what and where.
    #[error("{0}")]
    Invalid(String),
    /// A value of the wrong type or shape in one field of a record or row.
    #[error("field {field:?}: {message}")]
    Field { field: String, message: String },
    /// A file that could not be read or written.
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
    /// A file that is not the JSON or TOML it should be.
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    /// A model bundle that cannot be read, staged or published.
    #[error(transparent)]
    Bundle(#[from] crate::bundle::BundleError),
}

impl Error {
    pub(crate) fn io(path: &std::path::Path, error: std::io::Error) -> Self {
        Error::Io {
            path: path.display().to_string(),
            error,
        }
    }

    pub(crate) fn field(field: &str, message: impl Into<String>) -> Self {
        Error::Field {
            field: field.to_string(),
            message: message.into(),
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
