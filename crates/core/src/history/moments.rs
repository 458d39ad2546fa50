//! Moments and labels: when a lead is scored in training, and what it is labelled.
//!
//! Why here and not in the trainer: `qualify train`, `qualify evaluate` and `qualify compare`
//! all label moments, and a back-test is only honest if they label them the same way.
//!
//! - A lead is **open** at `t` when `t` is inside one of its open intervals
//!   ([`super::Life::intervals`]): from its creation to its first outcome, and again from the
//!   event by which it re-engaged after a bad-timing disqualification to its next outcome.
//! - **Training moments**: for each open interval, its start plus each offset, while inside
//!   the interval and before the end of the data; never at or after an outcome that closed it.
//! - **The label** at a moment `m`, with window `W` and the end of the data `E`: *closed* when
//!   the lead is not open at `m`; when the window is complete (`m + W <= E`), converted when
//!   the lead has a conversion in `(m, m + W]`, else not converted. When the window reaches
//!   past the end of the data, the moment is **censored** and left out, whatever happened
//!   before the end: keeping the moments whose lead converted (or was disqualified) before
//!   the end, and dropping only those still open, would choose moments by their outcome. Near
//!   the end of the data that doubles the conversion rate of the kept moments
//!   (docs/history.md, "Censoring"). An outcome after `E` has not happened yet.

use serde::{Deserialize, Serialize};

pub use super::life::Outcome;

/// How a lead closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, strum::Display)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum OutcomeKind {
    Converted,
    Disqualified,
}

/// A moment's label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::Display)]
#[strum(serialize_all = "snake_case")]
pub enum Label {
    /// Converted within the window after the moment.
    Converted,
    /// Known not to convert within the window.
    NotConverted,
    /// The window reaches past the end of the data: left out.
    Censored,
    /// The lead was already closed at the moment: not a moment to score.
    Closed,
}

impl Label {
    /// The binary label, for the kept moments.
    pub fn converted(self) -> Option<bool> {
        match self {
            Label::Converted => Some(true),
            Label::NotConverted => Some(false),
            Label::Censored | Label::Closed => None,
        }
    }
}

/// The label at `moment` of a lead open at it, from its outcomes (any order): censored when
/// the window reaches past `end`, else converted when a conversion falls in
/// `(moment, moment + window]`. `window` and `end` in milliseconds.
pub fn window_label(moment: i64, outcomes: &[Outcome], window: i64, end: i64) -> Label {
    if moment.saturating_add(window) > end {
        Label::Censored
    } else if outcomes
        .iter()
        .any(|o| o.kind == OutcomeKind::Converted && o.at > moment && o.at - moment <= window)
    {
        Label::Converted
    } else {
        Label::NotConverted
    }
}
