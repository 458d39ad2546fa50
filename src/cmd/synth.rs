//! `qualify synth`: synthetic B2B CRM history (docs/synthetic-data.md).

use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use qualify_data::synth::{SynthConfig, generate, to_jsonl, to_raw_table};

use super::common::{check_output, parse_time};

#[derive(Debug, clap::Args)]
pub struct SynthArgs {
    /// Number of leads.
    #[arg(long, default_value_t = 5000)]
    pub rows: usize,
    /// Random seed (the same seed gives the same file).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Snapshot time: activities happen before it (default 2026-06-30T00:00:00Z).
    #[arg(long, value_parser = parse_time)]
    pub as_of: Option<DateTime<Utc>>,
    /// Output: .csv or .parquet (flat form) or .jsonl (canonical records with activities).
    #[arg(long)]
    pub out: PathBuf,
    /// Overwrite --out if it exists.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: SynthArgs) -> Result<()> {
    let is_jsonl = args.out.extension().is_some_and(|e| e == "jsonl");
    if !is_jsonl {
        qualify_data::Format::from_path(&args.out)?;
    }
    anyhow::ensure!(args.rows > 0, "--rows must be at least 1");
    check_output(&args.out, args.force)?;
    let mut config = SynthConfig::new(args.rows, args.seed);
    if let Some(as_of) = args.as_of {
        config.as_of = as_of;
    }
    let leads = generate(&config);
    if is_jsonl {
        std::fs::write(&args.out, to_jsonl(&leads))
            .with_context(|| format!("writing {}", args.out.display()))?;
    } else {
        qualify_data::write_table(&args.out, &to_raw_table(&leads)?)?;
    }
    let converted = leads.iter().filter(|l| l.converted).count();
    eprintln!(
        "wrote {} leads ({:.1}% converted) to {}",
        leads.len(),
        100.0 * converted as f64 / leads.len() as f64,
        args.out.display()
    );
    Ok(())
}
