//! Scoring one lead: the model's calibrated propensity and the rules' score and stage, side
//! by side, plus the shadow challenger. No HTTP here — routes parse and answer; this decides.
//!
//! The record goes to the model through `Model::score_lead`: `LeadRecord::to_flat` and the
//! bundle's encoder, the one code path that also turns a lead's `activities` into the
//! `<type>_count` / `last_activity_at` columns flat training files carry; for a model trained
//! on a history, plus the point-in-time features of its activities before the moment, by the
//! trainer's own feature function. The rules read the record itself.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use qualify_core::encoder::Warning;
use qualify_core::lead::LeadRecord;
use qualify_core::scorelog::{LoggedReason, ReasonKind, ScoreLogEntry, ScoreSource};
use qualify_rules::RuleOutcome;
use qualify_runtime::{Explanation, Reason};
use serde::Serialize;
use utoipa::ToSchema;

use crate::config::Config;
use crate::error::ApiError;
use crate::metrics::Metrics;
use crate::registry::{LoadedModel, Served};
use crate::scorelog::ScoreLog;
use crate::work::Job;

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
    /// The lead is in the exploration holdout (`holdout_fraction`, chosen by its id):
    /// routing should ignore its score, so its outcome is not shaped by the model.
    pub holdout: bool,
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

/// What a warning is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WarningCode {
    /// Neither the model's schema nor the rules read this field; ignored.
    UnknownField,
    /// More unknown fields than are listed one by one; `count` says how many more.
    UnknownFieldsOmitted,
    /// A level the model never saw, scored as a rare level.
    UnseenCategory,
    /// Missing; imputed as in training.
    Imputed,
    /// A number far outside its training range, scored as the nearest tolerated value.
    OutOfRange,
    /// Activities of a type a history model does not know (`field` is the type, `count`
    /// how many); ignored.
    UnknownEventType,
}

/// Something the caller should know; the lead was still scored.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ResponseWarning {
    pub code: WarningCode,
    /// The field it is about (absent for `unknown_fields_omitted`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    pub message: String,
    /// For `unknown_fields_omitted`: how many unknown fields are not listed; for
    /// `unknown_event_type`: how many activities of the type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
}

/// Unknown fields listed one by one; the rest are counted in one warning, so a lead with a
/// million made-up keys gets a bounded answer.
pub const MAX_UNKNOWN_FIELD_WARNINGS: usize = 20;

/// Longest field name echoed back in a warning (longer ones are cut, marked with `…`).
const MAX_ECHOED_NAME: usize = 200;

impl ResponseWarning {
    fn from_encoder(w: Warning) -> ResponseWarning {
        match w {
            Warning::UnseenLevel { column, value } => ResponseWarning {
                code: WarningCode::UnseenCategory,
                message: format!(
                    "{:?} was not seen in training; scored as a rare level",
                    echoed(&value)
                ),
                field: Some(column),
                count: None,
            },
            Warning::Imputed { column } => ResponseWarning {
                code: WarningCode::Imputed,
                message: "missing; imputed as in training".into(),
                field: Some(column),
                count: None,
            },
            Warning::OutOfRange {
                column,
                value,
                min,
                max,
            } => ResponseWarning {
                code: WarningCode::OutOfRange,
                message: format!(
                    "{value} is far outside the training range {min}..{max}; scored as the nearest tolerated value"
                ),
                field: Some(column),
                count: None,
            },
            Warning::UnknownEventType { event_type, count } => ResponseWarning {
                code: WarningCode::UnknownEventType,
                message: format!(
                    "{count} activit{} of a type the model does not know; ignored",
                    if count == 1 { "y" } else { "ies" }
                ),
                field: Some(echoed(&event_type)),
                count: Some(count),
            },
        }
    }

