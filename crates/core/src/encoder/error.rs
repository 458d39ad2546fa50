//! The encoder's errors: which column (and row, for tables) and what is wrong with the value.
//!
//! Every variant names where the problem is, so `qualify train` on a bad file says "column
//! `employees`, row 17" and the server answers 422 naming the field; the value problem itself
//! is a [`ValueError`] from the one parser.

use super::parse::ValueError;
use crate::schema::ColumnType;

/// Why a table or a record cannot be encoded (or an encoder fitted).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EncodeError {
    /// One cell of a table (`row` is 1-based, counting data rows).
    #[error("column {column:?}, row {row}: {source}")]
    Cell {
        column: String,
        row: usize,
        #[source]
        source: ValueError,
    },
    /// One field of a single record.
    #[error("field {field:?}: {source}")]
    Field {
        field: String,
        #[source]
        source: ValueError,
    },
    /// Fitting found unreadable cells in a column: how many, and the first few (1-based rows).
    #[error(
        "column {column:?}: {count} bad value(s); first: {}",
        show_cells(first)
    )]
    BadCells {
        column: String,
        count: usize,
        first: Vec<(usize, ValueError)>,
    },
    /// A training value so large that the column's mean or variance overflows: the model
    /// could not be scaled (nor its manifest written) with it.
    #[error(
        "column {column:?}, row {row}: {value} is too large to train on (the column's mean or variance overflows a 64-bit float); fix or drop the value"
    )]
    Overflow {
        column: String,
        row: usize,
        value: f64,
    },
    /// A column the schema or the model reads is not in the data (nor derivable from it).
    #[error("column {column:?} that the {reader} reads is not in the data")]
    MissingColumn { column: String, reader: Reader },
    /// The raw (imported-model) encoder reads numbers and booleans only.
    #[error("column {column:?} is {}: a raw encoder reads numeric and boolean columns only", kind.map_or("untyped".to_string(), |k| k.to_string()))]
    RawType {
        column: String,
        kind: Option<ColumnType>,
    },
    /// The caller's output buffer has the wrong width.
    #[error("output has {got} slots, the encoder writes {want}")]
    Width { got: usize, want: usize },
}

/// Who needed a missing column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::Display)]
pub enum Reader {
    #[strum(to_string = "schema")]
    Schema,
    #[strum(to_string = "model")]
    Model,
}

fn show_cells(first: &[(usize, ValueError)]) -> String {
    first
        .iter()
        .map(|(row, e)| format!("row {row}: {e}"))
        .collect::<Vec<_>>()
        .join("; ")
}
