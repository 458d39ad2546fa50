//! Turning a trained model into a bundle: ONNX graph, manifest and golden rows.
//!
//! The golden rows' expected scores are computed here natively from the batch-encoded rows
//! (logistic: an f64 dot product with the f32 weights the graph holds; GBM:
//! [`qualify_core::trees::TreeEnsemble::raw_score`]), then the calibrator; the runtime
//! recomputes them through the JSON encoder path and the ONNX graph at every load. A bundle
//! therefore only loads when two independent paths agree.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use qualify_core::bundle::{self, Bundle, DataFingerprint, Golden, GoldenRow, Manifest, ModelInfo};
use qualify_core::encoder::Encoder;
use qualify_core::schema::Schema;

use qualify_onnx::trees::tree_ensemble_to_onnx;
use qualify_onnx::{INPUT_NAME, LOGIT_NAME, logistic_to_onnx};

use crate::error::TrainError;
use crate::model::TrainedModel;

/// Everything a bundle records besides the model itself.
#[derive(Debug)]
pub struct BundleSpec<'a> {
    pub name: &'a str,
    pub created_at: DateTime<Utc>,
    pub schema: &'a Schema,
    pub encoder: &'a Encoder,
    pub training_data: DataFingerprint,
    pub metrics: serde_json::Value,
    /// Reference rows: the raw records, and the same rows encoded by the batch path.
    pub golden_records: Vec<serde_json::Map<String, serde_json::Value>>,
    pub golden_x: &'a [f32],
    pub golden_as_of: DateTime<Utc>,
}

/// Writes the bundle under `models_dir` and returns its directory.
pub fn write_bundle(
    models_dir: &Path,
    trained: &TrainedModel,
    spec: BundleSpec<'_>,
) -> Result<PathBuf, TrainError> {
    let cols = spec.encoder.n_features();
    if spec.golden_x.len() != spec.golden_records.len() * cols {
        return Err(TrainError::Invalid(
            "encoder and golden rows disagree on the feature count".into(),
        ));
    }
    let version = env!("CARGO_PKG_VERSION");
    let (onnx, golden_logits, hyperparameters) = match trained {
        TrainedModel::Logistic(m) => {
            let weights: Vec<f32> = m.model.weights.iter().map(|&w| w as f32).collect();
            let bias = m.model.intercept as f32;
            if weights.len() != cols {
                return Err(TrainError::Invalid(
                    "model and encoder disagree on the feature count".into(),
                ));
            }
            let onnx = logistic_to_onnx(&weights, bias, version)
                .map_err(|e| TrainError::Export(e.to_string()))?;
            // Expected scores from the f32 weights the graph holds, in f64 arithmetic.
            let logits: Vec<f64> = spec
                .golden_x
                .chunks(cols)
                .map(|x| {
                    f64::from(bias)
                        + x.iter()
                            .zip(&weights)
                            .map(|(a, w)| f64::from(*a) * f64::from(*w))
                            .sum::<f64>()
                })
                .collect();
            let hyperparameters = serde_json::json!({
                "l2": m.model.alpha,
                "penalty": "l2 (linfa-logistic alpha: summed log loss + alpha/2 |w|^2)",
                "cv_folds": m.folds,
                "cv": m.cv,
            });
            (onnx, logits, hyperparameters)
        }
        TrainedModel::Gbm(m) => {
            if m.ensemble.n_features != cols {
                return Err(TrainError::Invalid(
                    "model and encoder disagree on the feature count".into(),
                ));
            }
            let onnx = tree_ensemble_to_onnx(&m.ensemble, version)
                .map_err(|e| TrainError::Export(e.to_string()))?;
            let logits = spec
                .golden_x
                .chunks(cols)
                .map(|x| m.ensemble.raw_score(x))
                .collect();
            let names = spec.encoder.feature_names();
            let monotone: Vec<serde_json::Value> = m
                .options
                .monotone
                .iter()
                .map(|(f, d)| serde_json::json!({ "feature": names.get(*f), "direction": d }))
                .collect();
            let hyperparameters = serde_json::json!({
                "library": "forust-ml",
                "trees": m.ensemble.trees.len(),
                "params": m.options.params,
                "class_weight": m.options.class_weight,
                "monotone": monotone,
                "cv_folds": m.options.folds,
                "early_stopping_share": m.options.validation_fraction,
                "cv": m.cv,
            });
            (onnx, logits, hyperparameters)
        }
    };
    let golden_rows = spec
        .golden_records
        .into_iter()
        .zip(golden_logits)
        .map(|(record, logit)| GoldenRow {
            record,
            propensity: trained.calibrator().apply(logit),
        })
        .collect();
    let manifest = Manifest {
        format_version: bundle::BUNDLE_FORMAT_VERSION,
        name: spec.name.to_string(),
        version: bundle::version_for(spec.created_at),
        created_at: spec.created_at,
        model: ModelInfo {
            kind: trained.kind().into(),
            hyperparameters,
            onnx_input: INPUT_NAME.into(),
            onnx_output: LOGIT_NAME.into(),
            n_features: cols,
            onnx_sha256: bundle::sha256_hex(&onnx),
        },
        schema: spec.schema.clone(),
        schema_hash: spec.schema.hash(),
        encoder: spec.encoder.clone(),
        calibrator: trained.calibrator().clone(),
        training_data: spec.training_data,
        metrics: spec.metrics,
        libraries: libraries(),
    };
    let golden = Golden {
        as_of: spec.golden_as_of,
        rows: golden_rows,
    };
    Bundle::write(models_dir, &manifest, &onnx, &golden)
        .map_err(|e| TrainError::Bundle(e.to_string()))
}

/// Versions of qualify and the libraries that trained and wrote the model.
pub fn libraries() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("qualify".to_string(), env!("CARGO_PKG_VERSION").to_string()),
        (
            "linfa-logistic".to_string(),
            env!("QUALIFY_LINFA_LOGISTIC_VERSION").to_string(),
        ),
        (
            "forust-ml".to_string(),
            env!("QUALIFY_FORUST_ML_VERSION").to_string(),
        ),
        (
            "tract-onnx".to_string(),
            env!("QUALIFY_TRACT_ONNX_VERSION").to_string(),
        ),
        (
            "polars".to_string(),
            env!("QUALIFY_POLARS_VERSION").to_string(),
        ),
    ])
}
