//! `qualify.Model`: a loaded bundle that scores and explains frames.
//!
//! A frame arrives as an Arrow stream; each record batch becomes a [`RawTable`]
//! ([`crate::frame`]) and goes through the runtime's batch calls, [`Model::score_table`] and
//! [`Model::explain_table`], the functions `qualify score` calls, with the interpreter lock
//! released. A batch's error rows are moved to the frame's rows.

use std::path::PathBuf;
use std::sync::Arc;

use arrow_array::ffi_stream::RecordBatchStreamReader;
use arrow_array::{Array, Float64Array, RecordBatch};
use arrow_data::ArrayData;
use arrow_pyarrow::{PyArrowType, Table};
use chrono::{DateTime, Utc};
use pyo3::prelude::*;
use qualify_core::value::RawTable;
use qualify_runtime::pieces::PIECE_ROWS;
use qualify_runtime::{Model, RuntimeError};

use crate::error::{Kind, raise};
use crate::frame::{FrameError, batch_table, table_batch};

/// A model bundle loaded and golden-checked by the runtime.
#[derive(Debug)]
#[pyclass(name = "Model", module = "qualify._native", frozen)]
pub struct PyModel {
    pub(crate) model: Arc<Model>,
}

#[pymethods]
impl PyModel {
    /// Loads the bundle in `path` (a version directory, or a model directory: its latest
    /// version) and checks its golden rows.
    #[staticmethod]
    fn load(py: Python<'_>, path: PathBuf) -> PyResult<PyModel> {
        let model = py
            .detach(|| Model::load(&path))
            .map_err(|e| raise(Kind::Bundle, &e))?;
        Ok(PyModel {
            model: Arc::new(model),
        })
    }

    /// The model's name (manifest).
    #[getter]
    fn name(&self) -> String {
        self.model.manifest().name.clone()
    }

    /// The bundle's version (its directory's name).
    #[getter]
    fn version(&self) -> String {
        self.model.manifest().version.clone()
    }

    /// The version directory the bundle was loaded from.
    #[getter]
    fn path(&self) -> PathBuf {
        self.model.dir().to_path_buf()
    }

    /// The manifest as JSON text.
    fn manifest_json(&self) -> PyResult<String> {
        serde_json::to_string(self.model.manifest()).map_err(|e| raise(Kind::Bundle, &e))
    }

    /// Whether `explain` works for this bundle.
    #[getter]
    fn can_explain(&self) -> bool {
        self.model.can_explain()
    }

    /// Calibrated propensities of every row of the stream, in row order, computed on
    /// `threads` threads (default: one per core).
    #[pyo3(signature = (frame, as_of=None, threads=None))]
    fn score(
        &self,
        py: Python<'_>,
        frame: PyArrowType<RecordBatchStreamReader>,
        as_of: Option<&str>,
        threads: Option<usize>,
    ) -> PyResult<PyArrowType<ArrayData>> {
        let as_of = parse_as_of(as_of)?;
        let batches = read_batches(frame.0)?;
        let model = &self.model;
        let parts = py.detach(|| {
            in_chunks(&batches, threads, |table, offset| {
                model
                    .score_table(&table, as_of)
                    .map_err(|e| Failure::Runtime(e.after_rows(offset)))
            })
        });
        let scores: Vec<f64> = parts.map_err(Failure::raise)?.concat();
        Ok(PyArrowType(Float64Array::from(scores).into_data()))
    }

