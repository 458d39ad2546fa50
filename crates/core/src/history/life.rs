//! A lead's outcomes over its life: which sequences are valid, and when the lead is open.
//!
//! Why one place: the files check, the lead store, training, `qualify score` and the monitor
//! all need the same answer to "can this lead have that outcome now?" and "is this lead open
//! at `t`?". Disqualification reasons come in families ([`ReasonFamily`]): a **bad fit** (not
//! a decision maker, no budget, an unserved region) will not change, so that disqualification
//! is final, like a conversion; **bad timing** (unresponsive, not now) may, so the lead is
//! closed only until it **re-engages**: its first event strictly after the disqualification.
//!
//! The policy ([`Outcomes::new`]): outcomes in time order; two at the same instant are an
//! error; nothing may follow a conversion or a final disqualification (bad fit, other, or no
//! reason); anything may follow a bad-timing disqualification, with or without a re-engaging
//! event in between.
//!
//! **Open intervals** ([`Life::intervals`]): `[created, first outcome)`, and after each
//! bad-timing disqualification followed by a re-engaging event `e` before the next outcome,
//! `[e, next outcome or forever)`.

use serde::{Deserialize, Serialize};

use super::log::Ev;
use super::moments::{Label, OutcomeKind, window_label};

/// The family of a disqualification reason: a bad fit (or any other reason) is final, bad
/// timing closes the lead until it re-engages.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, strum::Display,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ReasonFamily {
    BadFit,
    BadTiming,
    Other,
}

/// The documented mapping of reason names (normalised) to families.
pub const BUILT_IN: &[(&str, ReasonFamily)] = &[
    ("not_decision_maker", ReasonFamily::BadFit),
    ("no_authority", ReasonFamily::BadFit),
    ("no_budget", ReasonFamily::BadFit),
    ("unserved_region", ReasonFamily::BadFit),
    ("bad_fit", ReasonFamily::BadFit),
    ("no_need", ReasonFamily::BadFit),
    ("unresponsive", ReasonFamily::BadTiming),
    ("no_response", ReasonFamily::BadTiming),
    ("bad_timing", ReasonFamily::BadTiming),
    ("not_now", ReasonFamily::BadTiming),
];

/// A reason name normalised: trimmed, lower case, spaces and hyphens as underscores.
pub fn normalise(reason: &str) -> String {
    reason
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c == ' ' || c == '-' { '_' } else { c })
        .collect()
}

/// The family of a reason as written (normalised first) by [`BUILT_IN`]; `Other` for any
/// other name. A blank reason is no reason: `None`.
pub fn family_of(reason: Option<&str>) -> Option<ReasonFamily> {
    let name = normalise(reason?);
    if name.is_empty() {
        return None;
    }
    Some(
        BUILT_IN
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(ReasonFamily::Other, |(_, f)| *f),
    )
}

/// A lead's outcome: what, when (milliseconds since the Unix epoch, UTC) and, for a
/// disqualification, its reason's family (`None`: no reason given).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub at: i64,
    pub kind: OutcomeKind,
    pub family: Option<ReasonFamily>,
}

impl Outcome {
    pub fn converted(at: i64) -> Outcome {
        Outcome {
            at,
            kind: OutcomeKind::Converted,
            family: None,
        }
    }

    pub fn disqualified(at: i64, family: Option<ReasonFamily>) -> Outcome {
        Outcome {
            at,
            kind: OutcomeKind::Disqualified,
            family,
        }
    }

    /// A bad-timing disqualification: the lead opens again when it re-engages.
    pub fn reopens(&self) -> bool {
        self.kind == OutcomeKind::Disqualified && self.family == Some(ReasonFamily::BadTiming)
    }

    /// What it is, as the errors name it: `converted`, `disqualified (bad_fit)`, ….
    pub fn describe(&self) -> String {
        match (self.kind, self.family) {
            (OutcomeKind::Converted, _) => "converted".into(),
            (OutcomeKind::Disqualified, Some(f)) => format!("disqualified ({f})"),
            (OutcomeKind::Disqualified, None) => "disqualified (no reason)".into(),
        }
    }
}

