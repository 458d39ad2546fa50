//! `qualify.train(leads=…, events=…, outcomes=…)`: point-in-time training on a CRM history,
//! as `qualify train --leads L --events E --outcomes O` does it.
//!
//! The three tables are either three files (read and checked by the history readers, as the
//! command line reads them, fingerprinted by their bytes) or three frames (turned into tables
//! by [`crate::frame`] and checked by the same function, `qualify_data::history::from_tables`,
//! that the files and the lead store go through). Without a schema, the leads schema is
//! inferred from the leads table, as the command line does. From the checked history on, the
//! rows, the fit and the bundle are [`qualify_train::history::train_history`]'s: one path for
//! the CLI, the store and Python.

use std::path::{Path, PathBuf};

use arrow_array::ffi_stream::RecordBatchStreamReader;
use arrow_pyarrow::PyArrowType;
use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use qualify_core::schema::Schema;
use qualify_core::value::RawTable;
use qualify_data::history::{HistoryPaths, ReadHistory, Source, from_tables, read_history};
use qualify_data::infer::{InferOptions, infer_schema};
use qualify_train::history::{HistoryOptions, RowsKind, train_history};
use qualify_train::pipeline::DataSource;
use qualify_train::progress::Silent;

use crate::error::{Kind, raise, raise_with};
use crate::frame::batches_table;
use crate::model::read_batches;
use crate::train::{Options, Trained, config, pipeline_error};

/// One history table: a CSV or Parquet path, or a frame as an Arrow stream.
#[derive(FromPyObject)]
pub enum TableInput {
    Path(PathBuf),
    Frame(PyArrowType<RecordBatchStreamReader>),
}

impl std::fmt::Debug for TableInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TableInput::Path(path) => f.debug_tuple("Path").field(path).finish(),
            TableInput::Frame(_) => f.write_str("Frame(..)"),
        }
    }
}

/// How the point-in-time rows are made: `qualify train`'s history flags, in days.
#[derive(Debug, Clone, FromPyObject)]
#[pyo3(from_item_all)]
pub struct RowOptions {
    window: u32,
    offsets: Vec<u32>,
    count_windows: Vec<u32>,
    half_life: f64,
    /// RFC 3339, as `--as-of`.
    as_of: Option<String>,
    min_type_events: Option<usize>,
}

/// Trains on a history given as three files or three frames; `options` are
/// [`Options`] (the flat flags), `rows` the history's.
#[pyfunction]
pub fn train_history_tables(
    py: Python<'_>,
    leads: TableInput,
    events: TableInput,
    outcomes: TableInput,
    out: PathBuf,
    options: Options,
    rows: RowOptions,
) -> PyResult<Trained> {
    let schema = options
        .schema
        .as_deref()
        .map(|p| Schema::read(p).map_err(|e| raise(Kind::Input, &e)))
        .transpose()?;
    let history_options = history_options(&rows)?;
    let (read, schema, source) = match (leads, events, outcomes) {
        (TableInput::Path(leads), TableInput::Path(events), TableInput::Path(outcomes)) => {
            let paths = HistoryPaths {
                leads,
                events,
                outcomes: Some(outcomes),
            };
            py.detach(|| from_files(&paths, schema))?
        }
        (TableInput::Frame(leads), TableInput::Frame(events), TableInput::Frame(outcomes)) => {
            let leads = frame_table(py, leads, "leads")?;
            let events = frame_table(py, events, "events")?;
            let outcomes = frame_table(py, outcomes, "outcomes")?;
            py.detach(|| from_frames(leads, &events, &outcomes, schema))?
        }
        _ => {
            return Err(raise_with(
                Kind::Input,
                "leads, events and outcomes must be three paths or three frames, not a mix"
                    .to_string(),
                None,
                None,
            ));
        }
    };
    let config = config(&options, Some(schema))?;
    let mut warnings: Vec<String> = read
        .report
        .warnings
        .iter()
        .map(ToString::to_string)
        .collect();
    let (trained, _) = py
        .detach(|| {
            train_history(
                &config,
                &read.history,
                &history_options,
                &source,
                &out,
                &Silent,
            )
        })
        .map_err(|e| match e {
            qualify_train::history::HistoryTrainError::Pipeline(e) => pipeline_error(&e),
            other => raise(Kind::Train, &other),
        })?;
    let metrics = serde_json::to_string(&trained.metrics).map_err(|e| raise(Kind::Train, &e))?;
    warnings.extend(trained.warnings.iter().map(ToString::to_string));
    Ok((trained.dir, metrics, warnings))
}

fn history_options(rows: &RowOptions) -> PyResult<HistoryOptions> {
    let end = rows
        .as_of
        .as_deref()
        .map(|text| {
            DateTime::parse_from_rfc3339(text)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| {
                    raise_with(
                        Kind::Input,
                        format!("as_of {text:?} is not an RFC 3339 time: {e}"),
                        Some("as_of".to_string()),
                        None,
                    )
                })
        })
        .transpose()?;
    Ok(HistoryOptions {
        label_window_days: rows.window,
        offsets_days: rows.offsets.clone(),
        windows_days: rows.count_windows.clone(),
        half_life_days: rows.half_life,
        end,
        min_type_events: rows.min_type_events,
        kind: RowsKind::PointInTime,
    })
}

fn frame_table(
    py: Python<'_>,
    frame: PyArrowType<RecordBatchStreamReader>,
    name: &str,
) -> PyResult<RawTable> {
    let batches = read_batches(frame.0)?;
    py.detach(|| batches_table(&batches)).map_err(|e| {
        raise_with(
            Kind::Input,
            format!("the {name} frame: {}", crate::error::message(&e)),
            crate::error::locate(&e).0,
            None,
        )
    })
}

type Checked = (ReadHistory, Schema, DataSource);

fn from_files(paths: &HistoryPaths, schema: Option<Schema>) -> PyResult<Checked> {
    let schema = match schema {
        Some(schema) => schema,
        None => {
            qualify_data::history::infer_leads_schema(&paths.leads, None, None, None)
                .map_err(|e| raise(Kind::Input, &e))?
                .schema
        }
    };
    let read = read_history(paths, &schema, None).map_err(|e| raise(Kind::Input, &e))?;
    let source = DataSource::files(&paths.files()).map_err(|e| raise(Kind::Input, &e))?;
    Ok((read, schema, source))
}

fn from_frames(
    leads: RawTable,
    events: &RawTable,
    outcomes: &RawTable,
    schema: Option<Schema>,
) -> PyResult<Checked> {
    let schema = match schema {
        Some(schema) => schema,
        None => {
            let options = InferOptions {
                label: None,
                id: None,
                time: None,
            };
            infer_schema(&leads, &options)
                .map_err(|e| raise(Kind::Input, &e))?
                .schema
        }
    };
    // Each frame fingerprinted by its contents, then the three together, as three files are.
    let parts = [
        DataSource::table("leads frame", &leads),
        DataSource::table("events frame", events),
        DataSource::table("outcomes frame", outcomes),
    ];
    let source = DataSource {
        name: "leads+events+outcomes frames".to_string(),
        sha256: qualify_core::bundle::sha256_hex(
            parts
                .iter()
                .map(|p| p.sha256.as_str())
                .collect::<String>()
                .as_bytes(),
        ),
    };
    let read = from_tables(
        leads,
        Path::new("leads frame"),
        Some(Source {
            table: events,
            path: Path::new("events frame"),
        }),
        Some(Source {
            table: outcomes,
            path: Path::new("outcomes frame"),
        }),
        &schema,
    )
    .map_err(|e| raise(Kind::Input, &e))?;
    Ok((read, schema, source))
}
