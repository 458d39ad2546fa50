//! The canonical lead record (docs/concepts.md, "The canonical lead record").
//!
//! Services send leads in this shape; the bundled rules read it; the synthetic generator writes
//! its flat form. [`LeadRecord::flat_value`] is the one place that turns a record into the
//! flat columns training files carry (`<type>_count`, `last_activity_at`, `email_domain_type`,
//! a derived `seniority`; [`LeadRecord::to_flat`] holds them all in a map), so flat files and
//! JSON records can never disagree on what a field means.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::encoder::parse;
use crate::schema::DEFAULT_MISSING_TOKENS;
use crate::value::{RawValue, is_missing_text};

#[cfg(feature = "openapi")]
mod bool_schema;
mod derived;
mod event_type;
mod vocabulary;

pub use derived::{Derived, Fact, LeadError, SourceField, flat_fact};
pub use event_type::{BlankEventType, EventType};
pub use vocabulary::{
    ActivityType, EMAIL_DOMAIN_TYPE, EmailDomainType, LAST_ACTIVITY_AT, PERSONAL_DOMAINS,
    Seniority, UnknownVariant, Vocabulary, classify_email, seniority_from_title,
};

/// One lead as services send it. Every field is optional; fields outside the canonical set are
/// kept in [`LeadRecord::extra`] (a bundle's schema or a rules file may read them).
///
/// Deserializing checks the record ([`LeadRecord::check`]): a derived field sent beside its
/// source (`demo_request_count` beside `activities`, `email_domain_type` beside `email`) must
/// agree with it. `budget_confirmed` and `need_confirmed` read every boolean form the encoder
/// reads (`true`, `1`, `"yes"`, `"Y"`, ...; a missing token is absent).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
// `remote = "Self"`: the derives become inherent functions that the trait impls below wrap,
// so deserializing can check the record without a second copy of the field list.
#[serde(remote = "Self")]
pub struct LeadRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub job_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seniority: Option<Seniority>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub industry: Option<String>,
    #[serde(
        default,
        deserialize_with = "whole::option",
        skip_serializing_if = "Option::is_none"
    )]
    // Any u64: `int64` (utoipa's format for u64) would bound it at 2^63 - 1.
    #[cfg_attr(
        feature = "openapi",
        schema(format = "uint64", maximum = 18446744073709551615_u64)
    )]
    pub employees: Option<u64>,
    /// Within ±10^15 (beyond it, far past any company, a record is refused).
    #[cfg_attr(feature = "openapi", schema(minimum = -1e15, maximum = 1e15))]
    #[serde(
        default,
        deserialize_with = "whole::revenue",
        skip_serializing_if = "Option::is_none"
    )]
    pub annual_revenue: Option<f64>,
    /// ISO 3166 alpha-2, e.g. "GB".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crm: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marketing_automation: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tech_stack: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub activities: Vec<Activity>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flexible_bool"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<bool_schema::FlexibleBool>))]
    pub budget_confirmed: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flexible_bool"
    )]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<bool_schema::FlexibleBool>))]
    pub need_confirmed: Option<bool>,
    #[serde(
        default,
        deserialize_with = "whole::option",
        skip_serializing_if = "Option::is_none"
    )]
    // Any u32: `int32` (utoipa's format for u32) would bound it at 2^31 - 1.
    #[cfg_attr(
        feature = "openapi",
        schema(format = "uint32", maximum = 4294967295_u64)
    )]
    pub timeline_days: Option<u32>,
    /// Outcome data only (closed-loop feedback); never a model feature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disqualification_reason: Option<String>,
    /// Fields outside the canonical set, kept as sent.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl Serialize for LeadRecord {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        LeadRecord::serialize(self, serializer)
    }
}

impl<'de> Deserialize<'de> for LeadRecord {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let record = LeadRecord::deserialize(deserializer)?;
        record.check().map_err(serde::de::Error::custom)?;
        Ok(record)
    }
}

