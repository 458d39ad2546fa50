//! A loaded, verified model: encode → ONNX → calibrate.
//!
//! [`Model::load`] reads a bundle, loads its graph with tract, and replays the golden rows
//! through the single-row (JSON) encoder path and tract; it refuses the bundle unless every
//! golden score is reproduced to [`GOLDEN_TOLERANCE`]. The expected scores were computed at
//! training time through the batch encoder and a native dot product, so a bundle only loads
//! when both paths agree.
//!
//! [`Model::explain_json`] / [`Model::explain_flat`] score a record and attribute its raw
//! score to the input columns ([`crate::explain`]); [`Model::can_explain`] says whether the
//! bundle's graph is one the runtime can explain (a logistic model, or a tree ensemble that
//! carries its node covers).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use qualify_core::bundle::{Bundle, GOLDEN_TOLERANCE, Manifest};
use qualify_core::encoder::{CellNote, InputValue, Lookup, Warning};
use qualify_core::history::{FeatureIndex, HistoryRecord, LEAD_AGE};
use qualify_core::lead::LeadRecord;
use qualify_core::value::{CellTable, RawValue};
use serde::Serialize;

use crate::error::{RuntimeError, Unexplainable};
use crate::explain::{Explainer, Explanation, explanation};
use crate::native::NativeKind;
use crate::onnx::OnnxModel;

/// Rows [`Model::score_table`] encodes and scores at a time.
pub const SCORE_CHUNK_ROWS: usize = 1_024;

/// A bundle ready to score.
#[derive(Debug)]
pub struct Model {
    manifest: Manifest,
    graph: OnnxModel,
    explainer: Option<Explainer>,
    dir: std::path::PathBuf,
    /// A history model's computed feature columns, by name (see [`Model::encode_view`]).
    history_index: FeatureIndex,
    /// For each column of the encoder, where it sits among a history model's computed
    /// features ([`HistoryRecord::feature`]); `None` for a field of the record. Found once
    /// here, so a request finds a feature by the column's index, not by hashing its name.
    column_features: Vec<Option<usize>>,
}

/// One scored record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scored {
    /// Calibrated probability of conversion.
    pub propensity: f64,
    /// Raw model score, log-odds, before calibration.
    pub logit: f64,
    pub warnings: Vec<Warning>,
}

impl Model {
    /// Loads and verifies the bundle in `dir` (a bundle directory, or a model directory whose
    /// latest version is taken).
    ///
    /// # Errors
    /// [`RuntimeError::Bundle`], [`RuntimeError::Graph`], [`RuntimeError::Width`],
    /// [`RuntimeError::GoldenRecord`] or [`RuntimeError::GoldenMismatch`]: each names the
    /// bundle directory and the check that failed.
    pub fn load(dir: &Path) -> Result<Model, RuntimeError> {
        let bundle = Bundle::read(dir).map_err(|error| RuntimeError::Bundle {
            dir: dir.to_path_buf(),
            error: Box::new(error),
        })?;
        let graph = match OnnxModel::from_bytes(&bundle.onnx) {
            Ok(graph) => graph,
            Err(error) => {
                return Err(RuntimeError::Graph {
                    dir: bundle.dir,
                    error,
                });
            }
        };
        if graph.n_features() != bundle.manifest.model.n_features {
            return Err(RuntimeError::Width {
                dir: bundle.dir,
                graph: graph.n_features(),
                manifest: bundle.manifest.model.n_features,
            });
        }
        let explainer = graph.native().and_then(Explainer::for_native);
        let history_index = bundle
            .manifest
            .history
            .as_ref()
            .map(|h| h.spec.feature_index())
            .unwrap_or_default();
        let column_features = bundle
            .manifest
            .encoder
            .columns
            .iter()
            .map(|c| history_index.position(&c.name))
            .collect();
        let model = Model {
            manifest: bundle.manifest,
            graph,
            explainer,
            dir: bundle.dir,
            history_index,
            column_features,
        };
        model.check_golden(&bundle.golden)?;
        Ok(model)
    }

