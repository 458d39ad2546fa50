//! Turning a trained model into the bundle's graph and what the manifest says about it.
//!
//! [`export`] writes the ONNX graph and the model's hyperparameters, and keeps the exact
//! parameters the graph holds so that [`ExportedModel::raw_scores`] computes the golden rows'
//! expected scores natively (logistic: an f64 dot product with the f32 weights in the graph;
//! GBM: [`TreeEnsemble::raw_score`]). The runtime recomputes them through the JSON encoder path
//! and the ONNX graph before a bundle is published and at every load, so a bundle only exists
//! when two independent paths agree. Writing the bundle is
//! [`BundleWriter`](crate::bundle_writer::BundleWriter)'s job.

use std::collections::BTreeMap;

use qualify_core::bundle::ModelKind;
use qualify_core::bundle::metrics::{CvPoint, GbmCv};
use qualify_core::encoder::Encoder;
use qualify_core::schema::Monotone;
use qualify_core::trees::TreeEnsemble;
use qualify_onnx::logistic_to_onnx;
use qualify_onnx::trees::tree_ensemble_to_onnx;
use serde::Serialize;

use crate::error::TrainError;
use crate::gbm::GbmParams;
use crate::gbm_cv::ClassWeight;
use crate::model::TrainedModel;

/// A trained model as the bundle holds it.
#[derive(Debug, Clone)]
pub struct ExportedModel {
    pub kind: ModelKind,
    /// The graph (`model.onnx`).
    pub onnx: Vec<u8>,
    /// `manifest.model.hyperparameters`.
    pub hyperparameters: serde_json::Value,
    native: Native,
}

/// The parameters in the graph, for scoring without it.
#[derive(Debug, Clone)]
enum Native {
    Linear { weights: Vec<f32>, bias: f32 },
    Trees(TreeEnsemble),
}

impl ExportedModel {
    /// Raw log-odds of batch-encoded rows (row-major, the encoder's width), computed natively
    /// from the parameters the graph holds.
    pub fn raw_scores(&self, x: &[f32]) -> Vec<f64> {
        match &self.native {
            Native::Linear { weights, bias } => x
                .chunks(weights.len().max(1))
                .map(|row| {
                    f64::from(*bias)
                        + row
                            .iter()
                            .zip(weights)
                            .map(|(a, w)| f64::from(*a) * f64::from(*w))
                            .sum::<f64>()
                })
                .collect(),
            Native::Trees(ensemble) => x
                .chunks(ensemble.n_features.max(1))
                .map(|row| ensemble.raw_score(row))
                .collect(),
        }
    }
}

/// `hyperparameters` of a logistic model.
#[derive(Debug, Serialize)]
struct LogisticHyperparameters<'a> {
    l2: f64,
    penalty: &'static str,
    cv_folds: usize,
    cv: &'a [CvPoint],
}

/// `hyperparameters` of a GBM.
#[derive(Debug, Serialize)]
struct GbmHyperparameters<'a> {
    library: &'static str,
    trees: usize,
    params: &'a GbmParams,
    class_weight: ClassWeight,
    monotone: Vec<MonotoneFeature<'a>>,
    cv_folds: usize,
    early_stopping_share: f64,
    cv: &'a GbmCv,
}

#[derive(Debug, Serialize)]
struct MonotoneFeature<'a> {
    feature: Option<&'a String>,
    direction: Monotone,
}

/// Writes `trained`'s graph; `encoder` is the one it was trained behind.
pub fn export(trained: &TrainedModel, encoder: &Encoder) -> Result<ExportedModel, TrainError> {
    let cols = encoder.n_features();
    let version = env!("CARGO_PKG_VERSION");
    let width_mismatch = |model: usize| TrainError::Width {
        model,
        encoder: cols,
    };
    let json = |value: Result<serde_json::Value, serde_json::Error>| {
        value.map_err(|source| TrainError::Hyperparameters { source })
    };
    match trained {
        TrainedModel::Logistic(m) => {
            let weights: Vec<f32> = m.model.weights.iter().map(|&w| w as f32).collect();
            let bias = m.model.intercept as f32;
            if weights.len() != cols {
                return Err(width_mismatch(weights.len()));
            }
            let onnx = logistic_to_onnx(&weights, bias, version)
                .map_err(|e| TrainError::Export { source: e.into() })?;
            let hyperparameters = json(serde_json::to_value(LogisticHyperparameters {
                l2: m.model.alpha,
                penalty: "l2 (linfa-logistic alpha: summed log loss + alpha/2 |w|^2)",
                cv_folds: m.folds,
                cv: &m.cv,
            }))?;
            Ok(ExportedModel {
                kind: ModelKind::Logistic,
                onnx,
                hyperparameters,
                native: Native::Linear { weights, bias },
            })
        }
        TrainedModel::Gbm(m) => {
            if m.ensemble.n_features != cols {
                return Err(width_mismatch(m.ensemble.n_features));
            }
            let onnx = tree_ensemble_to_onnx(&m.ensemble, version)
                .map_err(|e| TrainError::Export { source: e.into() })?;
            let names = encoder.feature_names();
            let hyperparameters = json(serde_json::to_value(GbmHyperparameters {
                library: "qualify-gbm",
                trees: m.ensemble.trees.len(),
                params: &m.options.params,
                class_weight: m.options.class_weight,
                monotone: m
                    .options
                    .monotone
                    .iter()
                    .map(|&(f, direction)| MonotoneFeature {
                        feature: names.get(f),
                        direction,
                    })
                    .collect(),
                cv_folds: m.options.folds,
                early_stopping_share: m.options.validation_fraction,
                cv: &m.cv,
            }))?;
            Ok(ExportedModel {
                kind: ModelKind::Gbm,
                onnx,
                hyperparameters,
                native: Native::Trees(m.ensemble.clone()),
            })
        }
    }
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
            "qualify-gbm".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
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