/// Why a sequence of outcomes breaks the policy (module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ConflictKind {
    #[error("two outcomes at the same instant: a lead closes once at a time")]
    SameInstant,
    #[error("an outcome after a conversion: converted is final")]
    AfterConversion,
    #[error(
        "an outcome after a final disqualification ({}): only a bad-timing disqualification \
         (unresponsive, no_response, bad_timing, not_now) can be followed by another outcome",
        .family.map_or_else(|| "no reason".to_string(), |f| f.to_string())
    )]
    AfterFinal { family: Option<ReasonFamily> },
}

/// Two outcomes of one lead that break the policy: their positions in time order (stable for
/// equal times) and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("outcomes {first} and {second} in time order: {why}")]
pub struct Conflict {
    pub first: usize,
    pub second: usize,
    pub why: ConflictKind,
}

/// A lead's outcomes, in time order, checked against the policy (module docs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcomes(Vec<Outcome>);

impl Outcomes {
    /// Sorts `outcomes` by time (stable) and checks them.
    ///
    /// # Errors
    /// The first pair that breaks the policy, by position in time order.
    pub fn new(mut outcomes: Vec<Outcome>) -> Result<Outcomes, Conflict> {
        outcomes.sort_by_key(|o| o.at);
        for (k, pair) in outcomes.windows(2).enumerate() {
            let (a, b) = (pair[0], pair[1]);
            let why = if a.at == b.at {
                ConflictKind::SameInstant
            } else if a.kind == OutcomeKind::Converted {
                ConflictKind::AfterConversion
            } else if !a.reopens() {
                ConflictKind::AfterFinal { family: a.family }
            } else {
                continue;
            };
            return Err(Conflict {
                first: k,
                second: k + 1,
                why,
            });
        }
        Ok(Outcomes(outcomes))
    }

    /// One outcome (always valid).
    pub fn one(outcome: Outcome) -> Outcomes {
        Outcomes(vec![outcome])
    }

    pub fn as_slice(&self) -> &[Outcome] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The latest outcome.
    pub fn latest(&self) -> Option<&Outcome> {
        self.0.last()
    }
}

/// What decides when a lead is open: its creation, its outcomes (time order, checked) and its
/// events (time order, every type).
#[derive(Debug, Clone, Copy)]
pub struct Life<'a> {
    pub created: i64,
    pub outcomes: &'a [Outcome],
    pub events: &'a [Ev],
}

impl Life<'_> {
    /// The open intervals `[start, end)` in time order (module docs); `i64::MAX`: forever.
    pub fn intervals(&self) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        let first = self.outcomes.first().map_or(i64::MAX, |o| o.at);
        if self.created < first {
            out.push((self.created, first));
        }
        for (k, o) in self.outcomes.iter().enumerate() {
            if !o.reopens() {
                break;
            }
            let next = self.outcomes.get(k + 1).map_or(i64::MAX, |n| n.at);
            let after = self.events.partition_point(|e| e.at <= o.at);
            if let Some(e) = self.events.get(after).filter(|e| e.at < next) {
                out.push((e.at, next));
            }
        }
        out
    }

    /// Whether the lead is open at `t`: inside one of its [`Life::intervals`].
    pub fn is_open(&self, t: i64) -> bool {
        self.intervals().iter().any(|&(s, e)| s <= t && t < e)
    }

    /// Whether the lead was closed at `moment` as known at `end`: created by then, and not
    /// open at the moment (nor at `end`, for a moment after it: later data is not known).
    pub fn closed_at(&self, moment: i64, end: i64) -> bool {
        let t = moment.min(end);
        moment >= self.created && t >= self.created && !self.is_open(t)
    }

    /// The training moments up to `end`: for each open interval, its start plus each offset
    /// (milliseconds, ascending) while inside the interval and before `end`.
    pub fn training_moments(&self, offsets: &[i64], end: i64) -> Vec<i64> {
        let mut out = Vec::new();
        for (start, stop) in self.intervals() {
            let close = stop.min(end);
            out.extend(
                offsets
                    .iter()
                    .map(|&o| start.saturating_add(o))
                    .take_while(|&m| m < close),
            );
        }
        out
    }

    /// The label at `moment` with `window` and `end` in milliseconds
    /// ([`super::moments`] module docs).
    pub fn label_at(&self, moment: i64, window: i64, end: i64) -> Label {
        if self.closed_at(moment, end) {
            return Label::Closed;
        }
        window_label(moment, self.outcomes, window, end)
    }
}

#[cfg(test)]
#[path = "life_tests.rs"]
mod tests;
