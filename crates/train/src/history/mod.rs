//! Training from a history: point-in-time rows into the one training pipeline.
//!
//! Not a second pipeline: [`point_in_time_rows`] turns a checked [`History`] into a table like
//! any other (the lead's attributes, the moment, the features at the moment, the label) plus
//! a group per row (the lead) and each group's time (its creation), and [`train_history`]
//! hands them to [`pipeline::train`](crate::pipeline::train), whose split is then out of time
//! by lead creation and whose folds keep a lead's moments together. The rows are made by
//! qualify-core's history module (moments, labels, censoring, the feature code the runtime
//! shares); this module decides which event types the model knows, builds the training
//! schema, and records the spec and the moments' summary in the manifest.
//!
//! [`RowsKind::CarelessSnapshot`] builds the anti-example of docs/history.md through the
//! same path: one row per lead at the end of the data, every event ever seen, label "ever
//! converted". It exists to be measured against honest moments, never to score leads.
//!
//! [`score`] scores and back-tests a trained history model at moments, from the same rows.

mod schema;
pub mod score;

use chrono::{DateTime, Utc};
use qualify_core::history::{
    History, HistoryError, HistoryModel, HistorySpec, LabelledMoments, Moment, MomentSummary,
    OutcomeKind, millis,
};
use qualify_core::schema::Schema;
use qualify_core::value::{RawColumn, RawTable};

use crate::pipeline::{
    DataSource, PipelineError, RowGroups, TrainConfig, TrainData, TrainedBundle, train,
};
use crate::progress::Progress;
use crate::split::Split;

pub use schema::{HistorySchemaError, label_column, training_schema};

/// Which rows to make from a history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RowsKind {
    /// Each lead at its moments while open (docs/history.md): the rows to train on.
    #[default]
    PointInTime,
    /// The anti-example: one row per lead at the end of the data, every event ever seen
    /// (after the outcome too), label "ever converted".
    CarelessSnapshot,
}

/// How a history becomes rows: the spec's settings, the end of the data, the rows' kind.
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryOptions {
    pub label_window_days: u32,
    pub offsets_days: Vec<u32>,
    pub windows_days: Vec<u32>,
    pub half_life_days: f64,
    /// The end of the data (labels look no further); default: the latest timestamp in the
    /// three tables.
    pub end: Option<DateTime<Utc>>,
    /// Fewest events strictly before the training moments for a type to get its columns;
    /// default: the schema's `min_level_count`.
    pub min_type_events: Option<usize>,
    pub kind: RowsKind,
}

impl Default for HistoryOptions {
    fn default() -> Self {
        let spec = HistorySpec::new(Vec::new(), "");
        HistoryOptions {
            label_window_days: spec.label_window_days,
            offsets_days: spec.offsets_days,
            windows_days: spec.windows_days,
            half_life_days: spec.half_life_days,
            end: None,
            min_type_events: None,
            kind: RowsKind::PointInTime,
        }
    }
}

/// Point-in-time rows ready for the pipeline.
#[derive(Debug, Clone)]
pub struct PointInTimeRows {
    /// The leads' columns, [`MOMENT_COLUMN`](qualify_core::history::MOMENT_COLUMN), the
    /// features, and the label column ([`label_column`]).
    pub table: RawTable,
    /// The training schema: the leads schema, the feature columns, the label.
    pub schema: Schema,
    /// The lead of each row, and each lead's creation.
    pub groups: RowGroups,
    /// What the manifest records.
    pub model: HistoryModel,
    /// Events of types the model does not know (too rare before any moment): ignored.
    pub ignored_events: usize,
}

/// Why rows could not be made or trained on.
#[derive(Debug, thiserror::Error)]
pub enum HistoryTrainError {
    #[error(transparent)]
    History(#[from] HistoryError),
    #[error(transparent)]
    Schema(#[from] HistorySchemaError),
    #[error(
        "no moment could be labelled: {censored} censored moment(s) and {leads} lead(s); the \
         label window ({window} days) must fit between the moments and the end of the data"
    )]
    NoMoments {
        censored: usize,
        leads: usize,
        window: u32,
    },
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
}

