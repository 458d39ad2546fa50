//! The one feature computation, and its two callers.
//!
//! [`HistorySpec::features_at`] computes a lead's features at one moment from its events in
//! time order: only events strictly before the moment count. Everything else here only
//! gathers input for it:
//! - the trainer and batch scoring ([`HistorySpec::batch_features`]) over many `(lead,
//!   moment)` pairs of an [`EventLog`], in parallel chunks;
//! - the runtime ([`HistorySpec::record_features`]) over one record's `activities`, as of the
//!   request's moment.
//!
//! Both sort a lead's events by time before the computation, so the floating-point sums run
//! in the same order and the two paths agree bit for bit (a property test in this module
//! holds them equal on random event logs and moments). A missing value (no event of a type
//! yet, an unknown creation time) is NaN here and a missing cell in tables: the encoder
//! imputes it and sets its missing indicator, as for any numeric column.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::log::{Ev, EventLog};
use super::spec::{DAY_MS, HistorySpec};
use crate::lead::{Activity, EventType};
use crate::value::RawColumn;

/// A lead and the moment it is scored at (milliseconds since the Unix epoch, UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Moment {
    pub lead: usize,
    pub at: i64,
}

/// One record's features, and the activities the model could not read.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordFeatures {
    /// In [`HistorySpec::feature_names`] order; NaN is missing.
    pub values: Vec<f64>,
    /// Activities of types the model does not know, by type: ignored.
    pub unknown_types: BTreeMap<EventType, usize>,
}

/// Milliseconds since the Unix epoch.
pub fn millis(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

fn days(ms: i64) -> f64 {
    ms as f64 / DAY_MS as f64
}

impl HistorySpec {
    /// The features of a lead at `moment` (see the module docs) into `out`
    /// ([`HistorySpec::width`] long). `events` are the lead's events of the spec's types
    /// (`kind` indexes [`HistorySpec::event_types`]), sorted by time; `created` is the lead's
    /// creation time.
    ///
    /// Per type: the count in each window (events at most `w` days and strictly before the
    /// moment), the decayed count `Σ 0.5^(age / half_life)`, the days since the latest (NaN
    /// when there is none); then the lead's age in days (NaN when `created` is unknown) and
    /// the days since its latest event of any known type (NaN when there is none).
    pub fn features_at(&self, events: &[Ev], created: Option<i64>, moment: i64, out: &mut [f64]) {
        let per = self.per_type();
        let types = self.event_types.len();
        debug_assert_eq!(out.len(), self.width());
        for slot in out[..types * per].chunks_exact_mut(per) {
            slot.fill(0.0);
            slot[per - 1] = f64::NAN;
        }
        let windows: Vec<i64> = self
            .windows_days
            .iter()
            .map(|&w| i64::from(w) * DAY_MS)
            .collect();
        let before = &events[..events.partition_point(|e| e.at < moment)];
        let mut latest: Option<i64> = None;
        for e in before {
            let Some(slot) = out.get_mut(e.kind as usize * per..(e.kind as usize + 1) * per) else {
                continue;
            };
            let age = moment - e.at;
            for (count, &w) in slot.iter_mut().zip(&windows) {
                if age <= w {
                    *count += 1.0;
                }
            }
            slot[per - 2] += (-days(age) / self.half_life_days).exp2();
            // Time order: the last one seen is the latest.
            slot[per - 1] = days(age);
            latest = Some(e.at);
        }
        out[types * per] = created.map_or(f64::NAN, |c| days(moment - c));
        out[types * per + 1] = latest.map_or(f64::NAN, |l| days(moment - l));
    }

    /// Features of many `(lead, moment)` pairs, row-major (`moments.len()` ×
    /// [`HistorySpec::width`]). `log` holds the spec's types only ([`EventLog::for_spec`]);
    /// `created[lead]` is each lead's creation time. Chunks of moments run on all cores.
    pub fn batch_features(&self, log: &EventLog, created: &[i64], moments: &[Moment]) -> Vec<f64> {
        let width = self.width();
        let mut out = vec![0.0; moments.len() * width];
        if width == 0 || moments.is_empty() {
            return out;
        }
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let chunk = moments.len().div_ceil(threads).max(1024);
        std::thread::scope(|scope| {
            for (rows, block) in moments.chunks(chunk).zip(out.chunks_mut(chunk * width)) {
                scope.spawn(move || {
                    for (m, row) in rows.iter().zip(block.chunks_exact_mut(width)) {
                        let c = created.get(m.lead).copied();
                        self.features_at(log.lead(m.lead), c, m.at, row);
                    }
                });
            }
        });
        out
    }

    /// The features of one record as of `as_of`: its activities of the spec's types (others
    /// are counted in [`RecordFeatures::unknown_types`] and ignored), sorted by time, through
    /// [`HistorySpec::features_at`].
    pub fn record_features(
        &self,
        activities: &[Activity],
        created: Option<DateTime<Utc>>,
        as_of: DateTime<Utc>,
    ) -> RecordFeatures {
        let mut unknown_types = BTreeMap::new();
        let mut events: Vec<Ev> = Vec::with_capacity(activities.len());
        for a in activities {
            match self.event_types.iter().position(|t| *t == a.kind) {
                Some(kind) => events.push(Ev {
                    at: millis(a.at),
                    kind: kind as u32,
                }),
                None => *unknown_types.entry(a.kind.clone()).or_insert(0) += 1,
            }
        }
        events.sort_by_key(|e| e.at);
        let mut values = vec![0.0; self.width()];
        self.features_at(&events, created.map(millis), millis(as_of), &mut values);
        RecordFeatures {
            values,
            unknown_types,
        }
    }
}

/// A row-major block of features as table columns (NaN is a missing cell), in
/// [`HistorySpec::feature_names`] order.
pub fn feature_columns(values: &[f64], width: usize) -> Vec<RawColumn> {
    let rows = values.len().checked_div(width).unwrap_or(0);
    (0..width)
        .map(|c| {
            RawColumn::Number(
                (0..rows)
                    .map(|r| Some(values[r * width + c]).filter(|v| !v.is_nan()))
                    .collect(),
            )
        })
        .collect()
}
