//! The model bundle: a directory holding everything needed to score, and to check that
//! scoring reproduces training.
//!
//! ```text
//! models/<name>/<version>/       (version: UTC creation time, YYYYMMDDTHHMMSS.mmmZ)
//!   manifest.json   format version, schema + hash, encoder state, calibrator, training-data
//!                   fingerprint, metrics, library versions, created-at, ONNX file hash
//!   model.onnx      the raw model: encoded features -> logit (and uncalibrated probability)
//!   golden.json     reference raw rows and the calibrated scores they must reproduce
//! ```
//!
//! Bundles are staged in a hidden directory and renamed into place ([`staging`]), so a
//! reader never sees a half-written or unverified version, and an existing version is never
//! overwritten. Readers check the format version, the schema hash and the ONNX file's hash;
//! the runtime then replays the golden rows before it accepts the bundle. The manifest's
//! figures are typed in [`metrics`].

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::calibrate::Calibrator;
use crate::encoder::Encoder;
use crate::error::Result;
use crate::history::HistoryModel;
use crate::schema::{Schema, hex};

mod error;
pub mod metrics;
pub mod reference;
pub mod staging;

pub use error::BundleError;
pub use metrics::TrainingMetrics;
pub use reference::Reference;
pub use staging::StagedBundle;

/// Bundle format version this build writes and reads.
pub const BUNDLE_FORMAT_VERSION: u32 = 1;
pub const MANIFEST_FILE: &str = "manifest.json";
pub const ONNX_FILE: &str = "model.onnx";
pub const GOLDEN_FILE: &str = "golden.json";
/// Tolerance of the golden check on calibrated probabilities.
pub const GOLDEN_TOLERANCE: f64 = 1e-5;

/// What a bundle says about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    /// Model name (the parent directory's name by convention).
    pub name: String,
    /// Version (the bundle directory's name): UTC creation time, `YYYYMMDDTHHMMSS.mmmZ`.
    pub version: String,
    pub created_at: DateTime<Utc>,
    pub model: ModelInfo,
    pub schema: Schema,
    pub schema_hash: String,
    pub encoder: Encoder,
    pub calibrator: Calibrator,
    pub training_data: DataFingerprint,
    /// Test-split metrics, the constant-prior baseline, cross-validation results and the
    /// `--model auto` selection; `None` (written `{}`) for an imported model.
    #[serde(with = "metrics")]
    pub metrics: Option<TrainingMetrics>,
    /// A model trained on a history (docs/history.md): the feature spec the runtime computes
    /// a record's point-in-time features with, what the score means ("probability of
    /// converting within 90 days of the scoring moment") and how the moments were made.
    /// Absent for a flat model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub history: Option<HistoryModel>,
    /// The training part's distributions of the score and of every input column, for drift
    /// monitoring ([`reference`](mod@reference)). Absent in bundles written before it existed, and in
    /// imported ones.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<Reference>,
    /// Versions of the libraries that trained and wrote the bundle.
    pub libraries: BTreeMap<String, String>,
}

/// The raw model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    pub kind: ModelKind,
    /// Chosen hyper-parameters (e.g. the L2 strength).
    pub hyperparameters: serde_json::Value,
    /// ONNX graph input (f32, [N, n_features]) and the output holding the raw log-odds.
    pub onnx_input: String,
    pub onnx_output: String,
    pub n_features: usize,
    /// sha256 of `model.onnx`.
    pub onnx_sha256: String,
}

/// What produced the model's graph; a closed set, written in snake case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    /// L2-regularised logistic regression trained by qualify.
    Logistic,
    /// Gradient-boosted trees trained by qualify.
    Gbm,
    /// A `LinearClassifier` imported by `qualify import`.
    ImportedLinear,
    /// A `TreeEnsembleClassifier` imported by `qualify import`.
    ImportedTrees,
}

impl ModelKind {
    pub const ALL: [ModelKind; 4] = [
        ModelKind::Logistic,
        ModelKind::Gbm,
        ModelKind::ImportedLinear,
        ModelKind::ImportedTrees,
    ];

    /// The name the manifest records (its serde form).
    pub fn as_str(self) -> &'static str {
        match self {
            ModelKind::Logistic => "logistic",
            ModelKind::Gbm => "gbm",
            ModelKind::ImportedLinear => "imported_linear",
            ModelKind::ImportedTrees => "imported_trees",
        }
    }
}

