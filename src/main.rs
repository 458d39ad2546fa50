//! `qualify`: train calibrated lead-conversion propensity models, score with them, and keep
//! them next to a rule-based qualification stage.
//!
//! The binary is thin: one module per subcommand under `cmd/`, each parsing its flags and
//! calling the libraries under `crates/`. Errors reach `main`, which prints them and exits
//! non-zero.

mod cmd;

/// mimalloc rather than the system allocator: `qualify serve` answers each request with a few
/// dozen small allocations, where glibc's malloc cost a fifth of the CPU (docs/api.md, load test).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Calibrated lead-conversion propensity models, next to a rule-based qualification stage.
#[derive(Debug, Parser)]
#[command(name = "qualify", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Infer or check a feature schema (column roles, types, missing tokens).
    #[command(subcommand)]
    Schema(cmd::schema::SchemaCommand),
    /// Train a calibrated propensity model on CRM history and write a model bundle.
    Train(cmd::train::TrainArgs),
    /// Evaluate a model bundle on labelled data (ROC AUC, PR AUC, log loss, Brier, ECE, lift).
    Evaluate(cmd::evaluate::EvaluateArgs),
    /// Score a file of leads with a model bundle.
    Score(cmd::score::ScoreArgs),
    /// Serve propensity and rule stage over HTTP (docs/api.md).
    Serve(cmd::serve::ServeArgs),
    /// Wrap an ONNX classifier trained elsewhere (scikit-learn, LightGBM) into a model bundle.
    Import(cmd::import::ImportArgs),
    /// Generate synthetic B2B CRM history (docs/synthetic-data.md).
    Synth(cmd::synth::SynthArgs),
    /// Check rules files and score leads with the rule-based stage (docs/rules.md).
    #[command(subcommand)]
    Rules(cmd::rules::RulesCommand),
    /// Compare the model with the rules on labelled leads: figures, leads table, HTML report.
    Compare(cmd::compare::CompareArgs),
    /// Monitor served scores, from a score log and outcome files or from a lead store:
    /// calibration on matured outcomes, drift, rules vs model, reasons, funnel KPIs, sales SLA
    /// (docs/monitoring.md).
    Monitor(cmd::monitor::MonitorArgs),
    /// The lead store: import a history's files (docs/store.md).
    #[command(subcommand)]
    Store(cmd::store::StoreCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Schema(c) => cmd::schema::run(c),
        Command::Train(a) => cmd::train::run(a),
        Command::Evaluate(a) => cmd::evaluate::run(a),
        Command::Score(a) => cmd::score::run(a),
        Command::Serve(a) => cmd::serve::run(a),
        Command::Import(a) => cmd::import::run(a),
        Command::Synth(a) => cmd::synth::run(a),
        Command::Rules(c) => cmd::rules::run(c),
        Command::Compare(a) => cmd::compare::run(a),
        Command::Monitor(a) => cmd::monitor::run(a),
        Command::Store(c) => cmd::store::run(c),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
