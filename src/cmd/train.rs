//! `qualify train`: CRM history in, a calibrated, evaluated, versioned model bundle out.

use std::path::{Path, PathBuf};

use anyhow::{Result, anyhow, bail};
use chrono::Utc;
use qualify_core::bundle::DataFingerprint;
use qualify_core::encoder::{Encoder, parse::time_from_text};
use qualify_core::schema::Schema;
use qualify_core::value::{Cell, RawTable};
use qualify_data::infer::{InferOptions, infer_schema};
use qualify_data::label::{check_trainable, read_labels};
use qualify_eval::Metrics;
use qualify_runtime::Model;
use qualify_train::calibration::CalibrationMethod;
use qualify_train::cv::{TrainOptions, train_logistic};
use qualify_train::export::{BundleSpec, write_bundle};
use qualify_train::gbm::GbmParams;
use qualify_train::gbm_cv::{ClassWeight, GbmOptions, monotone_features, train_gbm};
use qualify_train::model::{TrainedModel, candidate_score};
use qualify_train::split::{Split, stratified_split, time_split};

use super::common::{InputArgs, progress, read_table};
use super::report;

/// Number of golden rows written into each bundle.
const GOLDEN_ROWS: usize = 25;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ModelKind {
    /// L2-regularised logistic regression (linfa-logistic).
    Logistic,
    /// Gradient-boosted trees (forust-ml), early-stopped on a validation share of each fold.
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
    /// Model directory: the bundle is written to DIR/<version>/.
    #[arg(long)]
    pub out: PathBuf,
    /// Model name recorded in the manifest (default: the --out directory's name).
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub input: InputArgs,
}