/// The rows of `kind` (see [`RowsKind`]) from `history`, with the leads schema `leads_schema`.
///
/// # Errors
/// A spec that breaks its rules, a leads schema that cannot be extended (a feature's name
/// taken, a timestamp attribute), no labelled moment.
pub fn point_in_time_rows(
    history: &History,
    leads_schema: &Schema,
    options: &HistoryOptions,
) -> Result<PointInTimeRows, HistoryTrainError> {
    let created_column = leads_schema.time().unwrap_or_default().to_string();
    let mut spec = HistorySpec {
        event_types: Vec::new(),
        windows_days: options.windows_days.clone(),
        half_life_days: options.half_life_days,
        label_window_days: options.label_window_days,
        offsets_days: options.offsets_days.clone(),
        created_column,
    };
    spec.validate()?;
    let end = options.end.map_or(history.latest, millis);
    let labelled = match options.kind {
        RowsKind::PointInTime => history.training_moments(&spec, end),
        RowsKind::CarelessSnapshot => careless_moments(history, end),
    };
    if labelled.moments.is_empty() {
        return Err(HistoryTrainError::NoMoments {
            censored: labelled.summary.censored,
            leads: history.ids.len(),
            window: spec.label_window_days,
        });
    }
    let min = options
        .min_type_events
        .unwrap_or(leads_schema.min_level_count);
    spec.event_types = history.known_types(&labelled.moments, min);
    spec.validate()?;
    let schema = training_schema(leads_schema, &spec)?;
    let (mut table, ignored_events) = history.point_in_time(&spec, &labelled.moments)?;
    table
        .push(
            label_column(&spec),
            RawColumn::Number(
                labelled
                    .labels
                    .iter()
                    .map(|&y| Some(f64::from(u8::from(y))))
                    .collect(),
            ),
        )
        .map_err(HistoryError::from)?;
    let groups = RowGroups {
        group: labelled.moments.iter().map(|m| m.lead).collect(),
        times: history.created.clone(),
        name: "lead".into(),
        time_name: spec.created_column.clone(),
    };
    let mut model = HistoryModel::new(spec, labelled.summary);
    if options.kind == RowsKind::CarelessSnapshot {
        model.target = "the anti-example of docs/history.md: \"ever converted\", learned from \
                        every event ever seen; not a probability of anything at a moment"
            .to_string();
    }
    Ok(PointInTimeRows {
        table,
        schema,
        groups,
        model,
        ignored_events,
    })
}

/// Column of [`rows_with_parts`] naming each row's part.
pub const PART_COLUMN: &str = "part";

/// The rows with a [`PART_COLUMN`] (`train` or `test`, as `split` made them): what a peer
/// trains and tests on to be compared with the bundle on exactly the same rows.
pub fn rows_with_parts(rows: &PointInTimeRows, split: &Split) -> Result<RawTable, HistoryError> {
    let mut part = vec![None; rows.table.rows()];
    for (rows, name) in [(&split.train, "train"), (&split.test, "test")] {
        for &r in rows {
            if let Some(cell) = part.get_mut(r) {
                *cell = Some(name.to_string());
            }
        }
    }
    let mut table = rows.table.clone();
    table.push(PART_COLUMN, RawColumn::Text(part))?;
    Ok(table)
}

/// One moment per lead just after the end of the data (every event counts), labelled "ever
/// converted" (a conversion up to the end).
fn careless_moments(history: &History, end: i64) -> LabelledMoments {
    let mut out = LabelledMoments {
        moments: Vec::new(),
        labels: Vec::new(),
        summary: MomentSummary {
            end: DateTime::from_timestamp_millis(end),
            leads: history.ids.len(),
            events: history.events.len(),
            ..MomentSummary::default()
        },
    };
    for lead in 0..history.ids.len() {
        if history.created[lead] > end {
            out.summary.leads_without_moments += 1;
            continue;
        }
        let converted = history.outcomes[lead]
            .as_slice()
            .iter()
            .any(|o| o.kind == OutcomeKind::Converted && o.at <= end);
        out.moments.push(Moment {
            lead,
            at: end.saturating_add(1),
        });
        out.labels.push(converted);
        out.summary.converted += usize::from(converted);
    }
    out.summary.moments = out.moments.len();
    out
}

/// Trains on `history`'s rows of `options.kind` through [`crate::pipeline::train`]; the
/// bundle's manifest records the spec and the moments. `config.schema` is the leads schema
/// (required).
pub fn train_history(
    config: &TrainConfig,
    history: &History,
    options: &HistoryOptions,
    source: &DataSource,
    models_dir: &std::path::Path,
    progress: &dyn Progress,
) -> Result<(TrainedBundle, PointInTimeRows), HistoryTrainError> {
    let leads_schema = config.schema.as_ref().ok_or(HistorySchemaError::NoSchema)?;
    let rows = point_in_time_rows(history, leads_schema, options)?;
    let config = TrainConfig {
        schema: Some(rows.schema.clone()),
        label: None,
        ..config.clone()
    };
    let data = TrainData {
        table: &rows.table,
        source,
        groups: Some(&rows.groups),
        history: Some(&rows.model),
    };
    let trained = train(&config, &data, models_dir, progress)?;
    Ok((trained, rows))
}
