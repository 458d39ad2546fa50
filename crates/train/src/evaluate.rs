//! A bundle's figures on labelled data, beside the constant prior's: what `qualify evaluate`
//! reports, for any caller.
//!
//! The model scores the table through the runtime exactly as `qualify score` does (read the
//! file with the bundle's schema for the same cells), so the figures are those of the scores a
//! user would get.

use chrono::{DateTime, Utc};
use qualify_core::bundle::metrics::Metrics;
use qualify_core::value::RawTable;
use qualify_runtime::Model;

/// The model's figures and the no-skill baseline's on the same rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub metrics: Metrics,
    /// Each row scored with the data's own base rate.
    pub prior: Metrics,
}

/// Why a bundle could not be evaluated on a table.
#[derive(Debug, thiserror::Error)]
pub enum EvaluateError {
    /// The bundle's schema names no label and none was given.
    #[error("no label column: name one (the bundle's schema has none)")]
    NoLabel,
    /// The label column is missing or not binary (the error names the column and rows).
    #[error(transparent)]
    Label(#[from] qualify_data::label::LabelError),
    #[error(transparent)]
    Score(#[from] qualify_runtime::RuntimeError),
    #[error(transparent)]
    Metric(#[from] qualify_eval::EvalError),
}

/// Scores `table` with `model` (timestamp features as of `as_of`, default: the training
/// data's reference time) and computes the figures against `label` (default: the bundle
/// schema's label).
pub fn evaluate(
    model: &Model,
    table: &RawTable,
    label: Option<&str>,
    as_of: Option<DateTime<Utc>>,
) -> Result<Evaluation, EvaluateError> {
    let label = label
        .or(model.manifest().schema.label())
        .ok_or(EvaluateError::NoLabel)?;
    let labels = qualify_data::label::read_labels(table, label)?;
    let p = model.score_table(table, as_of)?;
    Ok(Evaluation {
        metrics: Metrics::compute(&labels, &p)?,
        prior: Metrics::constant_prior(&labels)?,
    })
}
