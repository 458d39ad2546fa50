//! `qualify rules check` and `qualify rules score`: the rule-based qualification stage.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, anyhow, bail};
use chrono::{DateTime, Utc};
use qualify_core::lead::LeadRecord;
use qualify_core::schema::Schema;
use qualify_core::value::{RawTable, RawValue};
use qualify_rules::{CompiledRules, RuleOutcome, Stage, check_text};

use super::common::{InputArgs, check_output, parse_time, read_table};

#[derive(Debug, clap::Subcommand)]
pub enum RulesCommand {
    /// Check a rules file: every problem with line and column; non-zero exit on any error.
    Check(CheckArgs),
    /// Score leads with a rules file: score, stage, gates, reasons, frameworks, route.
    Score(ScoreArgs),
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The rules file (TOML; format in docs/rules.md).
    pub rules: PathBuf,
    /// Check field names against this schema's columns (and the canonical lead record's).
    #[arg(long, conflicts_with = "data")]
    pub schema: Option<PathBuf>,
    /// Check field names against this data file's header (CSV or Parquet).
    #[arg(long)]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
}

#[derive(Debug, clap::Args)]
pub struct ScoreArgs {
    /// The rules file (TOML).
    #[arg(long)]
    pub rules: PathBuf,
    /// Leads: .csv/.parquet (flat: `<type>_count` columns, `last_activity_at`) or .jsonl
    /// (canonical lead records with `activities`).
    #[arg(long)]
    pub data: PathBuf,
    /// Time that engagement decay is measured back from (default: now).
    #[arg(long, value_parser = parse_time)]
    pub as_of: Option<DateTime<Utc>>,
    /// Id column of flat files.
    #[arg(long, default_value = "id")]
    pub id: String,
    /// Output: .jsonl (one object per lead, every field) or .csv/.parquet (id, scores, stage,
    /// gates_failed, route, reasons).
    #[arg(long)]
    pub out: PathBuf,
    /// Overwrite --out if it exists.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub input: InputArgs,
}

pub fn run(command: RulesCommand) -> Result<()> {
    match command {
        RulesCommand::Check(args) => check(args),
        RulesCommand::Score(args) => score(args),
    }
}

fn check(args: CheckArgs) -> Result<()> {
    let text = std::fs::read_to_string(&args.rules)
        .with_context(|| format!("reading {}", args.rules.display()))?;
    let known: Option<Vec<String>> = match (&args.schema, &args.data) {
        (Some(schema), _) => {
            let schema = Schema::read(schema)?;
            let mut names: Vec<String> = schema.columns.iter().map(|c| c.name.clone()).collect();
            names.extend(qualify_rules::canonical_fields());
            Some(names)
        }
        (None, Some(data)) => Some(read_table(data, &args.input, None)?.names().to_vec()),
        (None, None) => None,
    };
    let warnings = report_problems(&text, &args.rules, known.as_deref())?;
    println!("{}: ok ({warnings} warning(s))", args.rules.display());
    Ok(())
}

