//! The inputs besides the score log: outcomes and events as monitoring reads them, and the
//! files `qualify monitor` reads them from.
//!
//! Why not qualify-core's `History`: monitoring needs what `History` leaves out on purpose
//! (an outcome's `reason`, which is never a feature) and needs no leads table; the store hands
//! over the same records. The files follow the history contract's column names
//! (docs/history.md): outcomes `lead_id, at, outcome, reason?`, events `lead_id, at, type`
//! (other columns ignored), CSV with a header; the score log is JSON lines of
//! `ScoreLogEntry`.
//!
//! **The outcome policy.** An outcomes file is held to the rule the files check, the store
//! and training apply (qualify-core's `history::life`, docs/history.md "A lead's outcomes"),
//! by calling that code on each lead's outcomes: two outcomes of a lead at one instant,
//! anything after a conversion, and anything after a final (bad-fit, other or unexplained)
//! disqualification are refused, naming the lead and both rows; a bad-timing
//! disqualification may be followed by a later outcome. Without it a file the store would
//! refuse would still give figures, different ones from the store's for the same history.

use std::collections::HashMap;
use std::fs;
use std::path::Path;

use chrono::{DateTime, Utc};
use qualify_core::encoder::parse::time_from_text;
use qualify_core::history::{Outcome, OutcomeKind, Outcomes, family_of};
use qualify_core::scorelog::ScoreLogEntry;
use serde::{Deserialize, Serialize};

use crate::error::{CellProblem, MonitorError};

/// One outcome: how a lead closed, when, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutcomeRecord {
    pub lead_id: String,
    pub at: DateTime<Utc>,
    pub outcome: OutcomeKind,
    /// The disqualification reason, as the CRM names it.
    pub reason: Option<String>,
}

/// One event of a lead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventRecord {
    pub lead_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub at: DateTime<Utc>,
}

/// Reads a score log: one JSON `ScoreLogEntry` per line (blank lines skipped).
///
/// # Errors
/// An unreadable file, or a line that is not an entry (with its number).
pub fn read_log(path: &Path) -> Result<Vec<ScoreLogEntry>, MonitorError> {
    let text = fs::read_to_string(path).map_err(|source| MonitorError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, line)| {
            serde_json::from_str(line).map_err(|source| MonitorError::LogLine {
                path: path.to_path_buf(),
                line: i + 1,
                source,
            })
        })
        .collect()
}

/// A CSV file's rows with named columns.
struct Csv<'p> {
    path: &'p Path,
    columns: HashMap<String, usize>,
    rows: Vec<csv::StringRecord>,
}

