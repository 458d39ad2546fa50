//! What the fuzz targets share: the repository's bundled model and rules (loaded once per
//! process), a fixed scoring time, and a scratch directory for inputs that the libraries
//! read from files (tables, bundles).
//!
//! Targets check that nothing panics or hangs and, where it is cheap, an invariant; they never
//! assert on *which* error an input gets, since rejecting garbage is the expected outcome.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::{DateTime, TimeZone, Utc};
use qualify_core::bundle::Bundle;
use qualify_rules::CompiledRules;

/// The repository root (the fuzz project sits in `fuzz/`).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The bundled model's version directory (`models/default/<version>`).
pub fn bundled_version() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        qualify_core::bundle::resolve_version(&repo().join("models/default"))
            .expect("the repository's bundled model is readable")
    })
}

/// The bundled model's files as qualify-core reads them (manifest with its encoder, golden
/// rows, graph bytes), without a runtime.
pub fn bundle() -> &'static Bundle {
    static BUNDLE: OnceLock<Bundle> = OnceLock::new();
    BUNDLE.get_or_init(|| Bundle::read(bundled_version()).expect("the bundled model reads"))
}

/// The bundled model, loaded and golden-checked once.
#[cfg(feature = "runtime")]
pub fn model() -> &'static qualify_runtime::Model {
    use qualify_runtime::Model;
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| Model::load(bundled_version()).expect("the bundled model loads"))
}

/// The repository's default rules, compiled once.
pub fn rules() -> &'static CompiledRules {
    static RULES: OnceLock<CompiledRules> = OnceLock::new();
    RULES.get_or_init(|| {
        CompiledRules::load(&repo().join("rules/default.toml")).expect("the default rules compile")
    })
}

/// The scoring time every target uses (fixed, so a crash reproduces on any day).
pub fn as_of() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0)
        .single()
        .expect("a valid date")
}

/// A directory private to this process, removed when it exits normally (libFuzzer's `-fork`
/// and crash exits may leave it behind in the system temp directory).
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        tempfile::Builder::new()
            .prefix("qualify-fuzz-")
            .tempdir()
            .expect("a temp dir")
    })
    .path()
}

/// A probability the scorer returned must be one.
pub fn check_propensity(p: f64, what: &str) {
    assert!(
        p.is_finite() && (0.0..=1.0).contains(&p),
        "{what}: propensity {p} is not a probability"
    );
}

/// Lets a panic unwind when `function` (a function name as it appears in a backtrace, e.g.
/// `OnnxModel::from_bytes`) is on the stack, because that function catches it and returns an
/// error, or when it happens on a worker thread whose name starts with `pool` (polars' rayon
/// threads, `polars-N`: the pool hands the panic to the thread waiting on it, where `function`
/// catches it). Every other panic keeps libFuzzer's behaviour (print, abort, a crash). A panic
/// that unwinds past `function` uncaught still aborts (libfuzzer-sys's `catch_unwind`),
/// without its message: `scripts/fuzz repro` shows it.
///
/// libfuzzer-sys installs a panic hook that aborts before unwinding, so without this a panic
/// the library deliberately turns into a typed error (polars or tract on a corrupt file)
/// would count as a crash. Matching the backtrace costs a symbolisation per panic, paid only
/// on inputs that panic.
pub fn unwind_panics_caught_by(function: &'static str, pool: Option<&'static str>) {
    let abort = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let on_pool = pool.is_some_and(|prefix| {
            std::thread::current()
                .name()
                .is_some_and(|name| name.starts_with(prefix))
        });
        if on_pool {
            return;
        }
        let trace = std::backtrace::Backtrace::force_capture().to_string();
        if !trace.contains(function) {
            abort(info);
        }
    }));
}
