//! `qualify synth`: synthetic B2B CRM data (docs/synthetic-data.md): a flat snapshot
//! (`--out FILE`) or a history of leads, events and outcomes (`--history DIR`).

use std::path::PathBuf;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use qualify_data::Format;
use qualify_data::synth::history::{
    HistoryConfig, HistorySummary, WINDOW_DAYS, generate_history, history_files, write_history,
};
use qualify_data::synth::{SynthConfig, generate, to_jsonl, to_raw_table};

use super::common::{check_output, parse_time};

#[derive(Debug, clap::Args)]
pub struct SynthArgs {
    /// Flat snapshot: number of leads.
    #[arg(long, default_value_t = 5000, conflicts_with = "history")]
    pub rows: usize,
    /// Random seed (the same seed gives the same output).
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// End of the data: every lead, activity, event and outcome is before it
    /// (default 2026-06-30T00:00:00Z).
    #[arg(long, value_parser = parse_time)]
    pub as_of: Option<DateTime<Utc>>,
    /// Flat snapshot: .csv or .parquet (flat form) or .jsonl (canonical records with
    /// activities).
    #[arg(long, required_unless_present = "history", conflicts_with = "history")]
    pub out: Option<PathBuf>,
    /// History: write leads, events and outcomes tables into this directory (created if
    /// needed).
    #[arg(long, value_name = "DIR")]
    pub history: Option<PathBuf>,
    /// History: number of leads drawn [default: 5000] (leads that come back after a
    /// bad-timing disqualification are added).
    #[arg(long)]
    pub leads: Option<usize>,
    /// History: file format of the three tables [default: csv].
    #[arg(long, value_enum)]
    pub format: Option<HistoryFormat>,
    /// Overwrite existing output files.
    #[arg(long)]
    pub force: bool,
}

/// File format of a history's tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum HistoryFormat {
    Csv,
    Parquet,
}

pub fn run(args: SynthArgs) -> Result<()> {
    // Checked here, not by clap: clap lets `requires = "history"` pass when `--out`, which
    // conflicts with `--history`, is given.
    if args.history.is_none() {
        anyhow::ensure!(
            args.leads.is_none(),
            "--leads goes with --history (flat: --rows)"
        );
        anyhow::ensure!(
            args.format.is_none(),
            "--format goes with --history (flat: the extension of --out)"
        );
    }
    match (&args.history, &args.out) {
        (Some(dir), _) => history(&args, dir.clone()),
        (None, Some(out)) => flat(&args, out.clone()),
        (None, None) => anyhow::bail!("pass --out FILE (flat snapshot) or --history DIR"),
    }
}

fn flat(args: &SynthArgs, out: PathBuf) -> Result<()> {
    let is_jsonl = out.extension().is_some_and(|e| e == "jsonl");
    if !is_jsonl {
        Format::from_path(&out)?;
    }
    anyhow::ensure!(args.rows > 0, "--rows must be at least 1");
    check_output(&out, args.force)?;
    let mut config = SynthConfig::new(args.rows, args.seed);
    if let Some(as_of) = args.as_of {
        config.as_of = as_of;
    }
    let leads = generate(&config);
    if is_jsonl {
        std::fs::write(&out, to_jsonl(&leads))
            .with_context(|| format!("writing {}", out.display()))?;
    } else {
        qualify_data::write_table(&out, &to_raw_table(&leads)?)?;
    }
    let converted = leads.iter().filter(|l| l.converted).count();
    eprintln!(
        "wrote {} leads ({:.1}% converted) to {}",
        leads.len(),
        100.0 * converted as f64 / leads.len() as f64,
        out.display()
    );
    Ok(())
}

fn history(args: &SynthArgs, dir: PathBuf) -> Result<()> {
    let leads = args.leads.unwrap_or(5000);
    anyhow::ensure!(leads > 0, "--leads must be at least 1");
    let format = match args.format.unwrap_or(HistoryFormat::Csv) {
        HistoryFormat::Csv => Format::Csv,
        HistoryFormat::Parquet => Format::Parquet,
    };
    for path in history_files(&dir, format).all() {
        check_output(path, args.force)?;
    }
    let mut config = HistoryConfig::new(leads, args.seed);
    if let Some(as_of) = args.as_of {
        config.as_of = as_of;
    }
    let history = generate_history(&config);
    let files = write_history(&dir, &history, format)?;
    for path in files.all() {
        eprintln!("wrote {}", path.display());
    }
    print_summary(&history.summary());
    Ok(())
}

fn print_summary(s: &HistorySummary) {
    let pct = |n: usize| 100.0 * s.share(n);
    println!(
        "leads: {} ({} returned after a bad-timing disqualification)",
        s.leads, s.returned
    );
    println!(
        "events: {} of {} types ({} customer-only, after a conversion)",
        s.events, s.event_types, s.post_conversion_events
    );
    println!(
        "converted within {WINDOW_DAYS} days of creation: {:.1}% of the {} leads created at \
         least {WINDOW_DAYS} days before as_of",
        100.0 * s.window_rate(),
        s.window_eligible
    );
    println!(
        "conversions within {WINDOW_DAYS} days of creation: {:.1}% (leads created at least \
         365 days before as_of)",
        100.0 * s.share_converted_in_window()
    );
    println!("converted: {:.1}%", pct(s.converted));
    println!("disqualified: {:.1}%", pct(s.disqualified_total()));
    for (reason, n) in &s.disqualified {
        println!(
            "  {:<20} {:.1}% ({})",
            reason.as_str(),
            pct(*n),
            reason.family()
        );
    }
    println!("open at as_of: {:.1}%", pct(s.open));
}