    /// One warning per unknown field up to the cap, then one that counts the rest.
    fn unknown_fields<'k>(unknown: impl Iterator<Item = &'k String>) -> Vec<ResponseWarning> {
        let mut warnings = Vec::new();
        let mut omitted = 0;
        for name in unknown {
            if warnings.len() < MAX_UNKNOWN_FIELD_WARNINGS {
                warnings.push(ResponseWarning {
                    code: WarningCode::UnknownField,
                    field: Some(echoed(name)),
                    message: "neither the model nor the rules read this field; ignored".into(),
                    count: None,
                });
            } else {
                omitted += 1;
            }
        }
        if omitted > 0 {
            warnings.push(ResponseWarning {
                code: WarningCode::UnknownFieldsOmitted,
                field: None,
                message: format!("{omitted} more unknown fields, not listed; also ignored"),
                count: Some(omitted),
            });
        }
        warnings
    }
}

/// `text`, cut to [`MAX_ECHOED_NAME`] characters.
fn echoed(text: &str) -> String {
    match text.char_indices().nth(MAX_ECHOED_NAME) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// Everything one request's scoring needs, owned, so pieces of it can move to the blocking
/// pool: the settings, the snapshot it started on and the model it named.
#[derive(Debug, Clone)]
pub struct Scoring {
    pub config: Arc<Config>,
    pub metrics: Arc<Metrics>,
    pub served: Arc<Served>,
    pub model: Arc<LoadedModel>,
    pub as_of: DateTime<Utc>,
    pub explain: bool,
    /// Where answers are logged (none: not logged).
    pub log: Option<ScoreLog>,
    /// Which route answers, for the log.
    pub source: ScoreSource,
}

impl Scoring {
    pub fn scorer(&self) -> Scorer<'_> {
        Scorer {
            config: &self.config,
            metrics: &self.metrics,
        }
    }

    /// Whether one lead costs microseconds here: the model with this request's explanation,
    /// and the shadow challenger (scored without one), are both light
    /// ([`qualify_runtime::Model::light_per_lead`]).
    pub fn light(&self) -> bool {
        self.model.model.light_per_lead(self.explain)
            && self
                .served
                .challenger
                .as_ref()
                .is_none_or(|c| c.model.light_per_lead(false))
    }

    /// One lead's answer, as JSON; logged (off the request path) when there is a log.
    pub fn answer(&self, lead: &LeadRecord) -> Result<Vec<u8>, ApiError> {
        let response =
            self.scorer()
                .score(&self.served, &self.model, lead, self.as_of, self.explain)?;
        if let Some(log) = &self.log {
            log.push(self.entry(&response));
        }
        serde_json::to_vec(&response).map_err(|e| ApiError::internal(format!("serializing: {e}")))
    }

    /// The score log's entry for `response`: the top model reasons (up to `explain_top` each
    /// way, as answered) and the rules' reasons with the most points either way.
    pub fn entry(&self, response: &ScoreResponse<'_>) -> ScoreLogEntry {
        let mut reasons: Vec<LoggedReason> = response
            .explanation
            .iter()
            .flat_map(|e| e.top_positive.iter().chain(&e.top_negative))
            .map(|r| LoggedReason {
                kind: ReasonKind::Model,
                name: r.column.clone(),
                value: r.contribution,
            })
            .collect();
        let mut rules: Vec<(&str, f64)> = response
            .rules
            .reasons
            .iter()
            .map(|r| (r.rule, r.points.as_f64()))
            .collect();
        rules.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
        rules.truncate(self.config.explain_top.max(1) * 2);
        reasons.extend(rules.into_iter().map(|(rule, points)| LoggedReason {
            kind: ReasonKind::Rule,
            name: rule.to_string(),
            value: points,
        }));
        let scored_at = Utc::now();
        ScoreLogEntry {
            lead_id: response.id.clone(),
            scored_at,
            as_of: self.as_of,
            source: self.source,
            model_name: response.model.name.to_string(),
            model_version: response.model.version.to_string(),
            rules_hash: self.served.rules.sha256.clone(),
            propensity: response.propensity,
            rule_score: response.rules.score.as_f64(),
            stage: response.rules.stage.as_str().to_string(),
            route: response.rules.route.map(str::to_string),
            reasons,
            holdout: response.holdout,
        }
    }

    /// The answers for `leads` (numbered from `first`), comma-separated, checking `job`
    /// before each: a batch cut by its deadline stops here. An invalid lead fails the piece
    /// with its index in `field`.
    pub fn answers(
        &self,
        leads: &[LeadRecord],
        first: usize,
        job: &Job,
    ) -> Result<Vec<u8>, ApiError> {
        let mut out = Vec::new();
        for (i, lead) in leads.iter().enumerate() {
            job.check()?;
            if i > 0 {
                out.push(b',');
            }
            let answer = self
                .answer(lead)
                .map_err(|e| e.within(&format!("[{}]", first + i)))?;
            out.extend_from_slice(&answer);
        }
        Ok(out)
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

        let mut warnings = ResponseWarning::unknown_fields(
            lead.extra
                .keys()
                .filter(|k| !model.columns.contains(*k) && !served.rules.fields.contains(*k)),
        );
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
            holdout: self.in_holdout(lead),
            warnings,
        })
    }

    /// Whether `lead` is in the exploration holdout: its id's [`holdout_draw`] below
    /// `holdout_fraction`. A lead without an id is never held out (there is nothing stable
    /// to draw from).
    pub fn in_holdout(&self, lead: &LeadRecord) -> bool {
        let fraction = self.config.holdout_fraction;
        fraction > 0.0
            && lead
                .id
                .as_deref()
                .is_some_and(|id| holdout_draw(id) < fraction)
    }

    fn in_shadow_sample(&self, lead: &LeadRecord) -> bool {
        let c = &self.config.challenger;
        if c.model.is_none() {
            return false;
        }
        let draw = match &lead.id {
            Some(id) => sample_hash(id.as_bytes()),
            None => sample_hash(&SHADOW_COUNTER.fetch_add(1, Ordering::Relaxed).to_le_bytes()),
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
                self.config.challenger.in_response.then(|| Shadow {
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

/// A lead id's place in `[0, 1)` for the exploration holdout: the first 8 bytes of the
/// SHA-256 of its UTF-8 bytes, big-endian, over 2^64. Documented (docs/api.md) so any other
/// system can compute the same membership; stable across processes, versions and machines.
pub fn holdout_draw(id: &str) -> f64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first) as f64 / 18_446_744_073_709_551_616.0
}

/// A stable hash for sampling (not for security): FNV-1a, then MurmurHash3's 64-bit
/// finalizer. FNV-1a alone leaves the high bits nearly equal for ids that differ only at the
/// end (`lead-1`, `lead-2`, …), so comparing the hash with a fraction of `u64::MAX` sampled
/// none or all of them; the finalizer spreads every input bit over the whole word.
fn sample_hash(bytes: &[u8]) -> u64 {
    let mut h = bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    h ^ (h >> 33)
}

#[cfg(test)]
mod tests {
    use super::{holdout_draw, sample_hash};

    #[test]
    fn holdout_draws_are_stable_and_spread() {
        // Python's hashlib gives int.from_bytes(sha256(b"lead-000001").digest()[:8], "big")
        // / 2**64 = 0.9295060599525402: another implementation of the documented draw.
        let d = holdout_draw("lead-000001");
        assert!((d - 0.929_506_059_952_540_2).abs() < 1e-15, "{d}");
        assert_eq!(d, holdout_draw("lead-000001"));
        let n = (0..10_000)
            .filter(|i| holdout_draw(&format!("lead-{i}")) < 0.1)
            .count();
        assert!((850..=1150).contains(&n), "{n} of 10,000 below 0.1");
    }

    #[test]
    fn ids_that_differ_at_the_end_are_sampled_at_the_fraction() {
        let below = |fraction: f64| {
            (0..10_000)
                .filter(|i| {
                    let draw = sample_hash(format!("lead-{i}").as_bytes());
                    (draw as f64 / u64::MAX as f64) < fraction
                })
                .count()
        };
        for (fraction, low, high) in [(0.1, 850, 1150), (0.3, 2800, 3200), (0.9, 8850, 9150)] {
            let n = below(fraction);
            assert!((low..=high).contains(&n), "{n} of 10,000 below {fraction}");
        }
    }
}
