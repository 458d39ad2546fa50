//! A synthetic CRM *history*: leads, the events they produced over time, and their outcomes.
//!
//! Why: a model trained from history must be scored at moments while a lead is open, with
//! features from events strictly before the moment; developing and testing that needs data
//! where time matters. This generator draws each lead's life day by day (docs/synthetic-data.md,
//! "The history model"): interest arrives in decaying episodes, events follow interest,
//! conversion hazard follows fit and *recent* engagement, sales calls qualify or disqualify,
//! customers keep producing events that only ever follow a conversion (the trap a careless
//! snapshot falls into), some leads disqualified for bad timing come back as new leads, and
//! many leads are still open at `as_of`.
//!
//! The lead's profile (firmographic, technographic, contact) and its missingness come from the
//! same generators as the flat table, so the leads table carries the canonical attribute
//! columns. Each generating row has its own random stream seeded from `(seed, row)`: output is
//! reproducible for a seed, and a run of `n` leads is a prefix of a larger run (its leads,
//! events and outcomes, in order).
//!
//! ```
//! use qualify_data::synth::history::{generate_history, HistoryConfig};
//! let history = generate_history(&HistoryConfig::new(50, 42));
//! assert!(history.leads.len() >= 50); // plus the leads that came back
//! let summary = history.summary();
//! assert_eq!(summary.leads, history.leads.len());
//! ```

mod after;
mod events;
mod life;
mod summary;
mod table;
#[cfg(test)]
mod tests;

use chrono::{DateTime, Duration, Utc};
use qualify_core::lead::LeadRecord;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, Exp1};

use super::{chance, normal, profile, row_seed};
use life::{Close, Drawn, Person};

pub use events::EventKind;
pub use summary::{HistorySummary, WINDOW_DAYS};
pub use table::{
    HistoryError, HistoryFiles, events_table, history_files, leads_table, outcomes_table,
    write_history,
};

/// Leads arrive uniformly over this many days before `as_of` (18 months).
pub const SPAN_DAYS: u32 = 540;
/// Share of leads disqualified for bad timing that come back as a new lead.
const RETURN_SHARE: f64 = 0.35;
/// Mean days from the disqualification to the return.
const RETURN_MEAN_DAYS: f64 = 120.0;
/// Intent added to a returning lead: the timing is now better.
const RETURN_INTENT: f64 = 0.5;
/// Standard deviation of a lead's unrecorded log-hazard term.
const FRAILTY_SD: f64 = 0.5;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryConfig {
    /// Number of leads drawn (leads that come back after a disqualification are extra).
    pub leads: usize,
    /// Seed of the random streams; the same seed gives the same history.
    pub seed: u64,
    /// End of the data: every lead is created, every event and outcome happens before it.
    pub as_of: DateTime<Utc>,
    /// Leads are created uniformly over this many days before `as_of`.
    pub span_days: u32,
}

impl HistoryConfig {
    /// `leads` leads from `seed`, over [`SPAN_DAYS`] up to
    /// [`SynthConfig::default_as_of`](super::SynthConfig::default_as_of).
    pub fn new(leads: usize, seed: u64) -> Self {
        Self {
            leads,
            seed,
            as_of: super::SynthConfig::default_as_of(),
            span_days: SPAN_DAYS,
        }
    }
}

/// Why a lead was disqualified.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    strum::Display,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
#[strum(serialize_all = "snake_case")]
pub enum Reason {
    NotDecisionMaker,
    NoBudget,
    UnservedRegion,
    Unresponsive,
    BadTiming,
}

/// The two families of reasons: bad fit is removed, bad timing is nurtured and may return.
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::Display)]
#[strum(serialize_all = "snake_case")]
pub enum ReasonFamily {
    BadFit,
    BadTiming,
}

impl Reason {
    /// Every reason, in declaration order.
    pub const ALL: &'static [Reason] = <Reason as strum::VariantArray>::VARIANTS;

    /// The name written in the outcomes table's `reason` column.
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    pub fn family(self) -> ReasonFamily {
        match self {
            Reason::NotDecisionMaker | Reason::NoBudget | Reason::UnservedRegion => {
                ReasonFamily::BadFit
            }
            Reason::Unresponsive | Reason::BadTiming => ReasonFamily::BadTiming,
        }
    }
}

/// How a lead closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Converted,
    Disqualified(Reason),
}

impl Outcome {
    /// The name written in the outcomes table's `outcome` column.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Converted => "converted",
            Outcome::Disqualified(_) => "disqualified",
        }
    }

    pub fn reason(self) -> Option<Reason> {
        match self {
            Outcome::Converted => None,
            Outcome::Disqualified(r) => Some(r),
        }
    }
}

/// One row of the leads table: the canonical attributes (`record.id` is the lead's id; no
/// activities, no qualification answers) and when the lead was created.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryLead {
    pub record: LeadRecord,
    pub created_at: DateTime<Utc>,
    /// The id of the lead this one returned from (not written: a CRM links them by contact).
    pub returned_from: Option<String>,
}

