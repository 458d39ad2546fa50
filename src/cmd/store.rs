//! `qualify store import`: flags in, [`qualify_store::files::import`] called, a summary
//! printed. Reading, checking (the history readers' policy) and the one-transaction load are
//! the store crate's (docs/store.md).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, Result};
use qualify_core::schema::Schema;
use qualify_data::history::{HistoryPaths, infer_leads_schema};
use qualify_store::Store;
use qualify_store::files::{ImportOptions, import};

use super::common::{InputArgs, spinner};

#[derive(Debug, clap::Subcommand)]
pub enum StoreCommand {
    /// Bulk-load a history's three files into a store, checked as training checks them
    /// (docs/history.md "Bad input"); the load is one transaction: all or nothing.
    Import(ImportArgs),
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The store: sqlite://PATH (created when missing) or postgres://USER@HOST:PORT/DB.
    #[arg(long, env = "QUALIFY_STORE")]
    pub store: String,
    /// The leads table (CSV or Parquet): id, created_at and attribute columns.
    #[arg(long)]
    pub leads: PathBuf,
    /// The events table: lead_id, at, type (optional event_id, value).
    #[arg(long)]
    pub events: PathBuf,
    /// The outcomes table: lead_id, at, outcome (optional reason).
    #[arg(long)]
    pub outcomes: PathBuf,
    /// The leads schema (its `[history]` section names the other tables' columns); inferred
    /// from the leads file when absent, as `qualify train --leads` does.
    #[arg(long)]
    pub schema: Option<PathBuf>,
    /// Import into a store that already holds leads (events without an event_id that are
    /// imported again are then stored twice).
    #[arg(long)]
    pub append: bool,
    #[command(flatten)]
    pub input: InputArgs,
}

pub fn run(command: StoreCommand) -> Result<()> {
    match command {
        StoreCommand::Import(args) => run_import(&args),
    }
}

fn run_import(args: &ImportArgs) -> Result<()> {
    let schema = match &args.schema {
        Some(path) => Schema::read(path)?,
        None => infer_leads_schema(&args.leads, None, None, args.input.delimiter)?.schema,
    };
    let paths = HistoryPaths {
        leads: args.leads.clone(),
        events: args.events.clone(),
        outcomes: Some(args.outcomes.clone()),
    };
    let runtime = runtime()?;
    let start = Instant::now();
    let spinner = spinner("importing");
    let result = runtime.block_on(async {
        let store = Store::connect(&args.store).await?;
        let imported = import(
            &store,
            &paths,
            &schema,
            args.input.delimiter,
            ImportOptions {
                append: args.append,
            },
        )
        .await;
        store.close().await;
        imported
    });
    spinner.finish_and_clear();
    let imported = result.with_context(|| format!("importing into {}", args.store))?;
    let seconds = start.elapsed().as_secs_f64();
    for warning in &imported.report.warnings {
        eprintln!("warning: {warning}");
    }
    println!(
        "imported {} leads, {} events ({} stored, {} with an event_id already stored), {} outcomes in {seconds:.2} s ({:.0} events/s)",
        imported.leads,
        imported.events,
        imported.events_stored,
        imported.events as u64 - imported.events_stored,
        imported.outcomes,
        imported.events as f64 / seconds.max(1e-9),
    );
    Ok(())
}

/// The runtime the store's calls run on.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")
}
