//! The monitoring settings: the label window, the sales SLA, the drift window and the spike
//! rule, with the defaults docs/monitoring.md states.

use serde::{Deserialize, Serialize};

use crate::reasons::ReasonFamily;

/// What [`crate::monitor`] measures against.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonitorConfig {
    /// A logged score predicts conversion within this many days of its moment; it is
    /// *matured* once that window has passed.
    pub label_window_days: u32,
    /// The event type that records a sales contact.
    pub sla_event_type: String,
    /// Hours sales has to contact a new MQL.
    pub sla_hours: f64,
    /// Hours sales has to contact a new MQL that requested a demo.
    pub demo_sla_hours: f64,
    /// The event type of a demo request.
    pub demo_event_type: String,
    /// Drift compares the latest score of each lead scored in this many days before `as_of`.
    pub drift_days: u32,
    /// Equal-width bins of the reliability tables and ECE.
    pub bins: usize,
    /// A reason's weekly count is a spike at `spike_ratio` times the previous week's ...
    pub spike_ratio: f64,
    /// ... and at least this many disqualifications.
    pub spike_min: usize,
    /// Reason names mapped to a family on top of the built-in mapping (names normalised:
    /// lower case, spaces and hyphens as underscores).
    pub reason_families: Vec<(String, ReasonFamily)>,
    /// At most this many leads in the overdue list.
    pub overdue_list: usize,
}

impl Default for MonitorConfig {
    fn default() -> Self {
        MonitorConfig {
            label_window_days: 90,
            sla_event_type: "sales_contacted".into(),
            sla_hours: 24.0,
            demo_sla_hours: 1.0,
            demo_event_type: "demo_request".into(),
            drift_days: 28,
            bins: qualify_eval::ECE_BINS,
            spike_ratio: 2.0,
            spike_min: 5,
            reason_families: Vec::new(),
            overdue_list: 100,
        }
    }
}

impl MonitorConfig {
    /// Checks the settings.
    ///
    /// # Errors
    /// A zero window or bin count, a negative or non-finite SLA, a spike ratio below 1.
    pub fn validate(&self) -> Result<(), crate::MonitorError> {
        let bad = |setting: &'static str, value: String| {
            Err(crate::MonitorError::Config { setting, value })
        };
        if self.label_window_days == 0 {
            return bad("label_window_days", "0".into());
        }
        if self.drift_days == 0 {
            return bad("drift_days", "0".into());
        }
        if self.bins == 0 {
            return bad("bins", "0".into());
        }
        for (name, h) in [
            ("sla_hours", self.sla_hours),
            ("demo_sla_hours", self.demo_sla_hours),
        ] {
            if !(h.is_finite() && h > 0.0) {
                return bad(name, h.to_string());
            }
        }
        if !(self.spike_ratio.is_finite() && self.spike_ratio >= 1.0) {
            return bad("spike_ratio", self.spike_ratio.to_string());
        }
        Ok(())
    }
}
