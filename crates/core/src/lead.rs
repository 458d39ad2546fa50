//! The canonical lead record (DESIGN.md, "The canonical lead record").
//!
//! Services send leads in this shape; the bundled rules read it; the synthetic generator writes
//! its flat form. [`LeadRecord::to_flat`] is the one place that turns a record into the flat
//! columns training files carry (`<type>_count`, `last_activity_at`, `email_domain_type`,
//! a derived `seniority`), so flat files and JSON records can never disagree on what a field
//! means.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::value::RawValue;

/// One lead as services send it. Every field is optional; fields outside the canonical set are
/// kept in [`LeadRecord::extra`] (a bundle's schema or a rules file may read them).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_confirmed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub need_confirmed: Option<bool>,
    #[serde(
        default,
        deserialize_with = "whole::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub timeline_days: Option<u32>,
    /// Outcome data only (closed-loop feedback); never a model feature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disqualification_reason: Option<String>,
    /// Fields outside the canonical set, kept as sent.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// One behavioural event.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    #[serde(rename = "type")]
    pub kind: ActivityType,
    pub at: DateTime<Utc>,
}

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The wire name (snake_case).
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                let lower = s.trim().to_ascii_lowercase();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == lower)
                    .ok_or_else(|| UnknownVariant {
                        kind: stringify!($name),
                        value: s.to_string(),
                        expected: $name::ALL.iter().map(|v| v.as_str()).collect(),
                    })
            }
        }
    };
}

string_enum!(
    /// Activity types of the canonical record.
    ActivityType {
        WebsiteVisit => "website_visit",
        PricingPageVisit => "pricing_page_visit",
        CareersPageVisit => "careers_page_visit",
        DemoRequest => "demo_request",
        WebinarAttended => "webinar_attended",
        CaseStudyDownload => "case_study_download",
        EbookDownload => "ebook_download",
        BlogDownload => "blog_download",
        EmailOpen => "email_open",
        NewsletterSignup => "newsletter_signup",
        TrialSignup => "trial_signup",
        TeammateInvited => "teammate_invited",
        CoreFeatureUsed => "core_feature_used",
    }
);

string_enum!(
    /// Contact seniority, lowest first.
    Seniority {
        Intern => "intern",
        IndividualContributor => "individual_contributor",
        Manager => "manager",
        Director => "director",
        Vp => "vp",
        CLevel => "c_level",
    }
);

string_enum!(
    /// What an email address says about the lead.
    EmailDomainType {
        Business => "business",
        Personal => "personal",
        Missing => "missing",
    }
);

/// A string that names no variant of a canonical enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} {value:?}; expected one of {expected:?}")]
pub struct UnknownVariant {
    pub kind: &'static str,
    pub value: String,
    pub expected: Vec<&'static str>,
}

impl ActivityType {
    /// Column name of this activity's count in flat files.
    pub fn count_column(self) -> String {
        format!("{}_count", self.as_str())
    }
}

/// Flat-file column holding the time of the most recent activity.
pub const LAST_ACTIVITY_AT: &str = "last_activity_at";
/// Flat-file column holding the classified email domain.
pub const EMAIL_DOMAIN_TYPE: &str = "email_domain_type";

/// Free-mail domains; an address there says nothing about an employer.
pub const PERSONAL_DOMAINS: &[&str] = &[
    "gmail.com",
    "googlemail.com",
    "yahoo.com",
    "yahoo.co.uk",
    "hotmail.com",
    "hotmail.co.uk",
    "outlook.com",
    "live.com",
    "msn.com",
    "aol.com",
    "icloud.com",
    "me.com",
    "mac.com",
    "protonmail.com",
    "proton.me",
    "gmx.com",
    "gmx.de",
    "web.de",
    "mail.com",
    "yandex.ru",
    "qq.com",
    "163.com",
    "orange.fr",
    "free.fr",
    "btinternet.com",
    "zoho.com",
];

/// Classifies an email address by its domain: a free-mail provider is `Personal`, any other
/// well-formed domain `Business`, an absent or malformed address `Missing`. Allocation-free:
/// the rules engine calls it once per lead.
pub fn classify_email(email: Option<&str>) -> EmailDomainType {
    let Some((_, domain)) = email.map(str::trim).and_then(|e| e.rsplit_once('@')) else {
        return EmailDomainType::Missing;
    };
    if domain.is_empty() || !domain.contains('.') {
        EmailDomainType::Missing
    } else if PERSONAL_DOMAINS
        .iter()
        .any(|d| d.eq_ignore_ascii_case(domain))
    {
        EmailDomainType::Personal
    } else {
        EmailDomainType::Business
    }
}

