//! `qualify train`: flags in, [`qualify_train::pipeline::train`] called, progress and a
//! summary printed. The pipeline itself (label checks, split, fitting, selection, metrics,
//! golden rows, verify-then-publish) is the library's. With `--leads --events --outcomes`
//! the rows are a history's point-in-time rows ([`qualify_train::history::train_history`],
//! docs/history.md), trained through the same pipeline; with `--store URL` the same history
//! is read from a lead store (docs/store.md) and checked by the same readers.

use std::path::PathBuf;
use std::sync::OnceLock;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use indicatif::ProgressBar;
use qualify_core::schema::Schema;
use qualify_data::history::{HistoryPaths, infer_leads_schema, read_history};
use qualify_train::calibration::CalibrationMethod;
use qualify_train::gbm::GbmParams;
use qualify_train::gbm_cv::ClassWeight;
use qualify_train::history::{
    HistoryOptions, HistoryTrainError, RowsKind, rows_with_parts, train_history,
};
use qualify_train::pipeline::{
    DataSource, ModelChoice, PipelineError, SplitStrategy, TrainConfig, TrainData, train,
};
use qualify_train::progress::{Progress, Stage, TrainWarning};

use super::common::{InputArgs, parse_time, progress, read_table, spinner};
use super::report;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelKind {
    /// L2-regularised logistic regression (Newton–Cholesky; linfa-logistic's L-BFGS when wide).
    Logistic,
    /// Gradient-boosted trees (qualify-gbm), early-stopped on a validation share of each fold.
    Gbm,
    /// Both; keeps the one with the lower cross-validated log loss after calibration.
    Auto,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ClassWeightArg {
    /// Every lead weighs 1.
    None,
    /// Converted and other leads weigh half the total each (GBM only).
    Balanced,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Calibration {
    Platt,
    Isotonic,
    /// Whichever of the two has the lower held-out log loss.
    Auto,
}

#[derive(Debug, clap::Args)]
pub struct TrainArgs {
    /// Training data (CSV or Parquet), one row per lead: a flat snapshot, for data whose
    /// features are already what was known when each label's window began (docs/history.md).
    /// A CRM's history trains with --leads, --events and --outcomes instead.
    #[arg(
        long,
        required_unless_present = "history_source",
        conflicts_with = "history_source"
    )]
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub history: HistoryTrainArgs,
    /// The binary label column (0/1, yes/no, true/false). Taken from --schema when absent.
    /// (A history's label is "converted within --window of the moment".)
    #[arg(long, conflicts_with = "history_source")]
    pub label: Option<String>,
    /// Id column, when the schema is inferred (a column named `id` is taken by default).
    #[arg(long, conflicts_with = "schema")]
    pub id: Option<String>,
    /// Feature schema (TOML); inferred from the data (and saved in the bundle) when absent.
    /// With --leads: the leads table's schema (`qualify schema infer --data leads.csv`).
    #[arg(long)]
    pub schema: Option<PathBuf>,
    /// The model to fit.
    #[arg(long, value_enum, default_value_t = ModelKind::Logistic)]
    pub model: ModelKind,
    /// Calibration fitted on out-of-fold scores of the training part.
    #[arg(long, value_enum, default_value_t = Calibration::Auto)]
    pub calibration: Calibration,
    /// Split by this time column (latest rows are the test part) instead of at random.
    /// (A history is always split out of time: the latest leads by creation.)
    #[arg(long, conflicts_with = "history_source")]
    pub time_column: Option<String>,
    /// Fraction of rows held out for the evaluation reported in the manifest.
    #[arg(long, default_value_t = 0.2)]
    pub test_fraction: f64,
    /// Seed of the split and the folds.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Cross-validation folds (choosing the L2 strength and the tree count; fitting the
    /// calibrator; comparing models).
    #[arg(long, default_value_t = 5)]
    pub folds: usize,
    /// Class weights in the GBM's loss (the calibrator still maps to true rates).
    #[arg(long, value_enum, default_value_t = ClassWeightArg::None)]
    pub class_weight: ClassWeightArg,
    /// GBM: most trees per fit (early stopping picks fewer).
    #[arg(long, default_value_t = GbmParams::default().max_trees)]
    pub max_trees: usize,
    /// GBM: learning rate (shrinkage of each tree).
    #[arg(long, default_value_t = GbmParams::default().learning_rate)]
    pub learning_rate: f32,
    /// GBM: leaves per tree (grown best-first).
    #[arg(long, default_value_t = GbmParams::default().max_leaves)]
    pub leaves: usize,
    /// GBM: minimum hessian sum per leaf (about rows × p(1−p)).
    #[arg(long, default_value_t = GbmParams::default().min_leaf_weight)]
    pub min_leaf_weight: f32,
    /// GBM: stop after this many trees without a better validation log loss.
    #[arg(long, default_value_t = GbmParams::default().early_stopping_rounds)]
    pub early_stopping_rounds: usize,
    /// Model directory: the bundle is written to `DIR/<version>/` (version: the UTC creation
    /// time, a millisecond later per version already taken).
    #[arg(long)]
    pub out: PathBuf,
    /// Model name recorded in the manifest (default: the --out directory's name).
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub input: InputArgs,
}

