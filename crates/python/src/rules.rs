//! `qualify.Rules`: a rules file, checked and compiled, that evaluates frames.
//!
//! As `qualify rules score` does: the file is checked against the frame's columns first (a
//! rule on a field the frame lacks would silently give every lead zero points), errors
//! raise and warnings are returned; each row is evaluated as a flat row
//! ([`qualify_rules::table::evaluate_table`]) and the outcome columns are the command's
//! ([`qualify_rules::table::outcome_table`]).

use std::path::PathBuf;

use arrow_array::RecordBatch;
use arrow_array::ffi_stream::RecordBatchStreamReader;
use arrow_pyarrow::PyArrowType;
use chrono::Utc;
use pyo3::prelude::*;
use qualify_rules::{CompiledRules, RulesFile, check_text};

use crate::error::{Kind, raise, raise_with};
use crate::frame::{FrameError, batches_table, table_batch};
use crate::model::{parse_as_of, read_batches};

/// A compiled rules file and its text (checked again against each frame's columns).
#[derive(Debug)]
#[pyclass(name = "Rules", module = "qualify._native", frozen)]
pub struct PyRules {
    pub(crate) file: RulesFile,
    rules: CompiledRules,
    text: String,
    pub(crate) origin: String,
}

#[pymethods]
impl PyRules {
    /// Reads, checks and compiles the rules file in `path` (format: docs/rules.md).
    #[staticmethod]
    fn load(path: PathBuf) -> PyResult<PyRules> {
        let text = std::fs::read_to_string(&path).map_err(|source| {
            raise(
                Kind::Rules,
                &qualify_rules::RulesError::Read {
                    path: path.clone(),
                    source,
                },
            )
        })?;
        let origin = path.display().to_string();
        let file = RulesFile::parse(&text, &origin).map_err(|e| raise(Kind::Rules, &e))?;
        let rules = CompiledRules::compile(&file).map_err(|e| raise(Kind::Rules, &e))?;
        Ok(PyRules {
            file,
            rules,
            text,
            origin,
        })
    }

    /// The rules' name, if the file gives one.
    #[getter]
    fn name(&self) -> Option<String> {
        self.rules.name().map(str::to_string)
    }

    /// The score from which a lead is an MQL.
    #[getter]
    fn mql_threshold(&self) -> f64 {
        self.rules.mql_threshold()
    }

    /// Evaluates every row as of `as_of` (default: now), returning the outcome table (the
    /// `id` column's values, or empty) and the check's warnings.
    #[pyo3(signature = (frame, as_of=None, id="id"))]
    fn evaluate(
        &self,
        py: Python<'_>,
        frame: PyArrowType<RecordBatchStreamReader>,
        as_of: Option<&str>,
        id: &str,
    ) -> PyResult<(PyArrowType<RecordBatch>, Vec<String>)> {
        let as_of = parse_as_of(as_of)?.unwrap_or_else(Utc::now);
        let batches = read_batches(frame.0)?;
        let table = py
            .detach(|| batches_table(&batches))
            .map_err(|e| raise(Kind::Input, &e))?;
        let warnings = self.check(table.names())?;
        let out = py.detach(|| -> Result<RecordBatch, FrameError> {
            let outcomes = qualify_rules::table::evaluate_table(&self.rules, &table, as_of);
            let ids = match table.column(id) {
                Some(column) => (0..column.len())
                    .map(|r| qualify_runtime::table::value_text(&column.get(r).to_json()))
                    .collect(),
                None => vec![None; table.rows()],
            };
            let out = qualify_rules::table::outcome_table(ids, &outcomes)?;
            table_batch(&out)
        });
        let out = out.map_err(|e| raise(Kind::Input, &e))?;
        Ok((PyArrowType(out), warnings))
    }
}

impl PyRules {
    /// Checks the file against `columns`: errors raise `RulesError`, warnings are returned.
    pub(crate) fn check(&self, columns: &[String]) -> PyResult<Vec<String>> {
        let problems = check_text(&self.text, &self.origin, Some(columns));
        let errors: Vec<String> = problems
            .iter()
            .filter(|p| p.is_error())
            .map(ToString::to_string)
            .collect();
        if !errors.is_empty() {
            return Err(raise_with(
                Kind::Rules,
                format!(
                    "{}: {} error(s)\n  {}",
                    self.origin,
                    errors.len(),
                    errors.join("\n  ")
                ),
                None,
                None,
            ));
        }
        Ok(problems.iter().map(ToString::to_string).collect())
    }
}
