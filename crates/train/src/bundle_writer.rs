//! One writer for every producer of bundles (training, import): the manifest, the golden-row
//! policy, and verify-before-publish.
//!
//! **Golden rows.** Up to [`GOLDEN_ROWS`] rows spread evenly over the rows a producer names
//! (the test part of a trained model; the data of an imported one), as the JSON records a
//! service would send (the schema's id and feature columns), plus two edge records real data
//! rarely holds: every feature missing, and every category an unseen level (when the encoder
//! has level columns). Their expected scores come from the producer's own scorer on the
//! batch-encoded rows ([`GoldenSource::raw_scores`]), then the calibrator.
//!
//! **Verify, then publish.** The bundle is staged in a hidden directory
//! ([`StagedBundle`]), loaded from there by [`qualify_runtime::Model::load`] (which replays
//! the golden rows through the JSON encoder and the graph), and only then renamed into place
//! under a free version name. Any failure, or a drop, removes the staged directory: a reader
//! of the model directory never sees a version that has not passed the check.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use qualify_core::bundle::{
    self, BundleError, DataFingerprint, Golden, GoldenRow, Manifest, ModelInfo, ModelKind,
    Reference, StagedBundle, TrainingMetrics,
};
use qualify_core::calibrate::Calibrator;
use qualify_core::encoder::{ColumnState, Encoder};
use qualify_core::history::HistoryModel;
use qualify_core::schema::Schema;
use qualify_core::value::{RawColumn, RawTable, TableError};

use crate::export::libraries;
use crate::progress::{Progress, Stage};

/// Most golden rows taken from the producer's rows (the edge records come on top).
pub const GOLDEN_ROWS: usize = 25;
/// Marker text for a level no training data holds.
pub const UNSEEN_LEVEL: &str = "__unseen_by_qualify__";

/// An error a producer's scorer returns.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A producer's scorer for the golden rows: raw log-odds of batch-encoded rows (row-major,
/// `rows` × the encoder's width), computed without the runtime.
pub type RawScorer<'a> = dyn Fn(&[f32], usize) -> Result<Vec<f64>, BoxError> + Sync + 'a;

/// A JSON record, as services send them.
pub type Record = serde_json::Map<String, serde_json::Value>;

/// Where the golden rows come from and how their expected scores are computed.
#[derive(Clone, Copy)]
pub struct GoldenSource<'a> {
    pub table: &'a RawTable,
    /// Rows of `table` to take golden rows from (spread evenly).
    pub rows: &'a [usize],
    /// At most this many of them ([`GOLDEN_ROWS`] by default).
    pub max_rows: usize,
    /// How the expected scores are computed.
    pub raw_scores: &'a RawScorer<'a>,
}

impl std::fmt::Debug for GoldenSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoldenSource")
            .field("rows", &self.rows.len())
            .field("max_rows", &self.max_rows)
            .finish_non_exhaustive()
    }
}

/// Everything a bundle records; [`BundleWriter::write`] adds the version, hashes, library
/// versions and golden rows.
#[derive(Debug)]
pub struct BundleWriter<'a> {
    pub name: String,
    /// Creation time; the version is the first free name at or after it.
    pub created_at: DateTime<Utc>,
    pub schema: &'a Schema,
    pub encoder: &'a Encoder,
    pub calibrator: Calibrator,
    pub kind: ModelKind,
    pub hyperparameters: serde_json::Value,
    /// The graph, in qualify's contract (input `features`, output `logit`).
    pub onnx: &'a [u8],
    pub training_data: DataFingerprint,
    pub metrics: Option<TrainingMetrics>,
    /// A history model's spec and summary (docs/history.md); `None` for a flat model.
    pub history: Option<HistoryModel>,
    /// The training part's reference histograms (drift monitoring); `None` for an import.
    pub reference: Option<Reference>,
    pub golden: GoldenSource<'a>,
}

/// A bundle that passed its check and is visible to readers.
#[derive(Debug, Clone)]
pub struct PublishedBundle {
    /// `models_dir/<version>`.
    pub dir: PathBuf,
    pub manifest: Manifest,
}

/// Why a bundle was not published. Nothing is left visible in any case.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("golden rows: {source}")]
    Encode {
        #[source]
        source: qualify_core::encoder::EncodeError,
    },
    #[error("golden rows: the edge records' table: {source}")]
    EdgeTable {
        #[source]
        source: TableError,
    },
    #[error("golden rows: computing the expected scores: {source}")]
    Reference {
        #[source]
        source: BoxError,
    },
    #[error("golden rows: the scorer returned {got} scores for {expected} rows")]
    ReferenceCount { expected: usize, got: usize },
    #[error(transparent)]
    Bundle(#[from] BundleError),
    /// The staged bundle did not load, or its golden rows did not reproduce; it was removed.
    #[error("the new bundle failed its check before publishing and was discarded: {source}")]
    Verification {
        #[source]
        source: qualify_runtime::RuntimeError,
    },
}