pub fn run(args: TrainArgs) -> Result<()> {
    if !(args.test_fraction > 0.0 && args.test_fraction < 1.0) {
        bail!(
            "--test-fraction must be between 0 and 1 (exclusive), got {}",
            args.test_fraction
        );
    }
    let in_file = |e: String| anyhow!("{}: {e}", args.data.display());
    let schema_file = args.schema.as_deref().map(Schema::read).transpose()?;
    let table = read_table(&args.data, &args.input, schema_file.as_ref())?;
    let label = match (&schema_file, &args.label) {
        (Some(schema), Some(label)) if Some(label.as_str()) != schema.label() => {
            bail!(
                "--label {label:?} differs from the schema's label {:?}",
                schema.label().unwrap_or_default()
            )
        }
        (Some(schema), _) => schema.label().unwrap_or_default().to_string(),
        (None, Some(label)) => label.clone(),
        (None, None) => {
            bail!("give --label (and optionally --schema), or a --schema that names the label")
        }
    };
    // The label first: a one-class or tiny label is the error to report, whatever the features.
    let labels = read_labels(&table, &label).map_err(in_file)?;
    check_trainable(&labels, &label).map_err(in_file)?;
    let schema = match schema_file {
        Some(schema) => schema,
        None => infer(&args, &table, &label)?,
    };

    let time_column = args.time_column.as_deref().or(schema.time());
    let (split, split_name) = match time_column {
        Some(column) => {
            let times = read_times(&table, column).map_err(in_file)?;
            (
                time_split(&times, args.test_fraction),
                format!("time ({column}, test {})", args.test_fraction),
            )
        }
        None => (
            stratified_split(&labels, args.test_fraction, args.seed),
            format!(
                "stratified (seed {}, test {})",
                args.seed, args.test_fraction
            ),
        ),
    };
    let pick = |rows: &[usize]| rows.iter().map(|&r| labels[r]).collect::<Vec<bool>>();
    let (y_train, y_test) = (pick(&split.train), pick(&split.test));
    check_trainable(&y_train, &label).map_err(|e| in_file(format!("training part: {e}")))?;
    check_parts(&y_train, &y_test, &args)?;

    let encoder =
        Encoder::fit(&schema, &table, &split.train, None).map_err(|e| in_file(e.to_string()))?;
    let as_of = encoder.reference_time();
    let cols = encoder.n_features();
    let x_train = encoder
        .encode_table(&table, &split.train, as_of)
        .map_err(|e| in_file(e.to_string()))?;
    let x_test = encoder
        .encode_table(&table, &split.test, as_of)
        .map_err(|e| in_file(e.to_string()))?;

    let calibration = match args.calibration {
        Calibration::Platt => CalibrationMethod::Platt,
        Calibration::Isotonic => CalibrationMethod::Isotonic,
        Calibration::Auto => CalibrationMethod::Auto,
    };
    if args.model == ModelKind::Logistic && args.class_weight != ClassWeightArg::None {
        bail!("--class-weight applies to --model gbm (and the GBM of --model auto) only");
    }
    let monotone = monotone_features(&schema, &encoder)?;
    let logistic_options = TrainOptions {
        folds: args.folds,
        seed: args.seed,
        calibration,
        ..TrainOptions::default()
    };
    let gbm_options = GbmOptions {
        params: GbmParams {
            max_trees: args.max_trees,
            learning_rate: args.learning_rate,
            max_leaves: args.leaves,
            min_leaf_weight: args.min_leaf_weight,
            early_stopping_rounds: args.early_stopping_rounds,
            ..GbmParams::default()
        },
        folds: args.folds,
        seed: args.seed,
        calibration,
        class_weight: match args.class_weight {
            ClassWeightArg::None => ClassWeight::None,
            ClassWeightArg::Balanced => ClassWeight::Balanced,
        },
        monotone: monotone.clone(),
        ..GbmOptions::default()
    };
    gbm_options.params.validate()?;
    let fits_logistic = logistic_options.l2_grid.len() * args.folds + 1;
    let (use_logistic, use_gbm) = match args.model {
        ModelKind::Logistic => (true, false),
        ModelKind::Gbm => (false, true),
        ModelKind::Auto => (true, true),
    };
    let total = usize::from(use_logistic) * fits_logistic + usize::from(use_gbm) * (args.folds + 1);
    let bar = progress(total as u64, "fitting");
    let mut candidates = Vec::new();
    if use_logistic {
        let trained = train_logistic(&x_train, cols, &y_train, &logistic_options, &|done, _| {
            bar.set_position(done as u64)
        })?;
        candidates.push(TrainedModel::Logistic(trained));
    }
    if use_gbm {
        let offset = if use_logistic { fits_logistic } else { 0 };
        let trained = train_gbm(&x_train, cols, &y_train, &gbm_options, &|done, _| {
            bar.set_position((offset + done) as u64)
        })?;
        candidates.push(TrainedModel::Gbm(trained));
    }
    bar.finish_and_clear();

    let prior = Metrics::constant_prior(&y_test)?;
    let test_metrics = |m: &TrainedModel| -> Result<Metrics> {
        let p: Vec<f64> = m
            .logits(&x_test, cols)
            .iter()
            .map(|&z| m.calibrator().apply(z))
            .collect();
        Ok(Metrics::compute(&y_test, &p)?)
    };
    // --model auto: cross-validated, calibrated log loss decides (never the test part).
    let mut selection = Vec::new();
    for m in &candidates {
        let score = candidate_score(m, &y_train, calibration, args.folds, args.seed)?;
        selection.push((score, test_metrics(m)?));
    }
    let best = selection
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.0.cv_log_loss.total_cmp(&b.1.0.cv_log_loss))
        .map(|(i, _)| i)
        .ok_or_else(|| anyhow!("no model was trained"))?;
    let trained = candidates.swap_remove(best);
    let test = selection[best].1.clone();
    warn_on_monotone(&trained, &monotone, &encoder);
    let mut metrics = serde_json::json!({ "test": test, "prior": prior, "cv": trained.cv_json() });
    if args.model == ModelKind::Auto {
        metrics["selection"] = serde_json::json!({
            "chosen": trained.kind(),
            "rule": "lowest cross-validated log loss of calibrated out-of-fold probabilities \
                     (calibrator cross-fitted over the same folds)",
            "candidates": selection
                .iter()
                .map(|(score, test)| serde_json::json!({
                    "kind": score.kind,
                    "cv_log_loss": score.cv_log_loss,
                    "cv_roc_auc": score.cv_roc_auc,
                    "test": test,
                }))
                .collect::<Vec<_>>(),
        });
    }

    let golden_rows = golden_rows(&split);
    let mut golden_x = encoder
        .encode_table(&table, &golden_rows, as_of)
        .map_err(|e| in_file(e.to_string()))?;
    let mut golden_records: Vec<_> = golden_rows
        .iter()
        .map(|&r| feature_record(&table, &schema, r))
        .collect();
    let (edge_table, edge_records) = edge_cases(&encoder)?;
    golden_x.extend(encoder.encode_table(&edge_table, &[0, 1], as_of)?);
    golden_records.extend(edge_records);
    let positives = labels.iter().filter(|&&y| y).count();
    let spec = BundleSpec {
        name: &model_name(&args),
        created_at: Utc::now(),
        schema: &schema,
        encoder: &encoder,
        training_data: DataFingerprint {
            file: args
                .data
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            sha256: qualify_data::file_sha256(&args.data)?,
            rows: table.rows(),
            label_rate: positives as f64 / table.rows() as f64,
            train_rows: split.train.len(),
            test_rows: split.test.len(),
            split: split_name,
        },
        metrics,
        golden_records,
        golden_x: &golden_x,
        golden_as_of: as_of,
    };
    let dir = write_bundle(&args.out, &trained, spec)?;
    // Load it back as the server would: the golden rows must reproduce through tract. A
    // bundle that does not is removed, so it can never become the "latest" version.
    let model = match Model::load(&dir) {
        Ok(model) => model,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&dir);
            bail!("the new bundle failed its check and was removed: {e}");
        }
    };
    report::print_training_summary(&model, &trained, &test, &prior);
    eprintln!("wrote {}", dir.display());
    Ok(())
}

