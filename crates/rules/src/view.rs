//! The two shapes a lead arrives in, seen through one interface.
//!
//! A canonical [`LeadRecord`] has dated activities; a flat row (CSV/Parquet) has only
//! `<type>_count` columns and `last_activity_at`. Derived fields (counts,
//! `last_activity_at`, `email_domain_type`, `seniority`) are read through qualify-core's one
//! derivation ([`LeadRecord::fact`] for records, [`flat_fact`] for rows), the same the
//! model's encoder reads, so the rules and the model see the same facts. For flat rows (and
//! records that send counts instead of activities), decay treats every counted activity as
//! if it happened at `last_activity_at` — the only date there is — which overstates the
//! decay of older activities less than ignoring dates would. Without `last_activity_at`
//! nothing is decayed.

use std::cell::Cell as Once;
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use chrono::{DateTime, Utc};
use qualify_core::encoder::parse::time_from_text;
use qualify_core::lead::{
    ActivityType, Derived, Fact, LAST_ACTIVITY_AT, LeadRecord, Seniority, flat_fact,
};
use qualify_core::value::{Cell, RawValue, is_missing_text};

use crate::cond::Val;
use crate::decay::Decay;
use crate::field::{Canon, Field, FieldKind};

/// A flat row: values by column name.
pub trait FlatRow {
    fn get(&self, name: &str) -> Option<&RawValue>;
}

impl FlatRow for BTreeMap<String, RawValue> {
    fn get(&self, name: &str) -> Option<&RawValue> {
        BTreeMap::get(self, name)
    }
}

impl<S: BuildHasher> FlatRow for HashMap<String, RawValue, S> {
    fn get(&self, name: &str) -> Option<&RawValue> {
        HashMap::get(self, name)
    }
}

/// What the evaluator reads from a lead, whatever its shape.
pub(crate) trait Source {
    /// The raw value of a data field (never a pseudo field).
    fn value(&self, f: &Field) -> Val<'_>;
    /// Decayed weight and count of activities of `kind`.
    fn activity(
        &self,
        kind: ActivityType,
        count: &Field,
        decay: Decay,
        as_of: DateTime<Utc>,
    ) -> (f64, u32);
    /// Decay weight of per-unit field values: the age of the last activity.
    fn unit_factor(&self, decay: Decay, as_of: DateTime<Utc>) -> f64;
}

fn text(v: &Option<String>) -> Val<'_> {
    v.as_deref().map_or(Val::Missing, Val::Text)
}

fn json(v: Option<&serde_json::Value>) -> Val<'_> {
    use serde_json::Value;
    match v {
        Some(Value::Bool(b)) => Val::Bool(*b),
        Some(Value::Number(n)) => n.as_f64().map_or(Val::Missing, Val::Num),
        Some(Value::String(s)) => Val::Text(s),
        Some(Value::Array(items)) => Val::Json(items),
        _ => Val::Missing,
    }
}

fn seniority(s: Option<Seniority>) -> Val<'static> {
    s.map_or(Val::Missing, |s| Val::Text(s.as_str()))
}

/// A time field's text, parsed by core's one time parser (text that is not a time stays
/// text: present, but equal to no time).
fn time_text(s: &str) -> Val<'_> {
    time_from_text(s).map_or(Val::Text(s), Val::Time)
}

fn cell(c: Cell<'_>) -> Val<'_> {
    match c {
        Cell::Missing => Val::Missing,
        Cell::Bool(b) => Val::Bool(b),
        Cell::Number(n) => Val::Num(n),
        Cell::Text(s) => Val::Text(s),
        Cell::List(items) => Val::Strs(items),
    }
}

/// A canonical record, with derived values computed at most once.
pub(crate) struct RecordSource<'a> {
    lead: &'a LeadRecord,
    seniority: Once<Option<Option<Seniority>>>,
    /// The date sent counts are decayed from (records without activities).
    last: Option<DateTime<Utc>>,
}

impl<'a> RecordSource<'a> {
    pub fn new(lead: &'a LeadRecord) -> Self {
        let last = match lead.fact(Derived::LastActivityAt) {
            Fact::Time(t) => t,
            Fact::Sent(serde_json::Value::String(s)) => time_from_text(s),
            _ => None,
        };
        RecordSource {
            lead,
            seniority: Once::new(None),
            last,
        }
    }

    fn fact(&self, field: Derived) -> Val<'a> {
        match self.lead.fact(field) {
            Fact::Sent(v) => match (field, v) {
                (Derived::LastActivityAt, serde_json::Value::String(s)) => time_text(s),
                _ => json(Some(v)),
            },
            Fact::Count(n) => Val::Num(n as f64),
            Fact::Time(t) => t.map_or(Val::Missing, Val::Time),
            Fact::EmailDomain(d) => Val::Text(d.as_str()),
            Fact::Seniority(s) => seniority(s),
        }
    }
}

