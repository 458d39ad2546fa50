//! The umbrella error of qualify-core.
//!
//! Each part of the contract has its own typed error ([`EncodeError`], [`SchemaError`],
//! [`LeadError`], [`TableError`]); this enum gathers them for callers that handle "anything
//! core can say" in one place, plus the bundle's file errors.

use crate::encoder::EncodeError;
use crate::lead::LeadError;
use crate::schema::SchemaError;
use crate::value::TableError;

/// Errors of the shared contract: bad schemas, bad values, bad bundles.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A value or structure that breaks the contract; the message says what and where.
    #[error("{0}")]
    Invalid(String),
    /// A file that could not be read or written.
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
    /// A file that is not the JSON or TOML it should be.
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    /// A table or record the encoder cannot read.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// A schema that breaks its rules.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// A lead record whose derived fields disagree with their sources.
    #[error(transparent)]
    Lead(#[from] LeadError),
    /// A table that cannot be built.
    #[error(transparent)]
    Table(#[from] TableError),
    /// A model bundle that cannot be read, staged or published.
    #[error(transparent)]
    Bundle(#[from] crate::bundle::BundleError),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
