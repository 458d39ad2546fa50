//! The library's typed errors as Python exceptions (`qualify.errors`), with the message the
//! command line prints and, where the error knows them, the `field` (column) and the 1-based
//! `row` as attributes, so a notebook can point at the offending cell without parsing text.
//!
//! The classes are plain Python (`python/qualify/errors.py`, typed in its stub); this module
//! picks the class by which step failed ([`Kind`]) and reads `field` and `row` from the
//! error chain by downcasting to the library error types that carry them.

use std::error::Error as StdError;

use pyo3::prelude::*;
use qualify_core::encoder::EncodeError;
use qualify_data::history::HistoryReadError;
use qualify_data::infer::InferError;
use qualify_data::label::LabelError;
use qualify_runtime::RuntimeError;
use qualify_train::pipeline::PipelineError;

use crate::frame::FrameError;

/// Which step failed: the exception class raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A frame or value the caller passed (`InputError`, also a `ValueError`).
    Input,
    /// A model bundle that cannot be loaded (`BundleError`).
    Bundle,
    /// A rules file that cannot be read or is invalid (`RulesError`).
    Rules,
    /// A training run that stopped (`TrainError`).
    Train,
    /// A comparison that could not be made (`CompareError`).
    Compare,
}

impl Kind {
    fn class(self) -> &'static str {
        match self {
            Kind::Input => "InputError",
            Kind::Bundle => "BundleError",
            Kind::Rules => "RulesError",
            Kind::Train => "TrainError",
            Kind::Compare => "CompareError",
        }
    }
}

/// `error` as an exception of `kind`'s class, with its message, field and row.
pub fn raise(kind: Kind, error: &(dyn StdError + 'static)) -> PyErr {
    let (field, row) = locate(error);
    raise_with(kind, message(error), field, row)
}

/// An exception of `kind`'s class with the given message, field and row.
pub fn raise_with(kind: Kind, message: String, field: Option<String>, row: Option<usize>) -> PyErr {
    Python::attach(|py| {
        let made = py
            .import("qualify.errors")
            .and_then(|m| m.getattr(kind.class()))
            .and_then(|class| class.call1((message, field, row)));
        match made {
            Ok(value) => PyErr::from_value(value),
            Err(e) => e,
        }
    })
}

/// The error and its sources, joined by `": "` as the command line prints them; a source
/// whose text the message already holds is not repeated.
pub fn message(error: &(dyn StdError + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

/// The column and 1-based row an error names, from the first error in the chain that
/// knows them.
pub fn locate(error: &(dyn StdError + 'static)) -> (Option<String>, Option<usize>) {
    let mut current = Some(error);
    while let Some(e) = current {
        if let Some(found) = located(e) {
            return found;
        }
        current = e.source();
    }
    (None, None)
}

fn located(e: &(dyn StdError + 'static)) -> Option<(Option<String>, Option<usize>)> {
    if let Some(e) = e.downcast_ref::<RuntimeError>() {
        return match e {
            RuntimeError::Input { error, field } => {
                Some(encode_location(error).unwrap_or((field.clone(), None)))
            }
            _ => None,
        };
    }
    if let Some(e) = e.downcast_ref::<EncodeError>() {
        return encode_location(e);
    }
    // Transparent variants forward `source()` past the wrapped error: look inside.
    if let Some(e) = e.downcast_ref::<PipelineError>() {
        return match e {
            PipelineError::NotATime { column, row } => Some((Some(column.clone()), Some(*row))),
            PipelineError::NoTimeColumn { column } => Some((Some(column.clone()), None)),
            PipelineError::Label(e) | PipelineError::TrainingPart(e) => located(e),
            PipelineError::Infer(e) => located(e),
            PipelineError::Encode(e) => encode_location(e),
            _ => None,
        };
    }
    if let Some(e) = e.downcast_ref::<LabelError>() {
        return Some(match e {
            LabelError::NotBinary {
                label, examples, ..
            } => (Some(label.clone()), examples.first().map(|(row, _)| *row)),
            LabelError::Missing { label, .. }
            | LabelError::SingleClass { label, .. }
            | LabelError::TooFew { label, .. } => (Some(label.clone()), None),
        });
    }
    if let Some(e) = e.downcast_ref::<HistoryReadError>() {
        return match e {
            HistoryReadError::Cell { column, row, .. } => Some((Some(column.clone()), Some(*row))),
            HistoryReadError::MissingColumn { column, .. } => Some((Some(column.clone()), None)),
            HistoryReadError::Infer { source, .. } => located(source),
            _ => None,
        };
    }
    if let Some(InferError::MissingColumn { column, .. }) = e.downcast_ref::<InferError>() {
        return Some((Some(column.clone()), None));
    }
    if let Some(FrameError::UnsupportedType { column, .. }) = e.downcast_ref::<FrameError>() {
        return Some((Some(column.clone()), None));
    }
    None
}

fn encode_location(e: &EncodeError) -> Option<(Option<String>, Option<usize>)> {
    match e {
        EncodeError::Cell { column, row, .. } | EncodeError::Overflow { column, row, .. } => {
            Some((Some(column.clone()), Some(*row)))
        }
        EncodeError::Field { field, .. } => Some((Some(field.clone()), None)),
        EncodeError::BadCells { column, first, .. } => {
            Some((Some(column.clone()), first.first().map(|(row, _)| *row)))
        }
        EncodeError::MissingColumn { column, .. } | EncodeError::RawType { column, .. } => {
            Some((Some(column.clone()), None))
        }
        EncodeError::Width { .. } => None,
    }
}
