//! The two shapes a lead arrives in, seen through one interface.
//!
//! A canonical [`LeadRecord`] has dated activities; a flat row (CSV/Parquet) has only
//! `<type>_count` columns and `last_activity_at`. For flat rows, decay treats every counted
//! activity as if it happened at `last_activity_at` — the only date the row has — which
//! overstates the decay of older activities less than ignoring dates would. A flat row without
//! `last_activity_at` is not decayed at all.

use std::cell::Cell;
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;

use chrono::{DateTime, Utc};
// The one time parser of qualify (RFC 3339, `YYYY-MM-DD HH:MM:SS`, `YYYY-MM-DD`), so flat
// rows mean the same to the rules as to the encoder.
use qualify_core::encoder::parse::time_from_text as parse_time;
use qualify_core::lead::{
    ActivityType, EmailDomainType, LAST_ACTIVITY_AT, LeadRecord, Seniority, classify_email,
    seniority_from_title,
};
use qualify_core::value::RawValue;

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

fn raw(v: Option<&RawValue>) -> Val<'_> {
    match v {
        Some(RawValue::Bool(b)) => Val::Bool(*b),
        Some(RawValue::Number(n)) => Val::Num(*n),
        Some(RawValue::Text(s)) => Val::Text(s),
        Some(RawValue::List(items)) => Val::Strs(items),
        Some(RawValue::Missing) | None => Val::Missing,
    }
}

fn seniority(s: Option<Seniority>) -> Val<'static> {
    s.map_or(Val::Missing, |s| Val::Text(s.as_str()))
}

/// A canonical record, with derived values computed at most once.
pub(crate) struct RecordSource<'a> {
    lead: &'a LeadRecord,
    email: Cell<Option<EmailDomainType>>,
    seniority: Cell<Option<Option<Seniority>>>,
}

impl<'a> RecordSource<'a> {
    pub fn new(lead: &'a LeadRecord) -> Self {
        RecordSource {
            lead,
            email: Cell::new(None),
            seniority: Cell::new(None),
        }
    }
}

impl Source for RecordSource<'_> {
    fn value(&self, f: &Field) -> Val<'_> {
        let l = self.lead;
        let canon = match &f.kind {
            FieldKind::Canon(c) => *c,
            FieldKind::Count(kind) => {
                return Val::Num(l.activities.iter().filter(|a| a.kind == *kind).count() as f64);
            }
            FieldKind::Other => return json(l.extra.get(&*f.name)),
            FieldKind::Pseudo(_) => return Val::Missing,
        };
        match canon {
            Canon::Id => text(&l.id),
            Canon::Email => text(&l.email),
            Canon::EmailDomainType => {
                let d = self
                    .email
                    .get()
                    .unwrap_or_else(|| classify_email(l.email.as_deref()));
                self.email.set(Some(d));
                Val::Text(d.as_str())
            }
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
            Canon::LastActivityAt => l
                .last_activity_at()
                .map_or(Val::Missing, |t| Val::Num(t.timestamp() as f64)),
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
        _: &Field,
        decay: Decay,
        as_of: DateTime<Utc>,
    ) -> (f64, u32) {
        let mut weight = 0.0;
        let mut count = 0u32;
        for a in self.lead.activities.iter().filter(|a| a.kind == kind) {
            weight += decay.factor_at(a.at, as_of);
            count = count.saturating_add(1);
        }
        (weight, count)
    }

    fn unit_factor(&self, decay: Decay, as_of: DateTime<Utc>) -> f64 {
        self.lead
            .last_activity_at()
            .map_or(1.0, |t| decay.factor_at(t, as_of))
    }
}

/// A flat row; `last_activity_at` is parsed once per row.
pub(crate) struct FlatSource<'a, R: ?Sized> {
    row: &'a R,
    last: Option<DateTime<Utc>>,
    email: Cell<Option<EmailDomainType>>,
    seniority: Cell<Option<Option<Seniority>>>,
}

impl<'a, R: FlatRow + ?Sized> FlatSource<'a, R> {
    pub fn new(row: &'a R) -> Self {
        let last = match row.get(LAST_ACTIVITY_AT) {
            Some(RawValue::Text(s)) => parse_time(s),
            _ => None,
        };
        FlatSource {
            row,
            last,
            email: Cell::new(None),
            seniority: Cell::new(None),
        }
    }

    fn text(&self, name: &str) -> Option<&str> {
        match self.row.get(name) {
            Some(RawValue::Text(s)) if !s.trim().is_empty() => Some(s),
            _ => None,
        }
    }
}

impl<R: FlatRow + ?Sized> Source for FlatSource<'_, R> {
    fn value(&self, f: &Field) -> Val<'_> {
        match f.kind {
            FieldKind::Canon(Canon::EmailDomainType) if self.text(&f.name).is_none() => {
                let d = self
                    .email
                    .get()
                    .unwrap_or_else(|| classify_email(self.text("email")));
                self.email.set(Some(d));
                Val::Text(d.as_str())
            }
            FieldKind::Canon(Canon::Seniority) if self.text(&f.name).is_none() => {
                let s = self
                    .seniority
                    .get()
                    .unwrap_or_else(|| self.text("job_title").and_then(seniority_from_title));
                self.seniority.set(Some(s));
                seniority(s)
            }
            FieldKind::Pseudo(_) => Val::Missing,
            _ => raw(self.row.get(&f.name)),
        }
    }

    fn activity(
        &self,
        _: ActivityType,
        count: &Field,
        decay: Decay,
        as_of: DateTime<Utc>,
    ) -> (f64, u32) {
        let n = self
            .value(count)
            .number()
            .filter(|n| n.is_finite() && *n > 0.0)
            .unwrap_or(0.0);
        (
            n * self.unit_factor(decay, as_of),
            n.min(f64::from(u32::MAX)) as u32,
        )
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
        assert!(parse_time("2026-01-02T03:04:05Z").is_some());
        assert!(parse_time("2026-01-02").is_some());
        assert!(parse_time("2026-01-02 03:04:05").is_some());
        assert!(parse_time("yesterday").is_none());
    }
}