    /// Replays the golden rows through the JSON encoder and the graph; a failure is the
    /// bundle's, never an input error.
    fn check_golden(&self, golden: &qualify_core::bundle::Golden) -> Result<(), RuntimeError> {
        let dir = || self.dir.clone();
        for (row, g) in golden.rows.iter().enumerate() {
            let mut x = vec![0.0f32; self.n_features()];
            self.manifest
                .encoder
                .encode_json(&g.record, golden.as_of, &mut x)
                .map_err(|error| RuntimeError::GoldenRecord {
                    dir: dir(),
                    row,
                    error,
                })?;
            let logit = self
                .graph
                .logit(&x)
                .map_err(|error| RuntimeError::Graph { dir: dir(), error })?;
            let got = self.manifest.calibrator.apply(logit);
            let diff = (got - g.propensity).abs();
            if diff.is_nan() || diff > GOLDEN_TOLERANCE {
                return Err(RuntimeError::GoldenMismatch {
                    dir: dir(),
                    row,
                    expected: g.propensity,
                    got,
                });
            }
        }
        Ok(())
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The bundle directory it was loaded from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Width of the encoded feature matrix.
    pub fn n_features(&self) -> usize {
        self.manifest.model.n_features
    }

    /// The loaded graph (which evaluator scores it, its parameters when recognised).
    pub fn graph(&self) -> &OnnxModel {
        &self.graph
    }

    /// Raw log-odds for an encoded row-major matrix.
    pub fn logits(&self, x: &[f32], rows: usize) -> Result<Vec<f64>, RuntimeError> {
        self.graph
            .logits(x, rows)
            .map_err(|error| RuntimeError::Score { error })
    }

    fn scored(&self, x: &[f32], warnings: Vec<Warning>) -> Result<Scored, RuntimeError> {
        let logit = self
            .graph
            .logit(x)
            .map_err(|error| RuntimeError::Score { error })?;
        Ok(Scored {
            propensity: self.manifest.calibrator.apply(logit),
            logit,
            warnings,
        })
    }

    /// Calibrated propensities for an encoded row-major matrix.
    pub fn score_matrix(&self, x: &[f32], rows: usize) -> Result<Vec<f64>, RuntimeError> {
        let calibrator = &self.manifest.calibrator;
        Ok(self
            .logits(x, rows)?
            .into_iter()
            .map(|z| calibrator.apply(z))
            .collect())
    }

    /// Calibrated propensities for every row of a table (batch scoring), in row order.
    /// `as_of` is the scoring time for timestamp features (default: the training data's
    /// reference time, so re-scoring training data reproduces it). The table is a
    /// [`qualify_core::value::RawTable`] or any other [`CellTable`] (`qualify score` reads
    /// a file's pieces in polars' arrays).
    ///
    /// Rows are encoded and scored [`SCORE_CHUNK_ROWS`] at a time: a million rows encoded at
    /// once is a matrix of hundreds of megabytes, and the kernel's zeroing of those fresh
    /// pages cost as much CPU as the scoring itself; a chunk of a thousand rows stays in the
    /// allocator's reused memory and the caches.
    pub fn score_table<T: CellTable + ?Sized>(
        &self,
        table: &T,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Vec<f64>, RuntimeError> {
        let encoder = &self.manifest.encoder;
        let as_of = as_of.unwrap_or_else(|| encoder.reference_time());
        let rows: Vec<usize> = (0..table.height()).collect();
        let mut scores = Vec::with_capacity(rows.len());
        let mut encoding = encoder
            .table_encoder(table, as_of)
            .map_err(RuntimeError::input)?;
        for chunk in rows.chunks(SCORE_CHUNK_ROWS) {
            let x = encoding.encode(chunk).map_err(RuntimeError::input)?;
            scores.extend(self.score_matrix(&x, chunk.len())?);
        }
        Ok(scores)
    }

    /// Scores one record in flat form (e.g. `LeadRecord::to_flat`). `as_of` is the scoring
    /// time for timestamp features.
    pub fn score_flat(
        &self,
        record: &BTreeMap<String, RawValue>,
        as_of: DateTime<Utc>,
    ) -> Result<Scored, RuntimeError> {
        let mut x = vec![0.0f32; self.n_features()];
        let warnings = self
            .manifest
            .encoder
            .encode_flat(record, as_of, &mut x)
            .map_err(RuntimeError::input)?;
        self.scored(&x, warnings)
    }

    /// Scores one record given as JSON (field -> value). `as_of` is the scoring time for
    /// timestamp features.
    pub fn score_json(
        &self,
        record: &serde_json::Map<String, serde_json::Value>,
        as_of: DateTime<Utc>,
    ) -> Result<Scored, RuntimeError> {
        let mut x = vec![0.0f32; self.n_features()];
        let warnings = self
            .manifest
            .encoder
            .encode_json(record, as_of, &mut x)
            .map_err(RuntimeError::input)?;
        self.scored(&x, warnings)
    }

    /// `lead` as the model reads it as of `as_of`: [`LeadRecord::to_flat`] for a model
    /// trained on a flat file; for a model trained on a history, beside it the point-in-time
    /// features of its activities strictly before `as_of`
    /// ([`qualify_core::history::HistorySpec::history_record`], the trainer's feature
    /// function), with a warning per activity type the model does not know.
    fn lead_view<'l>(
        &self,
        lead: &'l LeadRecord,
        as_of: DateTime<Utc>,
    ) -> Result<LeadView<'l>, RuntimeError> {
        match &self.manifest.history {
            Some(history) => history
                .spec
                .history_record(lead, as_of)
                .map(LeadView::History)
                .map_err(RuntimeError::input),
            None => Ok(LeadView::Flat(lead)),
        }
    }

