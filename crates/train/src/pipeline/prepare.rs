//! Before any fitting: the label, the schema, the split, the checks that would otherwise fail
//! after minutes of work, and the encoder fitted on the training part only.

use std::sync::Arc;

use qualify_core::encoder::{Encoder, parse::time_from_text};
use qualify_core::schema::Schema;
use qualify_core::value::{Cell, RawTable};
use qualify_data::infer::{InferOptions, infer_schema};
use qualify_data::label::{check_trainable, read_labels};

use super::{PipelineError, RowGroups, SplitStrategy, TrainConfig, TrainData};
use crate::progress::{Progress, TrainWarning};
use crate::split::{
    Split, group_classes, grouped_stratified_split, grouped_time_split, stratified_split,
    time_split,
};

/// The data ready to fit on.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub schema: Schema,
    pub labels: Vec<bool>,
    pub split: Split,
    /// The split in words, for the manifest ("time (created_at, test 0.2)").
    pub split_name: String,
    pub encoder: Encoder,
    pub x_train: Vec<f32>,
    pub y_train: Vec<bool>,
    pub x_test: Vec<f32>,
    pub y_test: Vec<bool>,
    /// The group of each training row, when the rows are grouped.
    pub groups_train: Option<Arc<[usize]>>,
}

pub(crate) fn prepare(
    config: &TrainConfig,
    data: &TrainData<'_>,
    progress: &dyn Progress,
    warnings: &mut Vec<TrainWarning>,
) -> Result<Prepared, PipelineError> {
    let table = data.table;
    if let Some(groups) = data.groups
        && groups.group.len() != table.rows()
    {
        return Err(PipelineError::Groups {
            groups: groups.group.len(),
            rows: table.rows(),
        });
    }
    let label = label_column(config)?;
    // The label first: a one-class or tiny label is the error to report, whatever the features.
    let labels = read_labels(table, &label)?;
    check_trainable(&labels, &label)?;
    let schema = match &config.schema {
        Some(schema) => schema.clone(),
        None => infer(config, table, &label, progress, warnings)?,
    };
    progress.stage(crate::progress::Stage::Preparing);

    let (split, split_name) = match data.groups {
        Some(groups) => grouped_split(config, groups, &labels),
        None => split(config, &schema, table, &labels)?,
    };
    let pick = |rows: &[usize]| rows.iter().map(|&r| labels[r]).collect::<Vec<bool>>();
    let (y_train, y_test) = (pick(&split.train), pick(&split.test));
    check_trainable(&y_train, &label).map_err(PipelineError::TrainingPart)?;
    let groups_train: Option<Arc<[usize]>> = data
        .groups
        .map(|g| split.train.iter().map(|&r| g.group[r]).collect());
    check_parts(config, &y_train, &y_test, groups_train.as_deref())?;

    let encoder = Encoder::fit(&schema, table, &split.train, None)?;
    let as_of = encoder.reference_time();
    let x_train = encoder.encode_table(table, &split.train, as_of)?;
    let x_test = encoder.encode_table(table, &split.test, as_of)?;
    Ok(Prepared {
        schema,
        labels,
        split,
        split_name,
        encoder,
        x_train,
        y_train,
        x_test,
        y_test,
        groups_train,
    })
}

/// The split of grouped rows ([`SplitStrategy`]'s docs): out of time by the groups' times,
/// or grouped at random.
fn grouped_split(config: &TrainConfig, groups: &RowGroups, labels: &[bool]) -> (Split, String) {
    let fraction = config.test_fraction;
    match config.split {
        SplitStrategy::Stratified => (
            grouped_stratified_split(labels, &groups.group, fraction, config.seed),
            format!(
                "stratified by {} (seed {}, test {fraction} of {}s)",
                groups.name, config.seed, groups.name
            ),
        ),
        SplitStrategy::Auto | SplitStrategy::Time { .. } => (
            grouped_time_split(&groups.group, &groups.times, fraction),
            format!(
                "out of time: the latest {fraction} of {}s by {} are the test part",
                groups.name, groups.time_name
            ),
        ),
    }
}

