//! The three written tables of a history and the files they go to.
//!
//! Why these shapes: they are the history contract (docs/synthetic-data.md, "Files"): leads
//! (`id`, `created_at`, the canonical attribute columns, built from `LeadRecord::to_flat` like
//! the flat table), events (`event_id`, `lead_id`, `at`, `type`, `value`) and outcomes
//! (`lead_id`, `at`, `outcome`, `reason`). Times are RFC 3339 in UTC with a `Z`.

use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use qualify_core::value::{RawColumn, RawTable, RawValue};

use super::History;
use crate::io::{Format, write_table};
use crate::synth::table::{ATTRIBUTES, LayoutError, to_column};

/// A history could not be written.
#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("{}: cannot create the history directory: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the {table} table: {source}")]
    Layout {
        table: &'static str,
        #[source]
        source: LayoutError,
    },
    #[error(transparent)]
    Write(#[from] crate::DataError),
}

/// The three files of a history in one directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryFiles {
    pub leads: PathBuf,
    pub events: PathBuf,
    pub outcomes: PathBuf,
}

impl HistoryFiles {
    /// The three paths, in the order written.
    pub fn all(&self) -> [&Path; 3] {
        [&self.leads, &self.events, &self.outcomes]
    }
}

/// `dir/leads.<ext>`, `dir/events.<ext>`, `dir/outcomes.<ext>` for `format`.
pub fn history_files(dir: &Path, format: Format) -> HistoryFiles {
    let ext = match format {
        Format::Csv => "csv",
        Format::Parquet => "parquet",
    };
    HistoryFiles {
        leads: dir.join(format!("leads.{ext}")),
        events: dir.join(format!("events.{ext}")),
        outcomes: dir.join(format!("outcomes.{ext}")),
    }
}

/// Writes the three tables into `dir` (created if needed), each file atomically; existing
/// files are replaced.
pub fn write_history(
    dir: &Path,
    history: &History,
    format: Format,
) -> Result<HistoryFiles, HistoryError> {
    std::fs::create_dir_all(dir).map_err(|source| HistoryError::CreateDir {
        path: dir.to_path_buf(),
        source,
    })?;
    let files = history_files(dir, format);
    write_table(&files.leads, &leads_table(history)?)?;
    write_table(&files.events, &events_table(history)?)?;
    write_table(&files.outcomes, &outcomes_table(history)?)?;
    Ok(files)
}

fn time(t: DateTime<Utc>) -> Option<String> {
    Some(t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
}

fn layout(table: &'static str) -> impl Fn(LayoutError) -> HistoryError {
    move |source| HistoryError::Layout { table, source }
}

/// `id`, `created_at`, then the canonical attribute columns (text, numbers; `tech_stack`
/// joined with `;`).
pub fn leads_table(history: &History) -> Result<RawTable, HistoryError> {
    let wrap = layout("leads");
    let mut cells: Vec<Vec<RawValue>> = vec![Vec::new(); ATTRIBUTES.len()];
    for lead in &history.leads {
        let mut flat = lead.record.to_flat();
        for ((name, _), column) in ATTRIBUTES.iter().zip(&mut cells) {
            column.push(flat.remove(*name).unwrap_or(RawValue::Missing));
        }
    }
    let mut table = RawTable::new();
    let push = |table: &mut RawTable, name: &str, column: RawColumn| {
        table.push(name, column).map_err(|e| wrap(e.into()))
    };
    push(
        &mut table,
        "id",
        RawColumn::Text(
            history
                .leads
                .iter()
                .map(|l| Some(l.id().to_string()))
                .collect(),
        ),
    )?;
    push(
        &mut table,
        "created_at",
        RawColumn::Text(history.leads.iter().map(|l| time(l.created_at)).collect()),
    )?;
    for ((name, kind), values) in ATTRIBUTES.iter().zip(cells) {
        let column = to_column(name, *kind, values).map_err(&wrap)?;
        push(&mut table, name, column)?;
    }
    Ok(table)
}

/// `event_id`, `lead_id`, `at`, `type`, `value` (empty where the type carries none).
pub fn events_table(history: &History) -> Result<RawTable, HistoryError> {
    let wrap = layout("events");
    let events = &history.events;
    let mut table = RawTable::new();
    let columns = [
        (
            "event_id",
            RawColumn::Text(events.iter().map(|e| Some(e.event_id.clone())).collect()),
        ),
        (
            "lead_id",
            RawColumn::Text(events.iter().map(|e| Some(e.lead_id.clone())).collect()),
        ),
        (
            "at",
            RawColumn::Text(events.iter().map(|e| time(e.at)).collect()),
        ),
        (
            "type",
            RawColumn::Text(
                events
                    .iter()
                    .map(|e| Some(e.kind.as_str().to_string()))
                    .collect(),
            ),
        ),
        (
            "value",
            RawColumn::Number(events.iter().map(|e| e.value).collect()),
        ),
    ];
    for (name, column) in columns {
        table.push(name, column).map_err(|e| wrap(e.into()))?;
    }
    Ok(table)
}

/// `lead_id`, `at`, `outcome` (`converted` | `disqualified`), `reason` (empty for conversions).
pub fn outcomes_table(history: &History) -> Result<RawTable, HistoryError> {
    let wrap = layout("outcomes");
    let outcomes = &history.outcomes;
    let mut table = RawTable::new();
    let columns = [
        (
            "lead_id",
            RawColumn::Text(outcomes.iter().map(|o| Some(o.lead_id.clone())).collect()),
        ),
        (
            "at",
            RawColumn::Text(outcomes.iter().map(|o| time(o.at)).collect()),
        ),
        (
            "outcome",
            RawColumn::Text(
                outcomes
                    .iter()
                    .map(|o| Some(o.outcome.as_str().to_string()))
                    .collect(),
            ),
        ),
        (
            "reason",
            RawColumn::Text(
                outcomes
                    .iter()
                    .map(|o| o.outcome.reason().map(|r| r.as_str().to_string()))
                    .collect(),
            ),
        ),
    ];
    for (name, column) in columns {
        table.push(name, column).map_err(|e| wrap(e.into()))?;
    }
    Ok(table)
}