    /// The value of `column` in `view` (a computed feature of a history model, or a field).
    fn value(&self, view: &LeadView<'_>, column: &str) -> RawValue {
        match view {
            LeadView::Flat(lead) => lead.flat_value(column),
            LeadView::History(record) => record.get(&self.history_index, column),
        }
    }

    /// [`Model::value`] of what the encoder asks for: a history model's computed feature
    /// found by the column's index ([`Model::column_features`]), not by its name.
    fn looked_up(&self, view: &LeadView<'_>, lookup: Lookup<'_>) -> RawValue {
        match (view, lookup) {
            (LeadView::History(record), Lookup::Column { index, name }) => {
                match self.computed_feature(index) {
                    Some(position) => record.feature(position),
                    None => record.lead.flat_value(name),
                }
            }
            (view, lookup) => self.value(view, lookup.name()),
        }
    }

    /// Where the encoder's column `index` sits among a history model's computed features;
    /// `None` for a field of the record.
    fn computed_feature(&self, index: usize) -> Option<usize> {
        self.column_features.get(index).copied().flatten()
    }

    /// Encodes `view` into a new row, with the encoder's warnings about the fields the
    /// client sent. For a model trained on a history, the point-in-time features are
    /// computed here, not sent: one that is missing (no event of a type before the moment,
    /// so no "days since") is the normal state the model learned, not a gap in the record,
    /// so it is not reported (nor built); a missing lead age is reported as the missing
    /// creation time it comes from.
    fn encode_view(
        &self,
        view: &LeadView<'_>,
        as_of: DateTime<Utc>,
    ) -> Result<(Vec<f32>, Vec<Warning>), RuntimeError> {
        let mut x = vec![0.0f32; self.n_features()];
        let mut warnings = Vec::new();
        let history = self.manifest.history.as_ref();
        self.manifest
            .encoder
            .encode_with_notes(
                |lookup| Cow::Owned(self.looked_up(view, lookup)),
                as_of,
                &mut x,
                |index, column, note| match (history, note) {
                    (Some(history), CellNote::Imputed) if column == LEAD_AGE => {
                        warnings.push(CellNote::Imputed.warning(&history.spec.created_column));
                    }
                    (Some(_), CellNote::Imputed) if self.computed_feature(index).is_some() => {}
                    (_, note) => warnings.push(note.warning(column)),
                },
            )
            .map_err(RuntimeError::input)?;
        Ok((x, warnings))
    }

