//! Disqualification reasons: by the rule stage and route the lead had, week over week with
//! spikes flagged, in two families, and how re-engaged bad-timing leads convert.
//!
//! **Families.** A *bad fit* (not a decision maker, no budget, an unserved region) will not
//! change: the lead is removed. *Bad timing* (unresponsive, not now) may: the lead is
//! nurtured, and when it engages again it is open again (qualify-core's history module: the
//! file check, the store and training share [`BUILT_IN`]). Reason names are normalised
//! (lower case, spaces and hyphens as underscores) and mapped by the settings' own pairs, then
//! by [`BUILT_IN`]; any other name is `other`. The settings' pairs are for this report only:
//! which outcomes may follow which, and when a lead is open, follow the built-in table.
//!
//! **Stage and route** are those of the lead's latest logged score at or before the
//! disqualification (`unscored` when it has none). **A spike** is a reason's week whose count
//! is at least `spike_min` and at least `spike_ratio` times the previous week's (a previous
//! week of 0 counts as 1). **Re-engaged**: a lead disqualified for bad timing with an event or
//! a logged score after the disqualification; it *converted* when a conversion follows (a
//! later outcome of the lead, from files or from the store), and *requalified* when a later
//! logged score has a qualified stage (MQL, SQL, PQL).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use qualify_compare::qualified;
use qualify_core::history::OutcomeKind;
use qualify_core::scorelog::ScoreLogEntry;
use serde::{Deserialize, Serialize};

use crate::sample::{Index, week_of};

pub use qualify_core::history::{BUILT_IN, ReasonFamily, normalise};

/// The family of a (normalised) reason: the settings' pairs first, then [`BUILT_IN`].
pub fn family(reason: &str, extra: &[(String, ReasonFamily)]) -> ReasonFamily {
    extra
        .iter()
        .find(|(name, _)| normalise(name) == reason)
        .map(|(_, f)| *f)
        .or_else(|| {
            BUILT_IN
                .iter()
                .find(|(name, _)| *name == reason)
                .map(|(_, f)| *f)
        })
        .unwrap_or(ReasonFamily::Other)
}

/// One reason's figures.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReasonRow {
    /// The normalised name (`unknown` when the outcome gave none).
    pub reason: String,
    pub family: ReasonFamily,
    pub count: usize,
    /// Counts by `stage / route` of the lead's latest score before the disqualification.
    pub by_stage_route: BTreeMap<String, usize>,
    /// Counts by week of the disqualification (Monday, UTC).
    pub weekly: BTreeMap<NaiveDate, usize>,
    /// Weeks flagged as spikes (module docs).
    pub spikes: Vec<NaiveDate>,
}

/// How leads disqualified in one family came back.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReEngagement {
    pub disqualified: usize,
    /// With an event or a logged score after the disqualification.
    pub re_engaged: usize,
    /// Of those, converted afterwards (a later outcome of the lead).
    pub converted: usize,
    /// `converted / re_engaged`.
    pub conversion_rate: Option<f64>,
    /// Of the re-engaged, those with a logged score at a qualified stage (MQL, SQL, PQL)
    /// after the disqualification: how far back into the funnel they came, observable from
    /// the score log alone.
    #[serde(default)]
    pub requalified: usize,
    /// `requalified / re_engaged`.
    #[serde(default)]
    pub requalified_rate: Option<f64>,
}

/// Every reason figure.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reasons {
    pub disqualified: usize,
    /// Disqualifications per family.
    pub by_family: BTreeMap<String, usize>,
    /// Most frequent first.
    pub reasons: Vec<ReasonRow>,
    pub bad_timing: ReEngagement,
    /// The same for bad fit, for contrast (such leads should rarely come back).
    pub bad_fit: ReEngagement,
}

