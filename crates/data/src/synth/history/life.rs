//! One lead's life while it is open: engagement, sales calls and how it closes.
//!
//! Why day steps: the model's state (activity level, engagement, an open opportunity) changes
//! slowly, so it is stepped one day at a time; within a day events arrive as a Poisson process
//! at that day's rate, which places them at exact times for free. The conversion hazard of a day
//! is read *after* that day's events, and a conversion is placed after the last of them, so
//! conversion depends on past engagement only, as the point-in-time pipeline assumes.

use qualify_core::lead::ActivityType::{
    DemoRequest as DEMO, TrialSignup as TRIAL, WebsiteVisit as WEBSITE,
};
use qualify_core::lead::Seniority;
use rand::RngExt;
use rand::rngs::StdRng;
use rand_distr::{Distribution, Exp1};

use super::Reason;
use super::events::{EventKind, Gate, INBOUND, visit_seconds};
use crate::synth::profile::Profile;
use crate::synth::{chance, normal, sigmoid};

/// Activity level never falls below this (background visits, newsletters).
const FLOOR: f64 = 0.01;
/// Time constant (days) of an interest episode's decay.
const EPISODE_DAYS: f64 = 12.0;
/// New interest episodes per day for a lead of intent 0 (× `exp(0.5 · intent)`).
const EPISODE_RATE: f64 = 1.0 / 300.0;
/// Time constant (days) of engagement's decay in the conversion hazard.
const ENGAGEMENT_DAYS: f64 = 30.0;
/// Log conversion hazard per day per unit of engagement for fit 0.
const HAZARD_INTERCEPT: f64 = -7.4;
/// Log-hazard per unit of fit.
const HAZARD_FIT: f64 = 0.7;
/// Engagement a lead has without any event (conversions out of the blue).
const ENGAGEMENT_FLOOR: f64 = 0.02;
/// An open opportunity (qualified at the first sales call) multiplies the hazard by 1 + this.
const OPPORTUNITY_BOOST: f64 = 3.0;
/// Log-hazard of a personal email address and of an unserved country.
const PERSONAL_EMAIL: f64 = -0.9;
const UNSERVED: f64 = -0.8;
/// SDR outreach: a first call per day with probability `1 − exp(−rate · engagement)`.
const OUTREACH_RATE: f64 = 0.015;
/// Mean days from a sales call to the disqualification it decides.
const DISQUALIFY_DELAY_DAYS: f64 = 3.0;
/// A called lead silent for this many days is marked unresponsive at rate 1 / 15 days.
const SILENT_DAYS: f64 = 30.0;
const UNRESPONSIVE_DAYS: f64 = 15.0;
/// A never-called lead silent this long is closed unresponsive at rate 1 / 90 days.
const STALE_DAYS: f64 = 150.0;
const STALE_CLOSE_DAYS: f64 = 150.0;

/// Who lives the life: the profile and the latent terms the CRM never records.
#[derive(Debug, Clone)]
pub(super) struct Person {
    pub profile: Profile,
    /// Latent buying intent, `0.6 · fit + N(0, 1)` (raised for a returning lead).
    pub intent: f64,
    /// The lead's unrecorded log-hazard term, `N(0, 0.5²)`.
    pub frailty: f64,
}

/// An event of the generator, time in days since the history's start.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Drawn {
    pub t: f64,
    pub kind: EventKind,
    pub value: Option<f64>,
}

/// How a life ended.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Close {
    Converted,
    Disqualified(Reason),
}

/// The events of an open lead and, if it closed before the end, when and how.
#[derive(Debug, Clone)]
pub(super) struct Life {
    pub events: Vec<Drawn>,
    pub close: Option<(f64, Close)>,
}

/// Simulates a lead created at `start` (days) until it closes or `end` (as_of).
pub(super) fn live(rng: &mut StdRng, person: &Person, start: f64, end: f64) -> Life {
    let mut state = State::new(rng, person, start);
    let episode_rate = EPISODE_RATE * (0.5 * person.intent).exp();
    let mut day = start;
    while day < end {
        let stop = (day + 1.0).min(end);
        let length = stop - day;
        if day > start && chance(rng, 1.0 - (-episode_rate * length).exp()) {
            let strength: f64 = Exp1.sample(rng);
            state.episode += strength;
        }
        let first_today = state.events.len();
        state.inbound(rng, day, stop);
        state.sales_call(rng, stop);
        state.outreach(rng, length, stop);
        if let Some((at, how)) = state.close_today(rng, day, stop, first_today) {
            state.events.retain(|e| e.t <= at);
            return Life {
                events: state.events,
                close: Some((at, how)),
            };
        }
        state.engagement *= (-length / ENGAGEMENT_DAYS).exp();
        state.episode *= (-length / EPISODE_DAYS).exp();
        day = stop;
    }
    Life {
        events: state.events,
        close: None,
    }
}