impl BundleWriter<'_> {
    /// Stages the bundle under `models_dir`, verifies it through the runtime, publishes it.
    pub fn write(
        self,
        models_dir: &Path,
        progress: &dyn Progress,
    ) -> Result<PublishedBundle, WriteError> {
        let golden = self.golden_rows()?;
        let staged = StagedBundle::reserve(models_dir, self.created_at)?;
        let manifest = self.manifest(staged.version().to_string());
        staged.write_onnx(self.onnx)?;
        progress.stage(Stage::Staging);
        staged.write_golden(&golden)?;
        staged.write_manifest(&manifest)?;
        progress.stage(Stage::Verifying);
        qualify_runtime::Model::load(staged.dir())
            .map_err(|source| WriteError::Verification { source })?;
        progress.stage(Stage::Publishing);
        let dir = staged.publish()?;
        Ok(PublishedBundle { dir, manifest })
    }

    fn manifest(&self, version: String) -> Manifest {
        Manifest {
            format_version: bundle::BUNDLE_FORMAT_VERSION,
            name: self.name.clone(),
            version,
            created_at: self.created_at,
            model: ModelInfo {
                kind: self.kind,
                hyperparameters: self.hyperparameters.clone(),
                onnx_input: qualify_onnx::INPUT_NAME.into(),
                onnx_output: qualify_onnx::LOGIT_NAME.into(),
                n_features: self.encoder.n_features(),
                onnx_sha256: bundle::sha256_hex(self.onnx),
            },
            schema: self.schema.clone(),
            schema_hash: self.schema.hash(),
            encoder: self.encoder.clone(),
            calibrator: self.calibrator.clone(),
            training_data: self.training_data.clone(),
            metrics: self.metrics.clone(),
            history: self.history.clone(),
            reference: self.reference.clone(),
            libraries: libraries(),
        }
    }

    /// The golden rows of the module docs, with their expected calibrated scores.
    fn golden_rows(&self) -> Result<Golden, WriteError> {
        let source = &self.golden;
        let encode = |source| WriteError::Encode { source };
        let as_of = self.encoder.reference_time();
        let rows = spread(source.rows, source.max_rows);
        let mut x = self
            .encoder
            .encode_table(source.table, &rows, as_of)
            .map_err(encode)?;
        let mut records: Vec<Record> = rows
            .iter()
            .map(|&r| feature_record(source.table, self.schema, r))
            .collect();
        let (edge_table, edge_records) =
            edge_cases(self.encoder).map_err(|source| WriteError::EdgeTable { source })?;
        let edge_rows: Vec<usize> = (0..edge_records.len()).collect();
        x.extend(
            self.encoder
                .encode_table(&edge_table, &edge_rows, as_of)
                .map_err(encode)?,
        );
        records.extend(edge_records);
        let logits = (source.raw_scores)(&x, records.len())
            .map_err(|source| WriteError::Reference { source })?;
        if logits.len() != records.len() {
            return Err(WriteError::ReferenceCount {
                expected: records.len(),
                got: logits.len(),
            });
        }
        Ok(Golden {
            as_of,
            rows: records
                .into_iter()
                .zip(logits)
                .map(|(record, logit)| GoldenRow {
                    record,
                    propensity: self.calibrator.apply(logit),
                })
                .collect(),
        })
    }
}

/// At most `max` of `rows`, spread evenly (first row included).
pub fn spread(rows: &[usize], max: usize) -> Vec<usize> {
    let n = rows.len().min(max);
    (0..n).map(|i| rows[i * rows.len() / n]).collect()
}

/// The edge records: every feature missing, and (when the encoder has categorical or set
/// columns) every such column an unseen level. Returned as a table (encoded by the batch path
/// for the expected scores) and as the JSON records the runtime replays.
fn edge_cases(encoder: &Encoder) -> Result<(RawTable, Vec<Record>), TableError> {
    let is_level = |state: &ColumnState| {
        matches!(
            state,
            ColumnState::Categorical { .. } | ColumnState::Set { .. }
        )
    };
    let has_levels = encoder.columns.iter().any(|c| is_level(&c.state));
    let mut table = RawTable::new();
    let mut unseen = Record::new();
    for column in &encoder.columns {
        let level = is_level(&column.state);
        let mut cells = vec![None];
        if has_levels {
            cells.push(level.then(|| UNSEEN_LEVEL.to_string()));
        }
        if level {
            unseen.insert(
                column.name.clone(),
                serde_json::Value::String(UNSEEN_LEVEL.into()),
            );
        }
        table.push(column.name.clone(), RawColumn::Text(cells))?;
    }
    let mut records = vec![Record::new()];
    if has_levels {
        records.push(unseen);
    }
    Ok((table, records))
}

/// One row as the JSON record a service would send: the schema's id and feature columns.
fn feature_record(table: &RawTable, schema: &Schema, row: usize) -> Record {
    let wanted = |name: &str| {
        schema.column(name).is_some_and(|c| c.role.is_feature()) || Some(name) == schema.id()
    };
    table
        .row_json(row)
        .into_iter()
        .filter(|(name, _)| wanted(name))
        .collect()
}
