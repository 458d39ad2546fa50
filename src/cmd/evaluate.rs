//! `qualify evaluate`: a bundle's metrics on labelled data, beside the constant prior's.

use std::path::PathBuf;

use anyhow::{Result, anyhow};
use chrono::{DateTime, Utc};
use qualify_data::label::read_labels;
use qualify_eval::Metrics;
use qualify_runtime::Model;

use super::common::{InputArgs, parse_time, read_table};
use super::report::{metrics_table, reliability_table};

#[derive(Debug, clap::Args)]
pub struct EvaluateArgs {
    /// Model bundle (a version directory, or a model directory: its latest version).
    #[arg(long)]
    pub model: PathBuf,
    /// Labelled data (CSV or Parquet) with the bundle's feature columns.
    #[arg(long)]
    pub data: PathBuf,
    /// Label column (default: the bundle schema's label).
    #[arg(long)]
    pub label: Option<String>,
    /// Scoring time for timestamp features (default: the training data's reference time).
    #[arg(long, value_parser = parse_time)]
    pub as_of: Option<DateTime<Utc>>,
    /// Print one JSON object (roc_auc, pr_auc, log_loss, brier, ece, lift_at_10, reliability,
    /// prior) instead of tables.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub input: InputArgs,
}

pub fn run(args: EvaluateArgs) -> Result<()> {
    let model = Model::load(&args.model)?;
    let table = read_table(&args.data, &args.input, Some(&model.manifest().schema))?;
    let manifest = model.manifest();
    let label = args
        .label
        .as_deref()
        .or(manifest.schema.label())
        .unwrap_or_default();
    let in_file = |e: String| anyhow!("{}: {e}", args.data.display());
    let labels = read_labels(&table, label).map_err(in_file)?;
    let p = model
        .score_table(&table, args.as_of)
        .map_err(|e| in_file(e.to_string()))?;
    let metrics = Metrics::compute(&labels, &p).map_err(|e| in_file(e.to_string()))?;
    let prior = Metrics::constant_prior(&labels).map_err(|e| in_file(e.to_string()))?;
    if args.json {
        let mut object = serde_json::to_value(&metrics)?;
        object["prior"] = serde_json::to_value(&prior)?;
        object["model"] = serde_json::json!({ "name": manifest.name, "version": manifest.version });
        println!("{}", serde_json::to_string_pretty(&object)?);
    } else {
        println!(
            "{} {} on {}: {} rows, {} converted",
            manifest.name,
            manifest.version,
            args.data.display(),
            metrics.n,
            metrics.positives
        );
        println!("{}", metrics_table(&metrics, &prior));
        println!("reliability:");
        println!("{}", reliability_table(&metrics));
    }
    Ok(())
}