/// The label: the config's, the schema's, and equal when both are given.
fn label_column(config: &TrainConfig) -> Result<String, PipelineError> {
    let schema_label = config.schema.as_ref().and_then(|s| s.label());
    match (&config.label, schema_label) {
        (Some(given), Some(schema)) if given != schema => Err(PipelineError::LabelMismatch {
            given: given.clone(),
            schema: Some(schema.to_string()),
        }),
        (Some(given), _) => Ok(given.clone()),
        (None, Some(schema)) => Ok(schema.to_string()),
        (None, None) => Err(PipelineError::NoLabel),
    }
}

fn infer(
    config: &TrainConfig,
    table: &RawTable,
    label: &str,
    progress: &dyn Progress,
    warnings: &mut Vec<TrainWarning>,
) -> Result<Schema, PipelineError> {
    let options = InferOptions {
        label: Some(label.to_string()),
        id: config.id.clone(),
        time: match &config.split {
            SplitStrategy::Time { column } => Some(column.clone()),
            SplitStrategy::Auto | SplitStrategy::Stratified => None,
        },
    };
    let inferred = infer_schema(table, &options)?;
    for (column, notes) in &inferred.notes {
        for message in &notes.warnings {
            let warning = TrainWarning::InferredColumn {
                column: column.clone(),
                message: message.clone(),
            };
            progress.warning(&warning);
            warnings.push(warning);
        }
    }
    Ok(inferred.schema)
}

fn split(
    config: &TrainConfig,
    schema: &Schema,
    table: &RawTable,
    labels: &[bool],
) -> Result<(Split, String), PipelineError> {
    let fraction = config.test_fraction;
    let time_column = match &config.split {
        SplitStrategy::Time { column } => Some(column.as_str()),
        SplitStrategy::Auto => schema.time(),
        SplitStrategy::Stratified => None,
    };
    Ok(match time_column {
        Some(column) => (
            time_split(&read_times(table, column)?, fraction),
            format!("time ({column}, test {fraction})"),
        ),
        None => (
            stratified_split(labels, fraction, config.seed),
            format!("stratified (seed {}, test {fraction})", config.seed),
        ),
    })
}

/// Times of the split column, as sortable milliseconds; every row must have one.
fn read_times(table: &RawTable, column: &str) -> Result<Vec<i64>, PipelineError> {
    let data = table
        .column(column)
        .ok_or_else(|| PipelineError::NoTimeColumn {
            column: column.to_string(),
        })?;
    (0..table.rows())
        .map(|r| {
            match data.cell(r) {
                Cell::Text(t) => time_from_text(t).map(|t| t.timestamp_millis()),
                Cell::Number(v) if v.is_finite() => Some(v as i64),
                _ => None,
            }
            .ok_or_else(|| PipelineError::NotATime {
                column: column.to_string(),
                row: r + 1,
            })
        })
        .collect()
}

/// Checks, before any fitting, what would otherwise fail after it: a test part that cannot
/// be evaluated, or more folds than the rarer training class has rows.
fn check_parts(
    config: &TrainConfig,
    y_train: &[bool],
    y_test: &[bool],
    groups_train: Option<&[usize]>,
) -> Result<(), PipelineError> {
    let count = |y: &[bool]| {
        let p = y.iter().filter(|&&v| v).count();
        (p, y.len() - p)
    };
    let (positives, negatives) = count(y_test);
    if positives == 0 || negatives == 0 {
        return Err(PipelineError::TestPartOneClass {
            rows: y_test.len(),
            test_fraction: config.test_fraction,
            positives,
            negatives,
        });
    }
    let (train_pos, train_neg) = match groups_train {
        // Folds deal whole groups: the rarer class counts groups.
        Some(groups) => group_classes(y_train, groups),
        None => count(y_train),
    };
    let rarer = train_pos.min(train_neg);
    if config.folds > rarer {
        return Err(PipelineError::TooManyFolds {
            folds: config.folds,
            rarer,
        });
    }
    Ok(())
}
