//! The models and rules being served, and how they are replaced while serving.
//!
//! Everything a request needs is one immutable [`Served`] snapshot behind an `ArcSwap`: a
//! request takes the current `Arc` once and finishes on it, so a reload never changes a model
//! under a request in flight. A reload builds a new snapshot off the async threads, reusing
//! every model whose latest version is unchanged; a new version serves only after
//! `Model::load` has verified it (hashes and golden rows). A bundle or rules file that fails
//! leaves the previous one serving and is listed in [`Served::problems`] (`/readyz`, logs).
//!
//! A reload is bounded by `reload_timeout_ms`: file reads cannot be cancelled, so a read that
//! hangs (a stuck network mount) keeps its thread, but the reload is reported as timed out,
//! `/readyz` says `degraded`, and later reloads fail fast instead of queueing behind it.

mod load;

use std::collections::{BTreeMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use qualify_rules::CompiledRules;
use qualify_runtime::Model;
use serde::Serialize;
use utoipa::ToSchema;

use crate::config::Config;

pub use load::discover;

/// A verified bundle and where it came from.
#[derive(Debug)]
pub struct LoadedModel {
    pub model: Model,
    /// The model directory (or bundle directory) it was found in; reloads look here.
    pub source: PathBuf,
    /// Feature columns the bundle reads (a record's other fields may be unknown).
    pub columns: HashSet<String>,
}

impl LoadedModel {
    pub fn name(&self) -> &str {
        &self.model.manifest().name
    }

    pub fn version(&self) -> &str {
        &self.model.manifest().version
    }
}

/// A compiled rules file.
#[derive(Debug)]
pub struct LoadedRules {
    pub rules: CompiledRules,
    pub path: PathBuf,
    pub sha256: String,
    /// Fields the rules read.
    pub fields: HashSet<String>,
}

/// One consistent view of what is served.
#[derive(Debug)]
pub struct Served {
    /// By model name (the manifest's `name`).
    pub models: BTreeMap<String, Arc<LoadedModel>>,
    pub default_model: String,
    pub rules: Arc<LoadedRules>,
    pub challenger: Option<Arc<LoadedModel>>,
    /// What failed at the last (re)load while something older kept serving.
    pub problems: Vec<String>,
    pub loaded_at: DateTime<Utc>,
}

impl Served {
    pub fn model(&self, name: Option<&str>) -> Option<&Arc<LoadedModel>> {
        self.models.get(name.unwrap_or(&self.default_model))
    }

    pub fn champion(&self) -> &Arc<LoadedModel> {
        // Invariant of `load`: the default model is always present.
        &self.models[&self.default_model]
    }
}

/// What a served model is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The default model: scores requests that do not name one.
    Champion,
    /// Scores requests that name it (`?model=`).
    Served,
    /// Scores in shadow only; never decides.
    Challenger,
}

impl Role {
    /// The role of the served model `name` (not the challenger).
    pub fn of(served: &Served, name: &str) -> Role {
        if name == served.default_model {
            Role::Champion
        } else {
            Role::Served
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Champion => "champion",
            Role::Served => "served",
            Role::Challenger => "challenger",
        }
    }
}

/// Why models or rules could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("models directory {}: {source}", path.display())]
    ModelsDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}: no model bundle in it or in any directory below it (train one with `qualify train --out {}/NAME`)", path.display(), path.display())]
    NoModels { path: PathBuf },
    #[error("model directory {}: {source}", path.display())]
    Version {
        path: PathBuf,
        source: Box<qualify_core::Error>,
    },
    #[error("model bundle {}: {source}", path.display())]
    Model {
        path: PathBuf,
        source: Box<qualify_runtime::RuntimeError>,
    },
    #[error("{} and {} both hold a model named {name:?}", first.display(), second.display())]
    DuplicateModel {
        name: String,
        first: PathBuf,
        second: PathBuf,
    },
    #[error("default model {name:?} is not among the models in {} ({})", dir.display(), served.join(", "))]
    DefaultModel {
        name: String,
        dir: PathBuf,
        served: Vec<String>,
    },
    #[error("rules file {}: {source}", path.display())]
    RulesRead {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{source}")]
    Rules {
        path: PathBuf,
        source: Box<qualify_rules::RulesError>,
    },
    #[error("challenger: {0}")]
    Challenger(Box<LoadError>),
}

