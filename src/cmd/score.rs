//! `qualify score`: batch scoring of a file through the runtime the server uses.

use std::path::PathBuf;

use anyhow::{Result, anyhow};
use chrono::{DateTime, Utc};
use qualify_core::value::{RawColumn, RawTable};
use qualify_runtime::Model;

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
    #[command(flatten)]
    pub input: InputArgs,
}

pub fn run(args: ScoreArgs) -> Result<()> {
    qualify_data::Format::from_path(&args.out)?;
    check_output(&args.out, args.force)?;
    let model = Model::load(&args.model)?;
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
