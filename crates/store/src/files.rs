//! History files in, a checked history out (feature `files`: links qualify-data).
//!
//! - [`import`] reads the three files with the file readers and checks them by their policy
//!   (docs/history.md, "Bad input": an error stops the import before anything is written,
//!   the counted warnings come back in the summary), then writes what the checked history
//!   holds in **one transaction**: an import lands whole or not at all. Rows the policy
//!   drops (events and outcomes of leads missing from the leads table, events whose
//!   `event_id` came before) are not written.
//! - [`read_history`] reads the store's tables ([`crate::tables`]) and checks them with the
//!   file readers' own function (`qualify_data::history::from_tables`): training from the
//!   store shares every line after reading with training from files.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::DateTime;
use qualify_core::encoder::parse::{number_text, time_from_text};
use qualify_core::history::time_text;
use qualify_core::lead::EventType;
use qualify_core::schema::{ColumnSpec, ColumnType, Schema};
use qualify_core::value::{Cell, RawTable};
use qualify_data::history::{
    HistoryPaths, HistoryReport, ReadHistory, Source, from_tables, history_columns,
    read_history_files,
};
use qualify_data::infer::{InferOptions, Inferred, infer_schema};
use serde_json::Value;

use crate::error::{Part, StoreError, db};
use crate::events::put_events;
use crate::leads::{LeadRow, check_outcomes_after_creation, put_leads};
use crate::model::{NewEvent, NewOutcome};
use crate::outcomes::put_outcomes;
use crate::tables::object_text;
use crate::time::now_ms;
use crate::{Backend, HistoryTables, SetSeparators, Store};

/// Events built and written per step (bounds the memory of a large import).
const EVENTS_PER_STEP: usize = 20_000;

/// SQLite's page cache for an import's connection, in KiB (see [`import`]).
const IMPORT_CACHE_KIB: u32 = 256 * 1024;

/// How to import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportOptions {
    /// Import into a store that already holds leads (re-imported events without an
    /// `event_id` are then stored twice); otherwise such a store is refused.
    pub append: bool,
}

/// What an import wrote, and what the file readers counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub leads: usize,
    /// Events of known leads in the events file.
    pub events: usize,
    /// Of those, stored (the others' `event_id` was stored already).
    pub events_stored: u64,
    pub outcomes: usize,
    /// The file readers' counted warnings (dropped and kept-with-a-warning rows).
    pub report: HistoryReport,
}

/// Where the store's tables are, in error messages.
fn store_path(table: &str) -> PathBuf {
    PathBuf::from(format!("store:{table}"))
}

/// Reads the store's history and checks it as the file readers check files (module docs).
///
/// # Errors
/// The database; a schema without id or creation roles; a row the policy refuses (named
/// `store:leads`, `store:events`, `store:outcomes` with its row in arrival order).
pub async fn read_history(store: &Store, schema: &Schema) -> Result<ReadHistory, StoreError> {
    let (_, _, columns) = history_columns(schema)?;
    let tables = store
        .history_tables(&columns, &SetSeparators::of(schema))
        .await?;
    checked(tables, schema)
}

/// [`read_history`] on tables already read.
pub fn checked(tables: HistoryTables, schema: &Schema) -> Result<ReadHistory, StoreError> {
    let (events_path, outcomes_path) = (store_path("events"), store_path("outcomes"));
    Ok(from_tables(
        tables.leads,
        &store_path("leads"),
        tables.events.as_ref().map(|t| Source {
            table: t,
            path: &events_path,
        }),
        tables.outcomes.as_ref().map(|t| Source {
            table: t,
            path: &outcomes_path,
        }),
        schema,
    )?)
}

/// The leads schema inferred from the store's leads table, as `qualify train` infers one
/// from a leads file.
///
/// # Errors
/// The database; a table inference refuses.
pub fn infer_leads_schema(tables: &HistoryTables) -> Result<Inferred, StoreError> {
    infer_schema(
        &tables.leads,
        &InferOptions {
            label: None,
            id: None,
            time: None,
        },
    )
    .map_err(|source| StoreError::Infer { source })
}

