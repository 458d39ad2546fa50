//! Executing a bundle's ONNX graph with tract.
//!
//! Why tract: the server must score with exactly the model the trainer wrote, without linking
//! the trainer or a C++ runtime. tract is pure Rust, loads ONNX, and compiles the graph once
//! into an optimised plan that many threads can run concurrently.
//!
//! The graph contract is qualify-onnx's: one input, f32 `[N, F]` with `F` fixed and `N` the
//! batch size, and an output named `logit`, f32 `[N, 1]`. [`OnnxModel`] checks it when
//! loading ([`qualify_onnx::check_contract`] on the protobuf, then the typed `logit` fact), so
//! a model that does not honour it is rejected with an error naming what is wrong, never by a
//! panic at scoring time.
//!
//! Loading fixes the input fact to f32 `[N, F]` with a symbolic `N`, keeps only the `logit`
//! output (other outputs such as `probability` are pruned: calibration happens outside the
//! graph), optimises the model and keeps the runnable plan. Each [`OnnxModel::logits`] call
//! spawns its own execution state, so one `OnnxModel` can be shared (`Arc`) across threads.
//!
//! A graph of a shape qualify writes is also recognised ([`crate::native`]). It is then scored
//! natively instead of by tract (a tree ensemble by [`crate::forest::flat`], a logistic graph
//! as its dot product), after loading has checked that both agree on probe rows (for trees,
//! built from the split thresholds: every threshold, and the next `f32` above it, is
//! visited).

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use qualify_onnx::{BATCH_DIM, ContractError, LOGIT_NAME, ReadError, Signature, pb};
use tract_onnx::prelude::*;

use crate::forest::flat::PackError;
use crate::native::{Native, NativeKind};

/// Largest difference between the native evaluator and tract accepted at load (tract sums
/// leaf weights and products in `f32`, the native evaluator in `f64`).
pub const NATIVE_TOLERANCE: f64 = 1e-4;
/// Number of probe rows compared at load.
const PROBE_ROWS: usize = 64;

/// What tract was doing when it failed to load a graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TractStage {
    Translate,
    ReadInputs,
    SetInput,
    SelectOutput,
    Optimise,
    ReadOutput,
    Plan,
}

impl fmt::Display for TractStage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TractStage::Translate => "translating the graph",
            TractStage::ReadInputs => "reading inputs",
            TractStage::SetInput => "setting the input",
            TractStage::SelectOutput => "selecting the `logit` output",
            TractStage::Optimise => "analysing and optimising",
            TractStage::ReadOutput => "reading the output",
            TractStage::Plan => "building the plan",
        })
    }
}

/// Why a graph could not be loaded or run.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// The bytes are not ONNX, or the graph breaks the contract (see [`ContractError`]).
    #[error(transparent)]
    Contract(#[from] ContractError),
    /// tract could not translate, analyse or optimise the graph (an unsupported operator,
    /// inconsistent shapes such as weights whose length is not `F`, ...).
    #[error("tract could not load the ONNX model ({stage}): {error:#}")]
    Tract {
        stage: TractStage,
        error: TractError,
    },
    /// tract panicked on a malformed graph the contract checks did not catch.
    #[error("tract panicked loading the ONNX model: {message}")]
    TractPanic { message: String },
    #[error("tract does not see the input `{name}`")]
    TractInput { name: String },
    #[error("output `{LOGIT_NAME}` is {datum_type:?}, expected f32")]
    LogitType { datum_type: DatumType },
    #[error("output `{LOGIT_NAME}` has shape {shape:?}, expected [N, 1]")]
    LogitShape { shape: Box<ShapeFact> },
    /// A recognised tree ensemble that the packed layout cannot hold.
    #[error("the tree ensemble cannot be packed: {error}")]
    Pack { error: PackError },
    /// The native evaluator and tract disagree on a probe row (a bug in one of them).
    #[error("the native evaluator gives {native} but tract gives {tract} on probe row {row}")]
    NativeMismatch { row: usize, native: f64, tract: f32 },
    /// `x` does not hold `rows × n_features` values.
    #[error(
        "input has {len} values, expected rows ({rows}) × features ({n_features}) = {expected}",
        expected = rows.saturating_mul(*n_features)
    )]
    InputLength {
        len: usize,
        rows: usize,
        n_features: usize,
    },
    /// tract failed while running the plan.
    #[error("tract failed to run the model: {error:#}")]
    Run { error: TractError },
    #[error("`{LOGIT_NAME}` has {values} values for {rows} rows")]
    OutputLength { values: usize, rows: usize },
}

type Plan = Arc<TypedRunnableModel>;

