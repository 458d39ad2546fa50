//! `qualify score`: batch scoring of a file through the runtime the server uses.
//!
//! `--explain` adds, per lead, the raw score in log-odds and the `--top` columns that pushed
//! it up and down most (`qualify_runtime::explain`): for each rank `k`,
//! `positive_k_column`, `positive_k_value` (the lead's value, as text) and
//! `positive_k_contribution` (log-odds), and the same for `negative_k_…`; cells are empty
//! when a lead has fewer reasons.

use std::path::PathBuf;

use anyhow::{Result, anyhow};
use chrono::{DateTime, Utc};
use qualify_core::value::{RawColumn, RawTable};
use qualify_runtime::{Model, Reason};

use super::common::{InputArgs, check_output, parse_time, read_table};

#[derive(Debug, clap::Args)]
pub struct ScoreArgs {
    /// Model bundle (a version directory, or a model directory: its latest version).
    #[arg(long)]
    pub model: PathBuf,
    /// Leads to score (CSV or Parquet) with the bundle's feature columns.
    #[arg(long)]
    pub data: PathBuf,
    /// Output file (.csv or .parquet): the id column (if the data has the schema's id) and
    /// `propensity`, in input order.
    #[arg(long)]
    pub out: PathBuf,
    /// Scoring time for timestamp features (default: the training data's reference time).
    #[arg(long, value_parser = parse_time)]
    pub as_of: Option<DateTime<Utc>>,
    /// Overwrite --out if it exists.
    #[arg(long)]
    pub force: bool,
    /// Add the raw score (`raw_score`, log-odds) and the top reasons per lead.
    #[arg(long)]
    pub explain: bool,
    /// With --explain: how many positive and how many negative reasons.
    #[arg(long, default_value_t = 3, requires = "explain")]
    pub top: usize,
    #[command(flatten)]
    pub input: InputArgs,
}

pub fn run(args: ScoreArgs) -> Result<()> {
    qualify_data::Format::from_path(&args.out)?;
    check_output(&args.out, args.force)?;
    let model = Model::load(&args.model)?;
    if let Some(why) = model.why_not_explainable().filter(|_| args.explain) {
        return Err(anyhow!(
            "--explain: cannot explain scores of the model in {why}"
        ));
    }
    let table = read_table(&args.data, &args.input, Some(&model.manifest().schema))?;
    let manifest = model.manifest();
    if args.as_of.is_none() && manifest.encoder.uses_time() {
        eprintln!(
            "note: time features are measured as of {} (the training data's reference time); \
             pass --as-of for leads scored at another time",
            manifest.encoder.reference_time().to_rfc3339()
        );
    }
    let propensity = model
        .score_table(&table, args.as_of)
        .map_err(|e| anyhow!("{}: {e}", args.data.display()))?;
    let mut out = RawTable::new();
    if let Some(id) = manifest
        .schema
        .id()
        .and_then(|name| table.column(name).map(|c| (name, c)))
    {
        out.push(id.0, id.1.clone())?;
    }
    out.push(
        "propensity",
        RawColumn::Number(propensity.into_iter().map(Some).collect()),
    )?;
    if args.explain {
        let as_of = args
            .as_of
            .unwrap_or_else(|| manifest.encoder.reference_time());
        explain_columns(&model, &table, as_of, args.top, &mut out)
            .map_err(|e| anyhow!("{}: {e}", args.data.display()))?;
    }
    qualify_data::write_table(&args.out, &out)?;
    eprintln!(
        "scored {} leads with {} {} -> {}",
        table.rows(),
        manifest.name,
        manifest.version,
        args.out.display()
    );
    Ok(())
}

/// Appends `raw_score` and the reason columns (see the module docs) to `out`.
fn explain_columns(
    model: &Model,
    table: &RawTable,
    as_of: DateTime<Utc>,
    top: usize,
    out: &mut RawTable,
) -> Result<()> {
    let rows = table.rows();
    let mut raw = Vec::with_capacity(rows);
    let mut positive: Vec<Vec<Reason>> = Vec::with_capacity(rows);
    let mut negative: Vec<Vec<Reason>> = Vec::with_capacity(rows);
    for row in 0..rows {
        let (_, e) = model
            .explain_json(&table.row_json(row), as_of, top)
            .map_err(|e| anyhow!("row {}: {e}", row + 1))?;
        raw.push(Some(e.raw_score));
        positive.push(e.top_positive);
        negative.push(e.top_negative);
    }
    out.push("raw_score", RawColumn::Number(raw))?;
    for (sign, reasons) in [("positive", &positive), ("negative", &negative)] {
        for k in 0..top {
            let nth = |r: &Vec<Reason>| r.get(k).cloned();
            let column = reasons.iter().map(|r| nth(r).map(|r| r.column)).collect();
            let value = reasons
                .iter()
                .map(|r| nth(r).and_then(|r| value_text(&r.value)))
                .collect();
            let contribution = reasons
                .iter()
                .map(|r| nth(r).map(|r| r.contribution))
                .collect();
            let name = format!("{sign}_{}", k + 1);
            out.push(format!("{name}_column"), RawColumn::Text(column))?;
            out.push(format!("{name}_value"), RawColumn::Text(value))?;
            out.push(
                format!("{name}_contribution"),
                RawColumn::Number(contribution),
            )?;
        }
    }
    Ok(())
}

/// A reason's value as a cell: text as is, other values as JSON, missing as an empty cell.
fn value_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}
