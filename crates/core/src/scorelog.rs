//! One scored answer, as the score log keeps it.
//!
//! The server appends an entry for every answer it gives (a posted record, a stored lead or
//! each lead of a batch); the store keeps them; monitoring reads them back against the
//! outcomes that arrive later. The three agree on this one type, so it lives in the shared
//! contract rather than in any one of them. It holds what "why did this lead's score change
//! last Tuesday" needs: which model and rules answered, what they said, and the top reasons of
//! both, as plain owned values (the answer itself borrows from the loaded bundle and rules).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which kind of request produced a logged answer.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
    strum::IntoStaticStr,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ScoreSource {
    /// A whole record posted to `/v1/score`.
    Record,
    /// A lead of a batch posted to `/v1/score/batch`.
    Batch,
    /// A lead read from the store (`/v1/leads/{id}/score`).
    Stored,
}

/// Whose reason a logged reason is.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
// Named apart from the rules' `ReasonKind` (fit, engagement) in the API document.
#[cfg_attr(feature = "openapi", schema(as = LoggedReasonKind))]
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Serialize,
    Deserialize,
    strum::Display,
    strum::EnumString,
)]
#[serde(rename_all = "snake_case")]
#[strum(serialize_all = "snake_case")]
pub enum ReasonKind {
    /// A model contribution (log-odds) of one encoded column.
    Model,
    /// A rule that fired, with its points.
    Rule,
}

/// One of the top reasons behind a logged answer.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoggedReason {
    pub kind: ReasonKind,
    /// The model's column name, or the rule's id.
    pub name: String,
    /// The contribution (log-odds, model) or the points (rules).
    pub value: f64,
}

/// One scored answer.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoreLogEntry {
    /// The lead's id; `None` for a posted record without one.
    pub lead_id: Option<String>,
    /// When the server answered (its clock).
    pub scored_at: DateTime<Utc>,
    /// The moment the lead was scored as of: the request's `as_of`, else `scored_at`.
    pub as_of: DateTime<Utc>,
    pub source: ScoreSource,
    pub model_name: String,
    pub model_version: String,
    /// The hash of the rules file that gave the rule score and stage.
    pub rules_hash: String,
    /// The calibrated propensity, 0–1.
    pub propensity: f64,
    /// The rules' total score.
    pub rule_score: f64,
    /// The rules' stage, as the API names it (`MQL`, `Nurture`, ...).
    pub stage: String,
    /// The rules' route, when the rules route.
    pub route: Option<String>,
    /// The top reasons of the model and of the rules.
    pub reasons: Vec<LoggedReason>,
    /// The lead is in the exploration holdout: routing ignores its score.
    pub holdout: bool,
}