impl Source for RecordSource<'_> {
    fn value(&self, f: &Field) -> Val<'_> {
        let l = self.lead;
        let canon = match &f.kind {
            FieldKind::Canon(c) => *c,
            FieldKind::Count(kind) => return self.fact(Derived::Count(*kind)),
            FieldKind::Other => return json(l.extra.get(&*f.name)),
            FieldKind::Pseudo(_) => return Val::Missing,
        };
        match canon {
            Canon::Id => text(&l.id),
            Canon::Email => text(&l.email),
            Canon::EmailDomainType => self.fact(Derived::EmailDomainType),
            Canon::JobTitle => text(&l.job_title),
            Canon::Seniority => {
                let s = self
                    .seniority
                    .get()
                    .unwrap_or_else(|| l.effective_seniority());
                self.seniority.set(Some(s));
                seniority(s)
            }
            Canon::Industry => text(&l.industry),
            Canon::Employees => l.employees.map_or(Val::Missing, |n| Val::Num(n as f64)),
            Canon::AnnualRevenue => l.annual_revenue.map_or(Val::Missing, Val::Num),
            Canon::Country => text(&l.country),
            Canon::Crm => text(&l.crm),
            Canon::MarketingAutomation => text(&l.marketing_automation),
            Canon::TechStack => Val::Strs(&l.tech_stack),
            Canon::LastActivityAt => self.fact(Derived::LastActivityAt),
            Canon::BudgetConfirmed => l.budget_confirmed.map_or(Val::Missing, Val::Bool),
            Canon::NeedConfirmed => l.need_confirmed.map_or(Val::Missing, Val::Bool),
            Canon::TimelineDays => l
                .timeline_days
                .map_or(Val::Missing, |d| Val::Num(f64::from(d))),
            Canon::DisqualificationReason => text(&l.disqualification_reason),
        }
    }

    fn activity(
        &self,
        kind: ActivityType,
        count: &Field,
        decay: Decay,
        as_of: DateTime<Utc>,
    ) -> (f64, u32) {
        if self.lead.activities.is_empty() {
            // Counts sent instead of activities: as a flat row reads them.
            return counted(self.value(count).number(), self.unit_factor(decay, as_of));
        }
        let mut weight = 0.0;
        let mut n = 0u32;
        for a in self.lead.activities.iter().filter(|a| a.kind == kind) {
            weight += decay.factor_at(a.at, as_of);
            n = n.saturating_add(1);
        }
        (weight, n)
    }

    fn unit_factor(&self, decay: Decay, as_of: DateTime<Utc>) -> f64 {
        self.last.map_or(1.0, |t| decay.factor_at(t, as_of))
    }
}

/// Weight and count of `n` activities all dated by `factor` (negative, NaN or missing
/// counts are none).
fn counted(n: Option<f64>, factor: f64) -> (f64, u32) {
    let n = n.filter(|n| n.is_finite() && *n > 0.0).unwrap_or(0.0);
    (n * factor, n.min(f64::from(u32::MAX)) as u32)
}

/// A flat row; `last_activity_at` is parsed once per row.
pub(crate) struct FlatSource<'a, R: ?Sized> {
    row: &'a R,
    missing: &'a [Box<str>],
    last: Option<DateTime<Utc>>,
}

impl<'a, R: FlatRow + ?Sized> FlatSource<'a, R> {
    pub fn new(row: &'a R, missing: &'a [Box<str>]) -> Self {
        let last = match row.get(LAST_ACTIVITY_AT) {
            Some(RawValue::Text(s)) => time_from_text(s),
            _ => None,
        };
        FlatSource { row, missing, last }
    }

    fn cell(&self, name: &str) -> Cell<'a> {
        self.row.get(name).map_or(Cell::Missing, RawValue::cell)
    }
}

impl<R: FlatRow + ?Sized> Source for FlatSource<'_, R> {
    fn value(&self, f: &Field) -> Val<'_> {
        match f.kind {
            FieldKind::Canon(Canon::EmailDomainType | Canon::Seniority) => {
                cell(flat_fact(&f.name, |n| self.cell(n), &|t| {
                    is_missing_text(t, self.missing)
                }))
            }
            FieldKind::Canon(Canon::LastActivityAt) => match self.last {
                Some(t) => Val::Time(t),
                None => cell(self.cell(&f.name)),
            },
            FieldKind::Pseudo(_) => Val::Missing,
            _ => cell(self.cell(&f.name)),
        }
    }

    fn activity(
        &self,
        _: ActivityType,
        count: &Field,
        decay: Decay,
        as_of: DateTime<Utc>,
    ) -> (f64, u32) {
        counted(self.value(count).number(), self.unit_factor(decay, as_of))
    }

    fn unit_factor(&self, decay: Decay, as_of: DateTime<Utc>) -> f64 {
        self.last.map_or(1.0, |t| decay.factor_at(t, as_of))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse() {
        assert!(matches!(time_text("2026-01-02T03:04:05Z"), Val::Time(_)));
        assert!(matches!(time_text("2026-01-02"), Val::Time(_)));
        assert!(matches!(time_text("2026-01-02 03:04:05"), Val::Time(_)));
        assert!(matches!(time_text("yesterday"), Val::Text(_)));
    }
}
