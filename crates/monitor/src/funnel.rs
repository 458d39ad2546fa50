//! Funnel KPIs from stage transitions and outcomes, and the sales SLA on new MQLs.
//!
//! A lead *reaches* a stage at the moment of its first logged score with that stage;
//! *qualified* is MQL or better (MQL, SQL or PQL, qualify-compare's definition). Rates are
//! taken over leads whose window `W` (the label window) has passed since they reached the
//! first stage, so a lead that reached MQL yesterday does not count as one that never will:
//! - **MQL→SQL**: of the leads qualified at least `W` ago, the share that reached SQL within
//!   `W` of qualifying;
//! - **SQL→won**: of the leads that reached SQL at least `W` ago, the share that converted
//!   within `W` of it;
//! - **lead velocity**: newly qualified leads per calendar month (UTC), and the last complete
//!   month's growth over the month before;
//! - **time to conversion**: days from qualifying to converting (converted leads that were
//!   qualified first), median and 90th percentile (nearest rank).
//!
//! **SLA.** Each lead's first qualification opens a deadline: `sla_hours` later, or
//! `demo_sla_hours` when the lead had requested a demo (an event of `demo_event_type` at or
//! before the moment). The first event of `sla_event_type` at or after the moment is the
//! contact: *on time* by the deadline, *late* after it; no contact is *overdue* once the
//! deadline has passed, *pending* before. The share is on time over on time + late + overdue.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, Duration, Utc};
use qualify_core::history::OutcomeKind;
use qualify_rules::Stage;
use serde::{Deserialize, Serialize};

use crate::MonitorConfig;
use crate::sample::Index;

/// A conversion rate between two funnel steps.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StepRate {
    /// Leads that reached the first step at least a window ago.
    pub leads: usize,
    /// Of those, reached the next step within the window.
    pub reached: usize,
    pub rate: Option<f64>,
}

/// Newly qualified leads in a month.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Month {
    /// `YYYY-MM`.
    pub month: String,
    pub qualified: usize,
    /// Growth over the previous month; `None` for the first, or after a month of 0.
    pub growth: Option<f64>,
    /// The month of the monitoring time (not complete).
    pub partial: bool,
}

/// Days from qualification to conversion.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeToConversion {
    pub converted: usize,
    pub median_days: f64,
    pub p90_days: f64,
}

/// The funnel KPIs.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Funnel {
    /// Leads that reached each stage at least once, by the API's stage name.
    pub reached: BTreeMap<String, usize>,
    pub qualified: usize,
    pub mql_to_sql: StepRate,
    pub sql_to_won: StepRate,
    pub monthly: Vec<Month>,
    /// The last complete month's growth of newly qualified leads.
    pub lead_velocity: Option<f64>,
    pub time_to_conversion: Option<TimeToConversion>,
}

/// An MQL sales has not contacted in time.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Overdue {
    pub lead_id: String,
    pub qualified_at: DateTime<Utc>,
    pub deadline: DateTime<Utc>,
    /// The demo-request deadline applied.
    pub demo: bool,
    pub hours_overdue: f64,
}

/// The sales SLA on new MQLs.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sla {
    pub event_type: String,
    pub hours: f64,
    pub demo_hours: f64,
    pub mqls: usize,
    pub on_time: usize,
    pub late: usize,
    pub overdue: usize,
    pub pending: usize,
    /// `on_time / (on_time + late + overdue)`.
    pub share_on_time: Option<f64>,
    /// The overdue leads, longest overdue first (at most the configured number).
    pub overdue_leads: Vec<Overdue>,
}

/// When each lead first reached each stage, and first qualified.
struct Transitions<'a> {
    lead: &'a str,
    first: HashMap<Stage, DateTime<Utc>>,
    qualified: Option<DateTime<Utc>>,
}

fn transitions<'a>(index: &Index<'a>, stages: &[Stage]) -> Vec<Transitions<'a>> {
    index
        .by_lead
        .iter()
        .map(|(&lead, entries)| {
            let mut first = HashMap::new();
            let mut qualified = None;
            for &i in entries {
                let (stage, at) = (stages[i], index.entries[i].as_of);
                first.entry(stage).or_insert(at);
                if qualify_compare::qualified(stage) && qualified.is_none() {
                    qualified = Some(at);
                }
            }
            Transitions {
                lead,
                first,
                qualified,
            }
        })
        .collect()
}

fn rate(leads: usize, reached: usize) -> StepRate {
    StepRate {
        leads,
        reached,
        rate: (leads > 0).then(|| reached as f64 / leads as f64),
    }
}

/// The nearest-rank `q` quantile of sorted values.
pub fn nearest_rank(sorted: &[f64], q: f64) -> Option<f64> {
    let n = sorted.len();
    let rank = ((q * n as f64).ceil() as usize).clamp(1, n.max(1));
    sorted.get(rank - 1).copied()
}

