//! qualify-monitor: does the served model still mean what it says?
//!
//! A model's 30% must keep meaning 30%, the leads it sees must keep looking like the ones it
//! learned from, and the rules' authors and sales need to see what their decisions led to.
//! [`monitor`] reads the score log (every answer the server gave: `ScoreLogEntry`), the
//! outcomes and events that arrived since, and the bundle's training reference, and returns
//! one typed [`MonitorReport`]:
//!
//! - **calibration** of logged scores on matured outcomes, overall, per weekly cohort, and for
//!   the exploration holdout apart ([`calibration`], labels as in [`sample`]);
//! - **drift**: PSI of the score and of every model input against training ([`drift`]);
//! - **rules vs model**: qualify-compare's figures on the matured scores;
//! - **disqualification reasons** by stage and route, weekly spikes, bad fit vs bad timing,
//!   and how re-engaged bad-timing leads convert ([`reasons`]);
//! - **funnel KPIs** and the **sales SLA** ([`funnel`]);
//! - a [`Headline`] for Prometheus gauges, and a self-contained HTML page ([`html`]).
//!
//! The computation is pure: no database, no files. [`source`] fills its input either from
//! files ([`input`], the command's `--log` form) or from the lead store
//! ([`source::monitor_store`]: `qualify monitor --store` and the server), and
//! [`write_report`] writes the JSON and the page ([`html::page`] returns the page as a
//! string).
//!
//! ```
//! use chrono::{Duration, Utc};
//! use qualify_core::scorelog::{ScoreLogEntry, ScoreSource};
//! use qualify_monitor::{monitor, MonitorConfig, MonitorInput};
//!
//! let now = Utc::now();
//! let entry = ScoreLogEntry {
//!     lead_id: Some("L1".into()), scored_at: now, as_of: now, source: ScoreSource::Record,
//!     model_name: "leads".into(), model_version: "v1".into(), rules_hash: "h".into(),
//!     propensity: 0.3, rule_score: 40.0, stage: "MQL".into(), route: None,
//!     reasons: vec![], holdout: false,
//! };
//! let input = MonitorInput::new(std::slice::from_ref(&entry), &[], now + Duration::days(1));
//! let report = monitor(&input, &MonitorConfig::default())?;
//! assert_eq!(report.headline.leads, 1);
//! assert_eq!(report.sample.not_matured, 1); // its 90-day window has not passed
//! # Ok::<(), qualify_monitor::MonitorError>(())
//! ```

pub mod calibration;
mod config;
pub mod drift;
mod error;
pub mod funnel;
pub mod html;
pub mod input;
pub mod reasons;
mod report;
pub mod sample;
pub mod source;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use qualify_compare::{Comparison, Context, Leads, Options};
use qualify_core::bundle::Reference;
use qualify_core::scorelog::ScoreLogEntry;
use qualify_rules::Stage;

pub use config::MonitorConfig;
pub use drift::{FeatureSource, LeadInputs};
pub use error::{CellProblem, MonitorError};
pub use input::{EventRecord, OutcomeRecord};
pub use report::{CompareFigures, Headline, MonitorReport, RulesVsModel};
pub use source::{Range, Records, monitor_store};

use crate::drift::{Drift, WeeklyPsi};
use crate::sample::{Index, Row, matured_rows, week_of};

/// What [`monitor`] reads.
#[derive(Debug, Clone, Copy)]
pub struct MonitorInput<'a> {
    pub entries: &'a [ScoreLogEntry],
    pub outcomes: &'a [OutcomeRecord],
    /// Events (sales contacts, demo requests, re-engagement); `None` leaves the SLA out.
    pub events: Option<&'a [EventRecord]>,
    /// The bundle's training reference; `None` leaves drift out.
    pub reference: Option<&'a Reference>,
    /// The stored leads, for the inputs' drift; `None` leaves it out.
    pub features: Option<FeatureSource<'a>>,
    /// The monitoring time.
    pub as_of: DateTime<Utc>,
}

impl<'a> MonitorInput<'a> {
    /// Entries and outcomes only.
    pub fn new(
        entries: &'a [ScoreLogEntry],
        outcomes: &'a [OutcomeRecord],
        as_of: DateTime<Utc>,
    ) -> MonitorInput<'a> {
        MonitorInput {
            entries,
            outcomes,
            events: None,
            reference: None,
            features: None,
            as_of,
        }
    }
}

