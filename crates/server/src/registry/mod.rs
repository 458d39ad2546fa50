//! The models and rules being served, and how they are replaced while serving.
//!
//! Everything a request needs is one immutable [`Served`] snapshot behind an `ArcSwap`: a
//! request takes the current `Arc` once and finishes on it, so a reload never changes a model
//! under a request in flight. A reload builds a new snapshot off the async threads, reusing
//! every model whose latest version is unchanged; a new version serves only after
//! `Model::load` has verified it (hashes and golden rows). A bundle or rules file that fails
//! leaves the previous one serving and is listed in [`Served::problems`] (`/readyz`, logs).

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, anyhow};
use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use qualify_core::bundle::{resolve_version, sha256_hex};
use qualify_rules::CompiledRules;
use qualify_runtime::Model;
use serde::Serialize;
use utoipa::ToSchema;

use crate::config::Config;

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
    fn load(source: &Path) -> anyhow::Result<LoadedModel> {
        let model = Model::load(source).map_err(|e| anyhow!("{e}"))?;
        let columns = model
            .manifest()
            .schema
            .columns
            .iter()
            .map(|c| c.name.clone())
            .collect();
        Ok(LoadedModel {
            model,
            source: source.to_path_buf(),
            columns,
        })
    }

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

impl LoadedRules {
    fn load(path: &Path, text: &str) -> anyhow::Result<LoadedRules> {
        let rules = CompiledRules::from_text(text, &path.display().to_string())
            .map_err(|e| anyhow!("{e}"))?;
        let fields = rules.fields().into_iter().map(str::to_string).collect();
        Ok(LoadedRules {
            rules,
            path: path.to_path_buf(),
            sha256: sha256_hex(text.as_bytes()),
            fields,
        })
    }
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

/// What a reload did to one model.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ReloadEntry {
    /// Model name, `rules` or `challenger`.
    pub name: String,
    /// `unchanged`, `loaded` (a new version serves), `kept` (the new version failed; the old
    /// one serves) or `failed` (nothing serves under this name).
    pub status: &'static str,
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
    reloading: tokio::sync::Mutex<()>,
}

impl Registry {
    /// Loads everything the config names; any failure is an error (a server that starts must
    /// serve what it was told to).
    pub fn open(config: &Config) -> anyhow::Result<Registry> {
        let (served, report) = load(config, None)?;
        if let Some(problem) = report.problems.first() {
            anyhow::bail!("{problem}");
        }
        Ok(Registry {
            config: config.clone(),
            current: ArcSwap::from_pointee(served),
            reloading: tokio::sync::Mutex::new(()),
        })
    }

    /// The current snapshot; hold it for the whole request.
    pub fn current(&self) -> Arc<Served> {
        self.current.load_full()
    }

    /// Re-reads the models directory and the rules file and swaps in what changed and
    /// verifies. One reload at a time; loading runs on a blocking thread.
    pub async fn reload(self: &Arc<Self>) -> ReloadReport {
        let _guard = self.reloading.lock().await;
        let this = Arc::clone(self);
        let result = tokio::task::spawn_blocking(move || {
            let previous = this.current();
            load(&this.config, Some(&previous))
        })
        .await;
        let (served, report) = match result {
            Ok(Ok(pair)) => pair,
            Ok(Err(e)) => {
                let problem =
                    format!("reload failed, the previous models and rules keep serving: {e:#}");
                return self.keep_with_problem(problem);
            }
            Err(e) => {
                let problem =
                    format!("reload panicked, the previous models and rules keep serving: {e}");
                return self.keep_with_problem(problem);
            }
        };
        for p in &report.problems {
            tracing::warn!(problem = %p, "reload");
        }
        for e in report.entries.iter().filter(|e| e.status == "loaded") {
            tracing::info!(name = %e.name, version = ?e.version, "now serving");
        }
        self.current.store(Arc::new(served));
        report
    }

    fn keep_with_problem(&self, problem: String) -> ReloadReport {
        tracing::error!(%problem, "reload");
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

/// Model directories under `models`: itself when it is a model or bundle directory, else
/// each subdirectory that is one (hidden ones and plain files skipped).
pub fn discover(models: &Path) -> anyhow::Result<Vec<PathBuf>> {
    if resolve_version(models).is_ok() {
        return Ok(vec![models.to_path_buf()]);
    }
    let entries = std::fs::read_dir(models)
        .with_context(|| format!("models directory {}", models.display()))?;
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_dir()
                && !p
                    .file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with('.'))
                && resolve_version(p).is_ok()
        })
        .collect();
    dirs.sort();
    if dirs.is_empty() {
        anyhow::bail!(
            "{}: no model bundle in it or in any directory below it (train one with `qualify train --out {}/NAME`)",
            models.display(),
            models.display()
        );
    }
    Ok(dirs)
}