/// Imports three history files into `store` (module docs).
///
/// # Errors
/// A file that cannot be read, a row the file policy refuses (file, row, column), a store
/// that already holds leads without [`ImportOptions::append`], a conflict with what the
/// store holds (a second outcome, an outcome before a creation), the database.
pub async fn import(
    store: &Store,
    paths: &HistoryPaths,
    schema: &Schema,
    delimiter: Option<u8>,
    options: ImportOptions,
) -> Result<Imported, StoreError> {
    let files = read_history_files(paths, schema, delimiter)?;
    let read = from_tables(
        files.leads.clone(),
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
    )?;
    let (_, _, columns) = history_columns(schema)?;
    let history = &read.history;
    let index = history.index();
    let leads = lead_rows(&files.leads, schema, &history.ids, &history.created);

    let mut tx = store.write(Part::Leads).await?;
    if store.backend() == Backend::Sqlite {
        // One transaction writes the whole history: with SQLite's default page cache (2 MB)
        // it spills dirty pages to the log mid-transaction and reads them back for every
        // index insert. This connection's cache grows to IMPORT_CACHE_KIB for the import.
        sqlx::query(&format!("PRAGMA cache_size = -{IMPORT_CACHE_KIB}"))
            .execute(&mut *tx)
            .await
            .map_err(db(Part::Leads))?;
    }
    if !options.append {
        let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM leads")
            .fetch_one(&mut *tx)
            .await
            .map_err(db(Part::Leads))?;
        if n > 0 {
            return Err(StoreError::NotEmpty { leads: n });
        }
    }
    put_leads(&mut tx, &leads, now_ms()).await?;
    let mut summary = Imported {
        leads: leads.len(),
        events: 0,
        events_stored: 0,
        outcomes: 0,
        report: read.report.clone(),
    };
    if let Some(events) = &files.events {
        let e = &columns.events;
        let cols = [&e.lead_id, &e.at, &e.kind, &e.event_id, &e.value].map(|n| events.column(n));
        let mut batch = Vec::with_capacity(EVENTS_PER_STEP);
        for row in 0..events.rows() {
            let cell = |c: usize| cols[c].map_or(Cell::Missing, |col| col.cell(row));
            let Some(lead) = text(cell(0)).filter(|l| index.contains_key(l.as_str())) else {
                continue;
            };
            batch.push(new_event(
                &paths.events,
                row,
                lead,
                [cell(1), cell(2), cell(3), cell(4)],
            )?);
            if batch.len() == EVENTS_PER_STEP {
                summary.events += batch.len();
                summary.events_stored += put_events(&mut tx, &batch).await?;
                batch.clear();
            }
        }
        summary.events += batch.len();
        summary.events_stored += put_events(&mut tx, &batch).await?;
    }
    if let Some(outcomes) = &files.outcomes {
        let batch = new_outcomes(outcomes, &columns.outcomes, &index, history)?;
        summary.outcomes = batch.len();
        put_outcomes(&mut tx, &batch).await?;
    }
    check_outcomes_after_creation(&mut tx).await?;
    tx.commit().await.map_err(db(Part::Leads))?;
    Ok(summary)
}

/// Each lead's row as an attributes object, columns in file order (plus `id` when the
/// file names its id column otherwise). A set column's cell is stored as the list a client
/// would `PUT` ("a;b" as `["a", "b"]`, split at the schema's separator, items trimmed), so
/// a lead reads back alike however it arrived; a cell of separators only is kept as text.
fn lead_rows(table: &RawTable, schema: &Schema, ids: &[String], created: &[i64]) -> Vec<LeadRow> {
    let has_id = table.column("id").is_some();
    let separators: Vec<Option<&str>> = table
        .names()
        .iter()
        .map(|name| {
            schema
                .column(name)
                .filter(|c| c.kind == Some(ColumnType::Set))
                .map(ColumnSpec::set_separator)
        })
        .collect();
    (0..table.rows())
        .map(|row| {
            let mut members: Vec<(&str, Value)> = Vec::with_capacity(table.names().len() + 1);
            if !has_id {
                members.push(("id", Value::String(ids[row].clone())));
            }
            members.extend(table.columns().zip(&separators).map(|((name, col), sep)| {
                let value = match (col.cell(row), sep) {
                    (Cell::Text(text), Some(sep)) => set_items(text, sep),
                    _ => None,
                };
                (name, value.unwrap_or_else(|| col.get(row).to_json()))
            }));
            LeadRow {
                id: ids[row].clone(),
                attributes: object_text(&members),
                created_at: Some(created[row]),
            }
        })
        .collect()
}