    /// Scores a lead record as of `as_of` (the flat form and, for a model trained on a
    /// history, the point-in-time features of its activities before `as_of`).
    pub fn score_lead(
        &self,
        lead: &LeadRecord,
        as_of: DateTime<Utc>,
    ) -> Result<Scored, RuntimeError> {
        let mut view = self.lead_view(lead, as_of)?;
        let (x, encoder) = self.encode_view(&view, as_of)?;
        let mut scored = self.scored(&x, view.take_warnings())?;
        scored.warnings.extend(encoder);
        Ok(scored)
    }

    /// A lead record's input values as of `as_of`, in the encoder's column order, read as
    /// [`Model::score_lead`] reads the record (the point-in-time features of a history model
    /// included): what drift monitoring compares with the training reference.
    ///
    /// # Errors
    /// The record's creation time is not a time (a history model).
    pub fn lead_input_values(
        &self,
        lead: &LeadRecord,
        as_of: DateTime<Utc>,
    ) -> Result<Vec<InputValue>, RuntimeError> {
        let view = self.lead_view(lead, as_of)?;
        Ok(self
            .manifest
            .encoder
            .record_input_values(|column| Cow::Owned(self.value(&view, column)), as_of))
    }

    /// Scores and explains a lead record as of `as_of` (as [`Model::score_lead`] reads it).
    pub fn explain_lead(
        &self,
        lead: &LeadRecord,
        as_of: DateTime<Utc>,
        top_k: usize,
    ) -> Result<(Scored, Explanation), RuntimeError> {
        let explainer = self.explainer()?;
        let mut view = self.lead_view(lead, as_of)?;
        let (x, encoder) = self.encode_view(&view, as_of)?;
        let mut scored = self.scored(&x, view.take_warnings())?;
        scored.warnings.extend(encoder);
        let value_of = |column: &str| self.value(&view, column).to_json();
        let explanation = self.explain_encoded(explainer, &x, value_of, top_k)?;
        Ok((scored, explanation))
    }

    /// Whether [`Model::explain_json`] works for this bundle: its graph is a logistic model
    /// or a tree ensemble with node covers (qualify writes both; an imported graph of
    /// another shape can be scored but not explained).
    pub fn can_explain(&self) -> bool {
        self.explainer.is_some()
    }

    /// Scores one record in flat form and explains the raw score; `top_k` bounds the
    /// positive and the negative reasons.
    ///
    /// # Errors
    /// As [`Model::score_flat`], and [`RuntimeError::NotExplainable`] when
    /// [`Model::can_explain`] is false.
    pub fn explain_flat(
        &self,
        record: &BTreeMap<String, RawValue>,
        as_of: DateTime<Utc>,
        top_k: usize,
    ) -> Result<(Scored, Explanation), RuntimeError> {
        let explainer = self.explainer()?;
        let mut x = vec![0.0f32; self.n_features()];
        let warnings = self
            .manifest
            .encoder
            .encode_flat(record, as_of, &mut x)
            .map_err(RuntimeError::input)?;
        let scored = self.scored(&x, warnings)?;
        let value_of = |c: &str| {
            record
                .get(c)
                .map_or(serde_json::Value::Null, RawValue::to_json)
        };
        Ok((
            scored,
            self.explain_encoded(explainer, &x, value_of, top_k)?,
        ))
    }