/// A loaded, optimised ONNX model that maps f32 rows to logits.
pub struct OnnxModel {
    plan: Plan,
    n_features: usize,
    input_name: String,
    native: Option<Native>,
    /// Why a tree-ensemble graph is not evaluated natively, if it is not.
    not_native: Option<Arc<ReadError>>,
}

// A server shares one model between request handlers.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<OnnxModel>();
};

impl fmt::Debug for OnnxModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OnnxModel")
            .field("input", &self.input_name)
            .field("n_features", &self.n_features)
            .field("nodes", &self.plan.model().nodes().len())
            .field("native", &self.native_kind())
            .finish_non_exhaustive()
    }
}

impl OnnxModel {
    /// Loads, checks and optimises an ONNX model.
    ///
    /// # Errors
    /// [`GraphError::Contract`] if the bytes are not an ONNX protobuf or the graph does not
    /// have one f32 `[N, F]` input and a `logit` output; [`GraphError::LogitType`] /
    /// [`GraphError::LogitShape`] if `logit` is not f32 `[N, 1]`; [`GraphError::Tract`] if
    /// tract cannot translate or optimise it; [`GraphError::NativeMismatch`] if a
    /// recognised tree ensemble scores differently natively and in tract.
    pub fn from_bytes(bytes: &[u8]) -> Result<OnnxModel, GraphError> {
        let proto = qualify_onnx::decode(bytes)?;
        let signature = qualify_onnx::check_contract(&proto)?;
        let recognised = qualify_onnx::recognise(&proto, &signature);
        // tract is not panic-free on malformed graphs (e.g. it indexes maps by name); the
        // contract checks above catch the known cases, this turns any other into an error.
        let compiled = catch_unwind(AssertUnwindSafe(|| compile(&proto, &signature)))
            .unwrap_or_else(|panic| {
                let message = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".to_owned());
                Err(GraphError::TractPanic { message })
            })?;
        let mut model = OnnxModel {
            plan: compiled,
            n_features: signature.n_features,
            input_name: signature.input,
            native: None,
            not_native: None,
        };
        match recognised {
            Ok(Some(r)) => {
                let native =
                    Native::from_recognised(r).map_err(|error| GraphError::Pack { error })?;
                model.check_native(&native)?;
                model.native = Some(native);
            }
            Ok(None) => {}
            Err(why) => model.not_native = Some(Arc::new(why)),
        }
        Ok(model)
    }

    /// Compares the native evaluator with tract on its probe rows.
    ///
    /// The probe is most of the cost of loading a tree ensemble: tract's evaluator walks the
    /// leaf list from its start for every tree of every row, so a row costs it time in the
    /// square of the ensemble's leaves (about 1.5 ms a row for 180 trees of 15 leaves). The
    /// rows are therefore cut into one part per CPU, run side by side.
    fn check_native(&self, native: &Native) -> Result<(), GraphError> {
        let x = native.probe_rows(self.n_features, PROBE_ROWS);
        let width = self.n_features.max(1);
        let rows = x.len() / width;
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        let per_part = rows.div_ceil(cpus).max(1);
        let parts: Vec<Result<Vec<f32>, GraphError>> = std::thread::scope(|scope| {
            let runs: Vec<_> = x
                .chunks(per_part * width)
                .map(|part| scope.spawn(move || self.tract_logits(part, part.len() / width)))
                .collect();
            runs.into_iter()
                .map(|run| {
                    run.join().unwrap_or_else(|_| {
                        Err(GraphError::TractPanic {
                            message: "tract panicked on the probe rows".to_owned(),
                        })
                    })
                })
                .collect()
        });
        let mut tract = Vec::with_capacity(rows);
        for part in parts {
            tract.extend(part?);
        }
        for (row, (xs, &t)) in x.chunks_exact(width).zip(&tract).enumerate() {
            let native = native.raw_score(xs);
            let diff = (native - f64::from(t)).abs();
            if diff.is_nan() || diff > NATIVE_TOLERANCE {
                return Err(GraphError::NativeMismatch {
                    row,
                    native,
                    tract: t,
                });
            }
        }
        Ok(())
    }

    /// Width `F` of the input rows.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// The recognised graph shape, if any (see [`crate::native`]).
    pub fn native(&self) -> Option<&Native> {
        self.native.as_ref()
    }

    /// Which evaluator scores the graph.
    pub fn native_kind(&self) -> NativeKind {
        self.native.as_ref().map_or(NativeKind::Graph, Native::kind)
    }

    /// Why a tree-ensemble graph is scored by tract rather than natively, if it is.
    pub fn not_native_reason(&self) -> Option<&Arc<ReadError>> {
        self.not_native.as_ref()
    }

