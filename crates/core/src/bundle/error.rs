//! Why a bundle could not be read, staged or published: what, and which directory or file.

use std::path::PathBuf;

/// A bundle problem. Reading reports it wrapped in [`crate::Error::Bundle`].
#[derive(Debug, thiserror::Error)]
pub enum BundleError {
    /// A file or directory could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A JSON file (manifest, golden rows) that does not parse, or a value that does not
    /// serialise.
    #[error("{}: {source}", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// Neither the directory nor any version below it holds a manifest.
    #[error(
        "{} is not a model bundle: no manifest.json in it or in any version directory below it",
        dir.display()
    )]
    NotABundle { dir: PathBuf },
    #[error("{}: bundle format {found} is not supported (this build reads {supported})", dir.display())]
    Format {
        dir: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("{}: schema: {source}", dir.display())]
    Schema {
        dir: PathBuf,
        #[source]
        source: crate::schema::SchemaRule,
    },
    #[error("{}: schema does not match its recorded hash", dir.display())]
    SchemaHash { dir: PathBuf },
    #[error("{}: calibrator: {source}", dir.display())]
    Calibrator {
        dir: PathBuf,
        #[source]
        source: Box<crate::Error>,
    },
    #[error("{}: encoder writes {encoder} features, the model reads {model}", dir.display())]
    Width {
        dir: PathBuf,
        encoder: usize,
        model: usize,
    },
    #[error("{}: reference histograms: {source}", dir.display())]
    Reference {
        dir: PathBuf,
        #[source]
        source: super::reference::ReferenceError,
    },
    #[error("{}: model.onnx does not match the sha256 in manifest.json", dir.display())]
    OnnxHash { dir: PathBuf },
    #[error("{}: golden.json holds no rows", dir.display())]
    NoGoldenRows { dir: PathBuf },
    /// A version that exists (or is being staged by another producer) was asked for.
    #[error("{} exists; a bundle version is never overwritten", path.display())]
    Exists { path: PathBuf },
    /// Every version name tried was taken.
    #[error("{}: no free version name in {attempts} milliseconds from {from}", dir.display())]
    NoFreeVersion {
        dir: PathBuf,
        from: String,
        attempts: u32,
    },
    /// A version name that is not a plain, visible directory name.
    #[error("{version:?} is not a version name (empty, hidden or with a path separator)")]
    BadVersion { version: String },
    /// A manifest staged under another version than the one reserved.
    #[error("the manifest records version {manifest} but the bundle is staged as {staged}")]
    VersionMismatch { manifest: String, staged: String },
    /// Publishing before all three files were staged.
    #[error("{}: {missing} was not staged", dir.display())]
    Incomplete { dir: PathBuf, missing: &'static str },
}