/// A history's tables and how its rows are made (docs/history.md).
#[derive(Debug, clap::Args)]
pub struct HistoryTrainArgs {
    /// A history's leads table (CSV or Parquet): id, created_at and attribute columns.
    #[arg(long, requires_all = ["events", "outcomes"], group = "history_source")]
    pub leads: Option<PathBuf>,
    /// Or a lead store holding the history (sqlite://PATH or postgres://…, docs/store.md):
    /// read and checked as the three files would be.
    #[arg(long, group = "history_source")]
    pub store: Option<String>,
    /// The history's events table: lead_id, at, type (optional event_id, value).
    #[arg(long, requires = "leads")]
    pub events: Option<PathBuf>,
    /// The history's outcomes table: lead_id, at, outcome (converted | disqualified).
    #[arg(long, requires = "leads")]
    pub outcomes: Option<PathBuf>,
    /// The label's window: converted within this long after the scoring moment (`90d`, or a
    /// number of days). Part of the model: its score means "probability of converting within
    /// 90 days of the scoring moment".
    #[arg(long, default_value = "90d", value_parser = parse_days, requires = "history_source")]
    pub window: u32,
    /// Training moments: days after a lead's creation at which it is scored while open.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0,7,14,30,60",
        requires = "history_source"
    )]
    pub offsets: Vec<u32>,
    /// Count windows of the per-type features, in days.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "7,30,90",
        requires = "history_source"
    )]
    pub count_windows: Vec<u32>,
    /// Half-life of the decayed counts (`14d`, or a number of days).
    #[arg(long, default_value = "14d", value_parser = parse_half_life, requires = "history_source")]
    pub half_life: f64,
    /// The end of the data (RFC 3339): labels look no further, later rows are ignored
    /// (default: the latest timestamp in the three tables).
    #[arg(long, value_parser = parse_time, requires = "history_source")]
    pub as_of: Option<DateTime<Utc>>,
    /// Fewest events before the training moments for an event type to get its features
    /// (default: the schema's min_level_count).
    #[arg(long, requires = "history_source")]
    pub min_type_events: Option<usize>,
    /// Also write the point-in-time rows trained on (lead, moment, features, label and a
    /// `part` column: train or test) to this .csv or .parquet file, for a peer to fit on the
    /// same rows.
    #[arg(long, requires = "history_source")]
    pub rows_out: Option<PathBuf>,
    /// The anti-example of docs/history.md, to measure, never to score with: one row per lead
    /// at the end of the data, every event ever seen, label "ever converted".
    #[arg(long, requires = "history_source")]
    pub careless_snapshot: bool,
}

/// `90d`, `90` (days).
fn parse_days(s: &str) -> Result<u32, String> {
    s.trim()
        .trim_end_matches('d')
        .parse::<u32>()
        .map_err(|_| format!("{s:?} is not a number of days (e.g. 90d)"))
}

/// `14d`, `3.5` (days).
fn parse_half_life(s: &str) -> Result<f64, String> {
    s.trim()
        .trim_end_matches('d')
        .parse::<f64>()
        .map_err(|_| format!("{s:?} is not a number of days (e.g. 14d)"))
}

pub fn run(args: TrainArgs) -> Result<()> {
    let schema = args.schema.as_deref().map(Schema::read).transpose()?;
    if let (Some(leads), Some(events), Some(outcomes)) = (
        &args.history.leads,
        &args.history.events,
        &args.history.outcomes,
    ) {
        let paths = HistoryPaths {
            leads: leads.clone(),
            events: events.clone(),
            outcomes: Some(outcomes.clone()),
        };
        return history(&args, &paths, schema);
    }
    if let Some(url) = &args.history.store {
        return store_history(&args, url, schema);
    }
    let data_path = args
        .data
        .as_deref()
        .context("pass --data FILE, or --leads, --events and --outcomes")?;
    let table = read_table(data_path, &args.input, schema.as_ref())?;
    if schema.is_none() {
        eprintln!(
            "note: no --schema given; using an inferred one (saved in the bundle's manifest)"
        );
    }
    let config = config(&args, schema);
    let source = DataSource::file(data_path)?;
    let data = TrainData::new(&table, &source);
    let bars = Bars::default();
    let result = train(&config, &data, &args.out, &bars);
    if let Some(bar) = bars.fitting.get() {
        bar.finish_and_clear();
    }
    let trained = result.map_err(|e| with_flags(e, data_path))?;
    report::print_training_summary(&trained);
    eprintln!("wrote {}", trained.dir.display());
    Ok(())
}