    /// Scores one record given as JSON and explains the raw score; `top_k` bounds the
    /// positive and the negative reasons.
    ///
    /// # Errors
    /// As [`Model::score_json`], and [`RuntimeError::NotExplainable`] when
    /// [`Model::can_explain`] is false.
    pub fn explain_json(
        &self,
        record: &serde_json::Map<String, serde_json::Value>,
        as_of: DateTime<Utc>,
        top_k: usize,
    ) -> Result<(Scored, Explanation), RuntimeError> {
        let explainer = self.explainer()?;
        let mut x = vec![0.0f32; self.n_features()];
        let warnings = self
            .manifest
            .encoder
            .encode_json(record, as_of, &mut x)
            .map_err(RuntimeError::input)?;
        let scored = self.scored(&x, warnings)?;
        let value_of = |c: &str| record.get(c).cloned().unwrap_or(serde_json::Value::Null);
        Ok((
            scored,
            self.explain_encoded(explainer, &x, value_of, top_k)?,
        ))
    }

    /// Whether one lead costs microseconds, explanation included when `explain`: a logistic
    /// graph (scored by tract, explained from its weights), or a tree ensemble scored by the
    /// native evaluator without TreeSHAP. Any other graph, and TreeSHAP, may cost far more per
    /// lead. The server scores a light lead where its request is, and sends the rest to its
    /// scoring pool.
    pub fn light_per_lead(&self, explain: bool) -> bool {
        match self.graph.native_kind() {
            NativeKind::Linear => true,
            NativeKind::Trees => !explain,
            NativeKind::Graph => false,
        }
    }

    /// Why [`Model::can_explain`] is false (`None` when it is true).
    pub fn unexplainable(&self) -> Option<Unexplainable> {
        self.explainer
            .is_none()
            .then(|| self.unexplainable_reason())
    }

    fn unexplainable_reason(&self) -> Unexplainable {
        match self.graph.native_kind() {
            NativeKind::Trees => Unexplainable::NoCovers,
            NativeKind::Linear | NativeKind::Graph => Unexplainable::Unrecognised {
                why: self.graph.not_native_reason().cloned(),
            },
        }
    }

    /// [`Model::unexplainable`] as `"<bundle dir>: <reason>"`.
    pub fn why_not_explainable(&self) -> Option<String> {
        self.unexplainable()
            .map(|why| format!("{}: {why}", self.dir.display()))
    }

    fn explainer(&self) -> Result<&Explainer, RuntimeError> {
        self.explainer
            .as_ref()
            .ok_or_else(|| RuntimeError::NotExplainable {
                dir: self.dir.clone(),
                reason: self.unexplainable_reason(),
            })
    }

    /// Explains an encoded row.
    ///
    /// # Errors
    /// [`RuntimeError::Explain`] when `x` is not as wide as the model's input.
    pub fn explain_encoded(
        &self,
        explainer: &Explainer,
        x: &[f32],
        value_of: impl Fn(&str) -> serde_json::Value,
        top_k: usize,
    ) -> Result<Explanation, RuntimeError> {
        let (base, per_feature) = explainer
            .attribute(x)
            .map_err(|error| RuntimeError::Explain { error })?;
        Ok(explanation(
            &self.manifest.encoder.column_spans(),
            base,
            &per_feature,
            value_of,
            top_k,
        ))
    }
}

/// A lead as a model reads it ([`Model::score_lead`]).
enum LeadView<'l> {
    /// A model trained on a flat file: the record's fields in flat form.
    Flat(&'l LeadRecord),
    /// A model trained on a history: the fields and the point-in-time features.
    History(HistoryRecord<'l>),
}

impl LeadView<'_> {
    /// The warnings of making the view (unknown activity types), taken out.
    fn take_warnings(&mut self) -> Vec<Warning> {
        match self {
            LeadView::Flat(_) => Vec::new(),
            LeadView::History(record) => std::mem::take(&mut record.warnings),
        }
    }
}
