//! `qualify evaluate`: a bundle's metrics on labelled data, beside the constant prior's
//! (`qualify_train::evaluate`), as tables or JSON.

use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use qualify_runtime::Model;
use qualify_train::evaluate::{Evaluation, evaluate};
use qualify_train::history::score::evaluate_moments;

use super::common::{HistoryInputArgs, InputArgs, moments_note, parse_time, read_table};
use super::report::{metrics_table, reliability_table};
use super::score::read_model_history;

#[derive(Debug, clap::Args)]
pub struct EvaluateArgs {
    /// Model bundle (a version directory, or a model directory: its latest version).
    #[arg(long)]
    pub model: PathBuf,
    /// Labelled data (CSV or Parquet) with the bundle's feature columns (a model trained on a
    /// flat file). A model trained on a history is evaluated on --leads, --events and
    /// --outcomes instead.
    #[arg(long, required_unless_present = "leads", conflicts_with = "leads")]
    pub data: Option<PathBuf>,
    /// Label column (default: the bundle schema's label).
    #[arg(long, conflicts_with = "leads")]
    pub label: Option<String>,
    #[command(flatten)]
    pub history: HistoryInputArgs,
    /// Scoring time for timestamp features (default: the training data's reference time).
    /// With --leads: the moment (every lead open at it), instead of the model's training
    /// moments.
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
    let manifest = model.manifest();
    let (Evaluation { metrics, prior }, origin) = if let Some(paths) = args.history.paths() {
        let read = read_model_history(&model, &paths, &args.input)?;
        let moments = args
            .history
            .moments(&model, &read.history, args.as_of, &args.input)?;
        let (evaluation, labelled) =
            evaluate_moments(&model, &read.history, &moments, args.history.end)?;
        eprintln!("{}", moments_note(&model, &labelled)?);
        (evaluation, paths.leads.display().to_string())
    } else {
        let data = args
            .data
            .as_deref()
            .context("pass --data FILE, or --leads, --events and --outcomes")?;
        let table = read_table(data, &args.input, Some(&manifest.schema))?;
        let evaluation = evaluate(&model, &table, args.label.as_deref(), args.as_of)
            .with_context(|| data.display().to_string())?;
        (evaluation, data.display().to_string())
    };
    if args.json {
        let mut object = serde_json::to_value(&metrics)?;
        object["prior"] = serde_json::to_value(&prior)?;
        object["model"] = serde_json::json!({ "name": manifest.name, "version": manifest.version });
        println!("{}", serde_json::to_string_pretty(&object)?);
    } else {
        println!(
            "{} {} on {}: {} rows, {} converted",
            manifest.name, manifest.version, origin, metrics.n, metrics.positives
        );
        println!("{}", metrics_table(&metrics, &prior));
        println!("reliability:");
        println!("{}", reliability_table(&metrics));
    }
    Ok(())
}