/// What a reload did to one model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReloadStatus {
    /// The latest version is the one already serving.
    Unchanged,
    /// A new version passed its checks and serves.
    Loaded,
    /// The new version failed; the old one serves.
    Kept,
    /// Nothing serves under this name.
    Failed,
}

/// What a reload did to one model, the rules or the challenger.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ReloadEntry {
    /// Model name, `rules` or `challenger`.
    pub name: String,
    pub status: ReloadStatus,
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ReloadReport {
    pub entries: Vec<ReloadEntry>,
    pub problems: Vec<String>,
}

/// The served snapshot and the means to replace it.
#[derive(Debug)]
pub struct Registry {
    config: Config,
    current: ArcSwap<Served>,
    /// Held by the thread doing a reload (even one stuck past its timeout).
    reloading: Arc<tokio::sync::Mutex<()>>,
}

impl Registry {
    /// Loads everything the config names; any failure is an error (a server that starts must
    /// serve what it was told to).
    pub fn open(config: &Config) -> Result<Registry, LoadError> {
        let (served, _) = load::load(config, None)?;
        Ok(Registry {
            config: config.clone(),
            current: ArcSwap::from_pointee(served),
            reloading: Arc::new(tokio::sync::Mutex::new(())),
        })
    }

    /// The current snapshot; hold it for the whole request.
    pub fn current(&self) -> Arc<Served> {
        self.current.load_full()
    }

    /// Re-reads the models directory and the rules file and swaps in what changed and
    /// verifies. One reload at a time, on a blocking thread, within `reload_timeout_ms`
    /// (waiting for an earlier reload included).
    pub async fn reload(self: &Arc<Self>) -> ReloadReport {
        let limit = Duration::from_millis(self.config.reload_timeout_ms);
        let started = Instant::now();
        let deadline = tokio::time::Instant::from_std(started + limit);
        let Ok(guard) =
            tokio::time::timeout_at(deadline, Arc::clone(&self.reloading).lock_owned()).await
        else {
            return self.keep_with_problem(format!(
                "an earlier reload is still running after this one waited {} ms for it (a file read may hang); the previous models and rules keep serving",
                limit.as_millis()
            ));
        };
        let this = Arc::clone(self);
        let task = tokio::task::spawn_blocking(move || {
            let _guard = guard;
            let result = load::load(&this.config, Some(&this.current()));
            if started.elapsed() > limit {
                tracing::warn!(
                    after_ms = started.elapsed().as_millis() as u64,
                    "a reload that timed out has finished; its result is dropped (reload again)"
                );
            }
            result
        });
        let (served, report) = match tokio::time::timeout_at(deadline, task).await {
            Ok(Ok(Ok(pair))) => pair,
            Ok(Ok(Err(e))) => {
                return self.keep_with_problem(format!(
                    "reload failed, the previous models and rules keep serving: {e}"
                ));
            }
            Ok(Err(e)) => {
                return self.keep_with_problem(format!(
                    "reload panicked, the previous models and rules keep serving: {e}"
                ));
            }
            Err(_) => {
                return self.keep_with_problem(format!(
                    "reload did not finish within {} ms (a file read may hang); the previous models and rules keep serving",
                    limit.as_millis()
                ));
            }
        };
        self.current.store(Arc::new(served));
        report
    }

    fn keep_with_problem(&self, problem: String) -> ReloadReport {
        let old = self.current();
        let served = Served {
            models: old.models.clone(),
            default_model: old.default_model.clone(),
            rules: Arc::clone(&old.rules),
            challenger: old.challenger.clone(),
            problems: vec![problem.clone()],
            loaded_at: old.loaded_at,
        };
        self.current.store(Arc::new(served));
        ReloadReport {
            entries: Vec::new(),
            problems: vec![problem],
        }
    }
}

/// Logs what a reload did: every problem, every new version, and a summary line.
pub fn log_report(report: &ReloadReport) {
    for p in &report.problems {
        tracing::warn!(problem = %p, "reload");
    }
    for e in report
        .entries
        .iter()
        .filter(|e| e.status == ReloadStatus::Loaded)
    {
        tracing::info!(name = %e.name, version = ?e.version, "now serving");
    }
    tracing::info!(
        loaded = report
            .entries
            .iter()
            .filter(|e| e.status == ReloadStatus::Loaded)
            .count(),
        problems = report.problems.len(),
        "reload done"
    );
}
