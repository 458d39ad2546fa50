//! Where the records come from: files (`qualify monitor --log`) or the lead store
//! (`qualify monitor --store`, the server's `/v1/monitor`). Both fill one [`Records`], and
//! one computation ([`crate::monitor`]) runs on it, so the two paths can only differ in what
//! they read.
//!
//! **Which records.** A [`Range`] picks the score-log entries by answer time, `[from, to)`
//! (the store's `scores_between`); outcomes and events are not cut at `from` (an entry's
//! label looks at the outcome after it, a demo request before it) but at the monitoring time.
//! The monitoring time is, in this order: the one asked for, the range's end, the latest time
//! in the records.
//!
//! **What the store adds.** The store always has an events table, so its SLA is always
//! computed. Like files, it holds every outcome of a lead (a bad-timing disqualification,
//! then a conversion once the lead re-engaged; docs/store.md), so a re-engaged lead's
//! conversion afterwards reads the same from both.
//!
//! **For a tokio handler.** [`Records::from_store`] is the only part that waits (on the
//! database, no blocking file IO); [`Records::monitor`] is CPU only, for a blocking pool.
//! [`monitor_store`] does both in one call.

use std::path::Path;

use chrono::{DateTime, Utc};
use qualify_core::bundle::Manifest;
use qualify_core::history::History;
use qualify_core::scorelog::ScoreLogEntry;
use qualify_store::Store;

use crate::drift::{FeatureSource, LeadInputs};
use crate::error::MonitorError;
use crate::input::{EventRecord, OutcomeRecord, read_events, read_log, read_outcomes};
use crate::{MonitorConfig, MonitorInput, MonitorReport};

/// The score-log entries to monitor: answered in `[from, to)`; an open end takes all.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Range {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl Range {
    /// Whether an entry answered at `t` is in the range.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from.is_none_or(|from| t >= from) && self.to.is_none_or(|to| t < to)
    }
}

/// The records monitoring reads, owned (module docs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Records {
    pub entries: Vec<ScoreLogEntry>,
    pub outcomes: Vec<OutcomeRecord>,
    /// `None` when no events were given (files only): the SLA is left out.
    pub events: Option<Vec<EventRecord>>,
}

/// The model's part in monitoring: its training reference (drift), its label window and,
/// with the stored leads, its encoder and feature spec (the inputs' drift). Both a bundle
/// read from disk (`Bundle::manifest`) and the server's loaded model (`Model::manifest()`)
/// have one.
pub type ModelPart<'a> = &'a Manifest;

impl Records {
    /// Reads a score log (JSON lines), an outcomes CSV and optionally an events CSV
    /// ([`crate::input`]), keeping the log's entries in `range`.
    ///
    /// # Errors
    /// As the file readers: the file, line or row and column named.
    pub fn read_files(
        log: &Path,
        outcomes: &Path,
        events: Option<&Path>,
        range: Range,
    ) -> Result<Records, MonitorError> {
        let mut entries = read_log(log)?;
        entries.retain(|e| range.contains(e.scored_at));
        Ok(Records {
            entries,
            outcomes: read_outcomes(outcomes)?,
            events: events.map(read_events).transpose()?,
        })
    }

    /// Reads the store's score-log entries in `range`, and every outcome and event at or
    /// before `until` (all of them for `None`; pass the monitoring time when it is known).
    ///
    /// # Errors
    /// The store ([`MonitorError::Store`]).
    pub async fn from_store(
        store: &Store,
        range: Range,
        until: Option<DateTime<Utc>>,
    ) -> Result<Records, MonitorError> {
        let store_error = |source| MonitorError::Store { source };
        let entries = store
            .scores_between(
                range.from.unwrap_or(DateTime::<Utc>::MIN_UTC),
                range.to.unwrap_or(DateTime::<Utc>::MAX_UTC),
            )
            .await
            .map_err(store_error)?;
        let outcomes = store
            .outcomes_until(until)
            .await
            .map_err(store_error)?
            .into_iter()
            .map(|o| OutcomeRecord {
                lead_id: o.lead_id,
                at: o.outcome.at,
                outcome: o.outcome.outcome,
                reason: o.outcome.reason,
            })
            .collect();
        let events = store
            .events_until(until)
            .await
            .map_err(store_error)?
            .into_iter()
            .map(|e| EventRecord {
                lead_id: e.lead_id,
                kind: e.event.kind.as_str().to_string(),
                at: e.event.at,
            })
            .collect();
        Ok(Records {
            entries,
            outcomes,
            events: Some(events),
        })
    }