/// A boolean field read by the one boolean parser ([`parse::parse_bool`]): JSON booleans,
/// `0`/`1`, and the yes/no texts; a missing token (the schema defaults) is absent.
fn flexible_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let value = serde_json::Value::deserialize(d)?;
    let raw = RawValue::from_json(&value);
    parse::parse_bool(raw.cell(), &|t| is_missing_text(t, DEFAULT_MISSING_TOKENS))
        .map_err(serde::de::Error::custom)
}

/// One behavioural event. Its type is free text ([`EventType`]): a canonical
/// [`ActivityType`] in any case is spelled canonically, any other type (the CRM's own) is kept
/// as sent; the flat form counts the canonical types, a model trained on a history reads the
/// types it learned from (docs/history.md).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    /// Any text with a non-blank character: a canonical type or the CRM's own.
    #[serde(rename = "type")]
    #[cfg_attr(
        feature = "openapi",
        schema(value_type = String, pattern = r"[^\s\u0085]", example = "demo_request")
    )]
    pub kind: EventType,
    pub at: DateTime<Utc>,
}

impl Activity {
    /// An activity of `kind` at `at`.
    pub fn new(kind: impl Into<EventType>, at: DateTime<Utc>) -> Activity {
        Activity {
            kind: kind.into(),
            at,
        }
    }
}

impl LeadRecord {
    /// Seniority as sent, else derived from the job title.
    pub fn effective_seniority(&self) -> Option<Seniority> {
        self.seniority
            .or_else(|| self.job_title.as_deref().and_then(seniority_from_title))
    }

    /// Number of activities of one type.
    pub fn activity_count(&self, kind: ActivityType) -> usize {
        self.activities.iter().filter(|a| a.kind == kind).count()
    }

    /// Time of the most recent activity, if any.
    pub fn last_activity_at(&self) -> Option<DateTime<Utc>> {
        self.activities.iter().map(|a| a.at).max()
    }

    /// The flat form training files carry: canonical scalar fields, the derived fields
    /// (`email_domain_type`, `seniority`, one `<type>_count` per activity type,
    /// `last_activity_at` as RFC 3339) through [`LeadRecord::fact`], and the other extra
    /// fields as JSON values. Each value is [`LeadRecord::flat_value`]'s.
    pub fn to_flat(&self) -> BTreeMap<String, RawValue> {
        let counts = ActivityType::ALL.iter().map(|kind| kind.count_column());
        let names = FLAT_FIELDS
            .iter()
            .map(|&name| name.to_string())
            .chain(counts);
        let extra = self.extra.keys().filter(|name| Derived::of(name).is_none());
        names
            .chain(extra.cloned())
            .map(|name| {
                let value = self.flat_value(&name);
                (name, value)
            })
            .collect()
    }

    /// The value [`LeadRecord::to_flat`] holds under `name` (missing when it holds none),
    /// without building the map: a model reads a record column by column, and building and
    /// dropping the whole map (a `String` key per field, `<type>_count` names formatted per
    /// activity type) was a tenth of a served request's work. An extra field wins over a
    /// canonical one of its name, as in the map.
    pub fn flat_value(&self, name: &str) -> RawValue {
        if let Some(field) = Derived::of(name) {
            return match self.fact(field) {
                Fact::Sent(v) => RawValue::from_json(v),
                Fact::Count(n) => RawValue::Number(n as f64),
                Fact::Time(t) => t.map_or(RawValue::Missing, |t| RawValue::Text(t.to_rfc3339())),
                Fact::EmailDomain(d) => RawValue::Text(d.as_str().to_string()),
                Fact::Seniority(s) => s.map_or(RawValue::Missing, |s| {
                    RawValue::Text(s.as_str().to_string())
                }),
            };
        }
        if let Some(value) = self.extra.get(name) {
            return RawValue::from_json(value);
        }
        let text = |v: &Option<String>| v.clone().map_or(RawValue::Missing, RawValue::Text);
        match name {
            "id" => text(&self.id),
            "email" => text(&self.email),
            "job_title" => text(&self.job_title),
            "industry" => text(&self.industry),
            "employees" => opt_number(self.employees.map(|v| v as f64)),
            "annual_revenue" => opt_number(self.annual_revenue),
            "country" => text(&self.country),
            "crm" => text(&self.crm),
            "marketing_automation" => text(&self.marketing_automation),
            "tech_stack" if !self.tech_stack.is_empty() => RawValue::List(self.tech_stack.clone()),
            "budget_confirmed" => self
                .budget_confirmed
                .map_or(RawValue::Missing, RawValue::Bool),
            "need_confirmed" => self
                .need_confirmed
                .map_or(RawValue::Missing, RawValue::Bool),
            "timeline_days" => opt_number(self.timeline_days.map(f64::from)),
            _ => RawValue::Missing,
        }
    }
}