    /// The frame's id column (the schema's id, when the frame has it), `propensity`,
    /// `raw_score` and `top` reasons of each sign per row: the columns of
    /// `qualify score --explain`.
    #[pyo3(signature = (frame, top=3, as_of=None, threads=None))]
    fn explain(
        &self,
        py: Python<'_>,
        frame: PyArrowType<RecordBatchStreamReader>,
        top: usize,
        as_of: Option<&str>,
        threads: Option<usize>,
    ) -> PyResult<PyArrowType<Table>> {
        let as_of = parse_as_of(as_of)?;
        if let Some(why) = self.model.why_not_explainable() {
            return Err(crate::error::raise_with(
                Kind::Bundle,
                format!("cannot explain scores of the model in {why}"),
                None,
                None,
            ));
        }
        let batches = read_batches(frame.0)?;
        let model = &self.model;
        let manifest = model.manifest();
        let as_of = as_of.unwrap_or_else(|| manifest.encoder.reference_time());
        let out = py.detach(|| {
            in_chunks(&batches, threads, |table, offset| {
                let explained = model
                    .explain_table(&table, as_of, top)
                    .map_err(|e| Failure::Runtime(e.after_rows(offset)))?;
                let mut columns = RawTable::new();
                if let Some((name, id)) = manifest
                    .schema
                    .id()
                    .and_then(|name| table.column(name).map(|c| (name, c)))
                {
                    columns.push(name, id.clone()).map_err(FrameError::from)?;
                }
                columns
                    .push(
                        "propensity",
                        qualify_core::value::RawColumn::Number(
                            explained.propensity.iter().copied().map(Some).collect(),
                        ),
                    )
                    .map_err(FrameError::from)?;
                explained
                    .push_columns(&mut columns)
                    .map_err(FrameError::from)?;
                Ok(table_batch(&columns)?)
            })
        });
        let out = out.map_err(Failure::raise)?;
        let schema = out
            .first()
            .map(RecordBatch::schema)
            .ok_or_else(|| raise(Kind::Input, &FrameError::Empty))?;
        Table::try_new(out, schema)
            .map(PyArrowType)
            .map_err(|e| raise(Kind::Input, &FrameError::Stream(e)))
    }
}

/// What stopped a batch loop: the caller's frame or the runtime.
#[derive(Debug)]
pub(crate) enum Failure {
    Frame(FrameError),
    Runtime(RuntimeError),
}

impl From<FrameError> for Failure {
    fn from(e: FrameError) -> Self {
        Failure::Frame(e)
    }
}

impl Failure {
    pub(crate) fn raise(self) -> PyErr {
        match self {
            Failure::Frame(e) => raise(Kind::Input, &e),
            Failure::Runtime(e @ RuntimeError::Input { .. }) => raise(Kind::Input, &e),
            Failure::Runtime(e) => raise(Kind::Bundle, &e),
        }
    }
}

/// Every batch of the stream (zero-copy: the producer's buffers).
pub(crate) fn read_batches(reader: RecordBatchStreamReader) -> PyResult<Vec<RecordBatch>> {
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| raise(Kind::Input, &FrameError::Stream(e)))?;
    if batches.iter().all(|b| b.num_rows() == 0) {
        return Err(raise(Kind::Input, &FrameError::Empty));
    }
    Ok(batches)
}

/// Calls `f` with every slice of at most [`PIECE_ROWS`] rows of the batches, as a table, and
/// the number of rows before it, on `threads` threads (default: one per core; the runtime
/// scores one piece on one core), and returns the results in row order. The first error in
/// row order wins, so the reported row is the frame's first bad one
/// ([`qualify_runtime::pieces::in_order`]).
fn in_chunks<T: Send>(
    batches: &[RecordBatch],
    threads: Option<usize>,
    f: impl Fn(RawTable, usize) -> Result<T, Failure> + Sync,
) -> Result<Vec<T>, Failure> {
    let mut pieces = Vec::new();
    let mut offset = 0;
    for batch in batches {
        for rows in qualify_runtime::pieces::pieces(batch.num_rows(), PIECE_ROWS) {
            pieces.push((batch.slice(rows.start, rows.len()), offset + rows.start));
        }
        offset += batch.num_rows();
    }
    qualify_runtime::pieces::in_order(&pieces, threads, |(piece, offset)| {
        f(batch_table(piece)?, *offset)
    })
}

/// An RFC 3339 time from Python (the wrapper turns `datetime`s into text).
pub(crate) fn parse_as_of(as_of: Option<&str>) -> PyResult<Option<DateTime<Utc>>> {
    as_of
        .map(|text| {
            DateTime::parse_from_rfc3339(text)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| {
                    crate::error::raise_with(
                        Kind::Input,
                        format!("as_of {text:?} is not an RFC 3339 time: {e}"),
                        Some("as_of".into()),
                        None,
                    )
                })
        })
        .transpose()
}
