//! Why a history could not be read: which table, which file, which row and column.

use std::path::PathBuf;

use qualify_core::history::{ConflictKind, Outcome};
use qualify_core::schema::Role;

use crate::DataError;

/// The three tables of a history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::Display)]
#[strum(serialize_all = "snake_case")]
pub enum Table {
    Leads,
    Events,
    Outcomes,
    /// A file of moments to score or evaluate.
    Moments,
}

/// What is wrong with one cell.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CellProblem {
    #[error("is empty")]
    Blank,
    #[error("{text:?} is not a time (RFC 3339, `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD`)")]
    NotATime { text: String },
    #[error("{text:?} is not a number")]
    NotANumber { text: String },
    #[error(
        "{text:?} is not an outcome: expected one of {expected:?} (see the schema's [history.outcomes])"
    )]
    UnknownOutcome { text: String, expected: Vec<String> },
}

/// A history that cannot be used (docs/history.md, "Bad input"). Rows are 1-based data rows.
#[derive(Debug, thiserror::Error)]
pub enum HistoryReadError {
    #[error(transparent)]
    Read(#[from] DataError),
    #[error(
        "{}: the {table} table has no column {column:?} (its columns: {}); name it in the \
         schema's [history] section (or the leads schema's id/timestamp roles)",
        path.display(), present.join(", ")
    )]
    MissingColumn {
        table: Table,
        path: PathBuf,
        column: String,
        present: Vec<String>,
    },
    #[error("{}: {table} row {row}, column {column:?}: {problem}", path.display())]
    Cell {
        table: Table,
        path: PathBuf,
        row: usize,
        column: String,
        problem: CellProblem,
    },
    #[error("{}: lead id {id:?} appears twice (rows {first} and {second})", path.display())]
    DuplicateLead {
        path: PathBuf,
        id: String,
        first: usize,
        second: usize,
    },
    /// Two outcomes of one lead that break the policy of `qualify_core::history::Life`:
    /// at the same instant, after a conversion, or after a final disqualification.
    #[error(
        "{}: lead {lead:?}: row {first} ({}) and row {second} ({}): {why}",
        path.display(), .first_outcome.describe(), .second_outcome.describe()
    )]
    OutcomeConflict {
        path: PathBuf,
        lead: String,
        /// Rows (1-based) in time order.
        first: usize,
        second: usize,
        first_outcome: Outcome,
        second_outcome: Outcome,
        why: ConflictKind,
    },
    #[error(
        "{}: row {row}: lead {lead:?} has its outcome at {at}, before it was created ({created}); \
         check the time zones of the two tables",
        path.display()
    )]
    OutcomeBeforeCreation {
        path: PathBuf,
        row: usize,
        lead: String,
        at: String,
        created: String,
    },
    /// Inferring the leads schema failed (the error names the column).
    #[error("{}: {source}", path.display())]
    Infer {
        path: PathBuf,
        source: crate::infer::InferError,
    },
    #[error("{}: row {row}: lead {lead:?} is not in the leads table", path.display())]
    UnknownLead {
        path: PathBuf,
        row: usize,
        lead: String,
    },
    /// The leads schema names no id or no creation-time column.
    #[error(
        "the leads schema names no column with role {role}: a history needs the lead's id \
         (role \"id\") and its creation time (role \"timestamp\")"
    )]
    SchemaRole { role: Role },
}
