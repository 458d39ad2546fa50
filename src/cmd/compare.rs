//! `qualify compare`: the model and the rules on the same labelled leads, side by side.
//!
//! Scoring goes through the same calls as `qualify score` (`Model::score_table` on the file
//! read with the bundle's schema) and `qualify rules score` (`CompiledRules::evaluate_flat` on
//! each flat row of the file read as is), so a lead's propensity and rule outcome here are
//! the ones those commands give for the same `--as-of`. qualify-compare computes the figures
//! and draws the report.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};
use chrono::{DateTime, Utc};
use qualify_compare::{CapacitySpec, Comparison, Context, Leads, Options, Selection, qualified};
use qualify_core::value::{RawColumn, RawTable, RawValue};
use qualify_data::label::read_labels;
use qualify_rules::{CompiledRules, RulesFile, Stage};
use qualify_runtime::Model;

use super::common::{InputArgs, parse_time, read_table};

/// The files `--out` receives.
const OUTPUTS: [&str; 4] = [
    "comparison.json",
    "leads.parquet",
    "leads.csv",
    "report.html",
];

#[derive(Debug, clap::Args)]
pub struct CompareArgs {
    /// Labelled leads (CSV or Parquet) with the bundle's feature columns and the fields the
    /// rules read (flat: `<type>_count` columns, `last_activity_at`).
    #[arg(long)]
    pub data: PathBuf,
    /// Label column (converted: 0/1, yes/no, true/false).
    #[arg(long)]
    pub label: String,
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

/// A lead's rule outcome, reduced to what the comparison needs.
struct RuleRow {
    score: f64,
    fit: f64,
    engagement: f64,
    stage: Stage,
    route: Option<String>,
}

pub fn run(args: CompareArgs) -> Result<()> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("creating {}", args.out.display()))?;
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
    let rules_file = RulesFile::parse(&rules_text, &origin)?;
    let rules = CompiledRules::compile(&rules_file)?;

    // The two reads of `qualify score` and `qualify rules score`.
    let scored = read_table(&args.data, &args.input, Some(&manifest.schema))?;
    let flat = read_table(&args.data, &args.input, None)?;
    super::rules::report_problems(&rules_text, &args.rules, Some(flat.names()))?;
    let ids = ids(&args, &scored, manifest.schema.id())?;

    let as_of = args
        .as_of
        .unwrap_or_else(|| manifest.encoder.reference_time());
    if args.as_of.is_none() {
        eprintln!(
            "note: scoring as of {} (the model's reference time) for both the model and the \
             rules' decay; pass --as-of to choose",
            as_of.to_rfc3339()
        );
    }
    let in_data = |e: String| anyhow!("{}: {e}", args.data.display());
    let labels = read_labels(&scored, &args.label).map_err(in_data)?;
    let propensity = model
        .score_table(&scored, Some(as_of))
        .map_err(|e| in_data(e.to_string()))?;
    let outcomes = evaluate_rules(&rules, &flat, as_of);
    let (anyway, by_points) = threshold_basis(&rules_file, &flat, &outcomes, as_of)?;
    let leads = Leads::new(
        labels,
        propensity,
        outcomes.iter().map(|r| r.score).collect(),
        outcomes.iter().map(|r| r.stage).collect(),
    )
    .and_then(|leads| leads.with_threshold_basis(anyway, by_points))
    .map_err(|e| in_data(e.to_string()))?;

    let context = Context {
        data: args.data.display().to_string(),
        label: args.label.clone(),
        model: format!(
            "{} {} ({})",
            manifest.name, manifest.version, manifest.model.kind
        ),
        rules: format!(
            "{}{}",
            args.rules.display(),
            rules.name().map(|n| format!(" ({n})")).unwrap_or_default()
        ),
        as_of: as_of.to_rfc3339(),
    };
    let options = Options {
        capacity: args.capacity,
        target_precision: args.target_precision,
        mql_threshold: rules.mql_threshold(),
    };
    let mut comparison = Comparison::compute(&leads, context, options)?;
    for suggestion in [
        &mut comparison.thresholds.for_capacity,
        &mut comparison.thresholds.for_precision,
    ] {
        if let Some(threshold) = suggestion.threshold {
            suggestion.applied = Some(apply_threshold(
                &rules_file,
                threshold,
                &flat,
                &leads.labels,
                as_of,
            )?);
        }
    }

    write_outputs(&args.out, &comparison, &leads, &outcomes, ids)?;
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

/// As `qualify rules score` does before scoring: a rule on a field the data lacks would
/// silently give every lead zero points, so any problem against the data's columns fails.
/// Every row of the file as a flat row, evaluated as `qualify rules score` evaluates it.
fn evaluate_rules(rules: &CompiledRules, table: &RawTable, as_of: DateTime<Utc>) -> Vec<RuleRow> {
    (0..table.rows())
        .map(|r| {
            let flat: BTreeMap<String, RawValue> = table
                .columns()
                .map(|(n, c)| (n.to_string(), c.get(r)))
                .collect();
            let outcome = rules.evaluate_flat(&flat, as_of);
            RuleRow {
                score: outcome.score.as_f64(),
                fit: outcome.fit_score.as_f64(),
                engagement: outcome.engagement_score.as_f64(),
                stage: outcome.stage,
                route: outcome.route.map(str::to_string),
            }
        })
        .collect()
}

