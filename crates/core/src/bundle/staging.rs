//! Writing a bundle so that no reader ever sees a partial, unverified or overwritten version.
//!
//! A version is first *staged*: a hidden directory `.staging-<version>` beside the versions
//! (readers skip names starting with `.`) receives the three files, each fsynced. The producer
//! can then check the staged bundle (qualify-train loads it through the runtime, which replays
//! the golden rows) while it is still invisible, and only then [`StagedBundle::publish`]
//! renames it into place, which is atomic on one filesystem. Dropping a [`StagedBundle`]
//! without publishing it (an error, a failed check, a panic) removes the hidden directory; a
//! process killed mid-way leaves at most a hidden `.staging-*` directory, which readers skip
//! and which can be deleted.
//!
//! Version names are UTC creation times (`YYYYMMDDTHHMMSS.mmmZ`), so the greatest name is the
//! latest version. Two producers writing into one model directory in the same millisecond
//! must both land: [`StagedBundle::reserve`] claims a name by creating its hidden staging
//! directory (`create_dir` fails for all but one claimant), checks that no published version
//! has it, and otherwise moves one millisecond on. A version is therefore never overwritten,
//! and names still sort in creation order.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};
use serde::Serialize;

use super::{BundleError, GOLDEN_FILE, Golden, MANIFEST_FILE, Manifest, ONNX_FILE, version_for};

/// Prefix of staging directories (hidden: readers skip names starting with `.`).
pub const STAGING_PREFIX: &str = ".staging-";
/// How many successive milliseconds [`StagedBundle::reserve`] tries before giving up.
pub const MAX_VERSION_ATTEMPTS: u32 = 1000;

/// A bundle being written into a hidden directory, not yet visible to readers.
#[derive(Debug)]
pub struct StagedBundle {
    models_dir: PathBuf,
    dir: PathBuf,
    version: String,
    published: bool,
}

impl StagedBundle {
    /// Claims the first free version at or after `created_at` (one millisecond later per
    /// collision) under `models_dir`, creating `models_dir` if needed.
    pub fn reserve(
        models_dir: &Path,
        created_at: DateTime<Utc>,
    ) -> Result<StagedBundle, BundleError> {
        create_models_dir(models_dir)?;
        for k in 0..MAX_VERSION_ATTEMPTS {
            let version = version_for(created_at + TimeDelta::milliseconds(i64::from(k)));
            if let Some(staged) = Self::claim(models_dir, &version)? {
                return Ok(staged);
            }
        }
        Err(BundleError::NoFreeVersion {
            dir: models_dir.to_path_buf(),
            from: version_for(created_at),
            attempts: MAX_VERSION_ATTEMPTS,
        })
    }

    /// Claims exactly `version`; fails when it is published or being staged.
    pub fn reserve_exact(models_dir: &Path, version: &str) -> Result<StagedBundle, BundleError> {
        create_models_dir(models_dir)?;
        Self::claim(models_dir, version)?.ok_or_else(|| BundleError::Exists {
            path: models_dir.join(version),
        })
    }

    /// The claim protocol of the module docs; `None` when the name is taken.
    fn claim(models_dir: &Path, version: &str) -> Result<Option<StagedBundle>, BundleError> {
        if version.is_empty() || version.starts_with('.') || version.contains(['/', '\\']) {
            return Err(BundleError::BadVersion {
                version: version.to_string(),
            });
        }
        let dir = models_dir.join(format!("{STAGING_PREFIX}{version}"));
        match fs::create_dir(&dir) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(None),
            Err(source) => return Err(BundleError::Io { path: dir, source }),
        }
        let staged = StagedBundle {
            models_dir: models_dir.to_path_buf(),
            dir,
            version: version.to_string(),
            published: false,
        };
        // A producer that staged this name before us may have published it since; then the
        // name is taken (dropping `staged` releases our claim).
        if models_dir.join(version).exists() {
            return Ok(None);
        }
        Ok(Some(staged))
    }

    /// The version this bundle will be published as (the manifest must record it).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The hidden directory: a complete bundle once the three files are written, loadable by
    /// path (for the check before publishing), skipped by every reader of `models_dir`.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `model.onnx`.
    pub fn write_onnx(&self, onnx: &[u8]) -> Result<(), BundleError> {
        write_file(&self.dir.join(ONNX_FILE), onnx)
    }

    /// Writes `golden.json`.
    pub fn write_golden(&self, golden: &Golden) -> Result<(), BundleError> {
        write_json(&self.dir.join(GOLDEN_FILE), golden)
    }

    /// Writes `manifest.json`; its version must be the reserved one.
    pub fn write_manifest(&self, manifest: &Manifest) -> Result<(), BundleError> {
        if manifest.version != self.version {
            return Err(BundleError::VersionMismatch {
                manifest: manifest.version.clone(),
                staged: self.version.clone(),
            });
        }
        write_json(&self.dir.join(MANIFEST_FILE), manifest)
    }

    /// Renames the staged directory to `models_dir/<version>` and returns that path. The
    /// directory entries are fsynced before and after, so a crash leaves either the hidden
    /// directory or the complete version.
    pub fn publish(mut self) -> Result<PathBuf, BundleError> {
        for file in [ONNX_FILE, GOLDEN_FILE, MANIFEST_FILE] {
            let path = self.dir.join(file);
            if !path.is_file() {
                return Err(BundleError::Incomplete {
                    dir: self.dir.clone(),
                    missing: file,
                });
            }
        }
        sync_dir(&self.dir)?;
        let target = self.models_dir.join(&self.version);
        if target.exists() {
            return Err(BundleError::Exists { path: target });
        }
        fs::rename(&self.dir, &target).map_err(|source| BundleError::Io {
            path: target.clone(),
            source,
        })?;
        self.published = true;
        sync_dir(&self.models_dir)?;
        Ok(target)
    }
}

impl Drop for StagedBundle {
    fn drop(&mut self) {
        if !self.published {
            // Nothing to report to: the caller is already failing or dropped the bundle.
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

fn create_models_dir(models_dir: &Path) -> Result<(), BundleError> {
    fs::create_dir_all(models_dir).map_err(|source| BundleError::Io {
        path: models_dir.to_path_buf(),
        source,
    })
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), BundleError> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|source| BundleError::Json {
        path: path.to_path_buf(),
        source,
    })?;
    write_file(path, &bytes)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), BundleError> {
    let io = |source| BundleError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut f = fs::File::create(path).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)
}

/// Flushes a directory's entries (creations, renames) to disk (Unix; elsewhere a directory
/// cannot be opened as a file, and the rename alone is what readers rely on).
#[cfg(not(unix))]
fn sync_dir(_: &Path) -> Result<(), BundleError> {
    Ok(())
}

/// Flushes a directory's entries (creations, renames) to disk.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<(), BundleError> {
    let io = |source| BundleError::Io {
        path: dir.to_path_buf(),
        source,
    };
    fs::File::open(dir).map_err(io)?.sync_all().map_err(io)
}
