//! Building a [`Served`] snapshot from disk: discover model directories, load (or reuse) each
//! latest version, compile the rules, load the challenger.
//!
//! At start-up (`previous` is `None`) anything that fails is an error: a server that starts
//! must serve what it was told to. At a reload, a part that fails keeps its previous version
//! and becomes a problem in the report (and in `/readyz`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use qualify_core::bundle::{resolve_version, sha256_hex};
use qualify_rules::CompiledRules;
use qualify_runtime::Model;

use super::{LoadError, LoadedModel, LoadedRules, ReloadEntry, ReloadReport, ReloadStatus, Served};
use crate::config::Config;

impl LoadedModel {
    fn load(source: &Path, bundle: &Path) -> Result<LoadedModel, LoadError> {
        let model = Model::load(bundle).map_err(|source| LoadError::Model {
            path: bundle.to_path_buf(),
            source: Box::new(source),
        })?;
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
}

impl LoadedRules {
    fn load(path: &Path, text: &str) -> Result<LoadedRules, LoadError> {
        let rules =
            CompiledRules::from_text(text, &path.display().to_string()).map_err(|source| {
                LoadError::Rules {
                    path: path.to_path_buf(),
                    source: Box::new(source),
                }
            })?;
        let fields = rules.fields().into_iter().map(str::to_string).collect();
        Ok(LoadedRules {
            rules,
            path: path.to_path_buf(),
            sha256: sha256_hex(text.as_bytes()),
            fields,
        })
    }
}

/// Model directories under `models`: itself when it is a model or bundle directory, else
/// each subdirectory that is one (hidden ones and plain files skipped).
pub fn discover(models: &Path) -> Result<Vec<PathBuf>, LoadError> {
    if resolve_version(models).is_ok() {
        return Ok(vec![models.to_path_buf()]);
    }
    let entries = std::fs::read_dir(models).map_err(|source| LoadError::ModelsDir {
        path: models.to_path_buf(),
        source,
    })?;
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
        return Err(LoadError::NoModels {
            path: models.to_path_buf(),
        });
    }
    Ok(dirs)
}

fn entry(
    name: String,
    status: ReloadStatus,
    version: Option<String>,
    error: Option<String>,
) -> ReloadEntry {
    ReloadEntry {
        name,
        status,
        version,
        error,
    }
}

/// Builds a snapshot. With `previous`, unchanged parts are reused and failures keep the
/// previous part (reported as problems); without, the first failure is the error.
pub(super) fn load(
    config: &Config,
    previous: Option<&Served>,
) -> Result<(Served, ReloadReport), LoadError> {
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
                entries.push(entry(
                    name.clone(),
                    status,
                    Some(model.version().to_string()),
                    None,
                ));
                if let Some(other) = models.get(&name) {
                    if previous.is_none() {
                        return Err(LoadError::DuplicateModel {
                            name,
                            first: other.source.clone(),
                            second: source,
                        });
                    }
                    problems.push(format!(
                        "{} and {} both hold a model named {name:?}; the first serves",
                        other.source.display(),
                        source.display()
                    ));
                } else {
                    models.insert(name, model);
                }
            }
            Err(e) if previous.is_none() => return Err(e),
            Err(e) => {
                let error = e.to_string();
                problems.push(error.clone());
                if let Some(old) = old {
                    entries.push(entry(
                        old.name().to_string(),
                        ReloadStatus::Kept,
                        Some(old.version().to_string()),
                        Some(error),
                    ));
                    models.insert(old.name().to_string(), Arc::clone(old));
                } else {
                    entries.push(entry(
                        source.display().to_string(),
                        ReloadStatus::Failed,
                        None,
                        Some(error),
                    ));
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
        return Err(LoadError::DefaultModel {
            name: config.default_model.clone(),
            dir: config.models.clone(),
            served: models.keys().cloned().collect(),
        });
    };

    let rules = load_rules(
        &config.rules,
        previous.map(|p| &p.rules),
        &mut entries,
        &mut problems,
    )?;

    let challenger = match &config.challenger.model {
        None => None,
        Some(path) => {
            let old = previous.and_then(|p| p.challenger.as_ref());
            match load_model(path, old) {
                Ok((model, status)) => {
                    entries.push(entry(
                        "challenger".into(),
                        status,
                        Some(model.version().to_string()),
                        None,
                    ));
                    Some(model)
                }
                Err(e) if previous.is_none() => return Err(LoadError::Challenger(Box::new(e))),
                Err(e) => {
                    let error = format!("challenger: {e}");
                    problems.push(error.clone());
                    entries.push(entry(
                        "challenger".into(),
                        if old.is_some() {
                            ReloadStatus::Kept
                        } else {
                            ReloadStatus::Failed
                        },
                        old.map(|m| m.version().to_string()),
                        Some(error),
                    ));
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
) -> Result<(Arc<LoadedModel>, ReloadStatus), LoadError> {
    let latest = resolve_version(source).map_err(|e| LoadError::Version {
        path: source.to_path_buf(),
        source: Box::new(e),
    })?;
    if let Some(old) = old
        && old.model.dir() == latest
    {
        return Ok((Arc::clone(old), ReloadStatus::Unchanged));
    }
    Ok((
        Arc::new(LoadedModel::load(source, &latest)?),
        ReloadStatus::Loaded,
    ))
}

fn load_rules(
    path: &Path,
    old: Option<&Arc<LoadedRules>>,
    entries: &mut Vec<ReloadEntry>,
    problems: &mut Vec<String>,
) -> Result<Arc<LoadedRules>, LoadError> {
    let attempt = std::fs::read_to_string(path)
        .map_err(|source| LoadError::RulesRead {
            path: path.to_path_buf(),
            source,
        })
        .and_then(|text| {
            if let Some(old) = old
                && old.sha256 == sha256_hex(text.as_bytes())
            {
                return Ok((Arc::clone(old), ReloadStatus::Unchanged));
            }
            LoadedRules::load(path, &text).map(|r| (Arc::new(r), ReloadStatus::Loaded))
        });
    match (attempt, old) {
        (Ok((rules, status)), _) => {
            entries.push(entry(
                "rules".into(),
                status,
                Some(rules.sha256[..12].to_string()),
                None,
            ));
            Ok(rules)
        }
        (Err(e), Some(old)) => {
            let error = e.to_string();
            problems.push(error.clone());
            entries.push(entry(
                "rules".into(),
                ReloadStatus::Kept,
                Some(old.sha256[..12].to_string()),
                Some(error),
            ));
            Ok(Arc::clone(old))
        }
        (Err(e), None) => Err(e),
    }
}