/// Which leads qualify whatever the MQL threshold (product milestones: `PQL` once the SQL
/// criteria are taken out of the file, so that an SQL lead's milestones show), and which
/// qualify by points (not disqualified or nurtured, separate fit and engagement thresholds
/// met). See qualify_compare::threshold.
fn threshold_basis(
    file: &RulesFile,
    table: &RawTable,
    outcomes: &[RuleRow],
    as_of: DateTime<Utc>,
) -> Result<(Vec<bool>, Vec<bool>)> {
    let mut without_sql = file.clone();
    without_sql.stages.sql = None;
    let rules =
        CompiledRules::compile(&without_sql).context("the rules without their SQL criteria")?;
    let anyway = evaluate_rules(&rules, table, as_of)
        .into_iter()
        .map(|r| r.stage == Stage::Pql)
        .collect();
    let stages = &file.stages;
    let by_points = outcomes
        .iter()
        .map(|r| {
            !matches!(r.stage, Stage::Disqualified | Stage::Nurture)
                && stages.mql_fit.is_none_or(|t| r.fit >= t)
                && stages.mql_engagement.is_none_or(|t| r.engagement >= t)
        })
        .collect();
    Ok((anyway, by_points))
}

/// The MQL-or-better set when the rules run with `stages.mql = threshold`.
fn apply_threshold(
    file: &RulesFile,
    threshold: f64,
    table: &RawTable,
    labels: &[bool],
    as_of: DateTime<Utc>,
) -> Result<Selection> {
    let mut file = file.clone();
    file.stages.mql = threshold;
    let rules = CompiledRules::compile(&file)
        .with_context(|| format!("the rules with mql = {threshold}"))?;
    let stages: Vec<Stage> = evaluate_rules(&rules, table, as_of)
        .into_iter()
        .map(|r| r.stage)
        .collect();
    Ok(Selection::of(labels, |i| qualified(stages[i])))
}

fn ids(args: &CompareArgs, table: &RawTable, schema_id: Option<&str>) -> Result<RawColumn> {
    // An explicit --id must exist; the schema's id and `id` are taken when the data has them.
    let name = match &args.id {
        Some(name) => Some(name.as_str()),
        None => [schema_id, Some("id")]
            .into_iter()
            .flatten()
            .find(|name| table.column(name).is_some()),
    };
    let Some(name) = name else {
        return Ok(RawColumn::Text(
            (1..=table.rows()).map(|r| Some(r.to_string())).collect(),
        ));
    };
    let column = table.column(name).ok_or_else(|| {
        anyhow!(
            "{}: id column {name:?} is not in the data",
            args.data.display()
        )
    })?;
    Ok(RawColumn::Text(
        (0..table.rows())
            .map(|r| match column.get(r) {
                RawValue::Missing => None,
                RawValue::Text(s) => Some(s),
                other => Some(other.to_json().to_string()),
            })
            .collect(),
    ))
}

fn write_outputs(
    out: &Path,
    comparison: &Comparison,
    leads: &Leads,
    outcomes: &[RuleRow],
    ids: RawColumn,
) -> Result<()> {
    let json = serde_json::to_string_pretty(comparison)?;
    write_file(&out.join("comparison.json"), json.as_bytes())?;
    let number = |v: Vec<f64>| RawColumn::Number(v.into_iter().map(Some).collect());
    let mut table = RawTable::new();
    table.push("id", ids)?;
    table.push(
        "label",
        number(
            leads
                .labels
                .iter()
                .map(|&y| f64::from(u8::from(y)))
                .collect(),
        ),
    )?;
    table.push("propensity", number(leads.propensity.clone()))?;
    table.push(
        "decile",
        number(leads.decile.iter().map(|&d| f64::from(d)).collect()),
    )?;
    table.push("rule_score", number(leads.rule_score.clone()))?;
    table.push(
        "stage",
        RawColumn::Text(
            outcomes
                .iter()
                .map(|r| Some(r.stage.as_str().to_string()))
                .collect(),
        ),
    )?;
    table.push(
        "route",
        RawColumn::Text(outcomes.iter().map(|r| r.route.clone()).collect()),
    )?;
    let flag = |v: &[bool]| number(v.iter().map(|&b| f64::from(u8::from(b))).collect());
    table.push("qualifies_anyway", flag(&leads.qualifies_anyway))?;
    table.push("qualifies_by_points", flag(&leads.qualifies_by_points))?;
    qualify_data::write_table(&out.join("leads.parquet"), &table)?;
    qualify_data::write_table(&out.join("leads.csv"), &table)?;
    let html = qualify_compare::report::html(comparison, leads)?;
    write_file(&out.join("report.html"), html.as_bytes())
}

/// Writes through a temporary file and a rename, so a reader never sees half a file.
fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
    std::fs::write(&tmp, bytes)
        .and_then(|()| std::fs::rename(&tmp, path))
        .with_context(|| format!("writing {}", path.display()))
}
