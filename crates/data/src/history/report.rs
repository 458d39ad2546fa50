//! What reading a history noticed without stopping: counted warnings, with the first few
//! rows of each, per the policy of docs/history.md ("Bad input").

use std::fmt;

use super::Table;

/// Most example rows a warning keeps.
const EXAMPLES: usize = 3;

/// A kind of row that reading skips or keeps with a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, strum::Display)]
#[strum(serialize_all = "snake_case")]
pub enum HistoryIssue {
    /// An event whose lead is not in the leads table: dropped.
    EventOfUnknownLead,
    /// An event whose `event_id` an earlier row already had: dropped (exported twice).
    DuplicateEvent,
    /// An event before its lead's creation: kept (a CRM merges earlier anonymous activity
    /// into the lead); it counts for moments after it like any other.
    EventBeforeCreation,
    /// An outcome whose lead is not in the leads table: dropped.
    OutcomeOfUnknownLead,
}

impl HistoryIssue {
    pub fn table(self) -> Table {
        match self {
            HistoryIssue::OutcomeOfUnknownLead => Table::Outcomes,
            _ => Table::Events,
        }
    }

    /// What happened to the rows, in words.
    pub fn effect(self) -> &'static str {
        match self {
            HistoryIssue::EventOfUnknownLead => "event(s) of leads not in the leads table, dropped",
            HistoryIssue::DuplicateEvent => "event(s) with an event_id seen before, dropped",
            HistoryIssue::EventBeforeCreation => "event(s) before their lead's creation, kept",
            HistoryIssue::OutcomeOfUnknownLead => {
                "outcome(s) of leads not in the leads table, dropped"
            }
        }
    }
}

/// One counted warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Counted {
    pub issue: HistoryIssue,
    pub count: usize,
    /// The first rows: `(row, lead id)`, rows 1-based.
    pub examples: Vec<(usize, String)>,
}

impl fmt::Display for Counted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {}",
            self.issue.table(),
            self.count,
            self.issue.effect()
        )?;
        let first: Vec<String> = self
            .examples
            .iter()
            .map(|(row, lead)| format!("row {row} ({lead})"))
            .collect();
        write!(f, "; first: {}", first.join(", "))
    }
}

/// Every counted warning of a read, in [`HistoryIssue`] order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HistoryReport {
    pub warnings: Vec<Counted>,
}

impl HistoryReport {
    pub(super) fn note(&mut self, issue: HistoryIssue, row: usize, lead: &str) {
        let at = match self.warnings.iter().position(|w| w.issue == issue) {
            Some(i) => i,
            None => {
                self.warnings.push(Counted {
                    issue,
                    count: 0,
                    examples: Vec::new(),
                });
                self.warnings.sort_by_key(|w| w.issue);
                self.warnings
                    .iter()
                    .position(|w| w.issue == issue)
                    .unwrap_or_default()
            }
        };
        let w = &mut self.warnings[at];
        w.count += 1;
        if w.examples.len() < EXAMPLES {
            w.examples.push((row, lead.to_string()));
        }
    }

    /// The count of one issue (0 when it did not occur).
    pub fn count(&self, issue: HistoryIssue) -> usize {
        self.warnings
            .iter()
            .find(|w| w.issue == issue)
            .map_or(0, |w| w.count)
    }
}