/// The fields every record's flat form has besides one `<type>_count` per activity type.
const FLAT_FIELDS: &[&str] = &[
    "id",
    "email",
    EMAIL_DOMAIN_TYPE,
    "job_title",
    "seniority",
    "industry",
    "employees",
    "annual_revenue",
    "country",
    "crm",
    "marketing_automation",
    "tech_stack",
    LAST_ACTIVITY_AT,
    "budget_confirmed",
    "need_confirmed",
    "timeline_days",
];

fn opt_number(v: Option<f64>) -> RawValue {
    v.map_or(RawValue::Missing, RawValue::Number)
}

/// Numbers as the API's schema states them. Whole numbers as JSON Schema counts them: `250`
/// and `250.0` alike (clients that write every number as a float — JavaScript, pandas — send
/// the latter); fractions, negatives and values too large for the field stay errors. Revenue
/// within ±10^15.
mod whole {
    use std::fmt;
    use std::marker::PhantomData;

    use serde::Deserializer;
    use serde::de::{Error, Unexpected, Visitor};

    pub fn option<'de, D: Deserializer<'de>, T: TryFrom<u64>>(d: D) -> Result<Option<T>, D::Error> {
        d.deserialize_option(Whole(PhantomData))
    }

    /// Largest annual revenue accepted either way: far beyond any company, and far inside
    /// what the encoder can standardise for any sensible training range.
    pub const MAX_REVENUE: f64 = 1e15;