/// Logistic regression cannot be constrained: say so when its fitted weight goes against a
/// declared direction (the GBM enforces them).
fn warn_on_monotone(
    trained: &TrainedModel,
    monotone: &[(usize, qualify_core::schema::Monotone)],
    encoder: &Encoder,
) {
    let TrainedModel::Logistic(m) = trained else {
        return;
    };
    let names = encoder.feature_names();
    for &(feature, direction) in monotone {
        let w = m.model.weights[feature];
        let against = match direction {
            qualify_core::schema::Monotone::Increasing => w < 0.0,
            qualify_core::schema::Monotone::Decreasing => w > 0.0,
        };
        if against {
            eprintln!(
                "warning: {:?} is declared {direction:?} but the logistic weight is {w:.4}; \
                 only --model gbm enforces monotone constraints",
                names[feature]
            );
        }
    }
}

fn infer(args: &TrainArgs, table: &RawTable, label: &str) -> Result<Schema> {
    let options = InferOptions {
        label: label.to_string(),
        id: args.id.clone(),
        time: args.time_column.clone(),
    };
    let inferred =
        infer_schema(table, &options).map_err(|e| anyhow!("{}: {e}", args.data.display()))?;
    for (column, notes) in &inferred.notes {
        for warning in &notes.warnings {
            eprintln!("warning: column {column:?}: {warning}");
        }
    }
    eprintln!("note: no --schema given; using an inferred one (saved in the bundle's manifest)");
    Ok(inferred.schema)
}

/// Checks, before any fitting, what would otherwise fail after it: a test part that cannot
/// be evaluated, or more folds than the rarer training class has rows.
fn check_parts(y_train: &[bool], y_test: &[bool], args: &TrainArgs) -> Result<()> {
    let count = |y: &[bool]| {
        let p = y.iter().filter(|&&v| v).count();
        (p, y.len() - p)
    };
    let (test_pos, test_neg) = count(y_test);
    if test_pos == 0 || test_neg == 0 {
        bail!(
            "the test part ({} rows, --test-fraction {}) has {test_pos} positive and {test_neg} negative rows; \
             it needs both to be evaluated: raise --test-fraction",
            y_test.len(),
            args.test_fraction
        );
    }
    let (train_pos, train_neg) = count(y_train);
    if args.folds < 2 || args.folds > train_pos.min(train_neg) {
        bail!(
            "--folds {} must be between 2 and the rarer class's count in the training part ({})",
            args.folds,
            train_pos.min(train_neg)
        );
    }
    Ok(())
}

/// Times of the split column, as sortable milliseconds; every row must have one.
fn read_times(table: &RawTable, column: &str) -> Result<Vec<i64>, String> {
    let data = table
        .column(column)
        .ok_or_else(|| format!("time column {column:?} is not in the data"))?;
    (0..table.rows())
        .map(|r| {
            match data.cell(r) {
                Cell::Text(t) => time_from_text(t).map(|t| t.timestamp_millis()),
                Cell::Number(v) if v.is_finite() => Some(v as i64),
                _ => None,
            }
            .ok_or_else(|| {
                format!(
                    "time column {column:?}, row {}: not a time (RFC 3339 or YYYY-MM-DD)",
                    r + 1
                )
            })
        })
        .collect()
}

/// Marker text for a level no training data holds.
const UNSEEN_LEVEL: &str = "__unseen_by_qualify__";

/// Two golden rows that real data rarely holds: every feature missing, and every category
/// an unseen level. Returned as a table (encoded by the batch path for the expected scores)
/// and as the JSON records the runtime replays.
fn edge_cases(
    encoder: &Encoder,
) -> Result<(RawTable, Vec<serde_json::Map<String, serde_json::Value>>)> {
    use qualify_core::encoder::ColumnState;
    use qualify_core::value::RawColumn;
    let mut table = RawTable::new();
    let mut unseen = serde_json::Map::new();
    for column in &encoder.columns {
        let is_level = matches!(
            column.state,
            ColumnState::Categorical { .. } | ColumnState::Set { .. }
        );
        let cells = if is_level {
            vec![None, Some(UNSEEN_LEVEL.to_string())]
        } else {
            vec![None, None]
        };
        if is_level {
            unseen.insert(
                column.name.clone(),
                serde_json::Value::String(UNSEEN_LEVEL.into()),
            );
        }
        table.push(column.name.clone(), RawColumn::Text(cells))?;
    }
    Ok((table, vec![serde_json::Map::new(), unseen]))
}

/// Golden rows: spread evenly over the test part.
fn golden_rows(split: &Split) -> Vec<usize> {
    let n = split.test.len().min(GOLDEN_ROWS);
    (0..n)
        .map(|i| split.test[i * split.test.len() / n])
        .collect()
}

/// One row as the JSON record a service would send: the schema's id and feature columns.
fn feature_record(
    table: &RawTable,
    schema: &Schema,
    row: usize,
) -> serde_json::Map<String, serde_json::Value> {
    let wanted = |name: &str| {
        schema.column(name).is_some_and(|c| c.role.is_feature()) || Some(name) == schema.id()
    };
    table
        .row_json(row)
        .into_iter()
        .filter(|(name, _)| wanted(name))
        .collect()
}

fn model_name(args: &TrainArgs) -> String {
    args.name.clone().unwrap_or_else(|| {
        Path::new(&args.out)
            .file_name()
            .map_or_else(|| "model".to_string(), |n| n.to_string_lossy().into_owned())
    })
}
