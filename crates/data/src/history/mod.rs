//! Reading a CRM history: leads, events and outcomes tables (CSV or Parquet), checked.
//!
//! The data contract is docs/history.md: leads (`id`, `created_at`, attribute columns the
//! leads schema describes), events (`lead_id`, `at`, `type`, optional `event_id` and
//! `value`) and outcomes (`lead_id`, `at`, `outcome`, optional `reason`), every name
//! remappable in the schema (`[history]`, and the id and timestamp roles). Reading applies
//! the documented policy for bad rows (the `check` module): what would make a label wrong or ambiguous
//! is an error naming the file, row and column; what can be dropped or kept without changing
//! a label is counted ([`HistoryReport`]). The result is qualify-core's [`History`], which the
//! trainer, `qualify score`, `qualify evaluate` and `qualify compare` turn into point-in-time
//! rows.
//!
//! ```no_run
//! use qualify_core::schema::Schema;
//! use qualify_data::history::{read_history, HistoryPaths};
//! let schema = Schema::read("data/sample/history/schema.toml".as_ref()).unwrap();
//! let paths = HistoryPaths::in_dir("data/sample/history".as_ref());
//! let read = read_history(&paths, &schema, None).unwrap();
//! println!("{} leads, {} events", read.history.ids.len(), read.history.events.len());
//! ```

mod check;
mod error;
mod report;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use qualify_core::history::{History, HistoryColumns, Moment};
use qualify_core::schema::{Role, Schema};
use qualify_core::value::RawTable;

pub use check::Source;
pub use error::{CellProblem, HistoryReadError, Table};
pub use report::{Counted, HistoryIssue, HistoryReport};

use crate::infer::{InferOptions, Inferred, infer_schema};
use crate::{DataError, ReadOptions, read_table};

/// Where the three tables are. Outcomes are optional (scoring needs none).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryPaths {
    pub leads: PathBuf,
    pub events: PathBuf,
    pub outcomes: Option<PathBuf>,
}

impl HistoryPaths {
    /// `dir/leads.csv`, `dir/events.csv`, `dir/outcomes.csv`.
    pub fn in_dir(dir: &Path) -> HistoryPaths {
        HistoryPaths {
            leads: dir.join("leads.csv"),
            events: dir.join("events.csv"),
            outcomes: Some(dir.join("outcomes.csv")),
        }
    }

    /// The files, in the order leads, events, outcomes.
    pub fn files(&self) -> Vec<&Path> {
        let mut files = vec![self.leads.as_path(), self.events.as_path()];
        files.extend(self.outcomes.as_deref());
        files
    }
}

/// A history read and checked, and what the check counted.
#[derive(Debug, Clone)]
pub struct ReadHistory {
    pub history: History,
    pub report: HistoryReport,
}

/// The leads table's id and creation-time columns, and the other tables' names.
pub fn history_columns(schema: &Schema) -> Result<(&str, &str, HistoryColumns), HistoryReadError> {
    let id = schema
        .id()
        .ok_or(HistoryReadError::SchemaRole { role: Role::Id })?;
    let created = schema.time().ok_or(HistoryReadError::SchemaRole {
        role: Role::Timestamp,
    })?;
    Ok((id, created, schema.history.clone().unwrap_or_default()))
}

/// The three tables as read from their files, before any check (the first half of
/// [`read_history`]; the lead store imports from them).
#[derive(Debug, Clone)]
pub struct HistoryFiles {
    pub leads: RawTable,
    /// `None` when the file has no rows.
    pub events: Option<RawTable>,
    pub outcomes: Option<RawTable>,
}