    /// The latest time in the records (entries' moments, outcomes, events).
    pub fn latest(&self) -> Option<DateTime<Utc>> {
        self.entries
            .iter()
            .map(|e| e.as_of)
            .chain(self.outcomes.iter().map(|o| o.at))
            .chain(self.events.iter().flatten().map(|e| e.at))
            .max()
    }

    /// The monitoring time: `asked`, else the range's end, else [`Records::latest`].
    ///
    /// # Errors
    /// [`MonitorError::NoTime`] when there is none of the three (nothing to monitor).
    pub fn as_of(
        &self,
        asked: Option<DateTime<Utc>>,
        range: Range,
    ) -> Result<DateTime<Utc>, MonitorError> {
        asked
            .or(range.to)
            .or_else(|| self.latest())
            .ok_or(MonitorError::NoTime)
    }

    /// Computes the report on these records at `as_of`, with the model's part (drift, and with
    /// `history` the inputs' drift; see [`MonitorInput`]). CPU only.
    ///
    /// # Errors
    /// As [`crate::monitor`].
    pub fn monitor(
        &self,
        as_of: DateTime<Utc>,
        model: Option<ModelPart<'_>>,
        history: Option<&History>,
        config: &MonitorConfig,
    ) -> Result<MonitorReport, MonitorError> {
        let features = model
            .zip(history)
            .map(|(m, history)| FeatureSource::History {
                encoder: &m.encoder,
                history,
                spec: m.history.as_ref().map(|h| &h.spec),
            });
        self.report(as_of, model, features, config)
    }

    /// As [`Records::monitor`], with the inputs' drift from `values`: one lead's input values
    /// at a moment, in the encoder's column order (`None`: an unknown lead). The server reads
    /// its stored leads through the runtime this way ([`FeatureSource::Leads`]).
    ///
    /// # Errors
    /// As [`crate::monitor`].
    pub fn monitor_leads(
        &self,
        as_of: DateTime<Utc>,
        model: ModelPart<'_>,
        values: &LeadInputs<'_>,
        config: &MonitorConfig,
    ) -> Result<MonitorReport, MonitorError> {
        let features = FeatureSource::Leads {
            encoder: &model.encoder,
            values,
        };
        self.report(as_of, Some(model), Some(features), config)
    }

    fn report(
        &self,
        as_of: DateTime<Utc>,
        model: Option<ModelPart<'_>>,
        features: Option<FeatureSource<'_>>,
        config: &MonitorConfig,
    ) -> Result<MonitorReport, MonitorError> {
        let input = MonitorInput {
            entries: &self.entries,
            outcomes: &self.outcomes,
            events: self.events.as_deref(),
            reference: model.and_then(|m| m.reference.as_ref()),
            features,
            as_of,
        };
        crate::monitor(&input, config)
    }
}

/// The report from the store in one call: [`Records::from_store`] then [`Records::monitor`],
/// at `as_of` (default: the range's end, else the latest stored time). `model` is the
/// bundle's manifest (or the loaded model's): the training reference for drift; `history`
/// (the store's history read with the model's schema, which needs qualify-store's `files`
/// feature) adds the inputs' drift. What `qualify monitor --store` and the server call.
///
/// # Errors
/// The store; an empty store with no time asked ([`MonitorError::NoTime`]); as
/// [`crate::monitor`].
pub async fn monitor_store(
    store: &Store,
    range: Range,
    as_of: Option<DateTime<Utc>>,
    model: Option<ModelPart<'_>>,
    history: Option<&History>,
    config: &MonitorConfig,
) -> Result<MonitorReport, MonitorError> {
    let until = as_of.or(range.to);
    let records = Records::from_store(store, range, until).await?;
    let as_of = records.as_of(as_of, range)?;
    records.monitor(as_of, model, history, config)
}

impl MonitorConfig {
    /// The defaults, with the label window of `model` (a model trained on a history) when it
    /// has one.
    pub fn for_model(model: Option<ModelPart<'_>>) -> MonitorConfig {
        let mut config = MonitorConfig::default();
        if let Some(days) = model
            .and_then(|m| m.history.as_ref())
            .map(|h| h.spec.label_window_days)
        {
            config.label_window_days = days;
        }
        config
    }
}