impl HistoryLead {
    pub fn id(&self) -> &str {
        self.record.id.as_deref().unwrap_or_default()
    }
}

/// One row of the events table.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub event_id: String,
    pub lead_id: String,
    pub at: DateTime<Utc>,
    pub kind: EventKind,
    pub value: Option<f64>,
}

/// One row of the outcomes table (at most one per lead).
#[derive(Debug, Clone, PartialEq)]
pub struct OutcomeRecord {
    pub lead_id: String,
    pub at: DateTime<Utc>,
    pub outcome: Outcome,
}

/// A generated history: the three tables, in generating-row order (a lead, then the lead that
/// returned from it), events of a lead in time order.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    pub as_of: DateTime<Utc>,
    pub leads: Vec<HistoryLead>,
    pub events: Vec<Event>,
    pub outcomes: Vec<OutcomeRecord>,
}

/// Generates `config.leads` leads with their events and outcomes; deterministic for the
/// config.
pub fn generate_history(config: &HistoryConfig) -> History {
    let clock = Clock {
        as_of: config.as_of,
        span: f64::from(config.span_days),
    };
    let mut history = History {
        as_of: config.as_of,
        leads: Vec::new(),
        events: Vec::new(),
        outcomes: Vec::new(),
    };
    for row in 0..config.leads {
        let mut rng = StdRng::seed_from_u64(row_seed(config.seed, row as u64));
        generate_row(&mut rng, row, &clock, &mut history);
    }
    history
}

/// Converts the generator's time (days since the history's start) to timestamps.
struct Clock {
    as_of: DateTime<Utc>,
    span: f64,
}

impl Clock {
    /// Whole seconds, rounded up towards `as_of`: monotone, and strictly before `as_of`.
    fn at(&self, t: f64) -> DateTime<Utc> {
        let before = ((self.span - t) * 86_400.0).ceil().max(1.0);
        self.as_of - Duration::seconds(before as i64)
    }
}

/// One generating row: a lead, its life, what follows its outcome, and the lead that returns
/// from it if any.
fn generate_row(rng: &mut StdRng, row: usize, clock: &Clock, out: &mut History) {
    let profile = profile::draw(rng);
    let mut start = rng.random::<f64>() * clock.span;
    let mut record = profile.observe(rng);
    let intent = 0.6 * profile.fit + normal(rng);
    let frailty = FRAILTY_SD * normal(rng);
    let mut person = Person {
        profile,
        intent,
        frailty,
    };
    let mut id = format!("lead-{:06}", row + 1);
    let mut returned_from = None;
    let mut seq = 0usize;
    // At most two lives: the lead, and the lead that returns after a bad-timing loss.
    for life_no in 0..2 {
        record.id = Some(id.clone());
        out.leads.push(HistoryLead {
            record: record.clone(),
            created_at: clock.at(start),
            returned_from: returned_from.clone(),
        });
        let life = life::live(rng, &person, start, clock.span);
        let mut drawn = life.events;
        let mut comeback = None;
        if let Some((t, close)) = life.close {
            let outcome = match close {
                Close::Converted => {
                    drawn.extend(after::customer(rng, &person, t, clock.span));
                    Outcome::Converted
                }
                Close::Disqualified(reason) => {
                    let mut until = clock.span;
                    if reason.family() == ReasonFamily::BadTiming
                        && life_no == 0
                        && chance(rng, RETURN_SHARE)
                    {
                        let delay: f64 = Exp1.sample(rng);
                        let back = t + RETURN_MEAN_DAYS * delay;
                        if back < clock.span {
                            comeback = Some(back);
                            until = back;
                        }
                    }
                    if reason.family() == ReasonFamily::BadTiming {
                        drawn.extend(after::nurture(rng, &person, t, until));
                    }
                    Outcome::Disqualified(reason)
                }
            };
            out.outcomes.push(OutcomeRecord {
                lead_id: id.clone(),
                at: clock.at(t),
                outcome,
            });
        }
        push_events(&mut out.events, drawn, clock, row, &id, &mut seq);
        let Some(back) = comeback else {
            return;
        };
        returned_from = Some(id.clone());
        id = format!("{id}-2");
        start = back;
        person.intent += RETURN_INTENT;
    }
}

fn push_events(
    out: &mut Vec<Event>,
    mut drawn: Vec<Drawn>,
    clock: &Clock,
    row: usize,
    lead_id: &str,
    seq: &mut usize,
) {
    drawn.sort_by(|a, b| a.t.total_cmp(&b.t));
    for event in drawn {
        *seq += 1;
        out.push(Event {
            event_id: format!("ev-{:06}-{}", row + 1, seq),
            lead_id: lead_id.to_string(),
            at: clock.at(event.t),
            kind: event.kind,
            value: event.value,
        });
    }
}
