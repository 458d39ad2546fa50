//! `qualify.compare`: [`qualify_compare::pipeline::compare`] on a file or a frame.
//!
//! A file is read twice, as `qualify compare` reads it: with the bundle's schema (what the
//! model scores) and as is (what the rules evaluate). A frame is both: its columns are
//! already typed. The rules are checked against the data's columns first, as the command
//! does. The comparison comes back as the JSON of `comparison.json`; with `out`, every
//! output file of the command is written there too.

use std::path::PathBuf;

use arrow_array::ffi_stream::RecordBatchStreamReader;
use arrow_pyarrow::PyArrowType;
use pyo3::prelude::*;
use qualify_compare::CapacitySpec;
use qualify_compare::output::write_outputs;
use qualify_compare::pipeline::{CompareInput, compare as run_compare};
use qualify_core::value::RawTable;
use qualify_data::ReadOptions;

use crate::error::{Kind, raise, raise_with};
use crate::frame::batches_table;
use crate::model::{PyModel, parse_as_of, read_batches};
use crate::rules::PyRules;

/// The data: a file's path, or a frame.
#[derive(Debug, FromPyObject)]
pub enum Data {
    Frame(PyArrowType<RecordBatchStreamReader>),
    Path(PathBuf),
}

/// Compares `model` and `rules` on labelled leads; returns `comparison.json`'s text and the
/// rules check's warnings.
#[pyfunction]
#[pyo3(signature = (data, label, model, rules, out=None, capacity=None, target_precision=None, as_of=None, id=None))]
#[allow(clippy::too_many_arguments)]
pub fn compare(
    py: Python<'_>,
    data: Data,
    label: String,
    model: &PyModel,
    rules: &PyRules,
    out: Option<PathBuf>,
    capacity: Option<String>,
    target_precision: Option<f64>,
    as_of: Option<&str>,
    id: Option<String>,
) -> PyResult<(String, Vec<String>)> {
    let as_of = parse_as_of(as_of)?;
    let capacity = capacity
        .map(|c| {
            c.parse::<CapacitySpec>().map_err(|e| {
                raise_with(
                    Kind::Input,
                    format!("capacity {c:?}: {e}"),
                    Some("capacity".into()),
                    None,
                )
            })
        })
        .transpose()?;
    if target_precision.is_some_and(|p| !(p > 0.0 && p <= 1.0)) {
        return Err(raise_with(
            Kind::Input,
            "target_precision: expected a number in (0, 1]".into(),
            Some("target_precision".into()),
            None,
        ));
    }
    let schema = &model.model.manifest().schema;
    let (scored, flat, origin): (RawTable, Option<RawTable>, String) = match data {
        Data::Path(path) => {
            let read = py
                .detach(|| {
                    let scored =
                        qualify_data::read_table(&path, &ReadOptions::for_schema(schema, None))?;
                    let flat = qualify_data::read_table(&path, &ReadOptions::default())?;
                    Ok((scored, flat))
                })
                .map_err(|e: qualify_data::DataError| raise(Kind::Input, &e))?;
            (read.0, Some(read.1), path.display().to_string())
        }
        Data::Frame(frame) => {
            let batches = read_batches(frame.0)?;
            let table = py
                .detach(|| batches_table(&batches))
                .map_err(|e| raise(Kind::Input, &e))?;
            (table, None, "data frame".to_string())
        }
    };
    let flat = flat.as_ref().unwrap_or(&scored);
    let warnings = rules.check(flat.names())?;
    let compared = py
        .detach(|| {
            let compared = run_compare(&CompareInput {
                model: &model.model,
                rules: &rules.file,
                rules_origin: &rules.origin,
                scored: &scored,
                flat,
                data_origin: &origin,
                label: &label,
                id: id.as_deref(),
                as_of,
                moments: None,
                capacity,
                target_precision,
            })?;
            if let Some(out) = &out {
                write_outputs(out, &compared)?;
            }
            Ok(compared)
        })
        .map_err(|e: qualify_compare::CompareError| raise(Kind::Compare, &e))?;
    let json = serde_json::to_string(&compared.comparison).map_err(|e| raise(Kind::Compare, &e))?;
    Ok((json, warnings))
}
