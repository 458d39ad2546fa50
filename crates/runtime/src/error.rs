//! The one error type of qualify-runtime.
//!
//! Each variant says whose problem it is: the bundle's ([`RuntimeError::Bundle`],
//! [`RuntimeError::Graph`], [`RuntimeError::Width`], [`RuntimeError::GoldenRecord`],
//! [`RuntimeError::GoldenMismatch`]: a corrupt or incompatible bundle, never the caller's
//! record), the caller's ([`RuntimeError::Input`]: a record or table the encoder refuses), or
//! the model's ([`RuntimeError::NotExplainable`], [`RuntimeError::Score`],
//! [`RuntimeError::Explain`]). A variant that wraps another error includes that error's
//! message in its own and does not also return it as `source()`, so printing the chain never
//! repeats it.

use std::path::PathBuf;
use std::sync::Arc;

use qualify_core::bundle::GOLDEN_TOLERANCE;
use qualify_core::encoder::EncodeError;
use qualify_onnx::ReadError;

use crate::explain::ExplainError;
use crate::onnx::GraphError;

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The bundle in `dir` cannot be read or breaks the format: a missing or unreadable
    /// file, JSON that does not parse, an unknown format version, a hash or schema hash that
    /// does not match.
    #[error("cannot load the model bundle in {}: {error}", dir.display())]
    Bundle {
        dir: PathBuf,
        error: Box<qualify_core::Error>,
    },
    /// The bundle's `model.onnx` cannot be loaded (not ONNX, not qualify's contract, refused
    /// by tract, or its native evaluation disagrees with tract).
    #[error("{}: model.onnx: {error}", dir.display())]
    Graph { dir: PathBuf, error: GraphError },
    /// `model.onnx` reads another width than the manifest declares.
    #[error("{}: model.onnx reads {graph} features, the manifest says {manifest}", dir.display())]
    Width {
        dir: PathBuf,
        graph: usize,
        manifest: usize,
    },
    /// A golden record that the bundle's own encoder refuses.
    #[error(
        "{}: golden row {row} cannot be encoded ({error}); the bundle is corrupt or was \
         written by an incompatible version",
        dir.display()
    )]
    GoldenRecord {
        dir: PathBuf,
        row: usize,
        error: EncodeError,
    },
    /// A golden row whose calibrated score is not reproduced to [`GOLDEN_TOLERANCE`].
    #[error(
        "{}: golden row {row} scores {got} but the bundle expects {expected} (tolerance \
         {GOLDEN_TOLERANCE}); the bundle is corrupt or was written by an incompatible version",
        dir.display()
    )]
    GoldenMismatch {
        dir: PathBuf,
        row: usize,
        expected: f64,
        got: f64,
    },
    /// A record or table that cannot be encoded (wrong type in a field, ...); `field` names
    /// the offending field when the encoder knows it.
    #[error("{error}")]
    Input {
        field: Option<String>,
        error: EncodeError,
    },
    /// The model cannot explain its scores.
    #[error("cannot explain scores of the model in {}: {reason}", dir.display())]
    NotExplainable { dir: PathBuf, reason: Unexplainable },
    /// The graph failed to score encoded rows.
    #[error("scoring failed: {error}")]
    Score { error: GraphError },
    /// An encoded row could not be attributed (see [`ExplainError`]).
    #[error("explaining failed: {error}")]
    Explain { error: ExplainError },
}

/// Why a model cannot explain its scores.
#[derive(Debug, Clone, thiserror::Error)]
pub enum Unexplainable {
    #[error("its tree ensemble carries no node covers")]
    NoCovers,
    /// A graph of neither shape qualify writes; `why` says why a tree ensemble in it could
    /// not be read.
    #[error(
        "its graph is neither a logistic model nor a tree ensemble qualify can read{}",
        why.as_ref().map(|w| format!(" ({w})")).unwrap_or_default()
    )]
    Unrecognised { why: Option<Arc<ReadError>> },
}

impl RuntimeError {
    /// An encoding error of the caller's record or table, with the field it names.
    pub(crate) fn input(error: EncodeError) -> RuntimeError {
        let field = match &error {
            EncodeError::Field { field, .. } => Some(field.clone()),
            _ => None,
        };
        RuntimeError::Input { field, error }
    }

    /// A piece's error as the whole table's: a cell's row moved down by `offset`, the rows
    /// before the piece (its row 1 is the table's row `offset + 1`).
    #[must_use]
    pub fn after_rows(self, offset: usize) -> RuntimeError {
        match self {
            RuntimeError::Input {
                field,
                error:
                    EncodeError::Cell {
                        column,
                        row,
                        source,
                    },
            } => RuntimeError::Input {
                field,
                error: EncodeError::Cell {
                    column,
                    row: row + offset,
                    source,
                },
            },
            other => other,
        }
    }
}