/// Derives seniority from a free-text job title; `None` when the title is blank.
///
/// One pass over the title's words (ASCII case ignored), no allocation: the rules engine calls
/// it once per lead that sends no seniority. Precedence, highest first: intern-like words
/// (`intern*`, `trainee`, `student`, `apprentice`), C-level (`ceo`, `cto`, ..., `chief`,
/// `founder`, `owner`, `president` not after `vice`), VP (`vp`, `svp`, `evp`,
/// `vice president`), director (`director`, `head of`), manager (`manager`, `supervisor`,
/// `lead`), else individual contributor.
pub fn seniority_from_title(title: &str) -> Option<Seniority> {
    let is = |word: &str, options: &[&str]| options.iter().any(|o| word.eq_ignore_ascii_case(o));
    let starts = |word: &str, prefix: &str| {
        word.len() >= prefix.len()
            && word.as_bytes()[..prefix.len()].eq_ignore_ascii_case(prefix.as_bytes())
    };
    let mut best: Option<Seniority> = None;
    let mut previous = "";
    for word in title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let found = if ["intern", "trainee", "student", "apprentice"]
            .iter()
            .any(|p| starts(word, p))
        {
            Seniority::Intern
        } else if is(word, &["president"]) && is(previous, &["vice"]) {
            Seniority::Vp
        } else if is(
            word,
            &[
                "ceo",
                "cto",
                "cfo",
                "cmo",
                "coo",
                "cio",
                "chief",
                "founder",
                "owner",
                "president",
            ],
        ) {
            Seniority::CLevel
        } else if is(word, &["vp", "svp", "evp"]) {
            Seniority::Vp
        } else if is(word, &["director"]) || (is(word, &["of"]) && is(previous, &["head"])) {
            Seniority::Director
        } else if is(word, &["manager", "supervisor", "lead"]) {
            Seniority::Manager
        } else {
            Seniority::IndividualContributor
        };
        best = Some(match best {
            // An intern-like word wins over any rank ("CEO intern" is an intern).
            Some(Seniority::Intern) => Seniority::Intern,
            _ if found == Seniority::Intern => Seniority::Intern,
            Some(b) => b.max(found),
            None => found,
        });
        previous = word;
    }
    best
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

    /// The flat form training files carry: canonical scalar fields, `email_domain_type`,
    /// a `seniority` derived from the title when absent, one `<type>_count` per activity type
    /// and `last_activity_at` (RFC 3339). Extra fields are passed through as JSON values.
    pub fn to_flat(&self) -> BTreeMap<String, RawValue> {
        let mut flat = BTreeMap::new();
        let mut put = |name: &str, value: RawValue| {
            flat.insert(name.to_string(), value);
        };
        let text = |v: &Option<String>| v.clone().map_or(RawValue::Missing, RawValue::Text);
        put("id", text(&self.id));
        put("email", text(&self.email));
        put(
            EMAIL_DOMAIN_TYPE,
            RawValue::Text(classify_email(self.email.as_deref()).as_str().to_string()),
        );
        put("job_title", text(&self.job_title));
        put(
            "seniority",
            self.effective_seniority().map_or(RawValue::Missing, |s| {
                RawValue::Text(s.as_str().to_string())
            }),
        );
        put("industry", text(&self.industry));
        put("employees", opt_number(self.employees.map(|v| v as f64)));
        put("annual_revenue", opt_number(self.annual_revenue));
        put("country", text(&self.country));
        put("crm", text(&self.crm));
        put("marketing_automation", text(&self.marketing_automation));
        put(
            "tech_stack",
            if self.tech_stack.is_empty() {
                RawValue::Missing
            } else {
                RawValue::List(self.tech_stack.clone())
            },
        );
        for &kind in ActivityType::ALL {
            put(
                &kind.count_column(),
                RawValue::Number(self.activity_count(kind) as f64),
            );
        }
        put(
            LAST_ACTIVITY_AT,
            self.last_activity_at()
                .map_or(RawValue::Missing, |t| RawValue::Text(t.to_rfc3339())),
        );
        put(
            "budget_confirmed",
            self.budget_confirmed
                .map_or(RawValue::Missing, RawValue::Bool),
        );
        put(
            "need_confirmed",
            self.need_confirmed
                .map_or(RawValue::Missing, RawValue::Bool),
        );
        put(
            "timeline_days",
            opt_number(self.timeline_days.map(f64::from)),
        );
        for (name, value) in &self.extra {
            flat.insert(name.clone(), RawValue::from_json(value));
        }
        flat
    }
}

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
    }

    #[test]
    fn unknown_activity_type_is_an_error() {
        let err = serde_json::from_str::<Activity>(
            r#"{"type":"phone_call","at":"2026-01-01T00:00:00Z"}"#,
        )
        .expect_err("unknown type");
        assert!(err.to_string().contains("phone_call"), "{err}");
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