pub(crate) fn funnel(
    index: &Index<'_>,
    stages: &[Stage],
    config: &MonitorConfig,
    end: DateTime<Utc>,
) -> Funnel {
    let window = Duration::days(i64::from(config.label_window_days));
    let leads = transitions(index, stages);
    let mut reached = BTreeMap::new();
    for t in &leads {
        for stage in t.first.keys() {
            *reached.entry(stage.as_str().to_string()).or_insert(0) += 1;
        }
    }
    let converted_after = |lead: &str, from: DateTime<Utc>| {
        index
            .outcomes_of(lead)
            .iter()
            .find(|o| o.outcome == OutcomeKind::Converted && o.at >= from)
            .map(|o| o.at)
    };
    let (mut mql, mut sql) = ((0, 0), (0, 0));
    let mut months: BTreeMap<(i32, u32), usize> = BTreeMap::new();
    let mut days = Vec::new();
    for t in &leads {
        if let Some(q) = t.qualified {
            *months.entry((q.year(), q.month())).or_default() += 1;
            if q + window <= end {
                mql.0 += 1;
                mql.1 += usize::from(t.first.get(&Stage::Sql).is_some_and(|&s| s <= q + window));
            }
            if let Some(won) = converted_after(t.lead, q) {
                days.push((won - q).num_milliseconds() as f64 / 86_400_000.0);
            }
        }
        if let Some(&s) = t.first.get(&Stage::Sql)
            && s + window <= end
        {
            sql.0 += 1;
            sql.1 += usize::from(converted_after(t.lead, s).is_some_and(|w| w <= s + window));
        }
    }
    let monthly = monthly(&months, end);
    let lead_velocity = monthly
        .iter()
        .rev()
        .find(|m| !m.partial)
        .and_then(|m| m.growth);
    days.sort_by(f64::total_cmp);
    let time_to_conversion =
        nearest_rank(&days, 0.5)
            .zip(nearest_rank(&days, 0.9))
            .map(|(median_days, p90_days)| TimeToConversion {
                converted: days.len(),
                median_days,
                p90_days,
            });
    Funnel {
        reached,
        qualified: leads.iter().filter(|t| t.qualified.is_some()).count(),
        mql_to_sql: rate(mql.0, mql.1),
        sql_to_won: rate(sql.0, sql.1),
        monthly,
        lead_velocity,
        time_to_conversion,
    }
}

/// Every month from the first with a qualified lead to the monitoring time's, gaps as 0.
fn monthly(counts: &BTreeMap<(i32, u32), usize>, end: DateTime<Utc>) -> Vec<Month> {
    let Some(&(mut y, mut m)) = counts.keys().next() else {
        return Vec::new();
    };
    let last = (end.year(), end.month());
    let mut out: Vec<Month> = Vec::new();
    while (y, m) <= last.max(*counts.keys().next_back().unwrap_or(&last)) {
        let qualified = counts.get(&(y, m)).copied().unwrap_or(0);
        let growth = out
            .last()
            .filter(|p| p.qualified > 0)
            .map(|p| (qualified as f64 - p.qualified as f64) / p.qualified as f64);
        out.push(Month {
            month: format!("{y:04}-{m:02}"),
            qualified,
            growth,
            partial: (y, m) >= last,
        });
        (y, m) = if m == 12 { (y + 1, 1) } else { (y, m + 1) };
    }
    out
}

pub(crate) fn sla(
    index: &Index<'_>,
    stages: &[Stage],
    config: &MonitorConfig,
    end: DateTime<Utc>,
) -> Sla {
    let mut out = Sla {
        event_type: config.sla_event_type.clone(),
        hours: config.sla_hours,
        demo_hours: config.demo_sla_hours,
        mqls: 0,
        on_time: 0,
        late: 0,
        overdue: 0,
        pending: 0,
        share_on_time: None,
        overdue_leads: Vec::new(),
    };
    let hours = |h: f64| Duration::milliseconds((h * 3_600_000.0).round() as i64);
    for t in transitions(index, stages) {
        let Some(q) = t.qualified else { continue };
        out.mqls += 1;
        let events = index.events_of(t.lead);
        let demo = events
            .iter()
            .any(|e| e.kind == config.demo_event_type && e.at <= q);
        let deadline = q + hours(if demo {
            config.demo_sla_hours
        } else {
            config.sla_hours
        });
        let contact = events
            .iter()
            .find(|e| e.kind == config.sla_event_type && e.at >= q)
            .map(|e| e.at);
        match contact {
            Some(c) if c <= deadline => out.on_time += 1,
            Some(_) => out.late += 1,
            None if deadline <= end => {
                out.overdue += 1;
                out.overdue_leads.push(Overdue {
                    lead_id: t.lead.to_string(),
                    qualified_at: q,
                    deadline,
                    demo,
                    hours_overdue: (end - deadline).num_milliseconds() as f64 / 3_600_000.0,
                });
            }
            None => out.pending += 1,
        }
    }
    let decided = out.on_time + out.late + out.overdue;
    out.share_on_time = (decided > 0).then(|| out.on_time as f64 / decided as f64);
    out.overdue_leads
        .sort_by(|a, b| b.hours_overdue.total_cmp(&a.hours_overdue));
    out.overdue_leads.truncate(config.overdue_list);
    out
}