fn score(args: ScoreArgs) -> Result<()> {
    let out_kind = OutKind::from_path(&args.out)?;
    check_output(&args.out, args.force)?;
    let text = std::fs::read_to_string(&args.rules)
        .with_context(|| format!("reading {}", args.rules.display()))?;
    let rules = CompiledRules::from_text(&text, &args.rules.display().to_string())?;
    let as_of = args.as_of.unwrap_or_else(Utc::now);
    let is_jsonl = args.data.extension().is_some_and(|e| e == "jsonl");
    let mut rows = Vec::new();
    if is_jsonl {
        let leads = read_jsonl(&args.data)?;
        let mut known = qualify_rules::canonical_fields();
        known.extend(
            leads
                .iter()
                .flat_map(|(_, lead)| lead.extra.keys().cloned()),
        );
        report_problems(&text, &args.rules, Some(&known))?;
        for (id, lead) in leads {
            rows.push(ScoredRow::new(id, rules.evaluate(&lead, as_of)));
        }
    } else {
        let table = read_table(&args.data, &args.input, None)?;
        report_problems(&text, &args.rules, Some(table.names()))?;
        let ids = table.column(&args.id);
        for r in 0..table.rows() {
            let flat: BTreeMap<String, RawValue> = table
                .columns()
                .map(|(n, c)| (n.to_string(), c.get(r)))
                .collect();
            let id = ids
                .map(|c| c.get(r).to_json())
                .unwrap_or(serde_json::Value::Null);
            rows.push(ScoredRow::new(id, rules.evaluate_flat(&flat, as_of)));
        }
    }
    match out_kind {
        OutKind::Jsonl => write_jsonl(&args.out, &rows)?,
        OutKind::Table => qualify_data::write_table(&args.out, &to_table(&rows)?)?,
    }
    let mql_or_better = rows
        .iter()
        .filter(|r| matches!(r.outcome.stage, Stage::Mql | Stage::Sql | Stage::Pql))
        .count();
    eprintln!(
        "scored {} leads with {} ({mql_or_better} MQL or better) -> {}",
        rows.len(),
        args.rules.display(),
        args.out.display()
    );
    Ok(())
}

/// Prints every problem of a rules file (checked against `known` field names when given) and
/// fails on any error; returns the number of warnings. `rules score` calls it with the data's
/// fields, because a misspelt field would otherwise silently give every lead zero points for
/// that rule. Shared by `rules check`, `rules score` and `compare`.
pub(crate) fn report_problems(text: &str, path: &Path, known: Option<&[String]>) -> Result<usize> {
    let problems = check_text(text, &path.display().to_string(), known);
    for problem in &problems {
        eprintln!("{problem}");
    }
    let errors = problems.iter().filter(|p| p.is_error()).count();
    if errors > 0 {
        bail!("{}: {errors} error(s)", path.display());
    }
    Ok(problems.len())
}

struct ScoredRow<'r> {
    id: serde_json::Value,
    outcome: RuleOutcome<'r>,
}

impl<'r> ScoredRow<'r> {
    fn new(id: serde_json::Value, outcome: RuleOutcome<'r>) -> Self {
        ScoredRow { id, outcome }
    }
}

enum OutKind {
    Jsonl,
    Table,
}

impl OutKind {
    fn from_path(path: &Path) -> Result<OutKind> {
        if path.extension().is_some_and(|e| e == "jsonl") {
            return Ok(OutKind::Jsonl);
        }
        qualify_data::Format::from_path(path)?;
        Ok(OutKind::Table)
    }
}

/// Canonical lead records, one JSON object per line; errors name the line.
fn read_jsonl(path: &Path) -> Result<Vec<(serde_json::Value, LeadRecord)>> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut leads = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("{}: line {}", path.display(), i + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let lead: LeadRecord = serde_json::from_str(&line)
            .map_err(|e| anyhow!("{}: line {}: not a lead record: {e}", path.display(), i + 1))?;
        let id = lead
            .id
            .clone()
            .map_or(serde_json::Value::Null, serde_json::Value::String);
        leads.push((id, lead));
    }
    Ok(leads)
}

fn write_jsonl(path: &Path, rows: &[ScoredRow<'_>]) -> Result<()> {
    let mut text = Vec::new();
    for row in rows {
        let mut object = serde_json::to_value(&row.outcome)?;
        if let Some(map) = object.as_object_mut() {
            map.insert("id".into(), row.id.clone());
        }
        serde_json::to_writer(&mut text, &object)?;
        text.push(b'\n');
    }
    let tmp = path.with_extension("jsonl.tmp");
    std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(&text))
        .and_then(|()| std::fs::rename(&tmp, path))
        .with_context(|| format!("writing {}", path.display()))
}

fn to_table(rows: &[ScoredRow<'_>]) -> Result<RawTable> {
    let ids = rows
        .iter()
        .map(|r| match &r.id {
            serde_json::Value::Null => None,
            serde_json::Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        })
        .collect();
    let outcomes = rows.iter().map(|r| &r.outcome);
    Ok(qualify_rules::table::outcome_table(ids, outcomes)?)
}