/// Builds a snapshot. With `previous`, unchanged parts are reused and failures keep the
/// previous part (reported); without, failures are reported for the caller to refuse.
fn load(config: &Config, previous: Option<&Served>) -> anyhow::Result<(Served, ReloadReport)> {
    let mut entries = Vec::new();
    let mut problems = Vec::new();
    let mut models: BTreeMap<String, Arc<LoadedModel>> = BTreeMap::new();
    let old_by_source: BTreeMap<&Path, &Arc<LoadedModel>> = previous
        .map(|p| p.models.values().map(|m| (m.source.as_path(), m)).collect())
        .unwrap_or_default();

    for source in discover(&config.models)? {
        let old = old_by_source.get(source.as_path()).copied();
        match load_model(&source, old) {
            Ok((model, status)) => {
                let name = model.name().to_string();
                entries.push(ReloadEntry {
                    name: name.clone(),
                    status,
                    version: Some(model.version().to_string()),
                    error: None,
                });
                if let Some(other) = models.get(&name) {
                    problems.push(format!(
                        "{} and {} both hold a model named {name:?}; the first serves",
                        other.source.display(),
                        source.display()
                    ));
                } else {
                    models.insert(name, model);
                }
            }
            Err(e) => {
                let error = format!("{e:#}");
                problems.push(error.clone());
                if let Some(old) = old {
                    entries.push(ReloadEntry {
                        name: old.name().to_string(),
                        status: "kept",
                        version: Some(old.version().to_string()),
                        error: Some(error),
                    });
                    models.insert(old.name().to_string(), Arc::clone(old));
                } else {
                    entries.push(ReloadEntry {
                        name: source.display().to_string(),
                        status: "failed",
                        version: None,
                        error: Some(error),
                    });
                }
            }
        }
    }
    // A model whose directory vanished keeps serving until restart (nothing is dropped
    // silently); say so.
    if let Some(previous) = previous {
        for (name, old) in &previous.models {
            if !models.contains_key(name) {
                problems.push(format!(
                    "model {name:?}: {} is gone; version {} keeps serving until restart",
                    old.source.display(),
                    old.version()
                ));
                models.insert(name.clone(), Arc::clone(old));
            }
        }
    }

    let default_model = if models.contains_key(&config.default_model) {
        config.default_model.clone()
    } else if models.len() == 1 {
        models.keys().next().cloned().unwrap_or_default()
    } else {
        anyhow::bail!(
            "default model {:?} is not among the models in {} ({})",
            config.default_model,
            config.models.display(),
            models.keys().cloned().collect::<Vec<_>>().join(", ")
        );
    };

    let rules = load_rules(
        &config.rules,
        previous.map(|p| &p.rules),
        &mut entries,
        &mut problems,
    )?;

    let challenger = match &config.challenger {
        None => None,
        Some(c) => {
            let old = previous.and_then(|p| p.challenger.as_ref());
            match load_model(&c.model, old) {
                Ok((model, status)) => {
                    entries.push(ReloadEntry {
                        name: "challenger".into(),
                        status,
                        version: Some(model.version().to_string()),
                        error: None,
                    });
                    Some(model)
                }
                Err(e) => {
                    let error = format!("challenger: {e:#}");
                    problems.push(error.clone());
                    entries.push(ReloadEntry {
                        name: "challenger".into(),
                        status: if old.is_some() { "kept" } else { "failed" },
                        version: old.map(|m| m.version().to_string()),
                        error: Some(error),
                    });
                    old.cloned()
                }
            }
        }
    };

    let served = Served {
        models,
        default_model,
        rules,
        challenger,
        problems: problems.clone(),
        loaded_at: Utc::now(),
    };
    Ok((served, ReloadReport { entries, problems }))
}

/// The latest version under `source`, reusing `old` when it is that version already.
fn load_model(
    source: &Path,
    old: Option<&Arc<LoadedModel>>,
) -> anyhow::Result<(Arc<LoadedModel>, &'static str)> {
    let latest = resolve_version(source).map_err(|e| anyhow!("{e}"))?;
    if let Some(old) = old
        && old.model.dir() == latest
    {
        return Ok((Arc::clone(old), "unchanged"));
    }
    let model =
        LoadedModel::load(&latest).with_context(|| format!("model bundle {}", latest.display()))?;
    Ok((
        Arc::new(LoadedModel {
            source: source.to_path_buf(),
            ..model
        }),
        "loaded",
    ))
}

fn load_rules(
    path: &Path,
    old: Option<&Arc<LoadedRules>>,
    entries: &mut Vec<ReloadEntry>,
    problems: &mut Vec<String>,
) -> anyhow::Result<Arc<LoadedRules>> {
    let attempt = std::fs::read_to_string(path)
        .map_err(|e| anyhow!("rules file {}: {e}", path.display()))
        .and_then(|text| {
            if let Some(old) = old
                && old.sha256 == sha256_hex(text.as_bytes())
            {
                return Ok((Arc::clone(old), "unchanged"));
            }
            LoadedRules::load(path, &text).map(|r| (Arc::new(r), "loaded"))
        });
    match (attempt, old) {
        (Ok((rules, status)), _) => {
            entries.push(ReloadEntry {
                name: "rules".into(),
                status,
                version: Some(rules.sha256[..12].to_string()),
                error: None,
            });
            Ok(rules)
        }
        (Err(e), Some(old)) => {
            let error = format!("{e:#}");
            problems.push(error.clone());
            entries.push(ReloadEntry {
                name: "rules".into(),
                status: "kept",
                version: Some(old.sha256[..12].to_string()),
                error: Some(error),
            });
            Ok(Arc::clone(old))
        }
        (Err(e), None) => Err(e),
    }
}
