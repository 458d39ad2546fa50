//! Flags and helpers shared by several subcommands.

use std::path::Path;

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};
use qualify_core::schema::Schema;
use qualify_core::value::RawTable;
use qualify_data::ReadOptions;

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
