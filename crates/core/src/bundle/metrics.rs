//! What a bundle's manifest records about how well its model did, typed.
//!
//! A trained bundle's `metrics` hold the held-out test figures, the constant-prior baseline on
//! the same rows, the cross-validation that chose the model's size or strength, and (for
//! `--model auto`) the comparison that chose the model. They are typed so that readers (the
//! CLI's summary, the server's `/v1/models`, tests) read fields instead of probing JSON, and
//! the figures keep the definitions of [`qualify_eval::Metrics`]. The JSON shape is the one
//! bundles have always had, so older bundles read unchanged; an imported bundle records no
//! metrics (`{}`), which reads as `None`.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::ModelKind;

pub use qualify_eval::Metrics;

/// The deciding rule of `--model auto`, as recorded in [`Selection::rule`].
pub const SELECTION_RULE: &str = "lowest cross-validated log loss of calibrated out-of-fold \
                                  probabilities (calibrator cross-fitted over the same folds)";

/// A trained model's figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingMetrics {
    /// The calibrated model on the held-out test part.
    pub test: Metrics,
    /// The constant prior on the same rows: the test part's base rate as every row's score
    /// (the no-skill baseline).
    pub prior: Metrics,
    /// The cross-validation of the chosen model.
    pub cv: CvResults,
    /// With `--model auto`: every candidate and the one kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<Selection>,
}

/// Cross-validation results, by model kind (the JSON holds no tag: a logistic model's is a
/// list, a GBM's an object, as bundles have always recorded them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum CvResults {
    /// One entry per L2 strength tried.
    Logistic(Vec<CvPoint>),
    /// Early stopping per fold and the final tree count.
    Gbm(GbmCv),
}

/// One L2 strength's cross-validation result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvPoint {
    pub l2: f64,
    /// Pooled out-of-fold log loss of the uncalibrated model.
    pub log_loss: f64,
    pub roc_auc: f64,
}

/// How the GBM's cross-validation went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GbmCv {
    /// Per fold: trees kept (best validation log loss) and trees grown before stopping.
    pub best_trees: Vec<usize>,
    pub trees_grown: Vec<usize>,
    /// Trees of the final model (mean of `best_trees`).
    pub final_trees: usize,
    /// Pooled out-of-fold log loss and ROC AUC of the uncalibrated model.
    pub log_loss: f64,
    pub roc_auc: f64,
}

/// `--model auto`: the candidates and the one kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Selection {
    pub chosen: ModelKind,
    /// The deciding rule, in words ([`SELECTION_RULE`]).
    pub rule: String,
    pub candidates: Vec<Candidate>,
}

/// One candidate of `--model auto`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub kind: ModelKind,
    /// Pooled log loss of the cross-fitted calibrated out-of-fold probabilities (decides).
    pub cv_log_loss: f64,
    pub cv_roc_auc: f64,
    /// On the test part: reported, never used to choose.
    pub test: Metrics,
}

/// Writes `None` as `{}` (the shape of an imported bundle's metrics).
pub(super) fn serialize<S: Serializer>(
    metrics: &Option<TrainingMetrics>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match metrics {
        Some(m) => m.serialize(serializer),
        None => serde_json::Map::new().serialize(serializer),
    }
}

/// Reads `{}` or `null` as `None`, anything else as [`TrainingMetrics`].
pub(super) fn deserialize<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<TrainingMetrics>, D::Error> {
    let value = serde_json::Value::deserialize(deserializer)?;
    match &value {
        serde_json::Value::Null => Ok(None),
        serde_json::Value::Object(map) if map.is_empty() => Ok(None),
        _ => serde_json::from_value(value)
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}