/// The state of an open lead between days.
struct State<'a> {
    person: &'a Person,
    start: f64,
    /// Events per day at activity level 1, per [`INBOUND`] type (0 once capped or gated).
    rates: Vec<f64>,
    counts: Vec<u32>,
    trial: bool,
    /// Fit × engagement: `clamp(1 + 0.6 · fit, 0.2, 2.5)`.
    gain: f64,
    /// The lead's constant log-hazard terms.
    log_hazard: f64,
    events: Vec<Drawn>,
    /// Sum of the decaying interest episodes.
    episode: f64,
    /// Decayed weighted count of inbound events.
    engagement: f64,
    last_inbound: f64,
    /// The first sales call, when scheduled and not yet held.
    call: Option<f64>,
    /// When the first sales call was held.
    called: Option<f64>,
    opportunity: bool,
    /// A decided disqualification and when it is recorded.
    disqualify: Option<(f64, Reason)>,
}

impl<'a> State<'a> {
    fn new(rng: &mut StdRng, person: &'a Person, start: f64) -> Self {
        let profile = &person.profile;
        let mut state = State {
            person,
            start,
            rates: vec![0.0; INBOUND.len()],
            counts: vec![0; INBOUND.len()],
            trial: false,
            gain: (1.0 + 0.6 * profile.fit).clamp(0.2, 2.5),
            log_hazard: HAZARD_INTERCEPT
                + HAZARD_FIT * profile.fit
                + person.frailty
                + if profile.personal_email {
                    PERSONAL_EMAIL
                } else {
                    0.0
                }
                + if profile.served { 0.0 } else { UNSERVED },
            events: Vec::new(),
            episode: 1.0,
            engagement: 0.0,
            last_inbound: start,
            call: None,
            called: None,
            opportunity: false,
            disqualify: triage(rng, profile, start),
        };
        state.set_rates();
        state
    }

    /// `base · exp(elasticity · intent)` per type (trial signups doubled for saas and
    /// fintech); in-product types only after a trial signup; capped types at 0.
    fn set_rates(&mut self) {
        let saas_like = matches!(self.person.profile.industry, "saas" | "fintech");
        for (i, spec) in INBOUND.iter().enumerate() {
            let open = spec.gate == Gate::Always || self.trial;
            let boost = if spec.kind == EventKind::Activity(TRIAL) && saas_like {
                2.0
            } else {
                1.0
            };
            self.rates[i] = if open && self.counts[i] < spec.cap {
                spec.base * boost * (spec.elasticity * self.person.intent).exp()
            } else {
                0.0
            };
        }
    }

    /// The day's inbound events: a Poisson process at `rates × activity level`.
    fn inbound(&mut self, rng: &mut StdRng, day: f64, stop: f64) {
        let level = FLOOR + self.episode;
        let mut t = day;
        loop {
            let total = self.rates.iter().sum::<f64>() * level;
            let gap: f64 = Exp1.sample(rng);
            t += gap / total.max(1e-12);
            if t >= stop {
                return;
            }
            let i = pick_index(rng, &self.rates);
            let spec = &INBOUND[i];
            self.counts[i] += 1;
            let value = (spec.kind == EventKind::Activity(WEBSITE))
                .then(|| visit_seconds(self.person.intent, normal(rng)));
            self.events.push(Drawn {
                t,
                kind: spec.kind,
                value,
            });
            self.engagement += spec.weight;
            self.last_inbound = t;
            let unscheduled = self.call.is_none() && self.called.is_none();
            match spec.kind {
                EventKind::Activity(DEMO) if unscheduled => {
                    self.call = Some(t + rng.random_range(0.1..3.0));
                }
                EventKind::Activity(TRIAL) => {
                    self.trial = true;
                    if unscheduled && chance(rng, 0.4) {
                        self.call = Some(t + rng.random_range(0.5..5.0));
                    }
                }
                _ => {}
            }
            if self.counts[i] >= spec.cap || spec.kind == EventKind::Activity(TRIAL) {
                self.set_rates();
            }
        }
    }

