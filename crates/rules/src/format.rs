//! The rules file as written: plain serde types, one per TOML section.
//!
//! These types say what a marketing team may write and nothing more (`deny_unknown_fields`
//! everywhere), so a typo is an error rather than a rule that silently never fires. They are
//! deliberately loose about combinations (a condition may name two operators, a range may be
//! inverted): [`crate::check_text`] reports those with line and column, and
//! [`crate::CompiledRules`] turns a checked file into the fast form.

use std::collections::BTreeMap;

use qualify_core::lead::{ActivityType, EmailDomainType};
use serde::Deserialize;

/// A literal in a condition: text, number or boolean.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Scalar {
    Bool(bool),
    Number(f64),
    Text(String),
}

/// A test on one lead. A leaf names a `field` and one operator (`equals`, `one_of`,
/// `not_one_of`, `min`/`max`, `pattern`, `present`); `email_domain` and `framework` need no
/// field; `all`, `any` and `not` combine conditions. A leaf on a missing field is false.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub field: Option<String>,
    pub equals: Option<Scalar>,
    pub one_of: Option<Vec<Scalar>>,
    pub not_one_of: Option<Vec<Scalar>>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub pattern: Option<String>,
    pub present: Option<bool>,
    pub email_domain: Option<EmailDomainType>,
    pub framework: Option<String>,
    pub all: Option<Vec<Condition>>,
    pub any: Option<Vec<Condition>>,
    pub not: Option<Box<Condition>>,
}

/// How engagement loses weight with age. At most one key; an empty table means no decay.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecaySpec {
    /// Points halve every this many days.
    pub half_life_days: Option<f64>,
    /// Fraction of the points lost per 30 days (0.25 = a quarter a month), never below zero.
    pub linear_per_month: Option<f64>,
    /// Full points inside this many days, none after.
    pub window_days: Option<f64>,
}

/// Explicit scoring: points when a profile condition holds.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FitRule {
    pub id: String,
    pub description: Option<String>,
    pub points: f64,
    pub when: Condition,
}

/// Implicit scoring. Exactly one of: `activity` (points per occurrence of that activity
/// type), `field` (points per unit of a numeric field, e.g. a visit count column) or `when`
/// (points once when the condition holds).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EngagementRule {
    pub id: String,
    pub description: Option<String>,
    pub points: f64,
    pub activity: Option<ActivityType>,
    pub field: Option<String>,
    pub when: Option<Condition>,
    /// Largest total (in absolute value) this rule may give one lead.
    pub cap: Option<f64>,
    /// Overrides the file's `[decay]` for this rule.
    pub decay: Option<DecaySpec>,
}

/// A hard disqualifier: a lead whose `require` condition does not hold is `Disqualified`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gate {
    pub id: String,
    pub description: Option<String>,
    pub require: Condition,
}

/// Bad timing: a lead for which `when` holds is `Nurture` (unless a gate disqualifies it).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NurtureRule {
    pub id: String,
    pub description: Option<String>,
    pub when: Condition,
}

/// Stage thresholds and criteria.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stages {
    /// MQL when the total score reaches this.
    pub mql: f64,
    /// And, when set, the fit score reaches this.
    pub mql_fit: Option<f64>,
    /// And, when set, the engagement score reaches this.
    pub mql_engagement: Option<f64>,
    /// SQL when MQL and this holds (e.g. a framework met or `budget_confirmed`).
    pub sql: Option<Condition>,
    /// PQL when this holds (product milestones), whatever the score.
    pub pql: Option<Condition>,
}

/// A named route; the first whose condition holds wins.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    pub id: String,
    pub description: Option<String>,
    pub when: Condition,
}

/// Criteria of one framework (BANT, MEDDPICC, ...), by criterion name.
pub type Framework = BTreeMap<String, Condition>;

/// Top-level keys of a rules file, for "unknown key" messages.
pub const TOP_LEVEL_KEYS: &[&str] = &[
    "version",
    "name",
    "description",
    "missing_values",
    "decay",
    "fit",
    "engagement",
    "gates",
    "nurture",
    "stages",
    "frameworks",
    "routes",
    "default_route",
];

/// The largest size of any points value, cap or stage threshold a file may write (a
/// billion): far beyond any real rule, and small enough that sums of whole hundredths stay
/// exact. A larger value is an error, not silently capped.
pub const MAX_POINTS: f64 = 1e9;

/// The format version this crate reads.
pub const FORMAT_VERSION: u32 = 1;
