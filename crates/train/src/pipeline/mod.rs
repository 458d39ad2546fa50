//! The training pipeline as one library call: what `qualify train` does, for any caller.
//!
//! [`train`] takes a [`TrainConfig`] (a plain struct with defaults), a table already read
//! ([`TrainData`]: rows from a file, a store, a data frame) and a model directory, and
//! returns the [`TrainedBundle`] it published:
//!
//! 1. label read and checked (binary; both classes; at least 30 of each), schema given or
//!    inferred;
//! 2. split ([`SplitStrategy`]), the parts checked (a test part with both classes; no more
//!    folds than the rarer class), encoder fitted on the training part only;
//! 3. candidates fitted with cross-validation ([`ModelChoice`]), one kept by the calibrated
//!    cross-validated log loss;
//! 4. test and constant-prior figures ([`TrainingMetrics`]);
//! 5. the reference histograms of the training part (score and inputs, for drift monitoring);
//! 6. the bundle written by [`BundleWriter`]: staged hidden, checked through the runtime,
//!    published under a free version name.
//!
//! The CLI is flags around this call, so a library user trains exactly as the CLI does.
//! Progress and warnings go through [`Progress`].
//!
//! ```
//! use qualify_data::synth::{generate, to_raw_table, SynthConfig};
//! use qualify_train::pipeline::{train, DataSource, TrainConfig, TrainData};
//! use qualify_train::progress::Silent;
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let table = to_raw_table(&generate(&SynthConfig::new(800, 1)))?;
//! let source = DataSource { name: "synthetic".into(), sha256: "-".into() };
//! let config = TrainConfig {
//!     label: Some("converted".into()),
//!     id: Some("id".into()),
//!     folds: 3,
//!     ..TrainConfig::default()
//! };
//! let models = tempfile::tempdir()?;
//! let data = TrainData::new(&table, &source);
//! let bundle = train(&config, &data, &models.path().join("leads"), &Silent)?;
//! assert!(bundle.metrics.test.roc_auc > bundle.metrics.prior.roc_auc);
//! // Published and verified: the runtime loads it from the model directory.
//! qualify_runtime::Model::load(&models.path().join("leads"))?;
//! # Ok(())
//! # }
//! ```

use std::path::{Path, PathBuf};

use chrono::Utc;
use qualify_core::bundle::{DataFingerprint, Manifest, Reference, TrainingMetrics};
use qualify_core::history::HistoryModel;
use qualify_core::value::RawTable;

use crate::bundle_writer::{BundleWriter, GoldenSource};
use crate::export::export;
use crate::gbm_cv::monotone_features;
use crate::model::TrainedModel;
use crate::progress::{Progress, Stage, TrainWarning};
use crate::split::Split;

mod config;
mod error;
mod fit;
mod prepare;

pub use config::{ModelChoice, SplitStrategy, TrainConfig};
pub use error::PipelineError;

/// What a trained bundle's reference score histogram counts: the scores that calibration
/// was fitted on, the closest the training part has to scores of unseen leads (the refitted
/// model's in-sample scores are more confident than production's).
pub const REFERENCE_SCORES: &str = "calibrated out-of-fold scores of the training part";

/// The rows to train on and where they came from.
#[derive(Debug, Clone, Copy)]
pub struct TrainData<'a> {
    pub table: &'a RawTable,
    pub source: &'a DataSource,
    /// Rows that belong together (point-in-time rows: a lead's moments). With groups, the
    /// test part is the latest groups and cross-validation keeps a group in one fold
    /// ([`SplitStrategy`]).
    pub groups: Option<&'a RowGroups>,
    /// For a model trained on a history: what the manifest records about it (the feature
    /// spec, the label's window, the moments).
    pub history: Option<&'a HistoryModel>,
}

impl<'a> TrainData<'a> {
    /// A flat table: one row per lead, no groups.
    pub fn new(table: &'a RawTable, source: &'a DataSource) -> TrainData<'a> {
        TrainData {
            table,
            source,
            groups: None,
            history: None,
        }
    }
}

/// A group per row, and each group's time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowGroups {
    /// The group of each row, an index into `times`.
    pub group: Vec<usize>,
    /// Each group's time, in milliseconds (a lead's creation): the latest groups are tested.
    pub times: Vec<i64>,
    /// What a group is and what its time is, for the manifest (`lead`, `created_at`).
    pub name: String,
    pub time_name: String,
}

/// Where the training rows came from, as the manifest records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSource {
    /// A file name (no directories), or another name for the source.
    pub name: String,
    /// sha256 of the source's bytes, hex.
    pub sha256: String,
}

impl DataSource {
    /// Several files read together (a history's tables): their names joined with `+`, and
    /// the sha256 of their sha256s, in order.
    pub fn files(paths: &[&Path]) -> Result<DataSource, qualify_data::DataError> {
        let mut names = Vec::new();
        let mut hashes = String::new();
        for path in paths {
            let one = DataSource::file(path)?;
            names.push(one.name);
            hashes.push_str(&one.sha256);
        }
        Ok(DataSource {
            name: names.join("+"),
            sha256: qualify_core::bundle::sha256_hex(hashes.as_bytes()),
        })
    }