/// Reads the three tables as [`read_history`] does (the leads with the schema's text
/// columns; the ids, times, types and names of the other two as text), without checking them.
///
/// The three files are read on three threads: each read is mostly one thread's parsing
/// (polars' CSV reader, then the conversion to a [`RawTable`]), and the events file, the
/// largest, no longer waits for the other two. When several files are bad, the error is the
/// first in the order leads, events, outcomes, as a sequential read would report.
///
/// # Errors
/// An unreadable file.
pub fn read_history_files(
    paths: &HistoryPaths,
    schema: &Schema,
    delimiter: Option<u8>,
) -> Result<HistoryFiles, HistoryReadError> {
    let (_, _, columns) = history_columns(schema)?;
    let text = |names: &[&str]| ReadOptions {
        delimiter,
        text_columns: names.iter().map(|n| n.to_string()).collect(),
    };
    let (e, o) = (&columns.events, &columns.outcomes);
    let events_options = text(&[&e.lead_id, &e.at, &e.kind, &e.event_id]);
    let outcomes_options = text(&[&o.lead_id, &o.at, &o.outcome, &o.reason]);
    let (leads, events, outcomes) = std::thread::scope(|s| {
        let events = s.spawn(|| read_optional(&paths.events, &events_options));
        let outcomes = s.spawn(|| match &paths.outcomes {
            Some(path) => read_optional(path, &outcomes_options),
            None => Ok(None),
        });
        let leads = read_table(&paths.leads, &ReadOptions::for_schema(schema, delimiter));
        (leads, joined(events), joined(outcomes))
    });
    Ok(HistoryFiles {
        leads: leads?,
        events: events?,
        outcomes: outcomes?,
    })
}

/// A reader thread's result; its panic goes on in the caller (the readers catch polars'
/// own panics, so one here is a bug).
fn joined<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Reads and checks the three tables with the leads schema `schema` (its columns read the
/// leads table as training does; its `[history]` section names the other tables' columns).
///
/// # Errors
/// An unreadable file, a missing column, or a bad row (docs/history.md, "Bad input").
pub fn read_history(
    paths: &HistoryPaths,
    schema: &Schema,
    delimiter: Option<u8>,
) -> Result<ReadHistory, HistoryReadError> {
    let files = read_history_files(paths, schema, delimiter)?;
    from_tables(
        files.leads,
        &paths.leads,
        files.events.as_ref().map(|t| Source {
            table: t,
            path: &paths.events,
        }),
        files
            .outcomes
            .as_ref()
            .zip(paths.outcomes.as_deref())
            .map(|(t, p)| Source { table: t, path: p }),
        schema,
    )
}

/// [`read_history`] on tables already in memory (`leads_path` names the leads table in
/// errors).
pub fn from_tables(
    leads: RawTable,
    leads_path: &Path,
    events: Option<Source<'_>>,
    outcomes: Option<Source<'_>>,
    schema: &Schema,
) -> Result<ReadHistory, HistoryReadError> {
    let (id, created, columns) = history_columns(schema)?;
    let (ids, times) = check::leads(
        Source {
            table: &leads,
            path: leads_path,
        },
        id,
        created,
    )?;
    let (history, report) = check::history(
        leads,
        ids,
        times,
        events,
        outcomes,
        (&columns.events, &columns.outcomes),
    )?;
    Ok(ReadHistory { history, report })
}

/// A leads table's schema inferred from the file (no label: a `[history]` section with the
/// contract's names; `id` and `created_at` unless named), for a person to read or for
/// training without `--schema`.
pub fn infer_leads_schema(
    leads: &Path,
    id: Option<String>,
    created: Option<String>,
    delimiter: Option<u8>,
) -> Result<Inferred, HistoryReadError> {
    let table = read_table(
        leads,
        &ReadOptions {
            delimiter,
            ..ReadOptions::default()
        },
    )?;
    infer_schema(
        &table,
        &InferOptions {
            label: None,
            id,
            time: created,
        },
    )
    .map_err(|source| HistoryReadError::Infer {
        path: leads.to_path_buf(),
        source,
    })
}

/// Moments to score or evaluate, from a table with a `lead_id` and an `as_of` column (the
/// other columns are carried through by the caller), in the table's order.
///
/// # Errors
/// A missing column, a blank or unknown lead, a time that does not parse (with the row).
pub fn moments_from_table(
    table: &RawTable,
    path: &Path,
    history: &History,
) -> Result<Vec<Moment>, HistoryReadError> {
    check::moments(
        Source { table, path },
        MOMENTS_LEAD,
        MOMENTS_AT,
        &history.index(),
    )
}

/// A moments file's lead column.
pub const MOMENTS_LEAD: &str = "lead_id";
/// A moments file's time column.
pub const MOMENTS_AT: &str = "as_of";

/// A table that may hold no rows (no events yet, no outcomes yet): `None` then.
fn read_optional(path: &Path, options: &ReadOptions) -> Result<Option<RawTable>, HistoryReadError> {
    match read_table(path, options) {
        Ok(t) => Ok(Some(t)),
        Err(DataError::NoRows { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
