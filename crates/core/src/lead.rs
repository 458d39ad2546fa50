//! The canonical lead record (DESIGN.md, "The canonical lead record").
//!
//! Services send leads in this shape; the bundled rules read it; the synthetic generator writes
//! its flat form. [`LeadRecord::to_flat`] is the one place that turns a record into the flat
//! columns training files carry (`<type>_count`, `last_activity_at`, `email_domain_type`,
//! a derived `seniority`), so flat files and JSON records can never disagree on what a field
//! means.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use strum::VariantArray;

use crate::encoder::parse;
use crate::schema::DEFAULT_MISSING_TOKENS;
use crate::value::{Cell, RawValue, is_missing_text};

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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub employees: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
    pub budget_confirmed: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "flexible_bool"
    )]
    pub need_confirmed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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

/// One behavioural event.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Activity {
    #[serde(rename = "type")]
    pub kind: ActivityType,
    pub at: DateTime<Utc>,
}

/// The error of a closed set's `FromStr`: the value, which set, and what it accepts.
fn unknown<T: VariantArray + Into<&'static str> + Copy>(
    vocabulary: Vocabulary,
    value: &str,
) -> UnknownVariant {
    UnknownVariant {
        vocabulary,
        value: value.to_string(),
        expected: T::VARIANTS.iter().map(|&v| v.into()).collect(),
    }
}

/// Derives for the closed sets of the canonical record: serde and `Display`/`FromStr` share
/// one snake_case wire name per variant (`FromStr` ignores ASCII case), `ALL` lists the
/// variants in declaration order.
macro_rules! closed_set {
    ($name:ident) => {
        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = <$name as VariantArray>::VARIANTS;

            /// The wire name (snake_case).
            pub fn as_str(self) -> &'static str {
                self.into()
            }
        }
    };
}

/// Activity types of the canonical record.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(
    serialize_all = "snake_case",
    ascii_case_insensitive,
    parse_err_ty = UnknownVariant,
    parse_err_fn = unknown_activity
)]
pub enum ActivityType {
    WebsiteVisit,
    PricingPageVisit,
    CareersPageVisit,
    DemoRequest,
    WebinarAttended,
    CaseStudyDownload,
    EbookDownload,
    BlogDownload,
    EmailOpen,
    NewsletterSignup,
    TrialSignup,
    TeammateInvited,
    CoreFeatureUsed,
}
closed_set!(ActivityType);

fn unknown_activity(value: &str) -> UnknownVariant {
    unknown::<ActivityType>(Vocabulary::ActivityType, value)
}

/// Contact seniority, lowest first.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(
    serialize_all = "snake_case",
    ascii_case_insensitive,
    parse_err_ty = UnknownVariant,
    parse_err_fn = unknown_seniority
)]
pub enum Seniority {
    Intern,
    IndividualContributor,
    Manager,
    Director,
    Vp,
    CLevel,
}
closed_set!(Seniority);

fn unknown_seniority(value: &str) -> UnknownVariant {
    unknown::<Seniority>(Vocabulary::Seniority, value)
}

/// What an email address says about the lead.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
    strum::VariantArray,
)]
#[serde(rename_all = "snake_case")]
#[strum(
    serialize_all = "snake_case",
    ascii_case_insensitive,
    parse_err_ty = UnknownVariant,
    parse_err_fn = unknown_email_domain
)]
pub enum EmailDomainType {
    Business,
    Personal,
    Missing,
}
closed_set!(EmailDomainType);

fn unknown_email_domain(value: &str) -> UnknownVariant {
    unknown::<EmailDomainType>(Vocabulary::EmailDomainType, value)
}

/// The closed sets of the canonical record, as errors name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::Display)]
#[strum(serialize_all = "snake_case")]
pub enum Vocabulary {
    ActivityType,
    Seniority,
    EmailDomainType,
}

/// A string that names no variant of a canonical enum.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {vocabulary} {value:?}; expected one of {expected:?}")]
pub struct UnknownVariant {
    pub vocabulary: Vocabulary,
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

/// A flat-form field that is derived from another field of the record, and what from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Derived {
    /// `<type>_count`, from `activities`.
    Count(ActivityType),
    /// `last_activity_at`, from `activities`.
    LastActivityAt,
    /// `email_domain_type`, from `email`.
    EmailDomainType,
    /// `seniority`, from `job_title` (a seniority sent wins over the title).
    Seniority,
}

/// The fields derived fields come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, strum::Display, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum SourceField {
    Activities,
    Email,
    JobTitle,
}

impl Derived {
    /// The derived field a flat-form name refers to, if it is one.
    pub fn of(name: &str) -> Option<Derived> {
        match name {
            LAST_ACTIVITY_AT => Some(Derived::LastActivityAt),
            EMAIL_DOMAIN_TYPE => Some(Derived::EmailDomainType),
            "seniority" => Some(Derived::Seniority),
            _ => name
                .strip_suffix("_count")
                .and_then(|t| ActivityType::ALL.iter().find(|a| a.as_str() == t))
                .map(|&a| Derived::Count(a)),
        }
    }

