//! Scoring and back-testing a history model at moments: what `qualify score`, `qualify
//! evaluate` and `qualify compare` do with `--leads --events`.
//!
//! The rows are made exactly as training made them ([`History::point_in_time`] with the
//! bundle's [`HistorySpec`](qualify_core::history::HistorySpec)) and scored through the
//! runtime's batch path; the server computes the same features from a record's `activities`
//! with the same function, and the bundle's golden rows hold the runtime's batch and
//! single-record encoders equal. Labels for a back-test come from the outcomes with the
//! model's window, censored as in training.

use chrono::{DateTime, Utc};
use qualify_core::history::{History, HistoryError, HistoryModel, Moment, MomentLabels, millis};
use qualify_core::value::{RawColumn, RawTable};
use qualify_runtime::Model;

use super::label_column;
use crate::evaluate::{EvaluateError, Evaluation, evaluate};

/// Why moments could not be scored or back-tested.
#[derive(Debug, thiserror::Error)]
pub enum MomentsError {
    #[error(
        "the model in {} was not trained on a history (it has no history spec): score it \
         with --data on a flat file",
        dir.display()
    )]
    NotHistory { dir: std::path::PathBuf },
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error(transparent)]
    Score(#[from] qualify_runtime::RuntimeError),
    #[error(
        "none of the {moments} moment(s) could be labelled ({censored} censored: their {window}-day \
         window passes the end of the data; {closed} at or after the lead's outcome)"
    )]
    NoLabelled {
        moments: usize,
        censored: usize,
        closed: usize,
        window: u32,
    },
    #[error(transparent)]
    Evaluate(#[from] EvaluateError),
}

/// The bundle's history model, or why it has none.
pub fn history_model(model: &Model) -> Result<&HistoryModel, MomentsError> {
    model
        .manifest()
        .history
        .as_ref()
        .ok_or_else(|| MomentsError::NotHistory {
            dir: model.dir().to_path_buf(),
        })
}

/// Which moments to score or back-test.
#[derive(Debug, Clone, PartialEq)]
pub enum MomentsChoice {
    /// Every lead open at this time.
    At(DateTime<Utc>),
    /// These `(lead, moment)` pairs, in this order.
    Given(Vec<Moment>),
    /// Every lead at the model's training offsets while open, up to the end of the data: the
    /// moments training would make.
    Offsets,
}

impl MomentsChoice {
    /// The moments, in order.
    pub fn moments(&self, history: &History, model: &HistoryModel, end: i64) -> Vec<Moment> {
        match self {
            MomentsChoice::At(t) => history.open_at(millis(*t)),
            MomentsChoice::Given(m) => m.clone(),
            MomentsChoice::Offsets => history.training_moments(&model.spec, end).moments,
        }
    }
}

/// Scored moments.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredMoments {
    /// The point-in-time rows scored (the leads' columns, the moment, the features).
    pub table: RawTable,
    /// One per row, in order.
    pub propensity: Vec<f64>,
    /// Events of types the model does not know: ignored.
    pub ignored_events: usize,
}

/// Scores `moments` of `history` with `model` (see the module docs), in order.
pub fn score_moments(
    model: &Model,
    history: &History,
    moments: &[Moment],
) -> Result<ScoredMoments, MomentsError> {
    let spec = &history_model(model)?.spec;
    let (table, ignored_events) = history.point_in_time(spec, moments)?;
    let propensity = model.score_table(&table, None)?;
    Ok(ScoredMoments {
        table,
        propensity,
        ignored_events,
    })
}

/// Moments labelled with the model's window up to `end`, as a table the evaluation and the
/// comparison read: the kept moments' point-in-time rows plus the label column
/// ([`label_column`]).
#[derive(Debug, Clone, PartialEq)]
pub struct LabelledTable {
    pub table: RawTable,
    /// The label column's name.
    pub label: String,
    /// The kept moments (in the table's order), and how many were left out.
    pub labels: MomentLabels,
    pub moments: Vec<Moment>,
    pub ignored_events: usize,
}

/// The point-in-time rows of `moments` that can be labelled (module docs), with their label.
pub fn labelled_table(
    model: &Model,
    history: &History,
    moments: &[Moment],
    end: Option<DateTime<Utc>>,
) -> Result<LabelledTable, MomentsError> {
    let spec = &history_model(model)?.spec;
    let end = end.map_or(history.latest, millis);
    let labels = history.label_moments(spec, moments, end);
    if labels.kept.is_empty() {
        return Err(MomentsError::NoLabelled {
            moments: moments.len(),
            censored: labels.censored,
            closed: labels.closed,
            window: spec.label_window_days,
        });
    }
    let kept: Vec<Moment> = labels.kept.iter().map(|&i| moments[i]).collect();
    let (mut table, ignored_events) = history.point_in_time(spec, &kept)?;
    let label = label_column(spec);
    table
        .push(
            &label,
            RawColumn::Number(
                labels
                    .labels
                    .iter()
                    .map(|&y| Some(f64::from(u8::from(y))))
                    .collect(),
            ),
        )
        .map_err(HistoryError::from)?;
    Ok(LabelledTable {
        table,
        label,
        labels,
        moments: kept,
        ignored_events,
    })
}

/// The model's figures on the labelled moments (what `qualify evaluate --leads` prints).
pub fn evaluate_moments(
    model: &Model,
    history: &History,
    moments: &[Moment],
    end: Option<DateTime<Utc>>,
) -> Result<(Evaluation, LabelledTable), MomentsError> {
    let labelled = labelled_table(model, history, moments, end)?;
    let evaluation = evaluate(model, &labelled.table, Some(&labelled.label), None)?;
    Ok((evaluation, labelled))
}
