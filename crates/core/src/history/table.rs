//! A history in memory, and the point-in-time table built from it.
//!
//! [`History`] is the three tables once read and checked (qualify-data reads the files and
//! applies the documented policy for bad rows): the leads table as it was read (its
//! attribute columns go to the model as they are), each lead's id, creation time and outcomes,
//! and the events as an [`EventLog`]. [`History::point_in_time`] turns `(lead, moment)` pairs
//! into the table the encoder reads: the lead's row, the moment, and the features at the
//! moment. Training, `qualify score`, `qualify evaluate` and `qualify compare` all build
//! their rows with it.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};

use super::HistoryError;
use super::features::{Moment, feature_columns};
use super::life::{Life, Outcomes};
use super::log::EventLog;
use super::moments::Label;
use super::spec::{DAY_MS, HistorySpec, MomentSummary};
use crate::lead::{ActivityType, EventType, LAST_ACTIVITY_AT};
use crate::value::{RawColumn, RawTable};

/// Column of a point-in-time table holding the moment (RFC 3339, UTC).
pub const MOMENT_COLUMN: &str = "as_of";

/// Three tables, read and checked (see the module docs). Times are milliseconds since the
/// Unix epoch, UTC.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct History {
    /// The leads table, one row per lead, as read.
    pub leads: RawTable,
    pub ids: Vec<String>,
    pub created: Vec<i64>,
    /// Each lead's outcomes, in time order (checked against the policy of [`super::Life`]).
    pub outcomes: Vec<Outcomes>,
    /// Events of the leads, every type.
    pub events: EventLog,
    /// The latest timestamp in the three tables (the default end of the data).
    pub latest: i64,
}

/// Training moments and their labels.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledMoments {
    pub moments: Vec<Moment>,
    pub labels: Vec<bool>,
    pub summary: MomentSummary,
}

/// Given moments, labelled ([`History::label_moments`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MomentLabels {
    /// Indices of the moments kept (labelled), in order.
    pub kept: Vec<usize>,
    pub labels: Vec<bool>,
    /// Moments whose window reaches past the end of the data (whatever happened before it).
    pub censored: usize,
    /// Moments at which the lead was closed (after an outcome, not re-engaged).
    pub closed: usize,
}

/// A time as the point-in-time table writes it.
pub fn time_text(ms: i64) -> Option<String> {
    DateTime::<Utc>::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

impl History {
    /// What decides when `lead` is open: its creation, outcomes and events.
    pub fn life(&self, lead: usize) -> Life<'_> {
        Life {
            created: self.created[lead],
            outcomes: self.outcomes[lead].as_slice(),
            events: self.events.lead(lead),
        }
    }

    /// Lead ids to row numbers.
    pub fn index(&self) -> HashMap<&str, usize> {
        self.ids
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect()
    }

    /// Every lead's training moments (module docs of [`super::moments`]) up to `end`, labelled
    /// with `spec`'s window; censored moments are left out and counted.
    pub fn training_moments(&self, spec: &HistorySpec, end: i64) -> LabelledMoments {
        let offsets: Vec<i64> = spec
            .offsets_days
            .iter()
            .map(|&d| i64::from(d) * DAY_MS)
            .collect();
        let window = spec.label_window_ms();
        let mut out = LabelledMoments {
            moments: Vec::new(),
            labels: Vec::new(),
            summary: MomentSummary {
                end: DateTime::from_timestamp_millis(end),
                leads: self.ids.len(),
                events: self.events.len(),
                ..MomentSummary::default()
            },
        };
        for lead in 0..self.ids.len() {
            let life = self.life(lead);
            let before = out.moments.len();
            for at in life.training_moments(&offsets, end) {
                match life.label_at(at, window, end).converted() {
                    Some(y) => {
                        out.moments.push(Moment { lead, at });
                        out.labels.push(y);
                        out.summary.converted += usize::from(y);
                    }
                    None => out.summary.censored += 1,
                }
            }
            if out.moments.len() == before {
                out.summary.leads_without_moments += 1;
            }
        }
        out.summary.moments = out.moments.len();
        out
    }

    /// The label of each moment, with `window` and `end` in milliseconds.
    pub fn labels(&self, moments: &[Moment], window: i64, end: i64) -> Vec<Label> {
        moments
            .iter()
            .map(|m| self.life(m.lead).label_at(m.at, window, end))
            .collect()
    }

    /// Labels given moments (a back-test's) with `spec`'s window up to `end`: which are kept,
    /// their labels, and how many were left out as censored or already closed.
    pub fn label_moments(&self, spec: &HistorySpec, moments: &[Moment], end: i64) -> MomentLabels {
        let mut out = MomentLabels::default();
        for (i, label) in self
            .labels(moments, spec.label_window_ms(), end)
            .into_iter()
            .enumerate()
        {
            match label.converted() {
                Some(y) => {
                    out.kept.push(i);
                    out.labels.push(y);
                }
                None if label == Label::Censored => out.censored += 1,
                None => out.closed += 1,
            }
        }
        out
    }

    /// Every lead open at `t`, in leads-table order.
    pub fn open_at(&self, t: i64) -> Vec<Moment> {
        (0..self.ids.len())
            .filter(|&lead| self.life(lead).is_open(t))
            .map(|lead| Moment { lead, at: t })
            .collect()
    }

    /// The event types with at least `min_events` events strictly before the moments, by
    /// name: the types a model trained on these moments knows.
    pub fn known_types(&self, moments: &[Moment], min_events: usize) -> Vec<EventType> {
        let pairs: Vec<(usize, i64)> = moments.iter().map(|m| (m.lead, m.at)).collect();
        let counts = self.events.counts_before(&pairs);
        let mut known: Vec<EventType> = self
            .events
            .types()
            .iter()
            .zip(counts)
            .filter(|(_, n)| *n >= min_events.max(1))
            .map(|(t, _)| t.clone())
            .collect();
        known.sort();
        known
    }

    /// The point-in-time table of `moments`: every column of the leads table (the lead's
    /// row), [`MOMENT_COLUMN`], then `spec`'s features at the moment. Also returns how many
    /// events were of types the spec does not know (they are ignored).
    ///
    /// # Errors
    /// A feature name that is also a column of the leads table, or [`MOMENT_COLUMN`].
    pub fn point_in_time(
        &self,
        spec: &HistorySpec,
        moments: &[Moment],
    ) -> Result<(RawTable, usize), HistoryError> {
        let names = spec.feature_names();
        for name in names.iter().map(String::as_str).chain([MOMENT_COLUMN]) {
            if self.leads.column(name).is_some() {
                return Err(HistoryError::NameClash {
                    column: name.to_string(),
                });
            }
        }
        let (log, unknown) = self.events.for_spec(&spec.event_types);
        let values = spec.batch_features(&log, &self.created, moments);
        let rows: Vec<usize> = moments.iter().map(|m| m.lead).collect();
        let mut table = RawTable::new();
        for (name, column) in self.leads.columns() {
            table.push(name, take(column, &rows))?;
        }
        table.push(
            MOMENT_COLUMN,
            RawColumn::Text(moments.iter().map(|m| time_text(m.at)).collect()),
        )?;
        for (name, column) in names
            .into_iter()
            .zip(feature_columns(&values, spec.width()))
        {
            table.push(name, column)?;
        }
        Ok((table, unknown))
    }
}

