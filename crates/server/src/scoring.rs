//! Scoring one lead: the model's calibrated propensity and the rules' score and stage, side
//! by side, plus the shadow challenger. No HTTP here — routes parse and answer; this decides.
//!
//! The record goes to the model through `Model::score_lead`: `LeadRecord::to_flat` and the
//! bundle's encoder, the one code path that also turns a lead's `activities` into the
//! `<type>_count` / `last_activity_at` columns flat training files carry; for a model trained
//! on a history, plus the point-in-time features of its activities before the moment, by the
//! trainer's own feature function. The rules read the record itself.

use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use qualify_core::encoder::Warning;
use qualify_core::lead::LeadRecord;
use qualify_rules::RuleOutcome;
use qualify_runtime::{Explanation, Reason};
use serde::Serialize;
use utoipa::ToSchema;

use crate::config::Config;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::registry::{LoadedModel, Served};

/// The answer for one lead.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoreResponse<'a> {
    /// The lead's `id`, echoed.
    pub id: Option<String>,
    /// Calibrated probability of conversion, 0–1.
    pub propensity: f64,
    /// Letter grade of the propensity (configurable bands).
    pub grade: &'a str,
    pub model: ModelRef<'a>,
    /// The rule-based score, stage and reasons.
    pub rules: RuleOutcome<'a>,
    /// Why the model scores what it scores (omitted with `?explain=false`, or for a model
    /// that cannot explain itself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<ExplanationView>,
    /// Shadow challenger score, when configured to be returned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shadow: Option<Shadow<'a>>,
    /// Unknown fields ignored, unseen categories, missing fields imputed.
    pub warnings: Vec<ResponseWarning>,
}

/// The reasons behind the propensity: additive contributions to the raw score (log-odds,
/// before calibration), `base + Σ all contributions = raw_score`; the largest each way.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExplanationView {
    /// Raw score of a lead with no information.
    pub base: f64,
    /// The model's raw score (log-odds) for this lead.
    pub raw_score: f64,
    /// Columns that raised the score most, largest first: column, the lead's value, contribution.
    pub top_positive: Vec<Reason>,
    /// Columns that lowered it most, most negative first.
    pub top_negative: Vec<Reason>,
}

impl From<Explanation> for ExplanationView {
    fn from(e: Explanation) -> Self {
        ExplanationView {
            base: e.base,
            raw_score: e.raw_score,
            top_positive: e.top_positive,
            top_negative: e.top_negative,
        }
    }
}

/// Which model scored.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ModelRef<'a> {
    pub name: &'a str,
    pub version: &'a str,
    pub schema_hash: &'a str,
    /// What the propensity means, for a model trained on a history: "probability of
    /// converting within 90 days of the scoring moment".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<&'a str>,
    /// The label's window in days, for a model trained on a history.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_days: Option<u32>,
}

impl<'a> ModelRef<'a> {
    fn of(m: &'a LoadedModel) -> ModelRef<'a> {
        let manifest = m.model.manifest();
        ModelRef {
            name: &manifest.name,
            version: &manifest.version,
            schema_hash: &manifest.schema_hash,
            target: manifest.history.as_ref().map(|h| h.target.as_str()),
            window_days: manifest.history.as_ref().map(|h| h.spec.label_window_days),
        }
    }
}

/// The challenger's opinion; never used for a decision.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Shadow<'a> {
    pub model: ModelRef<'a>,
    pub propensity: f64,
}

/// Something the caller should know; the lead was still scored.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ResponseWarning {
    /// `unknown_field`, `unseen_category`, `imputed`, `out_of_range` or
    /// `unknown_event_type` (`field` is then the activity type).
    pub code: &'static str,
    pub field: String,
    pub message: String,
}

impl ResponseWarning {
    fn from_encoder(w: Warning) -> ResponseWarning {
        match w {
            Warning::UnseenLevel { column, value } => ResponseWarning {
                code: "unseen_category",
                message: format!("{value:?} was not seen in training; scored as a rare level"),
                field: column,
            },
            Warning::Imputed { column } => ResponseWarning {
                code: "imputed",
                message: "missing; imputed as in training".into(),
                field: column,
            },
            Warning::OutOfRange {
                column,
                value,
                min,
                max,
            } => ResponseWarning {
                code: "out_of_range",
                message: format!(
                    "{value} is far outside the training range {min}..{max}; scored as the nearest tolerated value"
                ),
                field: column,
            },
            Warning::UnknownEventType { event_type, count } => ResponseWarning {
                code: "unknown_event_type",
                message: format!(
                    "{count} activit{} of a type the model does not know; ignored",
                    if count == 1 { "y" } else { "ies" }
                ),
                field: event_type,
            },
        }
    }
}

