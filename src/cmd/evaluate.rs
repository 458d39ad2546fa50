//! `qualify evaluate`: a bundle's metrics on labelled data, beside the constant prior's
//! (`qualify_train::evaluate`), as tables or JSON.

use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use qualify_runtime::Model;
use qualify_train::evaluate::{Evaluation, evaluate};

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
    let Evaluation { metrics, prior } = evaluate(&model, &table, args.label.as_deref(), args.as_of)
        .with_context(|| args.data.display().to_string())?;
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