    /// The first sales call, if due today, qualifies the lead: bad fit or bad timing (recorded
    /// after a delay), else an opportunity.
    fn sales_call(&mut self, rng: &mut StdRng, stop: f64) {
        let Some(at) = self.call.filter(|&at| at < stop) else {
            return;
        };
        self.call = None;
        self.called = Some(at);
        self.events.push(Drawn {
            t: at,
            kind: EventKind::SalesCall,
            value: None,
        });
        match qualify(rng, self.person) {
            Some(reason) => {
                let delay: f64 = Exp1.sample(rng);
                let when = at + DISQUALIFY_DELAY_DAYS * delay;
                if self.disqualify.is_none_or(|(t, _)| when < t) {
                    self.disqualify = Some((when, reason));
                }
            }
            None => self.opportunity = true,
        }
    }

    /// SDR outreach to engaged leads nobody has called yet: a call in the next two days.
    fn outreach(&mut self, rng: &mut StdRng, length: f64, stop: f64) {
        let p = 1.0 - (-OUTREACH_RATE * self.engagement.max(0.0) * length).exp();
        if self.call.is_none() && self.called.is_none() && chance(rng, p) {
            self.call = Some(stop + rng.random_range(0.0..2.0));
        }
    }

    /// Whether and how the lead closes today; the earliest candidate wins. A conversion is
    /// placed after the day's last event.
    fn close_today(
        &self,
        rng: &mut StdRng,
        day: f64,
        stop: f64,
        first_today: usize,
    ) -> Option<(f64, Close)> {
        let length = stop - day;
        let mut close = self
            .disqualify
            .filter(|&(at, _)| at < stop)
            .map(|(at, reason)| (at.max(day), Close::Disqualified(reason)));
        let boost = if self.opportunity {
            1.0 + OPPORTUNITY_BOOST
        } else {
            1.0
        };
        let hazard = self.log_hazard.exp()
            * (ENGAGEMENT_FLOOR + self.gain * self.engagement.max(0.0))
            * boost;
        if chance(rng, 1.0 - (-hazard * length).exp()) {
            let after = self.events[first_today..]
                .iter()
                .map(|e| e.t)
                .fold(day, f64::max);
            let at = rng.random_range(after..=stop.max(after));
            earliest(&mut close, (at, Close::Converted));
        }
        let silent = stop - self.last_inbound.max(self.called.unwrap_or(self.start));
        let (threshold, mean) = if self.called.is_some() {
            (SILENT_DAYS, UNRESPONSIVE_DAYS)
        } else {
            (STALE_DAYS, STALE_CLOSE_DAYS)
        };
        if silent > threshold && chance(rng, 1.0 - (-length / mean).exp()) {
            let at = rng.random_range(day..stop);
            earliest(&mut close, (at, Close::Disqualified(Reason::Unresponsive)));
        }
        close
    }
}

fn earliest(close: &mut Option<(f64, Close)>, candidate: (f64, Close)) {
    if close.is_none_or(|(at, _)| candidate.0 < at) {
        *close = Some(candidate);
    }
}

/// SDR triage before any call: 40% of leads from unserved countries are disqualified
/// (`unserved_region`) and 30% of interns (`not_decision_maker`), after Exp(mean 7 days).
fn triage(rng: &mut StdRng, profile: &Profile, start: f64) -> Option<(f64, Reason)> {
    let reason = if !profile.served && chance(rng, 0.2) {
        Reason::UnservedRegion
    } else if profile.seniority == Seniority::Intern && chance(rng, 0.3) {
        Reason::NotDecisionMaker
    } else {
        return None;
    };
    let delay: f64 = Exp1.sample(rng);
    Some((start + 7.0 * delay, reason))
}

/// The first call's verdict: a bad-fit reason, bad timing, or `None` (an opportunity).
fn qualify(rng: &mut StdRng, person: &Person) -> Option<Reason> {
    let profile = &person.profile;
    if !profile.served && chance(rng, 0.6) {
        return Some(Reason::UnservedRegion);
    }
    let junior = matches!(
        profile.seniority,
        Seniority::Intern | Seniority::IndividualContributor
    );
    if junior && chance(rng, 0.35) {
        return Some(Reason::NotDecisionMaker);
    }
    let budget = chance(rng, sigmoid(0.3 + 0.8 * profile.fit));
    if !budget && chance(rng, 0.6) {
        return Some(Reason::NoBudget);
    }
    let urgency = person.intent + 0.8 * normal(rng);
    if urgency < 0.0 && chance(rng, 0.8) {
        return Some(Reason::BadTiming);
    }
    None
}

/// An index drawn with probability proportional to `weights` (all ≥ 0, not all 0).
fn pick_index(rng: &mut StdRng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut left = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        left -= w;
        if left < 0.0 {
            return i;
        }
    }
    weights.iter().rposition(|&w| w > 0.0).unwrap_or(0)
}