/// Trains on a history's point-in-time rows.
fn history(args: &TrainArgs, paths: &HistoryPaths, schema: Option<Schema>) -> Result<()> {
    let schema = match schema {
        Some(schema) => schema,
        None => {
            eprintln!(
                "note: no --schema given; using one inferred from {} (saved in the bundle's manifest)",
                paths.leads.display()
            );
            let inferred = infer_leads_schema(&paths.leads, None, None, args.input.delimiter)?;
            for (column, notes) in &inferred.notes {
                for warning in &notes.warnings {
                    eprintln!("warning: column {column:?}: {warning}");
                }
            }
            inferred.schema
        }
    };
    let spinner = spinner("reading the history");
    let read = read_history(paths, &schema, args.input.delimiter);
    spinner.finish_and_clear();
    let source = DataSource::files(&paths.files())?;
    train_read(args, read?, schema, &source, &paths.leads)
}

/// Trains on the history a store holds: read as tables, checked by the file readers.
fn store_history(args: &TrainArgs, url: &str, schema: Option<Schema>) -> Result<()> {
    let names = schema
        .as_ref()
        .and_then(|s| s.history.clone())
        .unwrap_or_default();
    let sets = schema
        .as_ref()
        .map(qualify_store::SetSeparators::of)
        .unwrap_or_default();
    let spinner = spinner("reading the store");
    let tables = super::store::runtime()?.block_on(async {
        let store = qualify_store::Store::connect(url).await?;
        let tables = store.history_tables(&names, &sets).await;
        store.close().await;
        tables
    });
    spinner.finish_and_clear();
    let tables = tables.with_context(|| format!("reading {url}"))?;
    let schema = match schema {
        Some(schema) => schema,
        None => {
            eprintln!(
                "note: no --schema given; using one inferred from the store's leads (saved in the bundle's manifest)"
            );
            let inferred = qualify_store::files::infer_leads_schema(&tables)?;
            for (column, notes) in &inferred.notes {
                for warning in &notes.warnings {
                    eprintln!("warning: column {column:?}: {warning}");
                }
            }
            inferred.schema
        }
    };
    let source = DataSource {
        name: format!("{} store", qualify_store::Backend::of_url(url)?),
        sha256: tables.sha256(),
    };
    let read = qualify_store::files::checked(tables, &schema)?;
    train_read(args, read, schema, &source, std::path::Path::new("store"))
}

/// Trains on a history read and checked (from files or a store).
fn train_read(
    args: &TrainArgs,
    read: qualify_data::history::ReadHistory,
    schema: Schema,
    source: &DataSource,
    data: &std::path::Path,
) -> Result<()> {
    let h = &args.history;
    for warning in &read.report.warnings {
        eprintln!("warning: {warning}");
    }
    let options = HistoryOptions {
        label_window_days: h.window,
        offsets_days: h.offsets.clone(),
        windows_days: h.count_windows.clone(),
        half_life_days: h.half_life,
        end: h.as_of,
        min_type_events: h.min_type_events,
        kind: if h.careless_snapshot {
            RowsKind::CarelessSnapshot
        } else {
            RowsKind::PointInTime
        },
    };
    if h.careless_snapshot {
        eprintln!(
            "warning: --careless-snapshot trains the anti-example of docs/history.md (every \
             event ever seen, label \"ever converted\"); measure it, never score leads with it"
        );
    }
    if let Some(out) = &h.rows_out {
        qualify_data::Format::from_path(out)?;
    }
    let config = config(args, Some(schema));
    let bars = Bars::default();
    let result = train_history(&config, &read.history, &options, source, &args.out, &bars);
    if let Some(bar) = bars.fitting.get() {
        bar.finish_and_clear();
    }
    let (trained, rows) = result.map_err(|e| match e {
        HistoryTrainError::Pipeline(e) => with_flags(e, data),
        other => anyhow::Error::new(other),
    })?;
    report::print_training_summary(&trained);
    report::print_history_summary(&rows);
    if let Some(out) = &h.rows_out {
        qualify_data::write_table(out, &rows_with_parts(&rows, &trained.split)?)?;
        eprintln!("wrote the rows trained on to {}", out.display());
    }
    eprintln!("wrote {}", trained.dir.display());
    Ok(())
}

