//! Every figure of `comparison.json`, computed in one place from the scored leads.

use qualify_eval::{Metrics, Ranking, ReliabilityBin};
use serde::Serialize;

use crate::capacity::{Capacity, CapacitySpec, capacity};
use crate::disagree::{Disagreement, disagreements};
use crate::error::CompareError;
use crate::leads::{Leads, qualified};
use crate::selection::Selection;
use crate::stages::{DecileRow, MatrixCell, StageRow, decile_rows, matrix, stage_rows};
use crate::threshold::{Thresholds, thresholds};

/// What the caller knows about the inputs; copied into the output as is.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Context {
    pub data: String,
    pub label: String,
    pub model: String,
    pub rules: String,
    pub as_of: String,
}

/// Choices of the analysis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Options {
    /// The leads sales can work (default: the rules' MQL-or-better count).
    pub capacity: Option<CapacitySpec>,
    /// Target precision of the suggested threshold (default: the model's precision at K).
    pub target_precision: Option<f64>,
    /// The rules' current MQL threshold.
    pub mql_threshold: f64,
}

/// Ranking figures of one approach.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RankFigures {
    pub roc_auc: f64,
    pub pr_auc: f64,
    pub lift_at_10: f64,
}

impl RankFigures {
    fn of(r: &Ranking) -> Result<RankFigures, CompareError> {
        Ok(RankFigures {
            roc_auc: r.roc_auc()?,
            pr_auc: r.average_precision()?,
            lift_at_10: r.lift_at(qualify_eval::LIFT_FRACTION)?,
        })
    }
}

/// Calibration of the propensity.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Calibration {
    pub ece: f64,
    pub log_loss: f64,
    pub brier: f64,
    pub reliability: Vec<ReliabilityBin>,
}

/// The definitions behind the figures, written into the output so a reader need not guess.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Definitions {
    pub qualified: &'static str,
    pub decile: &'static str,
    pub ties: &'static str,
}

const DEFINITIONS: Definitions = Definitions {
    qualified: "MQL or better: stage MQL, SQL or PQL",
    decile: "1 + floor(10 * a / n), a = leads with a strictly higher propensity; decile 1 is the top",
    ties: "leads tied on a score enter a ranking together; a cut inside a tie counts each tied lead pro rata",
};

/// Everything `qualify compare` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub context: Context,
    pub definitions: Definitions,
    pub leads: usize,
    pub conversions: usize,
    pub conversion_rate: f64,
    /// The model's calibrated propensity as a ranker.
    pub propensity: RankFigures,
    /// The rule score (points) as a ranker.
    pub rule_score: RankFigures,
    pub calibration: Calibration,
    /// Conversion per rule stage, every stage listed.
    pub stages: Vec<StageRow>,
    /// The rules' MQL-or-better set: precision and recall.
    pub mql: Selection,
    pub deciles: Vec<DecileRow>,
    pub stage_by_decile: Vec<MatrixCell>,
    pub capacity: Capacity,
    pub disagreements: Vec<Disagreement>,
    pub thresholds: Thresholds,
}

impl Comparison {
    /// Computes every figure.
    pub fn compute(
        leads: &Leads,
        context: Context,
        options: Options,
    ) -> Result<Comparison, CompareError> {
        let model = Ranking::new(&leads.labels, &leads.propensity)?;
        let rules = Ranking::new(&leads.labels, &leads.rule_score)?;
        let metrics = Metrics::compute(&leads.labels, &leads.propensity)?;
        let mql = Selection::of(&leads.labels, |i| qualified(leads.stage[i]));
        let (k, source) = match options.capacity {
            Some(spec) => (spec.leads(leads.n())?, "--capacity".to_string()),
            None if mql.leads > 0.0 => (
                mql.leads as usize,
                "default: the rules' MQL-or-better count".to_string(),
            ),
            None => {
                return Err(CompareError::NoDefaultCapacity);
            }
        };
        let capacity = capacity(leads, &model, &rules, k, source);
        let precision = match options.target_precision {
            Some(p) => (p, "--target-precision".to_string()),
            None => (
                capacity.model.precision.unwrap_or(0.0),
                format!("default: the model's precision at {k} leads"),
            ),
        };
        let thresholds = thresholds(
            leads,
            options.mql_threshold,
            (k, format!("capacity ({})", capacity.source)),
            precision,
        );
        let n = leads.n();
        Ok(Comparison {
            context,
            definitions: DEFINITIONS,
            leads: n,
            conversions: model.positives(),
            conversion_rate: model.positives() as f64 / n as f64,
            propensity: RankFigures::of(&model)?,
            rule_score: RankFigures::of(&rules)?,
            calibration: Calibration {
                ece: metrics.ece,
                log_loss: metrics.log_loss,
                brier: metrics.brier,
                reliability: metrics.reliability,
            },
            stages: stage_rows(leads),
            mql,
            deciles: decile_rows(leads),
            stage_by_decile: matrix(leads),
            capacity,
            disagreements: disagreements(leads),
            thresholds,
        })
    }
}