impl<'p> Csv<'p> {
    fn read(path: &'p Path) -> Result<Csv<'p>, MonitorError> {
        let csv_error = |source| MonitorError::Csv {
            path: path.to_path_buf(),
            source,
        };
        let mut reader = csv::Reader::from_path(path).map_err(csv_error)?;
        let columns = reader
            .headers()
            .map_err(csv_error)?
            .iter()
            .enumerate()
            .map(|(i, h)| (h.trim().to_string(), i))
            .collect();
        let rows = reader
            .records()
            .collect::<Result<Vec<_>, _>>()
            .map_err(csv_error)?;
        Ok(Csv {
            path,
            columns,
            rows,
        })
    }

    fn column(&self, name: &'static str) -> Result<usize, MonitorError> {
        self.columns
            .get(name)
            .copied()
            .ok_or_else(|| MonitorError::MissingColumn {
                path: self.path.to_path_buf(),
                column: name,
                found: {
                    let mut found: Vec<String> = self.columns.keys().cloned().collect();
                    found.sort();
                    found
                },
            })
    }

    fn cell_error(
        &self,
        row: usize,
        column: &'static str,
        problem: CellProblem,
        text: &str,
    ) -> MonitorError {
        MonitorError::Cell {
            path: self.path.to_path_buf(),
            row: row + 1,
            column,
            problem,
            text: text.to_string(),
        }
    }

    fn text(&self, row: usize, index: usize, column: &'static str) -> Result<String, MonitorError> {
        let text = self.rows[row].get(index).unwrap_or_default().trim();
        if text.is_empty() {
            return Err(self.cell_error(row, column, CellProblem::Blank, text));
        }
        Ok(text.to_string())
    }

    fn time(
        &self,
        row: usize,
        index: usize,
        column: &'static str,
    ) -> Result<DateTime<Utc>, MonitorError> {
        let text = self.text(row, index, column)?;
        time_from_text(&text).ok_or_else(|| self.cell_error(row, column, CellProblem::Time, &text))
    }
}

impl OutcomeRecord {
    /// The outcome as qualify-core's policy sees it: a disqualification's family comes from
    /// its reason (`qualify_core::history::family_of`, the table the files check and the
    /// store use; no reason is final).
    pub fn core(&self) -> Outcome {
        let at = self.at.timestamp_millis();
        match self.outcome {
            OutcomeKind::Converted => Outcome::converted(at),
            OutcomeKind::Disqualified => {
                Outcome::disqualified(at, family_of(self.reason.as_deref()))
            }
        }
    }
}

/// Reads an outcomes CSV (`lead_id`, `at`, `outcome`, optional `reason`) and checks each
/// lead's outcomes against the policy training and the store apply (module docs).
///
/// # Errors
/// An unreadable file, a missing column, a blank id or time, an unreadable time, an outcome
/// that is neither `converted` nor `disqualified` (row and column named); two outcomes of a
/// lead that break the policy ([`MonitorError::OutcomeConflict`]: the lead, both rows, why).
pub fn read_outcomes(path: &Path) -> Result<Vec<OutcomeRecord>, MonitorError> {
    let records = read_outcome_rows(path)?;
    check_policy(path, &records)?;
    Ok(records)
}

/// Each lead's outcomes (the first lead in file order first) through
/// `qualify_core::history::Outcomes::new`; the first pair it refuses is the error, with the
/// rows it came from.
fn check_policy(path: &Path, records: &[OutcomeRecord]) -> Result<(), MonitorError> {
    let mut leads: Vec<&str> = Vec::new();
    let mut rows: HashMap<&str, Vec<(Outcome, usize)>> = HashMap::new();
    for (row, r) in records.iter().enumerate() {
        rows.entry(r.lead_id.as_str())
            .or_insert_with(|| {
                leads.push(r.lead_id.as_str());
                Vec::new()
            })
            .push((r.core(), row + 1));
    }
    for lead in leads {
        let Some(mut rows) = rows.remove(lead).filter(|r| r.len() > 1) else {
            continue;
        };
        // The same stable sort as `Outcomes::new`, so its positions index `rows`.
        rows.sort_by_key(|(o, _)| o.at);
        if let Err(c) = Outcomes::new(rows.iter().map(|(o, _)| *o).collect()) {
            return Err(MonitorError::OutcomeConflict {
                path: path.to_path_buf(),
                lead: lead.to_string(),
                first: rows[c.first].1,
                second: rows[c.second].1,
                first_outcome: rows[c.first].0,
                second_outcome: rows[c.second].0,
                why: c.why,
            });
        }
    }
    Ok(())
}

/// The rows of an outcomes CSV, each cell checked, in file order.
fn read_outcome_rows(path: &Path) -> Result<Vec<OutcomeRecord>, MonitorError> {
    let csv = Csv::read(path)?;
    let (lead, at, outcome) = (
        csv.column("lead_id")?,
        csv.column("at")?,
        csv.column("outcome")?,
    );
    let reason = csv.columns.get("reason").copied();
    (0..csv.rows.len())
        .map(|row| {
            let text = csv.text(row, outcome, "outcome")?;
            let kind = match text.to_ascii_lowercase().as_str() {
                "converted" => OutcomeKind::Converted,
                "disqualified" => OutcomeKind::Disqualified,
                _ => return Err(csv.cell_error(row, "outcome", CellProblem::Outcome, &text)),
            };
            Ok(OutcomeRecord {
                lead_id: csv.text(row, lead, "lead_id")?,
                at: csv.time(row, at, "at")?,
                outcome: kind,
                reason: reason
                    .and_then(|i| csv.rows[row].get(i))
                    .map(str::trim)
                    .filter(|r| !r.is_empty())
                    .map(str::to_string),
            })
        })
        .collect()
}

/// Reads an events CSV (`lead_id`, `at`, `type`; other columns ignored).
///
/// # Errors
/// As [`read_outcomes`].
pub fn read_events(path: &Path) -> Result<Vec<EventRecord>, MonitorError> {
    let csv = Csv::read(path)?;
    let (lead, at, kind) = (
        csv.column("lead_id")?,
        csv.column("at")?,
        csv.column("type")?,
    );
    (0..csv.rows.len())
        .map(|row| {
            Ok(EventRecord {
                lead_id: csv.text(row, lead, "lead_id")?,
                kind: csv.text(row, kind, "type")?,
                at: csv.time(row, at, "at")?,
            })
        })
        .collect()
}

#[cfg(test)]
#[path = "input_tests.rs"]
mod tests;
