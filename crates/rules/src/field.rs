//! Field names, resolved once.
//!
//! A rule names a field by text; at compile time the name becomes a [`Field`] so that reading
//! a canonical field of a [`qualify_core::lead::LeadRecord`] is a `match`, not a string lookup.
//! Names outside the canonical record are kept as text and read from `extra` (records) or by
//! column name (flat rows): a rules file can score any data set, not only ours.

use qualify_core::lead::{ActivityType, EMAIL_DOMAIN_TYPE, LAST_ACTIVITY_AT};

/// Canonical scalar fields of the lead record (docs/concepts.md, "The canonical lead record").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Canon {
    Id,
    Email,
    EmailDomainType,
    JobTitle,
    Seniority,
    Industry,
    Employees,
    AnnualRevenue,
    Country,
    Crm,
    MarketingAutomation,
    TechStack,
    LastActivityAt,
    BudgetConfirmed,
    NeedConfirmed,
    TimelineDays,
    DisqualificationReason,
}

/// What kind of value a canonical field holds, for type checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Text,
    Number,
    Bool,
    List,
    Time,
}

const CANON: &[(&str, Canon, Kind)] = &[
    ("id", Canon::Id, Kind::Text),
    ("email", Canon::Email, Kind::Text),
    (EMAIL_DOMAIN_TYPE, Canon::EmailDomainType, Kind::Text),
    ("job_title", Canon::JobTitle, Kind::Text),
    ("seniority", Canon::Seniority, Kind::Text),
    ("industry", Canon::Industry, Kind::Text),
    ("employees", Canon::Employees, Kind::Number),
    ("annual_revenue", Canon::AnnualRevenue, Kind::Number),
    ("country", Canon::Country, Kind::Text),
    ("crm", Canon::Crm, Kind::Text),
    (
        "marketing_automation",
        Canon::MarketingAutomation,
        Kind::Text,
    ),
    ("tech_stack", Canon::TechStack, Kind::List),
    (LAST_ACTIVITY_AT, Canon::LastActivityAt, Kind::Time),
    ("budget_confirmed", Canon::BudgetConfirmed, Kind::Bool),
    ("need_confirmed", Canon::NeedConfirmed, Kind::Bool),
    ("timeline_days", Canon::TimelineDays, Kind::Number),
    (
        "disqualification_reason",
        Canon::DisqualificationReason,
        Kind::Text,
    ),
];

/// Values computed by the engine itself, readable in `[stages]` and `[[routes]]` conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pseudo {
    Score,
    FitScore,
    EngagementScore,
    /// Only in routes: the stage is decided before routing.
    Stage,
}

const PSEUDO: &[(&str, Pseudo)] = &[
    ("score", Pseudo::Score),
    ("fit_score", Pseudo::FitScore),
    ("engagement_score", Pseudo::EngagementScore),
    ("stage", Pseudo::Stage),
];

/// A resolved field reference.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FieldKind {
    Canon(Canon),
    /// `<type>_count`: number of activities of that type.
    Count(ActivityType),
    Pseudo(Pseudo),
    /// Anything else: `extra` of a record, a column of a flat row.
    Other,
}

/// A field as the compiled rules read it: its name (for flat rows) and its kind (for records).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Field {
    pub name: Box<str>,
    pub kind: FieldKind,
}

impl Field {
    pub fn resolve(name: &str) -> Field {
        Field {
            name: name.into(),
            kind: resolve_kind(name),
        }
    }
}

fn resolve_kind(name: &str) -> FieldKind {
    if let Some((_, c, _)) = CANON.iter().find(|(n, _, _)| *n == name) {
        return FieldKind::Canon(*c);
    }
    if let Some((_, p)) = PSEUDO.iter().find(|(n, _)| *n == name) {
        return FieldKind::Pseudo(*p);
    }
    if let Some(kind) = name
        .strip_suffix("_count")
        .and_then(|t| ActivityType::ALL.iter().copied().find(|a| a.as_str() == t))
    {
        return FieldKind::Count(kind);
    }
    FieldKind::Other
}

/// The value kind of a canonical or count field; `None` for other fields.
pub(crate) fn kind_of(name: &str) -> Option<Kind> {
    match resolve_kind(name) {
        FieldKind::Canon(c) => CANON
            .iter()
            .find(|(_, k, _)| *k == c)
            .map(|(_, _, kind)| *kind),
        FieldKind::Count(_) => Some(Kind::Number),
        FieldKind::Pseudo(Pseudo::Stage) => Some(Kind::Text),
        FieldKind::Pseudo(_) => Some(Kind::Number),
        FieldKind::Other => None,
    }
}

pub(crate) fn is_pseudo(name: &str) -> Option<Pseudo> {
    PSEUDO.iter().find(|(n, _)| *n == name).map(|(_, p)| *p)
}

/// Fields derived from others: present in a data set when their source is.
pub(crate) fn derived_from(name: &str) -> Option<&'static str> {
    match name {
        EMAIL_DOMAIN_TYPE => Some("email"),
        "seniority" => Some("job_title"),
        _ => None,
    }
}

/// Canonical field names, for documentation and messages.
pub fn canonical_fields() -> Vec<String> {
    let mut names: Vec<String> = CANON.iter().map(|(n, _, _)| n.to_string()).collect();
    names.extend(ActivityType::ALL.iter().map(|a| a.count_column()));
    names
}