pub(crate) fn reasons(index: &Index<'_>, config: &crate::MonitorConfig) -> Reasons {
    let mut rows: BTreeMap<String, ReasonRow> = BTreeMap::new();
    let mut by_family: BTreeMap<String, usize> = BTreeMap::new();
    let (mut timing, mut fit) = (ReEngagement::default(), ReEngagement::default());
    let mut disqualified = 0;
    let mut leads: Vec<&str> = index.outcomes.keys().copied().collect();
    leads.sort_unstable();
    for lead in leads {
        let outcomes = index.outcomes_of(lead);
        for (k, o) in outcomes.iter().enumerate() {
            if o.outcome != OutcomeKind::Disqualified {
                continue;
            }
            disqualified += 1;
            let reason = o
                .reason
                .as_deref()
                .map_or_else(|| "unknown".to_string(), normalise);
            let fam = family(&reason, &config.reason_families);
            *by_family.entry(family_name(fam).to_string()).or_default() += 1;
            let scored = index.by_lead.get(lead).and_then(|entries| {
                entries
                    .iter()
                    .rev()
                    .map(|&i| &index.entries[i])
                    .find(|e| e.as_of <= o.at)
            });
            let stage_route = match scored {
                Some(e) => format!("{} / {}", e.stage, e.route.as_deref().unwrap_or("-")),
                None => "unscored".to_string(),
            };
            let row = rows.entry(reason.clone()).or_insert_with(|| ReasonRow {
                reason,
                family: fam,
                count: 0,
                by_stage_route: BTreeMap::new(),
                weekly: BTreeMap::new(),
                spikes: Vec::new(),
            });
            row.count += 1;
            *row.by_stage_route.entry(stage_route).or_default() += 1;
            *row.weekly.entry(week_of(o.at)).or_default() += 1;
            let target = match fam {
                ReasonFamily::BadTiming => &mut timing,
                ReasonFamily::BadFit => &mut fit,
                ReasonFamily::Other => continue,
            };
            target.disqualified += 1;
            let event_after = index.events_of(lead).iter().any(|e| e.at > o.at);
            let after: Vec<&ScoreLogEntry> = index
                .by_lead
                .get(lead)
                .map(|v| {
                    v.iter()
                        .map(|&i| &index.entries[i])
                        .filter(|e| e.as_of > o.at)
                        .collect()
                })
                .unwrap_or_default();
            if event_after || !after.is_empty() {
                target.re_engaged += 1;
                if after
                    .iter()
                    .any(|e| crate::stage(&e.stage).is_some_and(qualified))
                {
                    target.requalified += 1;
                }
                if outcomes[k + 1..]
                    .iter()
                    .any(|later| later.outcome == OutcomeKind::Converted)
                {
                    target.converted += 1;
                }
            }
        }
    }
    for e in [&mut timing, &mut fit] {
        e.conversion_rate = (e.re_engaged > 0).then(|| e.converted as f64 / e.re_engaged as f64);
        e.requalified_rate = (e.re_engaged > 0).then(|| e.requalified as f64 / e.re_engaged as f64);
    }
    let mut reasons: Vec<ReasonRow> = rows
        .into_values()
        .map(|mut row| {
            row.spikes = spikes(&row.weekly, config.spike_ratio, config.spike_min);
            row
        })
        .collect();
    reasons.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.reason.cmp(&b.reason)));
    Reasons {
        disqualified,
        by_family,
        reasons,
        bad_timing: timing,
        bad_fit: fit,
    }
}

fn family_name(f: ReasonFamily) -> &'static str {
    match f {
        ReasonFamily::BadFit => "bad_fit",
        ReasonFamily::BadTiming => "bad_timing",
        ReasonFamily::Other => "other",
    }
}

/// The weeks whose count is a spike against the previous calendar week (module docs).
pub fn spikes(weekly: &BTreeMap<NaiveDate, usize>, ratio: f64, min: usize) -> Vec<NaiveDate> {
    weekly
        .iter()
        .filter(|&(&week, &n)| {
            let previous = weekly
                .get(&(week - chrono::Duration::days(7)))
                .copied()
                .unwrap_or(0);
            n >= min && n as f64 >= ratio * previous.max(1) as f64
        })
        .map(|(&week, _)| week)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_map_to_families() {
        assert_eq!(normalise(" Not Decision-Maker "), "not_decision_maker");
        assert_eq!(family("not_decision_maker", &[]), ReasonFamily::BadFit);
        assert_eq!(family("unresponsive", &[]), ReasonFamily::BadTiming);
        assert_eq!(family("competitor", &[]), ReasonFamily::Other);
        let extra = vec![("Competitor".to_string(), ReasonFamily::BadFit)];
        assert_eq!(family("competitor", &extra), ReasonFamily::BadFit);
    }

    #[test]
    fn spikes_against_the_previous_week() {
        let d = |s: &str| s.parse::<NaiveDate>().expect("date");
        let weekly: BTreeMap<NaiveDate, usize> = [
            (d("2026-01-05"), 3),  // below the minimum
            (d("2026-01-12"), 6),  // 2x of 3: spike
            (d("2026-01-19"), 11), // < 2x of 6
            (d("2026-02-02"), 5),  // previous week absent (0 -> 1): spike
        ]
        .into_iter()
        .collect();
        assert_eq!(
            spikes(&weekly, 2.0, 5),
            vec![d("2026-01-12"), d("2026-02-02")]
        );
    }
}
