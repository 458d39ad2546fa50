//! `qualify import`: wrap a binary ONNX classifier trained elsewhere (scikit-learn through
//! skl2onnx, LightGBM through onnxmltools) into a model bundle (docs/import.md).
//!
//! The imported model reads the schema's feature columns raw, in schema order
//! (`Encoder::raw`: numbers as they are, booleans as 0/1, missing values filled with the
//! median of `--data`), so its input width must be the number of feature columns, all numeric
//! or boolean. `qualify_onnx::import::convert` rewrites its graph into qualify's own graph
//! contract (what is converted and what is refused is documented there), with node covers
//! counted on the `--data` rows. Golden rows (the first 25 rows of `--data` and an
//! all-missing record) are scored by tract on the batch-encoded rows; loading the bundle
//! replays them through the JSON encoder and the native evaluator. The calibrator is the
//! identity: the propensity is the imported model's own probability.

use std::path::PathBuf;

use anyhow::{Context, Result, anyhow, bail};
use qualify_core::bundle::{
    self, Bundle, DataFingerprint, Golden, GoldenRow, Manifest, ModelInfo, sha256_hex,
};
use qualify_core::calibrate::Calibrator;
use qualify_core::encoder::Encoder;
use qualify_core::schema::Schema;
use qualify_onnx::import::{Classifier, convert};
use qualify_onnx::{INPUT_NAME, LOGIT_NAME};
use qualify_runtime::NativeKind;
use qualify_runtime::onnx::OnnxModel;

use super::common::{InputArgs, read_table};

/// Number of `--data` rows kept as golden rows.
const GOLDEN_ROWS: usize = 25;

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The ONNX classifier (binary; one float input `[N, F]`).
    #[arg(long)]
    pub onnx: PathBuf,
    /// Feature schema: the model's F inputs are its feature columns, in order (numeric or
    /// boolean).
    #[arg(long)]
    pub schema: PathBuf,
    /// Leads with the schema's feature columns: golden rows, fill values for missing cells,
    /// and the node covers of a tree ensemble.
    #[arg(long)]
    pub data: PathBuf,
    /// Model directory; the bundle is written as a new version inside it.
    #[arg(long)]
    pub out: PathBuf,
    #[command(flatten)]
    pub input: InputArgs,
}

pub fn run(args: ImportArgs) -> Result<()> {
    let schema = Schema::read(&args.schema)?;
    let table = read_table(&args.data, &args.input, Some(&schema))?;
    if table.rows() == 0 {
        bail!("{}: no rows", args.data.display());
    }
    let rows: Vec<usize> = (0..table.rows()).collect();
    let encoder = Encoder::raw(&schema, &table, &rows)
        .map_err(|e| anyhow!("{}: {e}", args.schema.display()))?;
    let x = encoder
        .encode_table(&table, &rows, encoder.reference_time())
        .map_err(|e| anyhow!("{}: {e}", args.data.display()))?;
    let bytes = std::fs::read(&args.onnx).with_context(|| args.onnx.display().to_string())?;
    let columns: Vec<&str> = encoder.columns.iter().map(|c| c.name.as_str()).collect();
    let converted = convert(&bytes, &columns, &x, env!("CARGO_PKG_VERSION"))
        .map_err(|e| anyhow!("{}: {e}", args.onnx.display()))?;
    let graph = OnnxModel::from_bytes(&converted.onnx)
        .map_err(|e| anyhow!("{}: the converted graph: {e}", args.onnx.display()))?;

    // Golden rows: the first rows of --data and an all-missing record, scored by tract on
    // the batch-encoded rows.
    let width = encoder.n_features();
    let kept = rows.len().min(GOLDEN_ROWS);
    let mut records: Vec<_> = (0..kept)
        .map(|r| {
            let mut record = table.row_json(r);
            record.retain(|k, _| encoder.columns.iter().any(|c| &c.name == k));
            record
        })
        .collect();
    let mut golden_x = x[..kept * width].to_vec();
    let mut missing = vec![0.0; width];
    encoder.encode_json(
        &serde_json::Map::new(),
        encoder.reference_time(),
        &mut missing,
    )?;
    records.push(serde_json::Map::new());
    golden_x.extend(missing);
    let calibrator = Calibrator::Identity;
    let logits = graph.tract_logits(&golden_x, records.len())?;
    let golden = Golden {
        as_of: encoder.reference_time(),
        rows: records
            .into_iter()
            .zip(logits)
            .map(|(record, logit)| GoldenRow {
                record,
                propensity: calibrator.apply(f64::from(logit)),
            })
            .collect(),
    };

    let data_bytes = std::fs::read(&args.data).with_context(|| args.data.display().to_string())?;
    let label_rate = schema
        .label()
        .filter(|l| table.column(l).is_some())
        .and_then(|l| qualify_data::label::read_labels(&table, l).ok())
        .map_or(0.0, |y| {
            y.iter().filter(|&&v| v).count() as f64 / y.len() as f64
        });
    let file_name = |p: &std::path::Path| {
        p.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let created_at = chrono::Utc::now();
    let manifest = Manifest {
        format_version: bundle::BUNDLE_FORMAT_VERSION,
        name: file_name(&args.out),
        version: bundle::version_for(created_at),
        created_at,
        model: ModelInfo {
            kind: match converted.classifier {
                Classifier::Linear => bundle::ModelKind::ImportedLinear,
                Classifier::TreeEnsemble => bundle::ModelKind::ImportedTrees,
            },
            hyperparameters: serde_json::json!({
                "imported_from": file_name(&args.onnx),
                "imported_sha256": sha256_hex(&bytes),
                "producer": converted.producer,
                "classifier": converted.classifier.op_type(),
                "node_covers": converted.covers_rows.map(|rows| {
                    format!("counts of the {rows} --data rows reaching each node")
                }),
            }),
            onnx_input: INPUT_NAME.into(),
            onnx_output: LOGIT_NAME.into(),
            n_features: width,
            onnx_sha256: sha256_hex(&converted.onnx),
        },
        schema_hash: schema.hash(),
        schema,
        encoder,
        calibrator,
        training_data: DataFingerprint {
            file: file_name(&args.data),
            sha256: sha256_hex(&data_bytes),
            rows: table.rows(),
            label_rate,
            train_rows: 0,
            test_rows: 0,
            split: "none: imported model (--data gave golden rows, fill values and covers)".into(),
        },
        metrics: None,
        libraries: qualify_train::export::libraries(),
    };
    let dir = Bundle::write(&args.out, &manifest, &converted.onnx, &golden)?;
    let model = qualify_runtime::Model::load(&dir)?;
    eprintln!(
        "imported {} ({}, scored by {}, {}) -> {}",
        args.onnx.display(),
        converted.classifier,
        match model.graph().native_kind() {
            NativeKind::Trees => "the native evaluator",
            NativeKind::Linear | NativeKind::Graph => "tract",
        },
        if model.can_explain() {
            "explainable"
        } else {
            "not explainable"
        },
        dir.display()
    );
    if let Some(why) = model.graph().not_native_reason() {
        eprintln!("note: tract scores this tree ensemble alone: {why}");
    }
    Ok(())
}