    pub fn revenue<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        let v = <Option<f64> as serde::Deserialize>::deserialize(d)?;
        match v {
            Some(x) if !(-MAX_REVENUE..=MAX_REVENUE).contains(&x) => Err(D::Error::invalid_value(
                Unexpected::Float(x),
                &"a number from -1e15 to 1e15",
            )),
            v => Ok(v),
        }
    }

    struct Whole<T>(PhantomData<T>);

    impl<'de, T: TryFrom<u64>> Visitor<'de> for Whole<T> {
        type Value = Option<T>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(
                f,
                "a non-negative whole number that fits in {}",
                std::any::type_name::<T>()
            )
        }

        fn visit_none<E: Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_unit<E: Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }

        fn visit_u64<E: Error>(self, v: u64) -> Result<Self::Value, E> {
            T::try_from(v)
                .map(Some)
                .map_err(|_| E::invalid_value(Unexpected::Unsigned(v), &self))
        }

        fn visit_i64<E: Error>(self, v: i64) -> Result<Self::Value, E> {
            match u64::try_from(v) {
                Ok(v) => self.visit_u64(v),
                Err(_) => Err(E::invalid_value(Unexpected::Signed(v), &self)),
            }
        }

        fn visit_f64<E: Error>(self, v: f64) -> Result<Self::Value, E> {
            // 2^64 is exactly representable; anything below it with no fraction fits a u64.
            if v.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(&v) {
                self.visit_u64(v as u64)
            } else {
                Err(E::invalid_value(Unexpected::Float(v), &self))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Cell;

    #[test]
    fn email_classes() {
        assert_eq!(
            classify_email(Some("ann@acme.io")),
            EmailDomainType::Business
        );
        assert_eq!(
            classify_email(Some("Ann@GMAIL.com")),
            EmailDomainType::Personal
        );
        assert_eq!(classify_email(Some("nobody")), EmailDomainType::Missing);
        assert_eq!(classify_email(None), EmailDomainType::Missing);
    }

    #[test]
    fn seniority_from_titles() {
        assert_eq!(
            seniority_from_title("Marketing Director"),
            Some(Seniority::Director)
        );
        assert_eq!(
            seniority_from_title("Marketing Intern"),
            Some(Seniority::Intern)
        );
        assert_eq!(seniority_from_title("VP Sales"), Some(Seniority::Vp));
        assert_eq!(
            seniority_from_title("Vice President, Sales"),
            Some(Seniority::Vp)
        );
        assert_eq!(seniority_from_title("CEO"), Some(Seniority::CLevel));
        assert_eq!(
            seniority_from_title("Product Manager"),
            Some(Seniority::Manager)
        );
        assert_eq!(
            seniority_from_title("Engineer"),
            Some(Seniority::IndividualContributor)
        );
        assert_eq!(seniority_from_title("  "), None);
        assert_eq!(seniority_from_title("Team Lead"), Some(Seniority::Manager));
        assert_eq!(
            seniority_from_title("Leadership coach"),
            Some(Seniority::IndividualContributor)
        );
        assert_eq!(
            seniority_from_title("Co-founder & CTO"),
            Some(Seniority::CLevel)
        );
        assert_eq!(
            seniority_from_title("Conductor"),
            Some(Seniority::IndividualContributor)
        );
    }

    #[test]
    fn record_round_trips_and_flattens() {
        let json = r#"{"id":"L1","email":"a@acme.io","job_title":"Director of IT",
            "employees":500,"country":"GB","tech_stack":["salesforce"],
            "activities":[{"type":"pricing_page_visit","at":"2026-01-02T00:00:00Z"},
                          {"type":"pricing_page_visit","at":"2026-02-02T00:00:00Z"}],
            "meddpicc_champion": true}"#;
        let lead: LeadRecord = serde_json::from_str(json).expect("valid record");
        assert_eq!(
            lead.extra.get("meddpicc_champion"),
            Some(&serde_json::Value::Bool(true))
        );
        let flat = lead.to_flat();
        assert_eq!(flat["pricing_page_visit_count"], RawValue::Number(2.0));
        assert_eq!(flat["demo_request_count"], RawValue::Number(0.0));
        assert_eq!(flat["seniority"], RawValue::Text("director".into()));
        assert_eq!(flat["email_domain_type"], RawValue::Text("business".into()));
        assert_eq!(
            flat[LAST_ACTIVITY_AT],
            RawValue::Text("2026-02-02T00:00:00+00:00".into())
        );
        let back: LeadRecord =
            serde_json::from_str(&serde_json::to_string(&lead).expect("serialises"))
                .expect("parses");
        assert_eq!(back, lead);
        // One field by name is the map's; a name the map lacks is missing.
        for (name, value) in &flat {
            assert_eq!(&lead.flat_value(name), value, "{name}");
        }
        assert_eq!(flat["meddpicc_champion"], RawValue::Bool(true));
        assert_eq!(flat["industry"], RawValue::Missing);
        assert!(!flat.contains_key("not_a_field"));
        assert_eq!(lead.flat_value("not_a_field"), RawValue::Missing);
    }

    #[test]
    fn activity_types_are_free_text() {
        let own: Activity =
            serde_json::from_str(r#"{"type":"phone_call","at":"2026-01-01T00:00:00Z"}"#)
                .expect("a CRM's own type");
        assert_eq!(own.kind.as_str(), "phone_call");
        let canonical: Activity =
            serde_json::from_str(r#"{"type":"Demo_Request","at":"2026-01-01T00:00:00Z"}"#)
                .expect("a canonical type in another case");
        assert_eq!(canonical.kind, ActivityType::DemoRequest);
        let lead = LeadRecord {
            activities: vec![own, canonical],
            ..LeadRecord::default()
        };
        assert_eq!(lead.to_flat()["demo_request_count"], RawValue::Number(1.0));
        let err = serde_json::from_str::<Activity>(r#"{"type":" ","at":"2026-01-01T00:00:00Z"}"#)
            .expect_err("blank");
        assert!(err.to_string().contains("blank"), "{err}");
    }

    /// Issue 10: a record that sends `activities` and a disagreeing derived field is refused,
    /// naming the field; one that agrees (or sends the derived field alone) is read.
    #[test]
    fn derived_fields_sent_beside_their_source_must_agree() {
        let base = r#""activities": [{"type": "demo_request", "at": "2026-01-02T00:00:00Z"}]"#;
        for (extra, field) in [
            (r#""demo_request_count": 0"#, "demo_request_count"),
            (r#""website_visit_count": "2""#, "website_visit_count"),
            (r#""last_activity_at": "2025-12-01""#, "last_activity_at"),
        ] {
            let err = serde_json::from_str::<LeadRecord>(&format!("{{{base}, {extra}}}"))
                .expect_err("disagrees");
            assert!(
                err.to_string().contains(field) && err.to_string().contains("activities"),
                "{err}"
            );
        }
        let err = serde_json::from_str::<LeadRecord>(
            r#"{"email": "ann@gmail.com", "email_domain_type": "business"}"#,
        )
        .expect_err("disagrees");
        assert!(err.to_string().contains("personal"), "{err}");
        for agreeing in [
            format!(r#"{{{base}, "demo_request_count": 1, "website_visit_count": "0"}}"#),
            format!(r#"{{{base}, "last_activity_at": "2026-01-02", "email_open_count": null}}"#),
            format!(r#"{{{base}, "demo_request_count": "N/A"}}"#),
            r#"{"email": "ann@gmail.com", "email_domain_type": "Personal"}"#.to_string(),
        ] {
            let lead: LeadRecord = serde_json::from_str(&agreeing).expect("agrees");
            assert_eq!(lead.check(), Ok(()));
        }
    }

    /// The precedence, as `to_flat` (the model) sees it: derived from the source when the
    /// record has one, else as sent.
    #[test]
    fn derived_fields_follow_one_precedence() {
        let sent_only: LeadRecord = serde_json::from_str(
            r#"{"demo_request_count": 3, "last_activity_at": "2026-01-05",
                "email_domain_type": "business", "seniority": "vp", "job_title": "Intern"}"#,
        )
        .expect("valid");
        let flat = sent_only.to_flat();
        assert_eq!(flat["demo_request_count"], RawValue::Number(3.0));
        assert_eq!(flat["website_visit_count"], RawValue::Number(0.0));
        assert_eq!(flat[LAST_ACTIVITY_AT], RawValue::Text("2026-01-05".into()));
        assert_eq!(flat[EMAIL_DOMAIN_TYPE], RawValue::Text("business".into()));
        assert_eq!(flat["seniority"], RawValue::Text("vp".into()));
        assert_eq!(
            sent_only.fact(Derived::Count(ActivityType::DemoRequest)),
            Fact::Sent(&serde_json::json!(3))
        );
        // Built in code, unchecked: the source wins.
        let mut both = sent_only.clone();
        both.email = Some("a@gmail.com".into());
        both.activities = vec![Activity::new(
            ActivityType::EmailOpen,
            DateTime::parse_from_rfc3339("2026-02-01T00:00:00Z")
                .expect("time")
                .to_utc(),
        )];
        assert!(both.check().is_err());
        let flat = both.to_flat();
        assert_eq!(flat["demo_request_count"], RawValue::Number(0.0));
        assert_eq!(flat["email_open_count"], RawValue::Number(1.0));
        assert_eq!(flat[EMAIL_DOMAIN_TYPE], RawValue::Text("personal".into()));
        assert_eq!(
            flat[LAST_ACTIVITY_AT],
            RawValue::Text("2026-02-01T00:00:00+00:00".into())
        );
    }

    #[test]
    fn flat_rows_derive_what_they_lack() {
        let none = |t: &str| t.trim().is_empty() || t.eq_ignore_ascii_case("n/a");
        let row =
            |email: &'static str, domain: &'static str, title: &'static str, sen: &'static str| {
                move |name: &str| match name {
                    "email" => Cell::Text(email),
                    EMAIL_DOMAIN_TYPE => Cell::Text(domain),
                    "job_title" => Cell::Text(title),
                    "seniority" => Cell::Text(sen),
                    _ => Cell::Missing,
                }
            };
        let get = row("a@gmail.com", "business", "VP Sales", "N/A");
        assert_eq!(
            flat_fact(EMAIL_DOMAIN_TYPE, get, &none),
            Cell::Text("personal")
        );
        assert_eq!(flat_fact("seniority", get, &none), Cell::Text("vp"));
        let get = row("", "business", "VP Sales", "manager");
        assert_eq!(
            flat_fact(EMAIL_DOMAIN_TYPE, get, &none),
            Cell::Text("business")
        );
        assert_eq!(flat_fact("seniority", get, &none), Cell::Text("manager"));
        let get = row("", "", "", "");
        assert_eq!(flat_fact(EMAIL_DOMAIN_TYPE, get, &none), Cell::Text(""));
        assert_eq!(flat_fact("seniority", get, &none), Cell::Missing);
        assert_eq!(flat_fact("country", get, &none), Cell::Missing);
    }

    /// Issue 10: the record's booleans read every form the encoder reads.
    #[test]
    fn booleans_read_every_encoder_form() {
        for (sent, want) in [
            ("true", Some(true)),
            ("1", Some(true)),
            (r#""1""#, Some(true)),
            (r#""yes""#, Some(true)),
            (r#""Y""#, Some(true)),
            ("0", Some(false)),
            (r#""No""#, Some(false)),
            (r#""N/A""#, None),
            ("null", None),
        ] {
            let lead: LeadRecord =
                serde_json::from_str(&format!(r#"{{"budget_confirmed": {sent}}}"#))
                    .expect("a boolean form");
            assert_eq!(lead.budget_confirmed, want, "{sent}");
        }
        let err = serde_json::from_str::<LeadRecord>(r#"{"need_confirmed": "maybe"}"#)
            .expect_err("not a boolean");
        assert!(err.to_string().contains("maybe"), "{err}");
    }

    #[test]
    fn closed_sets_parse_ignoring_case_and_list_their_names() {
        assert_eq!("C_Level".parse::<Seniority>(), Ok(Seniority::CLevel));
        assert_eq!(ActivityType::DemoRequest.to_string(), "demo_request");
        assert_eq!(ActivityType::ALL.len(), 13);
        let err = "boss".parse::<Seniority>().expect_err("unknown");
        assert_eq!(err.vocabulary, Vocabulary::Seniority);
        assert_eq!(err.expected.first(), Some(&"intern"));
    }

    #[test]
    fn whole_numbers_may_be_written_as_floats() {
        let lead: LeadRecord =
            serde_json::from_str(r#"{"employees": 15969.0, "timeline_days": 30}"#).expect("whole");
        assert_eq!(
            (lead.employees, lead.timeline_days),
            (Some(15969), Some(30))
        );
        let lead: LeadRecord =
            serde_json::from_str(r#"{"employees": null, "timeline_days": 30.0}"#).expect("null");
        assert_eq!((lead.employees, lead.timeline_days), (None, Some(30)));
        let lead: LeadRecord =
            serde_json::from_str(r#"{"annual_revenue": -1e15}"#).expect("at the bound");
        assert_eq!(lead.annual_revenue, Some(-1e15));
        for bad in [
            r#"{"employees": 12.5}"#,
            r#"{"employees": -1}"#,
            r#"{"employees": "many"}"#,
            r#"{"timeline_days": 4294967296}"#,
            r#"{"employees": 1e30}"#,
            r#"{"annual_revenue": -5.1e138}"#,
            r#"{"annual_revenue": 1.1e15}"#,
        ] {
            assert!(serde_json::from_str::<LeadRecord>(bad).is_err(), "{bad}");
        }
    }
}
