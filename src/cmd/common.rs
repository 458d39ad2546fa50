//! Flags and helpers shared by several subcommands.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use qualify_core::history::{History, Moment};
use qualify_core::schema::Schema;
use qualify_core::value::RawTable;
use qualify_data::ReadOptions;
use qualify_data::history::{HistoryPaths, moments_from_table};
use qualify_runtime::Model;
use qualify_train::history::score::{LabelledTable, MomentsChoice, history_model};

/// How to read a CSV file.
#[derive(Debug, Clone, clap::Args)]
pub struct InputArgs {
    /// CSV delimiter: ',' ';' or 'tab' (detected from the header line by default).
    #[arg(long, value_parser = parse_delimiter)]
    pub delimiter: Option<u8>,
}

fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        "," | "comma" => Ok(b','),
        ";" | "semicolon" => Ok(b';'),
        "\t" | "tab" | "\\t" => Ok(b'\t'),
        other => Err(format!(
            "unsupported delimiter {other:?}: use ',', ';' or 'tab'"
        )),
    }
}

/// Reads a table, with a spinner while polars works. With a schema, the columns it reads as
/// text (categories, sets, ids, ...) are read as text whatever they look like.
pub fn read_table(path: &Path, input: &InputArgs, schema: Option<&Schema>) -> Result<RawTable> {
    let spinner = spinner(&format!("reading {}", path.display()));
    let options = match schema {
        Some(schema) => ReadOptions::for_schema(schema, input.delimiter),
        None => ReadOptions {
            delimiter: input.delimiter,
            ..ReadOptions::default()
        },
    };
    let table = qualify_data::read_table(path, &options);
    spinner.finish_and_clear();
    Ok(table?)
}

/// Reads a file to score with `schema` (its text columns read as text), keeping only
/// `columns` of it, with a spinner while polars works.
pub fn read_frame(
    path: &Path,
    input: &InputArgs,
    schema: &Schema,
    columns: &[&str],
) -> Result<qualify_data::Frame> {
    let spinner = spinner(&format!("reading {}", path.display()));
    let options = ReadOptions::for_schema(schema, input.delimiter);
    let frame = qualify_data::Frame::read(path, &options, Some(columns));
    spinner.finish_and_clear();
    Ok(frame?)
}

/// Parses an RFC 3339 time given on the command line.
pub fn parse_time(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{s:?} is not an RFC 3339 time (e.g. 2026-06-30T00:00:00Z): {e}"))
}

/// A spinner on stderr (hidden when stderr is not a terminal).
pub fn spinner(message: &str) -> ProgressBar {
    let bar = ProgressBar::new_spinner().with_message(message.to_string());
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

/// A progress bar on stderr for `total` steps.
pub fn progress(total: u64, message: &str) -> ProgressBar {
    let bar = ProgressBar::new(total).with_message(message.to_string());
    if let Ok(style) = ProgressStyle::with_template("{msg:>12} [{bar:30}] {pos}/{len} {elapsed}") {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Refuses to overwrite an existing output file unless asked.
pub fn check_output(path: &Path, force: bool) -> Result<()> {
    if path.exists() && !force {
        bail!("{} exists; pass --force to overwrite it", path.display());
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    Ok(())
}

/// A history to score or back-test a history model on, with labels from the outcomes
/// (docs/history.md).
#[derive(Debug, Clone, clap::Args)]
pub struct HistoryInputArgs {
    /// A history's leads table (a model trained with --leads): id, created_at, attributes.
    #[arg(long, requires_all = ["events", "outcomes"])]
    pub leads: Option<PathBuf>,
    /// The history's events table: lead_id, at, type.
    #[arg(long, requires = "leads")]
    pub events: Option<PathBuf>,
    /// The history's outcomes table: lead_id, at, outcome; labels are "converted within the
    /// model's window of the moment", censored as in training.
    #[arg(long, requires = "leads")]
    pub outcomes: Option<PathBuf>,
    /// The (lead_id, as_of) moments to back-test (CSV or Parquet); default: every lead at the
    /// model's training offsets while open (or, with --as-of, every lead open then).
    #[arg(long, requires = "leads", conflicts_with = "as_of")]
    pub moments: Option<PathBuf>,
    /// The end of the data: labels look no further (default: the latest timestamp in the
    /// three tables).
    #[arg(long, value_parser = parse_time, requires = "leads")]
    pub end: Option<DateTime<Utc>>,
}

impl HistoryInputArgs {
    /// The tables, when --leads was given.
    pub fn paths(&self) -> Option<HistoryPaths> {
        match (&self.leads, &self.events) {
            (Some(leads), Some(events)) => Some(HistoryPaths {
                leads: leads.clone(),
                events: events.clone(),
                outcomes: self.outcomes.clone(),
            }),
            _ => None,
        }
    }

    /// The moments: --moments, every lead open at `as_of`, or the model's training moments.
    pub fn moments(
        &self,
        model: &Model,
        history: &History,
        as_of: Option<DateTime<Utc>>,
        input: &InputArgs,
    ) -> Result<Vec<Moment>> {
        let choice = match (&self.moments, as_of) {
            (Some(file), _) => {
                let table = read_table(file, input, None)?;
                MomentsChoice::Given(moments_from_table(&table, file, history)?)
            }
            (None, Some(t)) => MomentsChoice::At(t),
            (None, None) => MomentsChoice::Offsets,
        };
        let end = self.end.map_or(history.latest, |t| t.timestamp_millis());
        Ok(choice.moments(history, history_model(model)?, end))
    }
}

/// What a back-test kept and left out, in words.
pub fn moments_note(model: &Model, labelled: &LabelledTable) -> Result<String> {
    let target = &history_model(model)?.target;
    let l = &labelled.labels;
    Ok(format!(
        "{} moments labelled ({target}); {} censored (window past the end of the data), {} at \
         or after the lead's outcome: left out",
        l.kept.len(),
        l.censored,
        l.closed
    ))
}
