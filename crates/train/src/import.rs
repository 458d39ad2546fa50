//! `qualify import` as a library call: a binary ONNX classifier trained elsewhere
//! (scikit-learn through skl2onnx, LightGBM through onnxmltools) becomes a verified bundle.
//!
//! The imported model reads the schema's feature columns raw, in schema order
//! ([`Encoder::raw`]: numbers as they are, booleans as 0/1, missing values filled with the
//! median of the data), so its input width must be the number of feature columns, all numeric
//! or boolean. [`qualify_onnx::import::convert`] rewrites its graph into qualify's graph
//! contract (what is converted and what is refused is documented there), with node covers
//! counted on the data's rows. The bundle is written by [`BundleWriter`], like a trained one:
//! golden rows spread over the data plus the edge records, their expected scores computed by
//! tract on the converted graph from the batch-encoded rows, checked through the runtime (JSON
//! encoder path, native evaluator) before the version is published. The calibrator is the
//! identity: the propensity is the imported model's own probability.

use std::path::{Path, PathBuf};

use chrono::Utc;
use qualify_core::bundle::{DataFingerprint, Manifest, ModelKind};
use qualify_core::calibrate::Calibrator;
use qualify_core::encoder::{EncodeError, Encoder};
use qualify_core::schema::Schema;
use qualify_core::value::RawTable;
use qualify_onnx::import::{Classifier, convert};
use qualify_runtime::onnx::OnnxModel;
use serde::Serialize;

use crate::bundle_writer::{BundleWriter, GOLDEN_ROWS, GoldenSource, WriteError};
use crate::pipeline::DataSource;
use crate::progress::Progress;

/// The foreign model and the data that goes with it.
#[derive(Debug, Clone, Copy)]
pub struct ImportInput<'a> {
    /// The ONNX model's bytes.
    pub onnx: &'a [u8],
    /// Its file name (recorded in the manifest).
    pub onnx_name: &'a str,
    /// The schema: the model's inputs are its feature columns, in order.
    pub schema: &'a Schema,
    /// Rows with the schema's feature columns: fill values, golden rows, node covers.
    pub table: &'a RawTable,
    pub source: &'a DataSource,
    /// Model name (default: the model directory's name).
    pub name: Option<&'a str>,
}

/// A published imported bundle.
#[derive(Debug, Clone)]
pub struct ImportedBundle {
    /// `models_dir/<version>`.
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub classifier: Classifier,
}

/// Why a model could not be imported. Nothing is published in any case.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("the data has no rows")]
    NoRows,
    /// The schema's feature columns cannot be read raw (a column that is not numeric or
    /// boolean, ...).
    #[error(transparent)]
    Schema(EncodeError),
    /// The data does not fit the schema's feature columns.
    #[error(transparent)]
    Data(EncodeError),
    /// The graph is not one qualify imports (the error names what is not supported).
    #[error(transparent)]
    Convert(#[from] qualify_onnx::ImportError),
    /// The converted graph does not load or run in tract.
    #[error("the converted graph: {source}")]
    Graph {
        #[source]
        source: qualify_runtime::onnx::GraphError,
    },
    #[error("hyperparameters: {source}")]
    Hyperparameters {
        #[source]
        source: serde_json::Error,
    },
    #[error(transparent)]
    Write(#[from] WriteError),
}

/// `hyperparameters` of an imported model.
#[derive(Debug, Serialize)]
struct ImportedHyperparameters<'a> {
    imported_from: &'a str,
    imported_sha256: String,
    producer: &'a str,
    classifier: &'static str,
    node_covers: Option<String>,
}

/// Converts, writes, verifies and publishes the imported model under `models_dir`.
pub fn import(
    input: &ImportInput<'_>,
    models_dir: &Path,
    progress: &dyn Progress,
) -> Result<ImportedBundle, ImportError> {
    let table = input.table;
    if table.rows() == 0 {
        return Err(ImportError::NoRows);
    }
    let rows: Vec<usize> = (0..table.rows()).collect();
    let encoder = Encoder::raw(input.schema, table, &rows).map_err(ImportError::Schema)?;
    let x = encoder
        .encode_table(table, &rows, encoder.reference_time())
        .map_err(ImportError::Data)?;
    let columns: Vec<&str> = encoder.columns.iter().map(|c| c.name.as_str()).collect();
    let converted = convert(input.onnx, &columns, &x, env!("CARGO_PKG_VERSION"))?;
    let graph =
        OnnxModel::from_bytes(&converted.onnx).map_err(|source| ImportError::Graph { source })?;
    let tract = |x: &[f32], rows: usize| -> Result<Vec<f64>, crate::bundle_writer::BoxError> {
        Ok(graph
            .tract_logits(x, rows)?
            .into_iter()
            .map(f64::from)
            .collect())
    };

    let label_rate = input
        .schema
        .label()
        .filter(|l| table.column(l).is_some())
        .and_then(|l| qualify_data::label::read_labels(table, l).ok())
        .map_or(0.0, |y| {
            y.iter().filter(|&&v| v).count() as f64 / y.len() as f64
        });
    let hyperparameters = serde_json::to_value(ImportedHyperparameters {
        imported_from: input.onnx_name,
        imported_sha256: qualify_core::bundle::sha256_hex(input.onnx),
        producer: &converted.producer,
        classifier: converted.classifier.op_type(),
        node_covers: converted
            .covers_rows
            .map(|rows| format!("counts of the {rows} --data rows reaching each node")),
    })
    .map_err(|source| ImportError::Hyperparameters { source })?;
    let writer = BundleWriter {
        name: input
            .name
            .map_or_else(|| crate::pipeline::default_name(models_dir), str::to_string),
        created_at: Utc::now(),
        schema: input.schema,
        encoder: &encoder,
        calibrator: Calibrator::Identity,
        kind: match converted.classifier {
            Classifier::Linear => ModelKind::ImportedLinear,
            Classifier::TreeEnsemble => ModelKind::ImportedTrees,
        },
        hyperparameters,
        onnx: &converted.onnx,
        training_data: DataFingerprint {
            file: input.source.name.clone(),
            sha256: input.source.sha256.clone(),
            rows: table.rows(),
            label_rate,
            train_rows: 0,
            test_rows: 0,
            split: "none: imported model (--data gave golden rows, fill values and covers)".into(),
        },
        metrics: None,
        history: None,
        reference: None,
        golden: GoldenSource {
            table,
            rows: &rows,
            max_rows: GOLDEN_ROWS,
            raw_scores: &tract,
        },
    };
    let published = writer.write(models_dir, progress)?;
    Ok(ImportedBundle {
        dir: published.dir,
        manifest: published.manifest,
        classifier: converted.classifier,
    })
}
