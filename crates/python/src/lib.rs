//! The native half of the Python package `qualify` (`qualify._native`), built by maturin.
//!
//! Data scientists work in pandas, polars and Spark; this module gives them the library
//! pipelines without a subprocess or a CSV file in between: [`model::PyModel`] (load, score,
//! explain), [`train::train_file`] / [`train::train_frame`], [`history::train_history_tables`], [`rules::PyRules`] and
//! [`compare::compare`]. Each calls the library function the command line calls
//! (`qualify_runtime`, `qualify_train::pipeline::train`, `qualify_rules`,
//! `qualify_compare::pipeline`), so the package and the CLI agree by construction; the
//! pytest suite (tests/python) holds them equal end to end.
//!
//! Frames cross through the Arrow C stream interface in record batches ([`frame`]); work
//! runs with the interpreter lock released. Errors become the exception classes of
//! `qualify.errors` with the CLI's message and the offending `field` and `row` ([`error`]).
//! The Python side (`python/qualify`) turns pandas frames into Arrow, `datetime`s into text
//! and results into the caller's kind of frame.

use pyo3::prelude::*;

pub mod compare;
pub mod error;
pub mod frame;
pub mod history;
pub mod model;
pub mod rules;
pub mod train;

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<model::PyModel>()?;
    m.add_class::<rules::PyRules>()?;
    m.add_function(wrap_pyfunction!(train::train_file, m)?)?;
    m.add_function(wrap_pyfunction!(train::train_frame, m)?)?;
    m.add_function(wrap_pyfunction!(history::train_history_tables, m)?)?;
    m.add_function(wrap_pyfunction!(compare::compare, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
