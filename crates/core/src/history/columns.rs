//! The column names of a history's events and outcomes tables, as a leads schema's
//! `[history]` section names them (docs/history.md, "Data contract").
//!
//! Why in the schema: a CRM export names its columns its own way (`ActivityDate`,
//! `Activity Type`, `Status = "Closed Won"`); the schema already maps a leads table's columns
//! to roles, so it maps the other two tables too, and the bundle keeps the mapping so that
//! `qualify score` reads events as `qualify train` did. Every name defaults to the contract's.

use serde::{Deserialize, Serialize};

/// The `[history]` section of a schema.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistoryColumns {
    #[serde(default)]
    pub events: EventColumns,
    #[serde(default)]
    pub outcomes: OutcomeColumns,
}

/// Column names of the events table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EventColumns {
    /// The lead an event belongs to (the leads table's id).
    pub lead_id: String,
    /// When it happened.
    pub at: String,
    /// Its type: free text (docs/concepts.md).
    #[serde(rename = "type")]
    pub kind: String,
    /// An optional unique id: a repeated id is the same event exported twice.
    pub event_id: String,
    /// An optional number carried by the event (seconds on a page, an invoice's amount).
    pub value: String,
}

impl Default for EventColumns {
    fn default() -> Self {
        EventColumns {
            lead_id: "lead_id".into(),
            at: "at".into(),
            kind: "type".into(),
            event_id: "event_id".into(),
            value: "value".into(),
        }
    }
}

/// Column names, and outcome names, of the outcomes table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OutcomeColumns {
    pub lead_id: String,
    pub at: String,
    pub outcome: String,
    /// An optional reason (outcome data: never a feature).
    pub reason: String,
    /// Outcome cells that mean converted (trimmed, any case).
    pub converted: Vec<String>,
    /// Outcome cells that mean disqualified (trimmed, any case).
    pub disqualified: Vec<String>,
}

impl Default for OutcomeColumns {
    fn default() -> Self {
        OutcomeColumns {
            lead_id: "lead_id".into(),
            at: "at".into(),
            outcome: "outcome".into(),
            reason: "reason".into(),
            converted: vec!["converted".into()],
            disqualified: vec!["disqualified".into()],
        }
    }
}
