//! What a model trained on a history computes and what its score means: the
//! [`HistorySpec`] its bundle carries.
//!
//! The spec is all the feature code needs besides the events: which event types the model
//! knows (each gets its own columns), the count windows, the decay half-life, and the label's
//! window, which is part of what the score *means* ("probability of converting within 90
//! days of the scoring moment"). It is written into the manifest so the runtime computes a
//! record's features exactly as the trainer computed its rows.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::HistoryError;
use crate::lead::EventType;

/// Count windows, in days, when none are given.
pub const DEFAULT_WINDOWS_DAYS: [u32; 3] = [7, 30, 90];
/// Half-life of the decayed counts, in days, when none is given.
pub const DEFAULT_HALF_LIFE_DAYS: f64 = 14.0;
/// Days after creation at which a lead is scored in training, when none are given.
pub const DEFAULT_OFFSETS_DAYS: [u32; 5] = [0, 7, 14, 30, 60];
/// The label's window, in days, when none is given.
pub const DEFAULT_LABEL_WINDOW_DAYS: u32 = 90;

/// Feature: days from the lead's creation to the moment.
pub const LEAD_AGE: &str = "lead_age_days";
/// Feature: days from the latest event of any type the model knows to the moment.
pub const DAYS_SINCE_LAST_EVENT: &str = "days_since_last_event";
/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// What a history model computes (see the module docs). Durations are whole days, except
/// the half-life.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HistorySpec {
    /// The event types the model knows, in feature order. Events of other types are
    /// ignored (and counted as a warning when a record is scored).
    pub event_types: Vec<EventType>,
    /// Count windows: an event counts in window `w` when it happened less than or exactly `w`
    /// days before the moment (and strictly before it).
    pub windows_days: Vec<u32>,
    /// Half-life of the decayed count: an event `d` days old weighs `0.5^(d / half_life)`.
    pub half_life_days: f64,
    /// The label: converted within this many days after the moment.
    pub label_window_days: u32,
    /// Training moments: the lead's creation plus each offset, while it is open.
    pub offsets_days: Vec<u32>,
    /// The lead's creation time: the leads table's column, the record's field.
    pub created_column: String,
}

impl HistorySpec {
    /// A spec with the defaults of the module constants, for `event_types`.
    pub fn new(event_types: Vec<EventType>, created_column: impl Into<String>) -> HistorySpec {
        HistorySpec {
            event_types,
            windows_days: DEFAULT_WINDOWS_DAYS.to_vec(),
            half_life_days: DEFAULT_HALF_LIFE_DAYS,
            label_window_days: DEFAULT_LABEL_WINDOW_DAYS,
            offsets_days: DEFAULT_OFFSETS_DAYS.to_vec(),
            created_column: created_column.into(),
        }
    }

    /// Checks the spec's rules: positive, strictly increasing windows; a positive finite
    /// half-life; a positive label window; strictly increasing offsets; each type once.
    pub fn validate(&self) -> Result<(), HistoryError> {
        let increasing = |v: &[u32]| v.windows(2).all(|w| w[0] < w[1]);
        if self.windows_days.contains(&0) || !increasing(&self.windows_days) {
            return Err(HistoryError::Windows {
                windows: self.windows_days.clone(),
            });
        }
        if !(self.half_life_days.is_finite() && self.half_life_days > 0.0) {
            return Err(HistoryError::HalfLife {
                days: self.half_life_days,
            });
        }
        if self.label_window_days == 0 {
            return Err(HistoryError::LabelWindow);
        }
        if self.offsets_days.is_empty() || !increasing(&self.offsets_days) {
            return Err(HistoryError::Offsets {
                offsets: self.offsets_days.clone(),
            });
        }
        let mut seen = std::collections::BTreeSet::new();
        for t in &self.event_types {
            if !seen.insert(t) {
                return Err(HistoryError::DuplicateType {
                    event_type: t.to_string(),
                });
            }
        }
        Ok(())
    }

    /// Columns per event type: one per window, the decayed count, the days since the last.
    pub(crate) fn per_type(&self) -> usize {
        self.windows_days.len() + 2
    }

    /// Number of feature columns.
    pub fn width(&self) -> usize {
        self.event_types.len() * self.per_type() + 2
    }

    /// The feature columns, in the order the feature code writes them: per event type
    /// `<type>_<w>d` for each window, `<type>_decayed`, `<type>_days_since`; then
    /// [`LEAD_AGE`] and [`DAYS_SINCE_LAST_EVENT`].
    pub fn feature_names(&self) -> Vec<String> {
        let mut names = Vec::with_capacity(self.width());
        for t in &self.event_types {
            for w in &self.windows_days {
                names.push(format!("{t}_{w}d"));
            }
            names.push(format!("{t}_decayed"));
            names.push(format!("{t}_days_since"));
        }
        names.push(LEAD_AGE.to_string());
        names.push(DAYS_SINCE_LAST_EVENT.to_string());
        names
    }

    /// What the model's score means, in words.
    pub fn target(&self) -> String {
        target_text(self.label_window_days)
    }

    /// The label's window in milliseconds.
    pub fn label_window_ms(&self) -> i64 {
        i64::from(self.label_window_days) * DAY_MS
    }
}

/// "probability of converting within `days` days of the scoring moment".
pub fn target_text(days: u32) -> String {
    format!("probability of converting within {days} days of the scoring moment")
}

/// What a history model's bundle records: the spec, and the data it was trained on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryModel {
    pub spec: HistorySpec,
    /// [`HistorySpec::target`], written out for readers of the manifest.
    pub target: String,
    /// How the training rows were made from the history.
    pub summary: MomentSummary,
}

impl HistoryModel {
    pub fn new(spec: HistorySpec, summary: MomentSummary) -> HistoryModel {
        HistoryModel {
            target: spec.target(),
            spec,
            summary,
        }
    }
}

/// How a history became point-in-time rows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MomentSummary {
    /// The end of the data: labels look no further (`--as-of`, default the latest timestamp
    /// in the three tables).
    pub end: Option<DateTime<Utc>>,
    pub leads: usize,
    /// Events read (of every type, for known leads).
    pub events: usize,
    /// Moments kept (labelled rows).
    pub moments: usize,
    /// Moments whose window reaches past the end of the data (whatever happened before it):
    /// left out.
    pub censored: usize,
    /// Kept moments labelled converted within the window.
    pub converted: usize,
    /// Leads that contributed no moment (closed at creation, or created after the end).
    pub leads_without_moments: usize,
}