    /// The field it is derived from.
    pub fn source(self) -> SourceField {
        match self {
            Derived::Count(_) | Derived::LastActivityAt => SourceField::Activities,
            Derived::EmailDomainType => SourceField::Email,
            Derived::Seniority => SourceField::JobTitle,
        }
    }
}

/// What a record says for a derived field once the precedence is applied (`docs/values.md`):
/// derived from its source when the record has the source, else the value sent for it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fact<'a> {
    /// The value the record sent for the field; it has no source to derive it from.
    Sent(&'a serde_json::Value),
    /// Number of activities of a type (0 when the record has neither activities nor a count).
    Count(usize),
    /// Time of the latest activity.
    Time(Option<DateTime<Utc>>),
    /// The email's class (`missing` when there is neither an email nor a class).
    EmailDomain(EmailDomainType),
    /// The seniority sent, else derived from the title.
    Seniority(Option<Seniority>),
}

/// A record whose derived field disagrees with the field it is derived from.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error(
    "field {field:?}: {sent} disagrees with the record's `{from}`, which gives {derived}; send one of them, or make them agree"
)]
pub struct LeadError {
    pub field: String,
    /// The value sent for the derived field.
    pub sent: serde_json::Value,
    /// The value derived from the source field, as text.
    pub derived: String,
    pub from: SourceField,
}