impl fmt::Display for ModelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which data trained the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataFingerprint {
    /// File name as given to `qualify train` (no directories).
    pub file: String,
    pub sha256: String,
    pub rows: usize,
    pub label_rate: f64,
    pub train_rows: usize,
    pub test_rows: usize,
    /// "stratified (seed 42, test 0.2)" or "time (column, test 0.2)".
    pub split: String,
}

/// Reference rows and the calibrated scores they must reproduce.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Golden {
    /// Scoring time for timestamp features.
    pub as_of: DateTime<Utc>,
    pub rows: Vec<GoldenRow>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GoldenRow {
    /// The raw row as a JSON object (the form services send).
    pub record: serde_json::Map<String, serde_json::Value>,
    pub propensity: f64,
}

/// A bundle read from disk, not yet verified by a runtime.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub onnx: Vec<u8>,
    pub golden: Golden,
}

/// sha256 of bytes, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// A version string for a bundle created at `t` (the first name [`StagedBundle::reserve`]
/// tries).
pub fn version_for(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%S%.3fZ").to_string()
}

impl Bundle {
    /// Writes the bundle as `models_dir/<manifest.version>/` through a hidden staging
    /// directory, without checking it. Fails, leaving nothing, when that version exists.
    /// Producers of new versions use qualify-train's `BundleWriter`, which picks a free version
    /// and verifies the bundle before publishing it; this is for tools and tests that need a
    /// given version.
    pub fn write(
        models_dir: &Path,
        manifest: &Manifest,
        onnx: &[u8],
        golden: &Golden,
    ) -> Result<PathBuf> {
        let staged = StagedBundle::reserve_exact(models_dir, &manifest.version)?;
        staged.write_onnx(onnx)?;
        staged.write_golden(golden)?;
        staged.write_manifest(manifest)?;
        Ok(staged.publish()?)
    }

    /// Reads a bundle from `dir`: a bundle directory itself, or a model directory whose latest
    /// version (greatest name) is taken. Checks format version, schema hash and ONNX hash.
    pub fn read(dir: &Path) -> Result<Bundle> {
        let dir = resolve_version(dir)?;
        let manifest: Manifest = read_json(&dir.join(MANIFEST_FILE))?;
        if manifest.format_version != BUNDLE_FORMAT_VERSION {
            return Err(BundleError::Format {
                dir,
                found: manifest.format_version,
                supported: BUNDLE_FORMAT_VERSION,
            }
            .into());
        }
        if let Err(source) = manifest.schema.validate() {
            return Err(BundleError::Schema { dir, source }.into());
        }
        if manifest.schema.hash() != manifest.schema_hash {
            return Err(BundleError::SchemaHash { dir }.into());
        }
        if let Err(source) = manifest.calibrator.validate() {
            return Err(BundleError::Calibrator {
                dir,
                source: Box::new(source),
            }
            .into());
        }
        if let Some(Err(source)) = manifest.reference.as_ref().map(Reference::validate) {
            return Err(BundleError::Reference { dir, source }.into());
        }
        if manifest.encoder.n_features() != manifest.model.n_features {
            return Err(BundleError::Width {
                encoder: manifest.encoder.n_features(),
                model: manifest.model.n_features,
                dir,
            }
            .into());
        }
        let onnx_path = dir.join(ONNX_FILE);
        let onnx = fs::read(&onnx_path).map_err(|source| BundleError::Io {
            path: onnx_path,
            source,
        })?;
        if sha256_hex(&onnx) != manifest.model.onnx_sha256 {
            return Err(BundleError::OnnxHash { dir }.into());
        }
        let golden: Golden = read_json(&dir.join(GOLDEN_FILE))?;
        if golden.rows.is_empty() {
            return Err(BundleError::NoGoldenRows { dir }.into());
        }
        Ok(Bundle {
            dir,
            manifest,
            onnx,
            golden,
        })
    }
}

/// The bundle directory for `dir`: itself if it holds a manifest, else its greatest-named
/// subdirectory that does (hidden temporary directories skipped).
pub fn resolve_version(dir: &Path) -> Result<PathBuf> {
    if dir.join(MANIFEST_FILE).is_file() {
        return Ok(dir.to_path_buf());
    }
    let entries = fs::read_dir(dir).map_err(|source| BundleError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.join(MANIFEST_FILE).is_file()
                && !p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with('.'))
        })
        .max()
        .ok_or_else(|| {
            BundleError::NotABundle {
                dir: dir.to_path_buf(),
            }
            .into()
        })
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, BundleError> {
    let bytes = fs::read(path).map_err(|source| BundleError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_slice(&bytes).map_err(|source| BundleError::Json {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests;
