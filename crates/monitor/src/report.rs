//! The report's top level: the rules-vs-model figures and the headline numbers.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use qualify_compare::capacity::Capacity;
use qualify_compare::stages::StageRow;
use qualify_compare::{RankFigures, Selection};
use serde::Serialize;

use crate::calibration::Calibration;
use crate::config::MonitorConfig;
use crate::drift::Drift;
use crate::funnel::{Funnel, Sla};
use crate::reasons::Reasons;
use crate::sample::SampleCounts;

/// qualify-compare's figures on matured logged scores (the labelled rows of the calibration).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CompareFigures {
    pub leads: usize,
    pub conversions: usize,
    pub conversion_rate: f64,
    /// The logged propensity as a ranker (ROC AUC, PR AUC, lift at 10%).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub propensity: RankFigures,
    /// The logged rule score as a ranker.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub rule_score: RankFigures,
    /// Conversion per logged rule stage.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub stages: Vec<StageRow>,
    /// The rules' MQL-or-better set: precision and recall.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub mql: Selection,
    /// Conversions each approach captures at the rules' MQL volume.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub capacity: Capacity,
}

/// Rules vs model, on every matured row and on the holdout's alone.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RulesVsModel {
    /// `None` (with a note) when the rows hold one class only.
    pub all: Option<CompareFigures>,
    pub holdout: Option<CompareFigures>,
    pub notes: Vec<String>,
}

/// The headline figures: what a dashboard or a Prometheus gauge shows.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Headline {
    pub entries: usize,
    pub leads: usize,
    pub matured: usize,
    pub expected_conversions: Option<f64>,
    pub observed_conversions: Option<usize>,
    pub ece: Option<f64>,
    pub holdout_ece: Option<f64>,
    pub score_psi: Option<f64>,
    pub max_feature_psi: Option<f64>,
    pub mql_to_sql: Option<f64>,
    pub sql_to_won: Option<f64>,
    pub lead_velocity: Option<f64>,
    pub sla_share_on_time: Option<f64>,
    pub sla_overdue: Option<usize>,
    pub disqualified: usize,
    pub bad_timing_re_engaged_conversion: Option<f64>,
    /// The share of re-engaged bad-timing leads scored at a qualified stage afterwards.
    pub bad_timing_re_engaged_requalified: Option<f64>,
}

impl Headline {
    /// `(name, help, value)` of each figure that has a value, named for Prometheus
    /// (`qualify_monitor_<name>`).
    pub fn gauges(&self) -> Vec<(&'static str, &'static str, f64)> {
        let count = |v: usize| Some(v as f64);
        [
            (
                "qualify_monitor_entries",
                "Score-log entries monitored",
                count(self.entries),
            ),
            (
                "qualify_monitor_leads",
                "Leads with a logged score",
                count(self.leads),
            ),
            (
                "qualify_monitor_matured",
                "Matured labelled scores",
                count(self.matured),
            ),
            (
                "qualify_monitor_expected_conversions",
                "Sum of matured propensities",
                self.expected_conversions,
            ),
            (
                "qualify_monitor_observed_conversions",
                "Conversions of matured scores",
                self.observed_conversions.map(|v| v as f64),
            ),
            (
                "qualify_monitor_ece",
                "Expected calibration error of matured scores",
                self.ece,
            ),
            (
                "qualify_monitor_holdout_ece",
                "ECE of the exploration holdout",
                self.holdout_ece,
            ),
            (
                "qualify_monitor_score_psi",
                "PSI of the score against training",
                self.score_psi,
            ),
            (
                "qualify_monitor_max_feature_psi",
                "Largest PSI of an input column",
                self.max_feature_psi,
            ),
            (
                "qualify_monitor_mql_to_sql",
                "MQL to SQL rate",
                self.mql_to_sql,
            ),
            (
                "qualify_monitor_sql_to_won",
                "SQL to won rate",
                self.sql_to_won,
            ),
            (
                "qualify_monitor_lead_velocity",
                "Month-over-month growth of qualified leads",
                self.lead_velocity,
            ),
            (
                "qualify_monitor_sla_share_on_time",
                "Share of MQLs contacted in time",
                self.sla_share_on_time,
            ),
            (
                "qualify_monitor_sla_overdue",
                "MQLs past their contact deadline",
                self.sla_overdue.map(|v| v as f64),
            ),
            (
                "qualify_monitor_disqualified",
                "Disqualified leads",
                count(self.disqualified),
            ),
            (
                "qualify_monitor_bad_timing_re_engaged_conversion",
                "Conversion of re-engaged bad-timing leads",
                self.bad_timing_re_engaged_conversion,
            ),
            (
                "qualify_monitor_bad_timing_re_engaged_requalified",
                "Share of re-engaged bad-timing leads scored MQL or better afterwards",
                self.bad_timing_re_engaged_requalified,
            ),
        ]
        .into_iter()
        .filter_map(|(name, help, v)| v.map(|v| (name, help, v)))
        .collect()
    }
}

/// Everything monitoring reports (docs/monitoring.md defines each figure).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MonitorReport {
    /// The monitoring time: later entries, events and outcomes are ignored.
    pub as_of: DateTime<Utc>,
    pub config: MonitorConfig,
    /// Entries per `model name / version`.
    pub models: BTreeMap<String, usize>,
    pub sample: SampleCounts,
    pub headline: Headline,
    pub calibration: Calibration,
    pub drift: Drift,
    pub rules_vs_model: RulesVsModel,
    pub reasons: Reasons,
    pub funnel: Funnel,
    /// `None` without events.
    pub sla: Option<Sla>,
    /// What could not be computed, and why.
    pub notes: Vec<String>,
}