    /// Raw logits for `rows` rows of `x` (row-major, `rows × n_features()` values), one per
    /// row: from the native evaluator for a recognised graph (trees, logistic), from tract
    /// otherwise.
    ///
    /// # Errors
    /// [`GraphError::InputLength`] if `x.len() != rows * n_features()`, [`GraphError::Run`]
    /// if tract fails.
    pub fn logits(&self, x: &[f32], rows: usize) -> Result<Vec<f64>, GraphError> {
        match &self.native {
            Some(Native::Trees { flat, .. }) => {
                self.check_len(x, rows)?;
                let mut out = vec![0.0; rows];
                flat.raw_scores_into(x, &mut out);
                return Ok(out);
            }
            Some(linear @ Native::Linear { .. }) => {
                self.check_len(x, rows)?;
                if self.n_features == 0 {
                    return Ok(vec![linear.raw_score(&[]); rows]);
                }
                return Ok(x
                    .chunks_exact(self.n_features)
                    .map(|row| linear.raw_score(row))
                    .collect());
            }
            None => {}
        }
        Ok(self
            .tract_logits(x, rows)?
            .into_iter()
            .map(f64::from)
            .collect())
    }

    /// The logit of one row (`x.len() == n_features()`), without allocating on the native
    /// path.
    ///
    /// # Errors
    /// As [`OnnxModel::logits`].
    pub fn logit(&self, x: &[f32]) -> Result<f64, GraphError> {
        if let Some(native) = &self.native {
            self.check_len(x, 1)?;
            return Ok(native.raw_score(x));
        }
        let logits = self.tract_logits(x, 1)?;
        logits
            .first()
            .map(|&z| f64::from(z))
            .ok_or(GraphError::OutputLength { values: 0, rows: 1 })
    }

    fn check_len(&self, x: &[f32], rows: usize) -> Result<(), GraphError> {
        if rows.checked_mul(self.n_features) == Some(x.len()) {
            Ok(())
        } else {
            Err(GraphError::InputLength {
                len: x.len(),
                rows,
                n_features: self.n_features,
            })
        }
    }

    /// Raw logits computed by tract, whatever the graph (what [`OnnxModel::logits`] is
    /// checked against).
    ///
    /// # Errors
    /// As [`OnnxModel::logits`].
    pub fn tract_logits(&self, x: &[f32], rows: usize) -> Result<Vec<f32>, GraphError> {
        self.check_len(x, rows)?;
        if rows == 0 {
            return Ok(Vec::new());
        }
        let run = |error: TractError| GraphError::Run { error };
        let input = Tensor::from_shape(&[rows, self.n_features], x).map_err(run)?;
        let outputs = self.plan.run(tvec![input.into_tvalue()]).map_err(run)?;
        let Some(logit) = outputs.first() else {
            return Err(GraphError::OutputLength { values: 0, rows });
        };
        let values = logit
            .try_as_plain_ram()
            .and_then(|v| v.as_slice::<f32>().map(<[f32]>::to_vec))
            .map_err(run)?;
        if values.len() != rows {
            return Err(GraphError::OutputLength {
                values: values.len(),
                rows,
            });
        }
        Ok(values)
    }
}

/// Translates, types, optimises and plans the graph for `signature`'s input.
fn compile(proto: &pb::ModelProto, signature: &Signature) -> Result<Plan, GraphError> {
    let tract = |stage| move |error| GraphError::Tract { stage, error };
    let mut model = onnx()
        .model_for_proto_model(proto)
        .map_err(tract(TractStage::Translate))?;
    let n = model.sym(BATCH_DIM);
    let input_fact = InferenceFact::dt_shape(
        f32::datum_type(),
        tvec![n.to_dim(), signature.n_features.to_dim()],
    );
    let input_index = model
        .input_outlets()
        .map_err(tract(TractStage::ReadInputs))?
        .iter()
        .position(|o| model.node(o.node).name == signature.input)
        .ok_or_else(|| GraphError::TractInput {
            name: signature.input.clone(),
        })?;
    model
        .set_input_fact(input_index, input_fact)
        .map_err(tract(TractStage::SetInput))?;
    model
        .select_outputs_by_name([LOGIT_NAME])
        .map_err(tract(TractStage::SelectOutput))?;
    let typed = model
        .into_optimized()
        .map_err(tract(TractStage::Optimise))?;
    let fact = typed
        .output_fact(0)
        .map_err(tract(TractStage::ReadOutput))?;
    if fact.datum_type != f32::datum_type() {
        return Err(GraphError::LogitType {
            datum_type: fact.datum_type,
        });
    }
    let shape_ok =
        matches!(&*fact.shape, [batch, one] if *batch == n.to_dim() && *one == 1.to_dim());
    if !shape_ok {
        return Err(GraphError::LogitShape {
            shape: Box::new(fact.shape.clone()),
        });
    }
    typed.into_runnable().map_err(tract(TractStage::Plan))
}

#[cfg(test)]
mod tests;