/// Reads a logged stage name (`MQL`, `Nurture`, ...).
fn stage(name: &str) -> Option<Stage> {
    Stage::ALL.iter().copied().find(|s| s.as_str() == name)
}

/// Computes the report (module docs; docs/monitoring.md).
///
/// # Errors
/// Bad settings, a logged propensity outside `[0, 1]`, a logged stage the rules do not have,
/// a metric or the comparison refusing its rows, the inputs' point-in-time table.
pub fn monitor(
    input: &MonitorInput<'_>,
    config: &MonitorConfig,
) -> Result<MonitorReport, MonitorError> {
    config.validate()?;
    let end = input.as_of;
    let entries: Vec<ScoreLogEntry> = input
        .entries
        .iter()
        .filter(|e| e.as_of <= end)
        .cloned()
        .collect();
    let mut stages = Vec::with_capacity(entries.len());
    for (index, e) in entries.iter().enumerate() {
        if !(e.propensity.is_finite() && (0.0..=1.0).contains(&e.propensity)) {
            return Err(MonitorError::Propensity {
                index,
                lead: e.lead_id.clone(),
                value: e.propensity,
            });
        }
        stages.push(stage(&e.stage).ok_or_else(|| MonitorError::Stage {
            index,
            stage: e.stage.clone(),
        })?);
    }
    let outcomes: Vec<OutcomeRecord> = input
        .outcomes
        .iter()
        .filter(|o| o.at <= end)
        .cloned()
        .collect();
    let events: Vec<EventRecord> = input
        .events
        .unwrap_or_default()
        .iter()
        .filter(|e| e.at <= end)
        .cloned()
        .collect();
    let index = Index::new(&entries, &outcomes, &events);
    let window = Duration::days(i64::from(config.label_window_days));
    let (rows, sample) = matured_rows(&index, window, end);
    let entry = |i: usize| (entries[i].propensity, entries[i].holdout);
    let calibration = calibration::calibration(&rows, &entry, config.bins)?;
    let mut notes = Vec::new();
    let drift = drift(input, &index, config, &mut notes)?;
    let rules_vs_model = rules_vs_model(&rows, &entries, &stages);
    let reasons = reasons::reasons(&index, config);
    let funnel = funnel::funnel(&index, &stages, config, end);
    let sla = match input.events {
        Some(_) => Some(funnel::sla(&index, &stages, config, end)),
        None => {
            notes.push("no events given: the sales SLA is left out".into());
            None
        }
    };
    let mut models = BTreeMap::new();
    for e in &entries {
        *models
            .entry(format!("{} / {}", e.model_name, e.model_version))
            .or_insert(0) += 1;
    }
    let headline = Headline {
        entries: entries.len(),
        leads: index.by_lead.len(),
        matured: sample.matured,
        expected_conversions: calibration.overall.as_ref().map(|c| c.expected),
        observed_conversions: calibration.overall.as_ref().map(|c| c.observed),
        ece: calibration.overall.as_ref().map(|c| c.ece),
        holdout_ece: calibration.holdout.as_ref().map(|c| c.ece),
        score_psi: drift.score.as_ref().and_then(|s| s.psi),
        max_feature_psi: drift.features.iter().filter_map(|f| f.psi).reduce(f64::max),
        mql_to_sql: funnel.mql_to_sql.rate,
        sql_to_won: funnel.sql_to_won.rate,
        lead_velocity: funnel.lead_velocity,
        sla_share_on_time: sla.as_ref().and_then(|s| s.share_on_time),
        sla_overdue: sla.as_ref().map(|s| s.overdue),
        disqualified: reasons.disqualified,
        bad_timing_re_engaged_conversion: reasons.bad_timing.conversion_rate,
        bad_timing_re_engaged_requalified: reasons.bad_timing.requalified_rate,
    };
    Ok(MonitorReport {
        as_of: end,
        config: config.clone(),
        models,
        sample,
        headline,
        calibration,
        drift,
        rules_vs_model,
        reasons,
        funnel,
        sla,
        notes,
    })
}

/// Each lead's latest entry among `pick`ed entries.
fn latest_per_lead(index: &Index<'_>, pick: &dyn Fn(&ScoreLogEntry) -> bool) -> Vec<usize> {
    index
        .by_lead
        .values()
        .filter_map(|v| v.iter().rev().copied().find(|&i| pick(&index.entries[i])))
        .collect()
}

