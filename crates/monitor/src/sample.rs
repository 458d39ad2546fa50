//! Joining logged scores with what happened: each lead's outcomes, events and entries in time
//! order, the weekly cohorts, and the label of a logged score once its window has passed.
//!
//! **The label** of a score logged at moment `m` is qualify-core's `label_at` (the trainer's
//! own definition) with the monitoring time as the end of the data: converted when the lead
//! converted in `(m, m + W]`, not converted when it did not, *censored* (not matured, left
//! out) while `m + W` is after the monitoring time. The outcomes it looks at are the lead's
//! outcomes after `m` (a conversion after a later bad-timing disqualification counts, as in
//! training); a lead scored after converting is *closed* and left out; a lead scored after a
//! disqualification has re-engaged and is open again.
//!
//! **Cohorts** are ISO weeks (Monday 00:00 UTC) of the scoring moment. A lead scored several
//! times in a week counts once in it, with its first score of the week, so a lead rescored at
//! every event does not outweigh one scored once.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use qualify_core::history::moments::window_label;
use qualify_core::history::{Label, Outcome, OutcomeKind};
use qualify_core::scorelog::ScoreLogEntry;
use serde::{Deserialize, Serialize};

use crate::input::{EventRecord, OutcomeRecord};

/// The Monday (UTC) of `t`'s ISO week.
pub fn week_of(t: DateTime<Utc>) -> NaiveDate {
    let d = t.date_naive();
    d - Duration::days(i64::from(d.weekday().num_days_from_monday()))
}

/// Everything indexed by lead.
#[derive(Debug)]
pub(crate) struct Index<'a> {
    pub entries: &'a [ScoreLogEntry],
    pub outcomes: HashMap<&'a str, Vec<&'a OutcomeRecord>>,
    pub events: HashMap<&'a str, Vec<&'a EventRecord>>,
    /// Entry indices per lead, by moment.
    pub by_lead: BTreeMap<&'a str, Vec<usize>>,
    pub without_lead: usize,
}

impl<'a> Index<'a> {
    pub fn new(
        entries: &'a [ScoreLogEntry],
        outcomes: &'a [OutcomeRecord],
        events: &'a [EventRecord],
    ) -> Index<'a> {
        let mut by_outcome: HashMap<&str, Vec<&OutcomeRecord>> = HashMap::new();
        for o in outcomes {
            by_outcome.entry(o.lead_id.as_str()).or_default().push(o);
        }
        by_outcome
            .values_mut()
            .for_each(|v| v.sort_by_key(|o| o.at));
        let mut by_event: HashMap<&str, Vec<&EventRecord>> = HashMap::new();
        for e in events {
            by_event.entry(e.lead_id.as_str()).or_default().push(e);
        }
        by_event.values_mut().for_each(|v| v.sort_by_key(|e| e.at));
        let mut by_lead: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        let mut without_lead = 0;
        for (i, e) in entries.iter().enumerate() {
            match e.lead_id.as_deref() {
                Some(id) => by_lead.entry(id).or_default().push(i),
                None => without_lead += 1,
            }
        }
        by_lead
            .values_mut()
            .for_each(|v| v.sort_by_key(|&i| (entries[i].as_of, i)));
        Index {
            entries,
            outcomes: by_outcome,
            events: by_event,
            by_lead,
            without_lead,
        }
    }

    pub fn outcomes_of(&self, lead: &str) -> &[&'a OutcomeRecord] {
        self.outcomes.get(lead).map_or(&[], Vec::as_slice)
    }

    pub fn events_of(&self, lead: &str) -> &[&'a EventRecord] {
        self.events.get(lead).map_or(&[], Vec::as_slice)
    }

    /// The label of a score of `lead` at `moment` (module docs).
    pub fn label(
        &self,
        lead: &str,
        moment: DateTime<Utc>,
        window: Duration,
        end: DateTime<Utc>,
    ) -> Label {
        let outcomes = self.outcomes_of(lead);
        let split = outcomes.partition_point(|o| o.at <= moment);
        if split > 0 && outcomes[split - 1].outcome == OutcomeKind::Converted {
            return Label::Closed;
        }
        let after: Vec<Outcome> = outcomes[split..]
            .iter()
            .map(|o| Outcome {
                at: o.at.timestamp_millis(),
                kind: o.outcome,
                family: None,
            })
            .collect();
        window_label(
            moment.timestamp_millis(),
            &after,
            window.num_milliseconds(),
            end.timestamp_millis(),
        )
    }
}

/// A matured, labelled score: the first of its lead in its week.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Row {
    pub entry: usize,
    pub week: NaiveDate,
    pub converted: bool,
}

/// How the logged scores became labelled rows.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleCounts {
    /// Entries in the log.
    pub entries: usize,
    /// Entries without a lead id (posted records without one): never joined to an outcome.
    pub without_lead: usize,
    /// Later scores of a lead in a week it was already scored in.
    pub repeats_in_week: usize,
    /// Scores whose window has not passed yet.
    pub not_matured: usize,
    /// Scores of a lead that had already converted.
    pub closed: usize,
    /// Labelled rows.
    pub matured: usize,
}

/// The labelled rows (module docs) and how they were counted.
pub(crate) fn matured_rows(
    index: &Index<'_>,
    window: Duration,
    end: DateTime<Utc>,
) -> (Vec<Row>, SampleCounts) {
    let mut counts = SampleCounts {
        entries: index.entries.len(),
        without_lead: index.without_lead,
        ..SampleCounts::default()
    };
    let mut rows = Vec::new();
    for (lead, entries) in &index.by_lead {
        let mut last_week = None;
        for &i in entries {
            let moment = index.entries[i].as_of;
            let week = week_of(moment);
            if last_week == Some(week) {
                counts.repeats_in_week += 1;
                continue;
            }
            last_week = Some(week);
            let label = index.label(lead, moment, window, end);
            match label {
                Label::Converted | Label::NotConverted => rows.push(Row {
                    entry: i,
                    week,
                    converted: label == Label::Converted,
                }),
                Label::Censored => counts.not_matured += 1,
                Label::Closed => counts.closed += 1,
            }
        }
    }
    rows.sort_by_key(|r| (r.week, r.entry));
    counts.matured = rows.len();
    (rows, counts)
}
