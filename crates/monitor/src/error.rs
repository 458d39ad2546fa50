//! What can go wrong: unreadable input files (with the line or row and column), outcomes
//! that break the per-lead outcome policy (with the lead and both rows), the store,
//! bad settings, a figure the metric functions refused, a plot that did not draw.

use std::path::PathBuf;

use qualify_core::history::{ConflictKind, Outcome, time_text};

/// An outcome's time as RFC 3339, for messages.
fn time(o: &Outcome) -> String {
    time_text(o.at).unwrap_or_else(|| o.at.to_string())
}

/// A monitoring error.
#[derive(Debug, thiserror::Error)]
pub enum MonitorError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A score-log line that is not a score-log entry.
    #[error("{}: line {line}: not a score-log entry: {source}", path.display())]
    LogLine {
        path: PathBuf,
        line: usize,
        #[source]
        source: serde_json::Error,
    },
    /// A CSV file that does not parse.
    #[error("{}: {source}", path.display())]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    /// A required column is absent.
    #[error("{}: no column {column:?} (columns: {found:?})", path.display())]
    MissingColumn {
        path: PathBuf,
        column: &'static str,
        found: Vec<String>,
    },
    /// A cell that does not read as its column's type.
    #[error("{}: row {row}, column {column:?}: {problem} (found {text:?})", path.display())]
    Cell {
        path: PathBuf,
        /// 1-based data row (the header is row 0).
        row: usize,
        column: &'static str,
        problem: CellProblem,
        text: String,
    },
    /// Two outcomes of one lead in an outcomes file that break qualify-core's policy
    /// (`qualify_core::history::Outcomes`): at the same instant, after a conversion, or after a
    /// final (bad-fit, other or unexplained) disqualification. Rows are 1-based data rows,
    /// in time order.
    #[error(
        "{}: lead {lead:?}: row {first} ({} at {}) and row {second} ({} at {}): {why}",
        path.display(), .first_outcome.describe(), time(.first_outcome),
        .second_outcome.describe(), time(.second_outcome)
    )]
    OutcomeConflict {
        path: PathBuf,
        lead: String,
        first: usize,
        second: usize,
        first_outcome: Outcome,
        second_outcome: Outcome,
        why: ConflictKind,
    },
    /// A setting out of its range.
    #[error("setting {setting} = {value} is out of range (docs/monitoring.md)")]
    Config {
        setting: &'static str,
        value: String,
    },
    /// A logged propensity outside `[0, 1]` or not finite.
    #[error("score log entry {index} (lead {lead:?}): propensity {value} is not in [0, 1]")]
    Propensity {
        index: usize,
        lead: Option<String>,
        value: f64,
    },
    /// A logged stage the rules do not have.
    #[error(
        "score log entry {index}: stage {stage:?} is not a rules stage (Disqualified, Nurture, Lead, MQL, SQL, PQL)"
    )]
    Stage { index: usize, stage: String },
    #[error("{what}: {source}")]
    Metric {
        what: &'static str,
        #[source]
        source: qualify_eval::EvalError,
    },
    #[error("rules vs model: {source}")]
    Compare {
        #[source]
        source: qualify_compare::CompareError,
    },
    #[error("model inputs at the logged moments: {source}")]
    Inputs {
        #[source]
        source: qualify_core::history::HistoryError,
    },
    /// Reading the lead store.
    #[error("reading the lead store: {source}")]
    Store {
        #[source]
        source: qualify_store::StoreError,
    },
    /// No monitoring time asked, no range end, and no record to take one from.
    #[error("nothing to monitor: no score-log entry, outcome or event, and no time given")]
    NoTime,
    #[error("plot {plot}: {message}")]
    Plot { plot: &'static str, message: String },
    #[error("writing the report as JSON: {source}")]
    Json {
        #[source]
        source: serde_json::Error,
    },
}

/// Why a cell was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CellProblem {
    /// An empty required cell.
    Blank,
    /// Not an RFC 3339 time, `YYYY-MM-DD HH:MM:SS` or `YYYY-MM-DD`.
    Time,
    /// Neither `converted` nor `disqualified`.
    Outcome,
}

impl std::fmt::Display for CellProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            CellProblem::Blank => "a value is required",
            CellProblem::Time => "expected an RFC 3339 time, YYYY-MM-DD HH:MM:SS or YYYY-MM-DD",
            CellProblem::Outcome => "expected converted or disqualified",
        })
    }
}