fn drift(
    input: &MonitorInput<'_>,
    index: &Index<'_>,
    config: &MonitorConfig,
    notes: &mut Vec<String>,
) -> Result<Drift, MonitorError> {
    let window_start = input.as_of - Duration::days(i64::from(config.drift_days));
    let recent = latest_per_lead(index, &|e| e.as_of > window_start);
    let mut out = Drift {
        notes: Vec::new(),
        window_start,
        leads: recent.len(),
        score: None,
        weekly_score: Vec::new(),
        features: Vec::new(),
        leads_without_inputs: 0,
    };
    let Some(reference) = input.reference else {
        out.notes.push(
            "no reference: the bundle predates reference histograms, or no model was given".into(),
        );
        notes.push("no drift figures: no training reference".into());
        return Ok(out);
    };
    let scores: Vec<f64> = recent
        .iter()
        .map(|&i| index.entries[i].propensity)
        .collect();
    if !scores.is_empty() {
        out.score = Some(drift::score_figure(&reference.score, &scores));
    }
    let mut weeks: HashMap<chrono::NaiveDate, Vec<f64>> = HashMap::new();
    for v in index.by_lead.values() {
        let mut last_week = None;
        for &i in v.iter().rev() {
            let week = week_of(index.entries[i].as_of);
            if last_week != Some(week) {
                weeks
                    .entry(week)
                    .or_default()
                    .push(index.entries[i].propensity);
                last_week = Some(week);
            }
        }
    }
    let mut weekly: Vec<WeeklyPsi> = weeks
        .into_iter()
        .map(|(week, p)| WeeklyPsi {
            week,
            leads: p.len(),
            psi: drift::score_figure(&reference.score, &p).psi,
        })
        .collect();
    weekly.sort_by_key(|w| w.week);
    out.weekly_score = weekly;
    match &input.features {
        Some(source) => {
            let moments: Vec<(&str, DateTime<Utc>)> = recent
                .iter()
                .filter_map(|&i| {
                    let e = &index.entries[i];
                    e.lead_id.as_deref().map(|id| (id, e.as_of))
                })
                .collect();
            let (features, missing) = drift::feature_figures(reference, source, &moments)?;
            out.features = features;
            out.leads_without_inputs = missing;
        }
        None => out
            .notes
            .push("no stored leads given: the inputs' drift is left out".into()),
    }
    Ok(out)
}

fn rules_vs_model(rows: &[Row], entries: &[ScoreLogEntry], stages: &[Stage]) -> RulesVsModel {
    let mut notes = Vec::new();
    let mut figures = |what: &str, pick: &dyn Fn(&Row) -> bool| {
        let picked: Vec<&Row> = rows.iter().filter(|r| pick(r)).collect();
        let leads = Leads::new(
            picked.iter().map(|r| r.converted).collect(),
            picked.iter().map(|r| entries[r.entry].propensity).collect(),
            picked.iter().map(|r| entries[r.entry].rule_score).collect(),
            picked.iter().map(|r| stages[r.entry]).collect(),
        );
        let options = Options {
            capacity: None,
            target_precision: None,
            mql_threshold: 0.0,
        };
        match leads.and_then(|l| Comparison::compute(&l, Context::default(), options)) {
            Ok(c) => Some(CompareFigures {
                leads: c.leads,
                conversions: c.conversions,
                conversion_rate: c.conversion_rate,
                propensity: c.propensity,
                rule_score: c.rule_score,
                stages: c.stages,
                mql: c.mql,
                capacity: c.capacity,
            }),
            Err(e) => {
                notes.push(format!("{what}: not computed: {e}"));
                None
            }
        }
    };
    let all = figures("all matured scores", &|_| true);
    let holdout = figures("holdout", &|r| entries[r.entry].holdout);
    RulesVsModel {
        all,
        holdout,
        notes,
    }
}

/// Writes `monitor.json` and `monitor.html` into `out` (created if needed); returns their
/// paths.
///
/// # Errors
/// The directory or a file cannot be written, a plot fails.
pub fn write_report(
    out: &Path,
    report: &MonitorReport,
) -> Result<(std::path::PathBuf, std::path::PathBuf), MonitorError> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| MonitorError::Io { path, source }
    };
    std::fs::create_dir_all(out).map_err(io(out))?;
    let json_path = out.join("monitor.json");
    let json = serde_json::to_vec_pretty(report).map_err(|source| MonitorError::Json { source })?;
    std::fs::write(&json_path, json).map_err(io(&json_path))?;
    let html_path = out.join("monitor.html");
    std::fs::write(&html_path, html::page(report)?).map_err(io(&html_path))?;
    Ok((json_path, html_path))
}
