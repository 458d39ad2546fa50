//! `qualify train`: flags in, [`qualify_train::pipeline::train`] called, progress and a
//! summary printed. The pipeline itself (label checks, split, fitting, selection, metrics,
//! golden rows, verify-then-publish) is the library's.

use std::path::PathBuf;
use std::sync::OnceLock;

use anyhow::Result;
use indicatif::ProgressBar;
use qualify_core::schema::Schema;
use qualify_train::calibration::CalibrationMethod;
use qualify_train::gbm::GbmParams;
use qualify_train::gbm_cv::ClassWeight;
use qualify_train::pipeline::{
    DataSource, ModelChoice, PipelineError, SplitStrategy, TrainConfig, TrainData, train,
};
use qualify_train::progress::{Progress, Stage, TrainWarning};

use super::common::{InputArgs, progress, read_table};
use super::report;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelKind {
    /// L2-regularised logistic regression (linfa-logistic).
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
    /// Training data (CSV or Parquet), one row per lead.
    #[arg(long)]
    pub data: PathBuf,
    /// The binary label column (0/1, yes/no, true/false). Taken from --schema when absent.
    #[arg(long)]
    pub label: Option<String>,
    /// Id column, when the schema is inferred (a column named `id` is taken by default).
    #[arg(long, conflicts_with = "schema")]
    pub id: Option<String>,
    /// Feature schema (TOML); inferred from the data (and saved in the bundle) when absent.
    #[arg(long)]
    pub schema: Option<PathBuf>,
    /// The model to fit.
    #[arg(long, value_enum, default_value_t = ModelKind::Logistic)]
    pub model: ModelKind,
    /// Calibration fitted on out-of-fold scores of the training part.
    #[arg(long, value_enum, default_value_t = Calibration::Auto)]
    pub calibration: Calibration,
    /// Split by this time column (latest rows are the test part) instead of at random.
    #[arg(long)]
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
    /// Model directory: the bundle is written to DIR/<version>/ (version: the UTC creation
    /// time, a millisecond later per version already taken).
    #[arg(long)]
    pub out: PathBuf,
    /// Model name recorded in the manifest (default: the --out directory's name).
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub input: InputArgs,
}

pub fn run(args: TrainArgs) -> Result<()> {
    let schema = args.schema.as_deref().map(Schema::read).transpose()?;
    let table = read_table(&args.data, &args.input, schema.as_ref())?;
    if schema.is_none() {
        eprintln!(
            "note: no --schema given; using an inferred one (saved in the bundle's manifest)"
        );
    }
    let config = config(&args, schema);
    let source = DataSource::file(&args.data)?;
    let data = TrainData {
        table: &table,
        source: &source,
    };
    let bars = Bars::default();
    let result = train(&config, &data, &args.out, &bars);
    if let Some(bar) = bars.fitting.get() {
        bar.finish_and_clear();
    }
    let trained = result.map_err(|e| with_flags(e, &args))?;
    report::print_training_summary(&trained);
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
fn with_flags(e: PipelineError, args: &TrainArgs) -> anyhow::Error {
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
        E::Label { .. }
            | E::TrainingPart { .. }
            | E::NoTimeColumn { .. }
            | E::NotATime { .. }
            | E::Infer { .. }
            | E::Encode(_)
    );
    match (flag, in_data) {
        (Some(flag), true) => {
            anyhow::Error::new(e).context(format!("{} (see {flag})", args.data.display()))
        }
        (Some(flag), false) => anyhow::anyhow!("{e} (see {flag})"),
        (None, true) => anyhow::Error::new(e).context(args.data.display().to_string()),
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