    /// A table that is not a file (a data frame): `name`, and the sha256 of the table's
    /// contents (each column's name, then each cell as JSON, with separators), so the
    /// manifest tells two frames apart as it tells two files apart.
    pub fn table(name: &str, table: &RawTable) -> DataSource {
        use sha2::{Digest, Sha256};
        let mut hasher = Sha256::new();
        for (column, cells) in table.columns() {
            hasher.update(column.as_bytes());
            hasher.update([0x1d]);
            for row in 0..cells.len() {
                hasher.update(cells.get(row).to_json().to_string().as_bytes());
                hasher.update([0x1e]);
            }
            hasher.update([0x1c]);
        }
        DataSource {
            name: name.to_string(),
            sha256: qualify_core::schema::hex(&hasher.finalize()),
        }
    }

    /// A file: its name and the sha256 of its bytes.
    pub fn file(path: &Path) -> Result<DataSource, qualify_data::DataError> {
        Ok(DataSource {
            name: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            sha256: qualify_data::file_sha256(path)?,
        })
    }
}

/// A published, verified bundle and how it was made.
#[derive(Debug, Clone)]
pub struct TrainedBundle {
    /// The version directory (`models_dir/<version>`).
    pub dir: PathBuf,
    /// What was written as `manifest.json`.
    pub manifest: Manifest,
    /// The figures the manifest records (`manifest.metrics`).
    pub metrics: TrainingMetrics,
    /// The fitted model (cross-validation details beyond the manifest's).
    pub model: TrainedModel,
    /// Everything reported through [`Progress::warning`].
    pub warnings: Vec<TrainWarning>,
    /// The rows of the training and the test part.
    pub split: Split,
}

/// Trains on `data` as the module docs say and publishes a new version under `models_dir`.
/// On any error, nothing is published.
pub fn train(
    config: &TrainConfig,
    data: &TrainData<'_>,
    models_dir: &Path,
    progress: &dyn Progress,
) -> Result<TrainedBundle, PipelineError> {
    config.validate()?;
    let mut warnings = Vec::new();
    let prepared = prepare::prepare(config, data, progress, &mut warnings)?;
    let monotone = monotone_features(&prepared.schema, &prepared.encoder)?;
    let candidates = fit::fit_candidates(config, &prepared, &monotone, progress)?;
    progress.stage(Stage::Evaluating);
    let (trained, metrics) = fit::select(config, &prepared, candidates)?;
    let names = prepared.encoder.feature_names();
    for warning in fit::monotone_warnings(&trained, &monotone, &names) {
        progress.warning(&warning);
        warnings.push(warning);
    }

    let exported = export(&trained, &prepared.encoder)?;
    let positives = prepared.labels.iter().filter(|&&y| y).count();
    let rows = data.table.rows();
    let oof: Vec<f64> = trained
        .oof()
        .iter()
        .map(|&z| trained.calibrator().apply(z))
        .collect();
    let reference = Reference::compute(
        &prepared.encoder,
        data.table,
        &prepared.split.train,
        &oof,
        REFERENCE_SCORES,
    );
    let writer = BundleWriter {
        name: config
            .name
            .clone()
            .unwrap_or_else(|| default_name(models_dir)),
        created_at: Utc::now(),
        schema: &prepared.schema,
        encoder: &prepared.encoder,
        calibrator: trained.calibrator().clone(),
        kind: exported.kind,
        hyperparameters: exported.hyperparameters.clone(),
        onnx: &exported.onnx,
        training_data: DataFingerprint {
            file: data.source.name.clone(),
            sha256: data.source.sha256.clone(),
            rows,
            label_rate: positives as f64 / rows as f64,
            train_rows: prepared.split.train.len(),
            test_rows: prepared.split.test.len(),
            split: prepared.split_name.clone(),
        },
        metrics: Some(metrics.clone()),
        history: data.history.cloned(),
        reference: Some(reference),
        golden: GoldenSource {
            table: data.table,
            rows: &prepared.split.test,
            max_rows: config.golden_rows,
            raw_scores: &|x, _| Ok(exported.raw_scores(x)),
        },
    };
    let published = writer.write(models_dir, progress)?;
    Ok(TrainedBundle {
        dir: published.dir,
        manifest: published.manifest,
        metrics,
        model: trained,
        warnings,
        split: prepared.split,
    })
}

/// The model directory's name, the default model name.
pub(crate) fn default_name(models_dir: &Path) -> String {
    models_dir
        .file_name()
        .map_or_else(|| "model".to_string(), |n| n.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use qualify_core::value::RawColumn;

    use super::*;

    fn table(values: &[Option<f64>], name: &str) -> RawTable {
        let mut t = RawTable::new();
        t.push(name, RawColumn::Number(values.to_vec()))
            .expect("one column");
        t
    }

    #[test]
    fn a_table_fingerprint_follows_its_contents() {
        let a = DataSource::table("frame", &table(&[Some(1.0), None], "x"));
        assert_eq!(a.name, "frame");
        assert_eq!(a.sha256.len(), 64);
        assert_eq!(
            a,
            DataSource::table("frame", &table(&[Some(1.0), None], "x"))
        );
        for other in [
            table(&[Some(1.0), Some(0.0)], "x"),
            table(&[None, Some(1.0)], "x"),
            table(&[Some(1.0), None], "y"),
        ] {
            assert_ne!(a.sha256, DataSource::table("frame", &other).sha256);
        }
    }
}
