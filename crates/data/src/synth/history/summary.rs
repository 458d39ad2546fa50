//! The marginal rates of a history, computed from its three tables.
//!
//! Why from the tables: these are the figures docs/synthetic-data.md promises and the tests
//! hold, so they are measured the way anyone reading the files would measure them, not from
//! the generator's internals (the one exception: which leads returned, a link the files leave
//! to the shared contact).

use std::collections::HashMap;

use chrono::Duration;

use super::{History, Outcome, Reason};

/// The label window the rates use: "converted within 90 days of creation".
pub const WINDOW_DAYS: i64 = 90;
/// Conversion timing is measured on leads at least this old (hardly censored).
const TIMING_AGE_DAYS: i64 = 365;

/// Counts behind the documented rates.
#[derive(Debug, Clone, PartialEq)]
pub struct HistorySummary {
    /// All leads, including those that returned.
    pub leads: usize,
    /// Leads that returned after a bad-timing disqualification.
    pub returned: usize,
    pub events: usize,
    /// Events of the customer-only types.
    pub post_conversion_events: usize,
    /// Distinct event types seen.
    pub event_types: usize,
    pub converted: usize,
    /// Disqualified leads per reason, in [`Reason::ALL`] order.
    pub disqualified: Vec<(Reason, usize)>,
    /// Leads without an outcome at `as_of`.
    pub open: usize,
    /// Leads created at least [`WINDOW_DAYS`] before `as_of`.
    pub window_eligible: usize,
    /// Of those, leads converted within [`WINDOW_DAYS`] of creation.
    pub converted_in_window: usize,
    /// Conversions of leads created at least 365 days before `as_of`: (within
    /// [`WINDOW_DAYS`] of creation, all).
    pub conversion_timing: (usize, usize),
}

impl HistorySummary {
    /// `count / leads`.
    pub fn share(&self, count: usize) -> f64 {
        count as f64 / self.leads.max(1) as f64
    }

    pub fn disqualified_total(&self) -> usize {
        self.disqualified.iter().map(|(_, n)| n).sum()
    }

    /// Conversion rate within [`WINDOW_DAYS`] of creation, among leads old enough to know.
    pub fn window_rate(&self) -> f64 {
        self.converted_in_window as f64 / self.window_eligible.max(1) as f64
    }

    /// Share of (hardly censored) conversions that happen within [`WINDOW_DAYS`].
    pub fn share_converted_in_window(&self) -> f64 {
        let (within, all) = self.conversion_timing;
        within as f64 / all.max(1) as f64
    }
}

impl History {
    /// The marginal rates of this history.
    pub fn summary(&self) -> HistorySummary {
        let outcomes: HashMap<&str, _> = self
            .outcomes
            .iter()
            .map(|o| (o.lead_id.as_str(), o))
            .collect();
        let window = Duration::days(WINDOW_DAYS);
        let (mut eligible, mut in_window, mut timing) = (0, 0, (0, 0));
        for lead in &self.leads {
            let converted_after = outcomes
                .get(lead.id())
                .filter(|o| o.outcome == Outcome::Converted)
                .map(|o| o.at - lead.created_at);
            let age = self.as_of - lead.created_at;
            if age >= window {
                eligible += 1;
                in_window += usize::from(converted_after.is_some_and(|d| d <= window));
            }
            if age >= Duration::days(TIMING_AGE_DAYS)
                && let Some(d) = converted_after
            {
                timing.1 += 1;
                timing.0 += usize::from(d <= window);
            }
        }
        let count = |want: Outcome| self.outcomes.iter().filter(|o| o.outcome == want).count();
        let mut types: Vec<_> = self.events.iter().map(|e| e.kind).collect();
        types.sort();
        types.dedup();
        HistorySummary {
            leads: self.leads.len(),
            returned: self
                .leads
                .iter()
                .filter(|l| l.returned_from.is_some())
                .count(),
            events: self.events.len(),
            post_conversion_events: self
                .events
                .iter()
                .filter(|e| e.kind.is_post_conversion())
                .count(),
            event_types: types.len(),
            converted: count(Outcome::Converted),
            disqualified: Reason::ALL
                .iter()
                .map(|&r| (r, count(Outcome::Disqualified(r))))
                .collect(),
            open: self.leads.len() - self.outcomes.len(),
            window_eligible: eligible,
            converted_in_window: in_window,
            conversion_timing: timing,
        }
    }
}