/// The flags as the library's config.
fn config(args: &TrainArgs, schema: Option<Schema>) -> TrainConfig {
    TrainConfig {
        name: args.name.clone(),
        label: args.label.clone(),
        schema,
        id: args.id.clone(),
        model: match args.model {
            ModelKind::Logistic => ModelChoice::Logistic,
            ModelKind::Gbm => ModelChoice::Gbm,
            ModelKind::Auto => ModelChoice::Auto,
        },
        calibration: match args.calibration {
            Calibration::Platt => CalibrationMethod::Platt,
            Calibration::Isotonic => CalibrationMethod::Isotonic,
            Calibration::Auto => CalibrationMethod::Auto,
        },
        split: match &args.time_column {
            Some(column) => SplitStrategy::Time {
                column: column.clone(),
            },
            None => SplitStrategy::Auto,
        },
        test_fraction: args.test_fraction,
        seed: args.seed,
        folds: args.folds,
        class_weight: match args.class_weight {
            ClassWeightArg::None => ClassWeight::None,
            ClassWeightArg::Balanced => ClassWeight::Balanced,
        },
        gbm: GbmParams {
            max_trees: args.max_trees,
            learning_rate: args.learning_rate,
            max_leaves: args.leaves,
            min_leaf_weight: args.min_leaf_weight,
            early_stopping_rounds: args.early_stopping_rounds,
            ..GbmParams::default()
        },
        ..TrainConfig::default()
    }
}

/// The library's error, with the data file named when the data is at fault and the flag to
/// change named when a setting is.
fn with_flags(e: PipelineError, data: &std::path::Path) -> anyhow::Error {
    use PipelineError as E;
    let flag = match &e {
        E::TestFraction { .. } | E::TestPartOneClass { .. } => Some("--test-fraction"),
        E::TooFewFolds { .. } | E::TooManyFolds { .. } => Some("--folds"),
        E::ClassWeightWithoutGbm => Some("--class-weight"),
        E::NoLabel | E::LabelMismatch { .. } => Some("--label, --schema"),
        E::NoTimeColumn { .. } | E::NotATime { .. } => {
            Some("--time-column or the schema's time column")
        }
        _ => None,
    };
    let in_data = matches!(
        e,
        E::Label(_)
            | E::TrainingPart(_)
            | E::NoTimeColumn { .. }
            | E::NotATime { .. }
            | E::Infer(_)
            | E::Encode(_)
    );
    match (flag, in_data) {
        (Some(flag), true) => {
            anyhow::Error::new(e).context(format!("{} (see {flag})", data.display()))
        }
        (Some(flag), false) => anyhow::anyhow!("{e} (see {flag})"),
        (None, true) => anyhow::Error::new(e).context(data.display().to_string()),
        (None, false) => anyhow::Error::new(e),
    }
}

/// indicatif on stderr: a bar while models fit, warnings printed above it.
#[derive(Default)]
struct Bars {
    fitting: OnceLock<ProgressBar>,
}

impl Progress for Bars {
    fn stage(&self, stage: Stage) {
        match stage {
            Stage::Fitting { fits } => {
                let _ = self.fitting.set(progress(fits as u64, "fitting"));
            }
            Stage::Evaluating => {
                if let Some(bar) = self.fitting.get() {
                    bar.finish_and_clear();
                }
            }
            _ => {}
        }
        pause_point(stage.name());
    }

    fn fitted(&self, done: usize, _total: usize) {
        if let Some(bar) = self.fitting.get() {
            bar.set_position(done as u64);
        }
        if done == 1 {
            pause_point("fitted");
        }
    }

    fn warning(&self, warning: &TrainWarning) {
        let print = || eprintln!("warning: {warning}");
        match self.fitting.get() {
            Some(bar) => bar.suspend(print),
            None => print(),
        }
    }
}

/// Debug builds only, for the end-to-end tests that kill a run at a named moment
/// (tests/train_interrupted.rs): with `QUALIFY_DEBUG_PAUSE_AT=<point>` (a stage name, or
/// `fitted` after the first fit), announce the point on stderr and wait there.
fn pause_point(point: &str) {
    if cfg!(debug_assertions)
        && std::env::var("QUALIFY_DEBUG_PAUSE_AT").is_ok_and(|wanted| wanted == point)
    {
        eprintln!("paused at {point}");
        std::thread::sleep(std::time::Duration::from_secs(300));
    }
}