/// The flat-row form of the derivation (files, where there are no dated activities): the
/// cell a derived column holds once the precedence is applied. `get` reads a column's cell
/// (`Cell::Missing` when the row has no such column); `is_missing` is the derived column's
/// missing-token test, used for the source column too. Allocation-free: the encoder and the
/// rules call it per cell.
///
/// - `email_domain_type`: the class of `email` when the row has an email, else the cell as
///   sent, else `missing`;
/// - `seniority`: the cell as sent, else derived from `job_title`;
/// - any other column: its own cell.
pub fn flat_fact<'a>(
    name: &str,
    get: impl Fn(&str) -> Cell<'a>,
    is_missing: &dyn Fn(&str) -> bool,
) -> Cell<'a> {
    let present = |cell: &Cell<'_>| match cell {
        Cell::Missing => false,
        Cell::Text(t) => !is_missing(t),
        _ => true,
    };
    match Derived::of(name) {
        Some(Derived::EmailDomainType) => match get("email") {
            Cell::Text(email) if !is_missing(email) => {
                Cell::Text(classify_email(Some(email)).as_str())
            }
            _ => {
                let own = get(name);
                if present(&own) {
                    own
                } else {
                    Cell::Text(EmailDomainType::Missing.as_str())
                }
            }
        },
        Some(Derived::Seniority) => {
            let own = get(name);
            if present(&own) {
                return own;
            }
            match get("job_title") {
                Cell::Text(title) if !is_missing(title) => {
                    seniority_from_title(title).map_or(Cell::Missing, |s| Cell::Text(s.as_str()))
                }
                _ => Cell::Missing,
            }
        }
        _ => get(name),
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

    /// A value sent in `extra` (JSON `null` is not sent).
    fn sent(&self, name: &str) -> Option<&serde_json::Value> {
        self.extra.get(name).filter(|v| !v.is_null())
    }

    /// Whether the record has an email to classify (a missing token is no email).
    fn has_email(&self) -> bool {
        self.email
            .as_deref()
            .is_some_and(|e| !is_missing_text(e, DEFAULT_MISSING_TOKENS))
    }

    /// The one derivation of the record's derived fields, with its precedence: from the
    /// source when the record has it (activities, an email), else as sent; seniority as sent,
    /// else from the title. [`LeadRecord::to_flat`] (the model's input) and the rules engine
    /// both read derived fields through it, so they cannot disagree.
    pub fn fact(&self, field: Derived) -> Fact<'_> {
        match field {
            Derived::Count(kind) => {
                match (self.activities.is_empty(), self.sent(&kind.count_column())) {
                    (true, Some(v)) => Fact::Sent(v),
                    _ => Fact::Count(self.activity_count(kind)),
                }
            }
            Derived::LastActivityAt => {
                match (self.activities.is_empty(), self.sent(LAST_ACTIVITY_AT)) {
                    (true, Some(v)) => Fact::Sent(v),
                    _ => Fact::Time(self.last_activity_at()),
                }
            }
            Derived::EmailDomainType => match (self.has_email(), self.sent(EMAIL_DOMAIN_TYPE)) {
                (false, Some(v)) => Fact::Sent(v),
                _ => Fact::EmailDomain(classify_email(self.email.as_deref())),
            },
            Derived::Seniority => Fact::Seniority(self.effective_seniority()),
        }
    }

    /// Checks that every derived field sent beside its source agrees with it (a count equal to
    /// the number of activities of its type, `last_activity_at` the same instant as the latest
    /// activity, `email_domain_type` the email's class, ASCII case ignored). A value that is
    /// absent, `null` or a missing token is not sent. Seniority is exempt: a seniority sent
    /// wins over the title.
    ///
    /// # Errors
    /// The first disagreeing field, with both values.
    pub fn check(&self) -> Result<(), LeadError> {
        let is_missing = |t: &str| is_missing_text(t, DEFAULT_MISSING_TOKENS);
        let mut fields: Vec<Derived> = Vec::new();
        if !self.activities.is_empty() {
            fields.extend(ActivityType::ALL.iter().map(|&a| Derived::Count(a)));
            fields.push(Derived::LastActivityAt);
        }
        if self.has_email() {
            fields.push(Derived::EmailDomainType);
        }
        for field in fields {
            let name = match field {
                Derived::Count(kind) => kind.count_column(),
                Derived::LastActivityAt => LAST_ACTIVITY_AT.to_string(),
                Derived::EmailDomainType | Derived::Seniority => EMAIL_DOMAIN_TYPE.to_string(),
            };
            let Some(sent) = self.sent(&name) else {
                continue;
            };
            let raw = RawValue::from_json(sent);
            let cell = raw.cell();
            if matches!(cell, Cell::Text(t) if is_missing(t)) {
                continue;
            }
            let (agrees, derived) = match field {
                Derived::Count(kind) => {
                    let n = self.activity_count(kind);
                    let sent = parse::parse_number(cell, &is_missing);
                    (sent == Ok(Some(n as f64)), n.to_string())
                }
                Derived::LastActivityAt => {
                    let t = self.last_activity_at();
                    let sent = parse::parse_time(cell, &is_missing);
                    (
                        sent.is_ok_and(|s| s == t),
                        t.map_or_else(|| "no time".to_string(), |t| t.to_rfc3339()),
                    )
                }
                Derived::EmailDomainType | Derived::Seniority => {
                    let d = classify_email(self.email.as_deref());
                    let sent = parse::parse_level(cell, &is_missing);
                    (
                        sent.is_ok_and(|s| s.is_some_and(|s| s.eq_ignore_ascii_case(d.as_str()))),
                        d.as_str().to_string(),
                    )
                }
            };
            if !agrees {
                return Err(LeadError {
                    field: name,
                    sent: sent.clone(),
                    derived,
                    from: field.source(),
                });
            }
        }
        Ok(())
    }

    /// The flat form training files carry: canonical scalar fields, the derived fields
    /// (`email_domain_type`, `seniority`, one `<type>_count` per activity type,
    /// `last_activity_at` as RFC 3339) through [`LeadRecord::fact`], and the other extra
    /// fields as JSON values.
    pub fn to_flat(&self) -> BTreeMap<String, RawValue> {
        let mut flat = BTreeMap::new();
        let mut put = |name: &str, value: RawValue| {
            flat.insert(name.to_string(), value);
        };
        let text = |v: &Option<String>| v.clone().map_or(RawValue::Missing, RawValue::Text);
        let fact = |field: Derived| match self.fact(field) {
            Fact::Sent(v) => RawValue::from_json(v),
            Fact::Count(n) => RawValue::Number(n as f64),
            Fact::Time(t) => t.map_or(RawValue::Missing, |t| RawValue::Text(t.to_rfc3339())),
            Fact::EmailDomain(d) => RawValue::Text(d.as_str().to_string()),
            Fact::Seniority(s) => s.map_or(RawValue::Missing, |s| {
                RawValue::Text(s.as_str().to_string())
            }),
        };
        put("id", text(&self.id));
        put("email", text(&self.email));
        put(EMAIL_DOMAIN_TYPE, fact(Derived::EmailDomainType));
        put("job_title", text(&self.job_title));
        put("seniority", fact(Derived::Seniority));
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
            put(&kind.count_column(), fact(Derived::Count(kind)));
        }
        put(LAST_ACTIVITY_AT, fact(Derived::LastActivityAt));
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
            if Derived::of(name).is_none() {
                flat.insert(name.clone(), RawValue::from_json(value));
            }
        }
        flat
    }
}

fn opt_number(v: Option<f64>) -> RawValue {
    v.map_or(RawValue::Missing, RawValue::Number)
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
        both.activities = vec![Activity {
            kind: ActivityType::EmailOpen,
            at: DateTime::parse_from_rfc3339("2026-02-01T00:00:00Z")
                .expect("time")
                .to_utc(),
        }];
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
        assert_eq!(
            flat_fact(EMAIL_DOMAIN_TYPE, get, &none),
            Cell::Text("missing")
        );
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
}
