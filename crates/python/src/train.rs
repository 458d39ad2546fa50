//! `qualify.train`: [`qualify_train::pipeline::train`] with the command line's options.
//!
//! The rows come from a file (read as `qualify train --data` reads it: polars, with the
//! schema's text columns as text; fingerprinted by the file's sha256) or from a frame
//! (fingerprinted by its contents, [`DataSource::table`]). The options are the CLI's flags
//! under the same names and defaults; the result is the published bundle's directory, its
//! metrics (the manifest's `metrics`, as JSON) and the warnings `qualify train` prints.

use std::path::{Path, PathBuf};

use arrow_array::ffi_stream::RecordBatchStreamReader;
use arrow_pyarrow::PyArrowType;
use pyo3::prelude::*;
use qualify_core::schema::Schema;
use qualify_core::value::RawTable;
use qualify_data::ReadOptions;
use qualify_train::calibration::CalibrationMethod;
use qualify_train::gbm::GbmParams;
use qualify_train::gbm_cv::ClassWeight;
use qualify_train::pipeline::{
    DataSource, ModelChoice, PipelineError, SplitStrategy, TrainConfig, TrainData,
};
use qualify_train::progress::Silent;

use crate::error::{Kind, raise, raise_with};
use crate::frame::batches_table;
use crate::model::read_batches;

/// The training options, as the CLI's flags.
#[derive(Debug, Clone, FromPyObject)]
#[pyo3(from_item_all)]
pub struct Options {
    pub(crate) label: Option<String>,
    pub(crate) schema: Option<PathBuf>,
    pub(crate) id: Option<String>,
    pub(crate) model: String,
    pub(crate) calibration: String,
    pub(crate) time_column: Option<String>,
    pub(crate) test_fraction: f64,
    pub(crate) seed: u64,
    pub(crate) folds: usize,
    pub(crate) class_weight: String,
    pub(crate) max_trees: Option<usize>,
    pub(crate) learning_rate: Option<f32>,
    pub(crate) leaves: Option<usize>,
    pub(crate) min_leaf_weight: Option<f32>,
    pub(crate) early_stopping_rounds: Option<usize>,
    pub(crate) name: Option<String>,
}

/// A published bundle: its directory, metrics (JSON) and warnings.
pub type Trained = (PathBuf, String, Vec<String>);

/// Trains on a CSV or Parquet file; `options` is a dict of [`Options`].
#[pyfunction]
pub fn train_file(
    py: Python<'_>,
    data: PathBuf,
    out: PathBuf,
    options: Options,
) -> PyResult<Trained> {
    let schema = read_schema(options.schema.as_deref())?;
    let read = match &schema {
        Some(schema) => ReadOptions::for_schema(schema, None),
        None => ReadOptions::default(),
    };
    let (table, source) = py
        .detach(|| {
            let table = qualify_data::read_table(&data, &read)?;
            Ok((table, DataSource::file(&data)?))
        })
        .map_err(|e: qualify_data::DataError| raise(Kind::Input, &e))?;
    run(py, &table, &source, &out, &options, schema)
}

/// Trains on a frame (an Arrow stream); `options` is a dict of [`Options`].
#[pyfunction]
pub fn train_frame(
    py: Python<'_>,
    frame: PyArrowType<RecordBatchStreamReader>,
    out: PathBuf,
    options: Options,
) -> PyResult<Trained> {
    let schema = read_schema(options.schema.as_deref())?;
    let batches = read_batches(frame.0)?;
    let table = py
        .detach(|| batches_table(&batches))
        .map_err(|e| raise(Kind::Input, &e))?;
    let source = DataSource::table("data frame", &table);
    run(py, &table, &source, &out, &options, schema)
}

fn read_schema(path: Option<&Path>) -> PyResult<Option<Schema>> {
    path.map(|p| Schema::read(p).map_err(|e| raise(Kind::Input, &e)))
        .transpose()
}

fn run(
    py: Python<'_>,
    table: &RawTable,
    source: &DataSource,
    out: &Path,
    options: &Options,
    schema: Option<Schema>,
) -> PyResult<Trained> {
    let config = config(options, schema)?;
    let data = TrainData::new(table, source);
    let trained = py
        .detach(|| qualify_train::pipeline::train(&config, &data, out, &Silent))
        .map_err(|e| pipeline_error(&e))?;
    let metrics = serde_json::to_string(&trained.metrics).map_err(|e| raise(Kind::Train, &e))?;
    let warnings = trained.warnings.iter().map(ToString::to_string).collect();
    Ok((trained.dir, metrics, warnings))
}

/// A pipeline error as the exception of the step that failed: the data and options
/// (`InputError`) or the training (`TrainError`).
pub(crate) fn pipeline_error(e: &PipelineError) -> PyErr {
    let kind = match e {
        PipelineError::Label(_)
        | PipelineError::NoLabel
        | PipelineError::LabelMismatch { .. }
        | PipelineError::Infer(_)
        | PipelineError::Encode(_)
        | PipelineError::NoTimeColumn { .. }
        | PipelineError::NotATime { .. } => Kind::Input,
        _ => Kind::Train,
    };
    raise(kind, e)
}

/// The options as the library's config, as `qualify train` builds it from its flags.
pub(crate) fn config(o: &Options, schema: Option<Schema>) -> PyResult<TrainConfig> {
    let defaults = GbmParams::default();
    let bad = |option: &str, value: &str, allowed: &str| {
        raise_with(
            Kind::Input,
            format!("{option} {value:?}: expected one of {allowed}"),
            Some(option.to_string()),
            None,
        )
    };
    Ok(TrainConfig {
        name: o.name.clone(),
        label: o.label.clone(),
        schema,
        id: o.id.clone(),
        model: match o.model.as_str() {
            "logistic" => ModelChoice::Logistic,
            "gbm" => ModelChoice::Gbm,
            "auto" => ModelChoice::Auto,
            other => return Err(bad("model", other, "logistic, gbm, auto")),
        },
        calibration: match o.calibration.as_str() {
            "platt" => CalibrationMethod::Platt,
            "isotonic" => CalibrationMethod::Isotonic,
            "auto" => CalibrationMethod::Auto,
            other => return Err(bad("calibration", other, "platt, isotonic, auto")),
        },
        split: match &o.time_column {
            Some(column) => SplitStrategy::Time {
                column: column.clone(),
            },
            None => SplitStrategy::Auto,
        },
        test_fraction: o.test_fraction,
        seed: o.seed,
        folds: o.folds,
        class_weight: match o.class_weight.as_str() {
            "none" => ClassWeight::None,
            "balanced" => ClassWeight::Balanced,
            other => return Err(bad("class_weight", other, "none, balanced")),
        },
        gbm: GbmParams {
            max_trees: o.max_trees.unwrap_or(defaults.max_trees),
            learning_rate: o.learning_rate.unwrap_or(defaults.learning_rate),
            max_leaves: o.leaves.unwrap_or(defaults.max_leaves),
            min_leaf_weight: o.min_leaf_weight.unwrap_or(defaults.min_leaf_weight),
            early_stopping_rounds: o
                .early_stopping_rounds
                .unwrap_or(defaults.early_stopping_rounds),
            ..defaults
        },
        ..TrainConfig::default()
    })
}
