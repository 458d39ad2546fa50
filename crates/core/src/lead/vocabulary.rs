//! The closed sets of the canonical record (activity types, seniority, email classes) and
//! the two classifiers that derive facts from free text: an email's domain class and a job
//! title's seniority. strum derives the names; serde and `FromStr` share them.

use serde::{Deserialize, Serialize};
use strum::VariantArray;

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