/// Settings scoring reads; cheap to pass by reference.
#[derive(Debug)]
pub struct Scorer<'c> {
    pub config: &'c Config,
    pub metrics: &'c Metrics,
}

/// Leads without an id are sampled for shadow scoring in turn.
static SHADOW_COUNTER: AtomicU64 = AtomicU64::new(0);

impl<'c> Scorer<'c> {
    /// Scores `lead` with `model` (from `served`) and the served rules, as of `as_of`.
    pub fn score<'a>(
        &self,
        served: &'a Served,
        model: &'a LoadedModel,
        lead: &LeadRecord,
        as_of: DateTime<Utc>,
        explain: bool,
    ) -> Result<ScoreResponse<'a>, ApiError>
    where
        'c: 'a,
    {
        let (scored, explanation) = if explain && model.model.can_explain() {
            let (scored, explanation) =
                model
                    .model
                    .explain_lead(lead, as_of, self.config.explain_top)?;
            (scored, Some(ExplanationView::from(explanation)))
        } else {
            (model.model.score_lead(lead, as_of)?, None)
        };
        let rules = served.rules.rules.evaluate(lead, as_of);
        let manifest = model.model.manifest();
        self.metrics
            .record_score(&manifest.name, &manifest.version, scored.propensity);

        let mut warnings: Vec<ResponseWarning> = lead
            .extra
            .keys()
            .filter(|k| !model.columns.contains(*k) && !served.rules.fields.contains(*k))
            .map(|k| ResponseWarning {
                code: "unknown_field",
                field: k.clone(),
                message: "neither the model nor the rules read this field; ignored".into(),
            })
            .collect();
        warnings.extend(
            scored
                .warnings
                .into_iter()
                .map(ResponseWarning::from_encoder),
        );

        let shadow = served
            .challenger
            .as_deref()
            .filter(|_| self.in_shadow_sample(lead))
            .and_then(|challenger| self.shadow(challenger, lead, as_of, scored.propensity));

        Ok(ScoreResponse {
            id: lead.id.clone(),
            propensity: scored.propensity,
            grade: self.config.grades.grade(scored.propensity),
            model: ModelRef::of(model),
            rules,
            explanation,
            shadow,
            warnings,
        })
    }

    fn in_shadow_sample(&self, lead: &LeadRecord) -> bool {
        let Some(c) = &self.config.challenger else {
            return false;
        };
        let draw = match &lead.id {
            Some(id) => fnv1a(id.as_bytes()),
            None => fnv1a(&SHADOW_COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes()),
        };
        (draw as f64 / u64::MAX as f64) < c.fraction
    }

    /// Scores in shadow: logged and counted; returned only if configured. A challenger that
    /// cannot score the lead never fails the request.
    fn shadow<'a>(
        &self,
        challenger: &'a LoadedModel,
        lead: &LeadRecord,
        as_of: DateTime<Utc>,
        champion: f64,
    ) -> Option<Shadow<'a>> {
        let manifest = challenger.model.manifest();
        match challenger.model.score_lead(lead, as_of) {
            Ok(s) => {
                self.metrics.record_shadow(
                    &manifest.name,
                    &manifest.version,
                    champion,
                    Some(s.propensity),
                );
                tracing::info!(
                    lead = lead.id.as_deref().unwrap_or(""),
                    champion,
                    challenger = s.propensity,
                    challenger_version = %manifest.version,
                    "shadow score"
                );
                self.config
                    .challenger
                    .as_ref()
                    .is_some_and(|c| c.in_response)
                    .then(|| Shadow {
                        model: ModelRef::of(challenger),
                        propensity: s.propensity,
                    })
            }
            Err(e) => {
                self.metrics
                    .record_shadow(&manifest.name, &manifest.version, champion, None);
                tracing::warn!(lead = lead.id.as_deref().unwrap_or(""), error = %e, "shadow scoring failed");
                None
            }
        }
    }
}

/// FNV-1a: a stable, dependency-free hash for sampling (not for security).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