impl History {
    /// What the rules read at each moment: every column of the leads table, then the flat
    /// form of the lead's activities strictly before the moment (one `<type>_count` per
    /// canonical [`ActivityType`], `last_activity_at` over every type), as a flat export
    /// would have been at that moment. `qualify compare --leads` gives this table to the
    /// rules, each row evaluated as of its moment.
    pub fn activity_view(&self, moments: &[Moment]) -> Result<RawTable, HistoryError> {
        let canonical: Vec<Option<usize>> = self
            .events
            .types()
            .iter()
            .map(|t| {
                t.canonical()
                    .and_then(|c| ActivityType::ALL.iter().position(|&a| a == c))
            })
            .collect();
        let mut counts = vec![vec![Some(0.0); moments.len()]; ActivityType::ALL.len()];
        let mut last = vec![None; moments.len()];
        for (row, m) in moments.iter().enumerate() {
            let events = self.events.lead(m.lead);
            let before = &events[..events.partition_point(|e| e.at < m.at)];
            for e in before {
                if let Some(k) = canonical[e.kind as usize] {
                    counts[k][row] = counts[k][row].map(|n| n + 1.0);
                }
            }
            last[row] = before.last().and_then(|e| time_text(e.at));
        }
        let rows: Vec<usize> = moments.iter().map(|m| m.lead).collect();
        let mut table = RawTable::new();
        for (name, column) in self.leads.columns() {
            table.push(name, take(column, &rows))?;
        }
        for (kind, column) in ActivityType::ALL.iter().zip(counts) {
            if self.leads.column(&kind.count_column()).is_none() {
                table.push(kind.count_column(), RawColumn::Number(column))?;
            }
        }
        if self.leads.column(LAST_ACTIVITY_AT).is_none() {
            table.push(LAST_ACTIVITY_AT, RawColumn::Text(last))?;
        }
        Ok(table)
    }
}

/// The cells of `rows`, in that order (rows may repeat).
pub fn take(column: &RawColumn, rows: &[usize]) -> RawColumn {
    match column {
        RawColumn::Number(v) => RawColumn::Number(rows.iter().map(|&r| v[r]).collect()),
        RawColumn::Bool(v) => RawColumn::Bool(rows.iter().map(|&r| v[r]).collect()),
        RawColumn::Text(v) => RawColumn::Text(rows.iter().map(|&r| v[r].clone()).collect()),
    }
}
