//! The one derivation of the record's derived fields, and its precedence.
//!
//! A lead may send a fact or what it is derived from: `activities` or `<type>_count` and
//! `last_activity_at`; an `email` or its `email_domain_type`; a `job_title` or its
//! `seniority`. The model's encoder (through [`LeadRecord::to_flat`] and, for files,
//! [`flat_fact`]) and the rules engine read derived fields here and nowhere else, so they
//! cannot disagree. The precedence (`docs/values.md`): derived from the source when the record
//! has it, else as sent; a seniority sent wins over the title. A JSON record that sends both
//! and they disagree is refused ([`LeadRecord::check`]): neither silent choice is safe.

use chrono::{DateTime, Utc};

use super::{
    ActivityType, EMAIL_DOMAIN_TYPE, EmailDomainType, LAST_ACTIVITY_AT, LeadRecord, Seniority,
    classify_email, seniority_from_title,
};
use crate::encoder::parse;
use crate::schema::DEFAULT_MISSING_TOKENS;
use crate::value::{Cell, RawValue, is_missing_text};

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
///   sent (a record's flat form says `missing` when it has neither);
/// - `seniority`: the cell as sent, else derived from `job_title`;
/// - a closed-set value sent as text is spelled as the set spells it (`"Personal"` is
///   `personal`);
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
            // No email: the class as sent (a file's blank cell stays missing, as models
            // trained before this derivation expect).
            _ => canonical::<EmailDomainType>(get(name)),
        },
        Some(Derived::Seniority) => {
            let own = get(name);
            if present(&own) {
                return canonical::<Seniority>(own);
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

/// A closed-set value sent as text, spelled as the set spells it ("Personal" and " VP " are
/// `personal` and `vp`), so the model's levels and the rules' case-blind comparison see one
/// value; text outside the set stays as sent.
fn canonical<'a, T>(cell: Cell<'a>) -> Cell<'a>
where
    T: std::str::FromStr + Into<&'static str>,
{
    match cell {
        Cell::Text(t) => t.trim().parse::<T>().map_or(cell, |v| Cell::Text(v.into())),
        other => other,
    }
}

impl LeadRecord {
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
                // A sent count is looked up (its name built) only when there are no
                // activities to count.
                let sent = self
                    .activities
                    .is_empty()
                    .then(|| self.sent(&kind.count_column()))
                    .flatten();
                match sent {
                    Some(v) => Fact::Sent(v),
                    None => Fact::Count(self.activity_count(kind)),
                }
            }
            Derived::LastActivityAt => {
                match (self.activities.is_empty(), self.sent(LAST_ACTIVITY_AT)) {
                    (true, Some(v)) => Fact::Sent(v),
                    _ => Fact::Time(self.last_activity_at()),
                }
            }
            Derived::EmailDomainType => match (self.has_email(), self.sent(EMAIL_DOMAIN_TYPE)) {
                // A class spelled otherwise is the class; a missing token is no class.
                (false, Some(v)) => match v.as_str() {
                    Some(t) if is_missing_text(t, DEFAULT_MISSING_TOKENS) => {
                        Fact::EmailDomain(EmailDomainType::Missing)
                    }
                    Some(t) => t
                        .trim()
                        .parse::<EmailDomainType>()
                        .map_or(Fact::Sent(v), Fact::EmailDomain),
                    None => Fact::Sent(v),
                },
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
        // Derived fields are only ever sent as extra fields: with none among them (the usual
        // record), there is nothing to check, and no field name to build.
        if !self.extra.keys().any(|name| Derived::of(name).is_some()) {
            return Ok(());
        }
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
}
