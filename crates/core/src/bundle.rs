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
//! Bundles are written atomically: into a hidden temporary directory beside the target, then
//! renamed into place, so an interrupted train never leaves a half bundle, and an existing
//! version is never overwritten. Readers check the format version, the schema hash and the
//! ONNX file's hash; the runtime then replays the golden rows before it accepts the bundle.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::calibrate::Calibrator;
use crate::encoder::Encoder;
use crate::error::{Error, Result};
use crate::schema::{Schema, hex};

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
    /// Evaluation-split metrics, the constant-prior baseline and cross-validation results, as
    /// qualify-eval and qualify-train report them.
    pub metrics: serde_json::Value,
    /// Versions of the libraries that trained and wrote the bundle.
    pub libraries: BTreeMap<String, String>,
}

/// The raw model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// "logistic".
    pub kind: String,
    /// Chosen hyper-parameters (e.g. the L2 strength).
    pub hyperparameters: serde_json::Value,
    /// ONNX graph input (f32, [N, n_features]) and the output holding the raw log-odds.
    pub onnx_input: String,
    pub onnx_output: String,
    pub n_features: usize,
    /// sha256 of `model.onnx`.
    pub onnx_sha256: String,
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

/// A version string for a bundle created at `t`.
pub fn version_for(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%S%.3fZ").to_string()
}

impl Bundle {
    /// Writes the bundle as `models_dir/<manifest.version>/`, atomically. Fails, touching
    /// nothing, when that version exists.
    pub fn write(
        models_dir: &Path,
        manifest: &Manifest,
        onnx: &[u8],
        golden: &Golden,
    ) -> Result<PathBuf> {
        fs::create_dir_all(models_dir).map_err(|e| Error::io(models_dir, e))?;
        let target = models_dir.join(&manifest.version);
        if target.exists() {
            return Err(Error::Invalid(format!(
                "{} exists; a bundle version is never overwritten",
                target.display()
            )));
        }
        let tmp = models_dir.join(format!(".tmp-{}-{}", manifest.version, std::process::id()));
        let result = (|| {
            fs::create_dir(&tmp).map_err(|e| Error::io(&tmp, e))?;
            write_file(&tmp.join(ONNX_FILE), onnx)?;
            write_file(&tmp.join(GOLDEN_FILE), &to_json(golden)?)?;
            write_file(&tmp.join(MANIFEST_FILE), &to_json(manifest)?)?;
            fs::rename(&tmp, &target).map_err(|e| Error::io(&target, e))
        })();
        if result.is_err() {
            let _ = fs::remove_dir_all(&tmp);
        }
        result.map(|()| target)
    }

    /// Reads a bundle from `dir`: a bundle directory itself, or a model directory whose latest
    /// version (greatest name) is taken. Checks format version, schema hash and ONNX hash.
    pub fn read(dir: &Path) -> Result<Bundle> {
        let dir = resolve_version(dir)?;
        let manifest: Manifest = read_json(&dir.join(MANIFEST_FILE))?;
        let corrupt = |m: String| Error::Invalid(format!("{}: {m}", dir.display()));
        if manifest.format_version != BUNDLE_FORMAT_VERSION {
            return Err(corrupt(format!(
                "bundle format {} is not supported (this build reads {BUNDLE_FORMAT_VERSION})",
                manifest.format_version
            )));
        }
        manifest
            .schema
            .validate()
            .map_err(|e| corrupt(format!("schema: {e}")))?;
        if manifest.schema.hash() != manifest.schema_hash {
            return Err(corrupt("schema does not match its recorded hash".into()));
        }
        manifest
            .calibrator
            .validate()
            .map_err(|e| corrupt(e.to_string()))?;
        if manifest.encoder.n_features() != manifest.model.n_features {
            return Err(corrupt(format!(
                "encoder writes {} features, the model reads {}",
                manifest.encoder.n_features(),
                manifest.model.n_features
            )));
        }
        let onnx_path = dir.join(ONNX_FILE);
        let onnx = fs::read(&onnx_path).map_err(|e| Error::io(&onnx_path, e))?;
        if sha256_hex(&onnx) != manifest.model.onnx_sha256 {
            return Err(corrupt(format!(
                "{ONNX_FILE} does not match the sha256 in {MANIFEST_FILE}"
            )));
        }
        let golden: Golden = read_json(&dir.join(GOLDEN_FILE))?;
        if golden.rows.is_empty() {
            return Err(corrupt(format!("{GOLDEN_FILE} holds no rows")));
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
    let entries = fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.join(MANIFEST_FILE).is_file()
                && !p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'))
        })
        .max()
        .ok_or_else(|| {
            Error::Invalid(format!(
                "{} is not a model bundle: no {MANIFEST_FILE} in it or in any version directory below it",
                dir.display()
            ))
        })
}

fn to_json<T: Serialize>(value: &T) -> Result<Vec<u8>> {
    serde_json::to_vec_pretty(value).map_err(|e| Error::Invalid(format!("serialising: {e}")))
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let bytes = fs::read(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| Error::Parse {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut f = fs::File::create(path).map_err(|e| Error::io(path, e))?;
    f.write_all(bytes)
        .and_then(|()| f.sync_all())
        .map_err(|e| Error::io(path, e))
}

#[cfg(test)]
mod tests;
