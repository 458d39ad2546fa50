//! `qualify compare`: the model and the rules on the same labelled leads, side by side.
//!
//! Flags, the two reads of the file (with the bundle's schema, as `qualify score` reads it;
//! as is, as `qualify rules score` reads it) and printing; scoring both ways, the figures and
//! the outputs are `qualify_compare::pipeline` and `qualify_compare::output`.

use std::path::PathBuf;

use anyhow::{Context as _, Result, bail};
use chrono::{DateTime, Utc};
use qualify_compare::CapacitySpec;
use qualify_compare::output::{OUTPUTS, write_outputs};
use qualify_compare::pipeline::{CompareInput, compare};
use qualify_rules::RulesFile;
use qualify_runtime::Model;

use qualify_train::history::score::labelled_table;

use super::common::{HistoryInputArgs, InputArgs, moments_note, parse_time, read_table};
use super::score::read_model_history;

#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// Labelled leads (CSV or Parquet) with the bundle's feature columns and the fields the
    /// rules read (flat: `<type>_count` columns, `last_activity_at`). A model trained on a
    /// history is compared on --leads, --events and --outcomes instead: at each moment, the
    /// model reads its point-in-time features and the rules the lead's activities before it.
    #[arg(long, required_unless_present = "leads", conflicts_with = "leads")]
    pub data: Option<PathBuf>,
    /// Label column (converted: 0/1, yes/no, true/false). With --leads: converted within
    /// the model's window of the moment, from the outcomes.
    #[arg(long, required_unless_present = "leads", conflicts_with = "leads")]
    pub label: Option<String>,
    #[command(flatten)]
    pub history: HistoryInputArgs,
    /// Model bundle (a version directory, or a model directory: its latest version).
    #[arg(long)]
    pub model: PathBuf,
    /// Rules file (TOML; docs/rules.md).
    #[arg(long)]
    pub rules: PathBuf,
    /// Output directory: comparison.json, leads.parquet, leads.csv, report.html.
    #[arg(long)]
    pub out: PathBuf,
    /// Leads sales can work: a count (500) or a fraction of all leads (0.1). Default: as many
    /// as the rules mark MQL or better (MQL, SQL or PQL).
    #[arg(long)]
    pub capacity: Option<CapacitySpec>,
    /// Precision the suggested MQL threshold should reach. Default: the model's precision at
    /// the capacity.
    #[arg(long, value_parser = parse_precision)]
    pub target_precision: Option<f64>,
    /// Scoring time for both: the model's timestamp features and the rules' decay. Default:
    /// the model's reference time (the training data's, or now for a model without time
    /// features).
    #[arg(long, value_parser = parse_time)]
    pub as_of: Option<DateTime<Utc>>,
    /// Id column (default: the bundle schema's id, else a column named `id`, when the data has
    /// them; else row numbers from 1).
    #[arg(long)]
    pub id: Option<String>,
    /// Overwrite the output files if they exist.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub input: InputArgs,
}

fn parse_precision(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(p) if p > 0.0 && p <= 1.0 => Ok(p),
        _ => Err(format!(
            "target precision {s:?}: expected a number in (0, 1]"
        )),
    }
}

pub fn run(args: CompareArgs) -> Result<()> {
    if !args.force
        && let Some(existing) = OUTPUTS
            .iter()
            .map(|f| args.out.join(f))
            .find(|p| p.exists())
    {
        bail!(
            "{} exists; pass --force to overwrite it",
            existing.display()
        );
    }
    let model = Model::load(&args.model)?;
    let manifest = model.manifest();
    let rules_text = std::fs::read_to_string(&args.rules)
        .with_context(|| format!("reading {}", args.rules.display()))?;
    let origin = args.rules.display().to_string();
    let rules = RulesFile::parse(&rules_text, &origin)?;

    let (scored, flat, label, moments, data) = match args.history.paths() {
        Some(paths) => {
            let read = read_model_history(&model, &paths, &args.input)?;
            let history = &read.history;
            let moments = args
                .history
                .moments(&model, history, args.as_of, &args.input)?;
            let labelled = labelled_table(&model, history, &moments, args.history.end)?;
            eprintln!("{}", moments_note(&model, &labelled)?);
            let flat = history.activity_view(&labelled.moments)?;
            let times = labelled
                .moments
                .iter()
                .map(|m| DateTime::from_timestamp_millis(m.at).context("a moment out of range"))
                .collect::<Result<Vec<_>>>()?;
            let label = labelled.label.clone();
            let origin = paths.leads.display().to_string();
            (labelled.table, flat, label, Some(times), origin)
        }
        None => {
            let (Some(data), Some(label)) = (&args.data, &args.label) else {
                bail!("pass --data FILE --label COLUMN, or --leads, --events and --outcomes");
            };
            // The two reads of `qualify score` and `qualify rules score`.
            let scored = read_table(data, &args.input, Some(&manifest.schema))?;
            let flat = read_table(data, &args.input, None)?;
            let origin = data.display().to_string();
            (scored, flat, label.clone(), None, origin)
        }
    };
    // As `qualify rules score` does before scoring: a rule on a field the data lacks would
    // silently give every lead zero points, so any problem against the data's columns fails.
    super::rules::report_problems(&rules_text, &args.rules, Some(flat.names()))?;
    if args.as_of.is_none() && moments.is_none() {
        eprintln!(
            "note: scoring as of {} (the model's reference time) for both the model and the \
             rules' decay; pass --as-of to choose",
            manifest.encoder.reference_time().to_rfc3339()
        );
    }
    let compared = compare(&CompareInput {
        model: &model,
        rules: &rules,
        rules_origin: &origin,
        scored: &scored,
        flat: &flat,
        data_origin: &data,
        label: &label,
        id: args.id.as_deref(),
        as_of: args.as_of,
        moments: moments.as_deref(),
        capacity: args.capacity,
        target_precision: args.target_precision,
    })
    .with_context(|| data.clone())?;
    write_outputs(&args.out, &compared)?;

    let comparison = &compared.comparison;
    let k = &comparison.capacity;
    eprintln!(
        "compared {} leads ({} converted): at {} leads the model captures {:.1} conversions, \
         the rules' {} MQL-or-better leads {:.0}; ROC AUC model {:.3}, rule score {:.3} -> {}",
        comparison.leads,
        comparison.conversions,
        k.leads,
        k.model.conversions,
        k.rules_qualified.leads,
        k.rules_qualified.conversions,
        comparison.propensity.roc_auc,
        comparison.rule_score.roc_auc,
        args.out.display()
    );
    Ok(())
}