/// A set cell's items as a JSON list; `None` when it holds none.
fn set_items(text: &str, separator: &str) -> Option<Value> {
    let items: Vec<Value> = text
        .split(separator)
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| Value::String(s.to_string()))
        .collect();
    (!items.is_empty()).then_some(Value::Array(items))
}

/// A cell's trimmed text, `None` when blank.
fn text(cell: Cell<'_>) -> Option<String> {
    match cell {
        Cell::Text(t) if !t.trim().is_empty() => Some(t.trim().to_string()),
        Cell::Number(v) => Some(number_text(v)),
        Cell::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// One checked event row (the reader has accepted it: a failure here is a reader bug, still
/// reported with the row).
fn new_event(
    path: &Path,
    row: usize,
    lead_id: String,
    [at, kind, id, value]: [Cell<'_>; 4],
) -> Result<NewEvent, StoreError> {
    let bad = |problem: String| StoreError::ImportRow {
        path: path.to_path_buf(),
        table: "events",
        row: row + 1,
        lead: lead_id.clone(),
        problem,
    };
    let at = text(at)
        .and_then(|t| time_from_text(&t))
        .ok_or_else(|| bad("the time does not parse".into()))?;
    let kind = text(kind)
        .and_then(|k| EventType::new(&k).ok())
        .ok_or_else(|| bad("the type is blank".into()))?;
    let value = match value {
        Cell::Number(v) => Some(v),
        Cell::Text(t) if !t.trim().is_empty() => Some(
            t.trim()
                .parse::<f64>()
                .map_err(|_| bad(format!("{t:?} is not a number")))?,
        ),
        _ => None,
    };
    Ok(NewEvent {
        lead_id,
        kind,
        at: DateTime::from_timestamp_millis(at.timestamp_millis()).unwrap_or(at),
        event_id: text(id),
        value,
    })
}

/// The outcomes of known leads, with their kinds as the reader mapped them (a lead's
/// outcomes have distinct times: the reader refuses two at one instant).
fn new_outcomes(
    table: &RawTable,
    names: &qualify_core::history::OutcomeColumns,
    index: &HashMap<&str, usize>,
    history: &qualify_core::history::History,
) -> Result<Vec<NewOutcome>, StoreError> {
    let lead_col = table.column(&names.lead_id);
    let at_col = table.column(&names.at);
    let reason_col = table.column(&names.reason);
    let mut out = Vec::new();
    for row in 0..table.rows() {
        let Some(lead_id) = lead_col.and_then(|c| text(c.cell(row))) else {
            continue;
        };
        let at = at_col
            .and_then(|c| text(c.cell(row)))
            .and_then(|t| time_from_text(&t))
            .map(qualify_core::history::millis);
        let Some(outcome) = index.get(lead_id.as_str()).and_then(|&i| {
            history.outcomes[i]
                .as_slice()
                .iter()
                .find(|o| Some(o.at) == at)
                .copied()
        }) else {
            continue;
        };
        let at =
            DateTime::from_timestamp_millis(outcome.at).ok_or_else(|| StoreError::Corrupt {
                part: Part::Outcomes,
                lead: lead_id.clone(),
                message: format!("{:?} is not a time", time_text(outcome.at)),
            })?;
        out.push(NewOutcome {
            lead_id,
            outcome: outcome.kind,
            at,
            reason: reason_col.and_then(|c| text(c.cell(row))),
        });
    }
    Ok(out)
}
