//! `qualify schema infer` and `qualify schema check`.

use std::path::PathBuf;

use anyhow::{Context, Result};
use qualify_core::encoder::Encoder;
use qualify_core::schema::Schema;
use qualify_data::infer::{InferOptions, infer_schema, to_commented_toml};

use super::common::{InputArgs, check_output, read_table};

#[derive(Debug, clap::Subcommand)]
pub enum SchemaCommand {
    /// Infer an editable, commented schema from a data file.
    Infer(InferArgs),
    /// Check a schema file, and optionally that a data file can be read with it.
    Check(CheckArgs),
}

#[derive(Debug, clap::Args)]
pub struct InferArgs {
    /// Training data (CSV or Parquet).
    #[arg(long)]
    pub data: PathBuf,
    /// The binary label column (converted or not). Without one, the data is a history's
    /// leads table (docs/history.md): the schema gets a `[history]` section, and its label
    /// comes from the outcomes table.
    #[arg(long)]
    pub label: Option<String>,
    /// A row identifier column (a column named `id` is taken by default).
    #[arg(long)]
    pub id: Option<String>,
    /// The column holding when each lead arrived (for time-based splits; a leads table's
    /// `created_at` by default).
    #[arg(long)]
    pub time: Option<String>,
    /// Where to write the schema (TOML); standard output when absent.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Overwrite --out if it exists.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub input: InputArgs,
}

#[derive(Debug, clap::Args)]
pub struct CheckArgs {
    /// The schema file (TOML).
    pub schema: PathBuf,
    /// A data file to check against the schema: every column present, every value readable.
    #[arg(long)]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub input: InputArgs,
}

pub fn run(command: SchemaCommand) -> Result<()> {
    match command {
        SchemaCommand::Infer(args) => infer(args),
        SchemaCommand::Check(args) => check(args),
    }
}

fn infer(args: InferArgs) -> Result<()> {
    let table = read_table(&args.data, &args.input, None)?;
    let options = InferOptions {
        label: args.label,
        id: args.id,
        time: args.time,
    };
    let inferred = infer_schema(&table, &options)
        .map_err(|e| anyhow::anyhow!("{}: {e}", args.data.display()))?;
    for (column, notes) in &inferred.notes {
        for warning in &notes.warnings {
            eprintln!("warning: column {column:?}: {warning}");
        }
    }
    let source = args.data.file_name().map_or_else(
        || args.data.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let text = to_commented_toml(&inferred, &source);
    match args.out {
        Some(path) => {
            check_output(&path, args.force)?;
            std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
            eprintln!(
                "wrote {} ({} columns)",
                path.display(),
                inferred.schema.columns.len()
            );
        }
        None => print!("{text}"),
    }
    Ok(())
}

fn check(args: CheckArgs) -> Result<()> {
    let schema = Schema::read(&args.schema)?;
    let features = schema.features().count();
    if let Some(data) = &args.data {
        let table = read_table(data, &args.input, Some(&schema))?;
        let label = schema.label().unwrap_or_default();
        let labels = qualify_data::label::read_labels(&table, label)
            .map_err(|e| anyhow::anyhow!("{}: {e}", data.display()))?;
        let rows: Vec<usize> = (0..table.rows()).collect();
        Encoder::fit(&schema, &table, &rows, None)
            .map_err(|e| anyhow::anyhow!("{}: {e}", data.display()))?;
        let unlisted: Vec<&String> = table
            .names()
            .iter()
            .filter(|n| schema.column(n).is_none())
            .collect();
        if !unlisted.is_empty() {
            eprintln!("note: columns not in the schema are ignored: {unlisted:?}");
        }
        let positives = labels.iter().filter(|&&y| y).count();
        println!(
            "{}: ok ({features} feature columns); {}: {} rows, {positives} positive, every value readable",
            args.schema.display(),
            data.display(),
            table.rows()
        );
    } else {
        println!("{}: ok ({features} feature columns)", args.schema.display());
    }
    Ok(())
}
