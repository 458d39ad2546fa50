//! Executing exported models with tract.
//!
//! Why tract: the server must score with exactly the model the trainer wrote, without linking
//! the trainer or a C++ runtime. tract is pure Rust, loads ONNX, and compiles the graph once
//! into an optimised plan that many threads can run concurrently.
//!
//! The graph contract (written by `qualify_train::onnx`): one input, f32 `[N, F]` with `F`
//! fixed and `N` the batch size, and an output named `logit`, f32 `[N, 1]`. [`OnnxModel`]
//! checks that contract when loading, so a model that does not honour it is rejected with an
//! error naming what is wrong, never by a panic at scoring time.
//!
//! Loading fixes the input fact to f32 `[N, F]` with a symbolic `N`, keeps only the `logit`
//! output (other outputs such as `probability` are pruned: calibration happens outside the
//! graph), optimises the model and keeps the runnable plan. Each [`OnnxModel::logits`] call
//! spawns its own execution state, so one `OnnxModel` can be shared (`Arc`) across threads.
//!
//! A graph of a shape qualify writes is also recognised ([`crate::native`]). A tree ensemble
//! is then scored by the native evaluator ([`crate::forest::flat`]) instead of tract, after
//! loading has checked that both agree on probe rows built from the split thresholds (every
//! threshold, and the next `f32` above it, is visited).

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;

use tract_onnx::pb;
use tract_onnx::prelude::*;

use crate::forest::flat::FlatForest;
use crate::forest::{Forest, TreeNode};
use crate::native::{Native, recognise};

/// Name of the output [`OnnxModel::logits`] reads.
pub const LOGIT_OUTPUT: &str = "logit";
/// Name of the symbolic batch dimension set on the input.
pub const BATCH_SYMBOL: &str = "N";

/// Why a model could not be loaded or run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OnnxError {
    /// The bytes are not an ONNX protobuf.
    #[error("not a valid ONNX protobuf: {0}")]
    Decode(String),
    /// The model does not have the expected input/outputs (named in the message).
    #[error("ONNX model does not match the scoring contract: {0}")]
    Contract(String),
    /// tract could not translate, analyse or optimise the graph.
    #[error("tract could not load the ONNX model: {0}")]
    Load(String),
    /// `x` does not hold `rows × n_features` values.
    #[error(
        "input has {len} values, expected rows ({rows}) × features ({n_features}) = {expected}",
        expected = rows.saturating_mul(*n_features)
    )]
    InputLength {
        /// `x.len()`.
        len: usize,
        /// Declared number of rows.
        rows: usize,
        /// The model's input width.
        n_features: usize,
    },
    /// tract failed while running the plan.
    #[error("tract failed to run the model: {0}")]
    Run(String),
    /// The native tree evaluator and tract disagree on a probe row (a bug in one of them).
    #[error("the native tree evaluator gives {native} but tract gives {tract} on probe row {row}")]
    NativeMismatch {
        /// Probe row index.
        row: usize,
        /// Native raw score.
        native: f64,
        /// tract's raw score.
        tract: f32,
    },
}

/// Largest difference between the native evaluator and tract accepted at load (tract sums
/// leaf weights in `f32`, the native evaluator in `f64`).
pub const NATIVE_TOLERANCE: f64 = 1e-4;
/// Number of probe rows compared at load.
const PROBE_ROWS: usize = 64;

type Plan = Arc<TypedRunnableModel>;

/// A loaded, optimised ONNX model that maps f32 rows to logits.
pub struct OnnxModel {
    plan: Plan,
    n_features: usize,
    input_name: String,
    native: Option<Native>,
    /// Why a tree-ensemble graph is not evaluated natively, if it is not.
    not_native: Option<String>,
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
    /// [`OnnxError::Decode`] if the bytes are not an ONNX protobuf, [`OnnxError::Contract`] if
    /// the graph does not have one f32 `[N, F]` input and a `logit` `[N, 1]` output, and
    /// [`OnnxError::Load`] if tract cannot translate or optimise it (unsupported operator,
    /// inconsistent shapes such as weights whose length is not `F`, ...).
    pub fn from_bytes(bytes: &[u8]) -> Result<OnnxModel, OnnxError> {
        let onnx = onnx();
        let proto = onnx
            .proto_model_for_read(&mut &*bytes)
            .map_err(|e| OnnxError::Decode(format!("{e:#}")))?;
        let signature = Signature::of(&proto)?;
        let recognised = recognise(
            &proto,
            &signature.input_name,
            LOGIT_OUTPUT,
            signature.n_features,
        );
        // tract is not panic-free on malformed graphs (e.g. it indexes maps by name); the
        // contract checks above catch the known cases, this turns any other into an error.
        let mut model = catch_unwind(AssertUnwindSafe(|| Self::compile(&onnx, &proto, signature)))
            .unwrap_or_else(|panic| {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".to_owned());
                Err(OnnxError::Load(format!("tract panicked: {what}")))
            })?;
        match recognised {
            Ok(native) => model.native = native,
            Err(why) => model.not_native = Some(why),
        }
        if let Some(Native::Trees { forest, flat }) = &model.native {
            model.check_native(forest, flat)?;
        }
        Ok(model)
    }

    /// Compares the native evaluator with tract on rows that visit every split threshold.
    fn check_native(&self, forest: &Forest, flat: &FlatForest) -> Result<(), OnnxError> {
        let x = probe_rows(forest, PROBE_ROWS);
        let tract = self.tract_logits(&x, PROBE_ROWS)?;
        for (row, (xs, &t)) in x.chunks_exact(self.n_features).zip(&tract).enumerate() {
            let native = flat.raw_score(xs);
            let diff = (native - f64::from(t)).abs();
            if diff.is_nan() || diff > NATIVE_TOLERANCE {
                return Err(OnnxError::NativeMismatch {
                    row,
                    native,
                    tract: t,
                });
            }
        }
        Ok(())
    }

    fn compile(
        onnx: &tract_onnx::Onnx,
        proto: &pb::ModelProto,
        signature: Signature,
    ) -> Result<OnnxModel, OnnxError> {
        let load = |stage: &str, e: TractError| OnnxError::Load(format!("{stage}: {e:#}"));
        let mut model = onnx
            .model_for_proto_model(proto)
            .map_err(|e| load("translating the graph", e))?;
        let n = model.sym(BATCH_SYMBOL);
        let input_fact = InferenceFact::dt_shape(
            f32::datum_type(),
            tvec![n.to_dim(), signature.n_features.to_dim()],
        );
        let input_index = model
            .input_outlets()
            .map_err(|e| load("reading inputs", e))?
            .iter()
            .position(|o| model.node(o.node).name == signature.input_name)
            .ok_or_else(|| {
                OnnxError::Contract(format!(
                    "input `{}` not found by tract",
                    signature.input_name
                ))
            })?;
        model
            .set_input_fact(input_index, input_fact)
            .map_err(|e| load("setting the input", e))?;
        model
            .select_outputs_by_name([LOGIT_OUTPUT])
            .map_err(|e| load("selecting the `logit` output", e))?;
        let typed = model
            .into_optimized()
            .map_err(|e| load("analysing and optimising", e))?;

        let fact = typed
            .output_fact(0)
            .map_err(|e| load("reading the output", e))?;
        if fact.datum_type != f32::datum_type() {
            return Err(OnnxError::Contract(format!(
                "output `{LOGIT_OUTPUT}` is {:?}, expected f32",
                fact.datum_type
            )));
        }
        let shape_ok =
            matches!(&*fact.shape, [batch, one] if *batch == n.to_dim() && *one == 1.to_dim());
        if !shape_ok {
            return Err(OnnxError::Contract(format!(
                "output `{LOGIT_OUTPUT}` has shape {:?}, expected [N, 1]",
                fact.shape
            )));
        }
        let plan = typed
            .into_runnable()
            .map_err(|e| load("building the plan", e))?;
        Ok(OnnxModel {
            plan,
            n_features: signature.n_features,
            input_name: signature.input_name,
            native: None,
            not_native: None,
        })
    }

    /// Width `F` of the input rows.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// The recognised graph shape, if any (see [`crate::native`]).
    pub fn native(&self) -> Option<&Native> {
        self.native.as_ref()
    }

    /// "trees" (scored natively), "linear", or "graph" (tract only).
    pub fn native_kind(&self) -> &'static str {
        match self.native {
            Some(Native::Trees { .. }) => "trees",
            Some(Native::Linear { .. }) => "linear",
            None => "graph",
        }
    }

    /// Why a tree-ensemble graph is scored by tract rather than natively, if it is.
    pub fn not_native_reason(&self) -> Option<&str> {
        self.not_native.as_deref()
    }

    /// Raw logits for `rows` rows of `x` (row-major, `rows × n_features()` values), one per
    /// row: from the native evaluator for a recognised tree ensemble, from tract otherwise.
    ///
    /// # Errors
    /// [`OnnxError::InputLength`] if `x.len() != rows * n_features()`, [`OnnxError::Run`] if
    /// tract fails.
    pub fn logits(&self, x: &[f32], rows: usize) -> Result<Vec<f64>, OnnxError> {
        if let Some(Native::Trees { flat, .. }) = &self.native {
            self.check_len(x, rows)?;
            let mut out = vec![0.0; rows];
            flat.raw_scores_into(x, &mut out);
            return Ok(out);
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
    pub fn logit(&self, x: &[f32]) -> Result<f64, OnnxError> {
        if let Some(Native::Trees { flat, .. }) = &self.native {
            self.check_len(x, 1)?;
            return Ok(flat.raw_score(x));
        }
        let logits = self.tract_logits(x, 1)?;
        Ok(f64::from(logits[0]))
    }

    fn check_len(&self, x: &[f32], rows: usize) -> Result<(), OnnxError> {
        if rows.checked_mul(self.n_features) == Some(x.len()) {
            Ok(())
        } else {
            Err(OnnxError::InputLength {
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
    pub fn tract_logits(&self, x: &[f32], rows: usize) -> Result<Vec<f32>, OnnxError> {
        self.check_len(x, rows)?;
        if rows == 0 {
            return Ok(Vec::new());
        }
        let run = |e: TractError| OnnxError::Run(format!("{e:#}"));
        let input = Tensor::from_shape(&[rows, self.n_features], x).map_err(run)?;
        let outputs = self.plan.run(tvec![input.into_tvalue()]).map_err(run)?;
        let logit = outputs
            .first()
            .ok_or_else(|| OnnxError::Run("the plan returned no output".to_owned()))?;
        let values = logit
            .try_as_plain_ram()
            .and_then(|v| v.as_slice::<f32>().map(<[f32]>::to_vec));
        let values = values.map_err(run)?;
        if values.len() != rows {
            return Err(OnnxError::Run(format!(
                "`{LOGIT_OUTPUT}` has {} values for {rows} rows (shape {:?})",
                values.len(),
                logit.shape()
            )));
        }
        Ok(values)
    }
}

/// `rows` rows that send every split both ways: feature `f` of row `r` is one of the
/// thresholds the forest compares `f` with (the exact value, or the next `f32` above it),
/// chosen by a fixed hash of `(r, f)`; 0 for a feature no split reads.
fn probe_rows(forest: &Forest, rows: usize) -> Vec<f32> {
    let n = forest.n_features();
    let mut thresholds: Vec<Vec<f32>> = vec![Vec::new(); n];
    for node in forest.trees().iter().flatten() {
        if let TreeNode::Split {
            feature, threshold, ..
        } = *node
        {
            thresholds[feature].push(threshold);
        }
    }
    let mut x = vec![0.0f32; rows * n];
    for (r, row) in x.chunks_exact_mut(n).enumerate() {
        for (f, (cell, ts)) in row.iter_mut().zip(&thresholds).enumerate() {
            if ts.is_empty() {
                continue;
            }
            // SplitMix64 of (r, f): deterministic, and spread over all thresholds.
            let mut z = ((r as u64) << 32 ^ f as u64).wrapping_add(0x9e37_79b9_7f4a_7c15);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            let t = ts[(z >> 1) as usize % ts.len()];
            *cell = if z & 1 == 0 { t } else { t.next_up() };
        }
    }
    x
}

/// What the scoring contract needs from the graph, read from the protobuf before tract sees
/// it.
struct Signature {
    input_name: String,
    n_features: usize,
}

impl Signature {
    fn of(proto: &pb::ModelProto) -> Result<Signature, OnnxError> {
        let contract = |s: String| OnnxError::Contract(s);
        let graph = proto
            .graph
            .as_ref()
            .ok_or_else(|| contract("the model has no graph".to_owned()))?;
        let initialized: Vec<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
        let inputs: Vec<&pb::ValueInfoProto> = graph
            .input
            .iter()
            .filter(|i| !initialized.contains(&i.name.as_str()))
            .collect();
        let [input] = inputs.as_slice() else {
            let names: Vec<&str> = inputs.iter().map(|i| i.name.as_str()).collect();
            return Err(contract(format!(
                "expected exactly one graph input, found {names:?}"
            )));
        };

        // tract looks graph outputs up by name and panics on a dangling one.
        let produced = |name: &str| {
            graph.input.iter().any(|i| i.name == name)
                || initialized.contains(&name)
                || graph
                    .node
                    .iter()
                    .any(|n| n.output.iter().any(|o| o == name))
        };
        if let Some(dangling) = graph.output.iter().find(|o| !produced(&o.name)) {
            return Err(contract(format!(
                "graph output `{}` is not produced by any node",
                dangling.name
            )));
        }
        if !graph.output.iter().any(|o| o.name == LOGIT_OUTPUT) {
            let names: Vec<&str> = graph.output.iter().map(|o| o.name.as_str()).collect();
            return Err(contract(format!(
                "no `{LOGIT_OUTPUT}` output (outputs: {names:?})"
            )));
        }

        let name = &input.name;
        let Some(pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(tensor)),
            ..
        }) = &input.r#type
        else {
            return Err(contract(format!("input `{name}` has no tensor type")));
        };
        if tensor.elem_type != pb::tensor_proto::DataType::Float as i32 {
            return Err(contract(format!(
                "input `{name}` has element type {}, expected FLOAT (1)",
                tensor.elem_type
            )));
        }
        let dims = tensor
            .shape
            .as_ref()
            .map(|s| s.dim.as_slice())
            .unwrap_or_default();
        let [_, width] = dims else {
            return Err(contract(format!(
                "input `{name}` has rank {}, expected 2 ([N, F])",
                dims.len()
            )));
        };
        use pb::tensor_shape_proto::dimension::Value;
        let n_features = match width.value {
            Some(Value::DimValue(f)) if f > 0 => usize::try_from(f).ok(),
            _ => None,
        }
        .ok_or_else(|| {
            contract(format!(
                "input `{name}` must have a fixed, positive width F, found {:?}",
                width.value
            ))
        })?;
        Ok(Signature {
            input_name: name.clone(),
            n_features,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use qualify_onnx::{Dim, ModelBuilder, logistic_to_onnx};
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    fn random(rng: &mut StdRng, n: usize) -> Vec<f32> {
        (0..n).map(|_| rng.random_range(-2.0f32..2.0)).collect()
    }

    #[test]
    fn round_trip_matches_a_direct_dot_product() {
        let mut rng = StdRng::seed_from_u64(7);
        let n_features = 17;
        let weights = random(&mut rng, n_features);
        let bias = rng.random_range(-1.0f32..1.0);
        let bytes = logistic_to_onnx(&weights, bias, "test").expect("export");
        let model = OnnxModel::from_bytes(&bytes).expect("load");
        assert_eq!(model.n_features(), n_features);
        for rows in [1, 7, 1000] {
            let x = random(&mut rng, rows * n_features);
            let got = model.logits(&x, rows).expect("score");
            assert_eq!(got.len(), rows);
            for (row, &logit) in x.chunks(n_features).zip(&got) {
                let expected = f64::from(bias)
                    + row
                        .iter()
                        .zip(&weights)
                        .map(|(&a, &w)| f64::from(a) * f64::from(w))
                        .sum::<f64>();
                assert!(
                    (logit - expected).abs() < 1e-5,
                    "rows={rows}: got {logit}, expected {expected}"
                );
            }
        }
        assert_eq!(
            model.logits(&[], 0).expect("empty batch"),
            Vec::<f64>::new()
        );
    }

    #[test]
    fn model_is_shareable_across_threads() {
        let bytes = logistic_to_onnx(&[1.0, -1.0], 0.5, "test").expect("export");
        let model = Arc::new(OnnxModel::from_bytes(&bytes).expect("load"));
        let handles: Vec<_> = (0..4)
            .map(|i| {
                let model = Arc::clone(&model);
                std::thread::spawn(move || model.logits(&[i as f32, 1.0], 1).expect("score"))
            })
            .collect();
        for (i, h) in handles.into_iter().enumerate() {
            assert_eq!(h.join().expect("thread"), vec![i as f64 - 0.5]);
        }
        assert!(format!("{model:?}").contains("n_features: 2"));
    }

    #[test]
    fn wrong_input_length_is_an_error() {
        let bytes = logistic_to_onnx(&[1.0, 2.0, 3.0], 0.0, "test").expect("export");
        let model = OnnxModel::from_bytes(&bytes).expect("load");
        let err = model.logits(&[1.0; 8], 3).expect_err("8 != 3 * 3");
        assert_eq!(
            err,
            OnnxError::InputLength {
                len: 8,
                rows: 3,
                n_features: 3
            }
        );
        assert!(err.to_string().contains("= 9"), "{err}");
        assert!(model.logits(&[1.0; 3], usize::MAX).is_err());
    }

    #[test]
    fn corrupt_bytes_are_an_error() {
        let bytes = logistic_to_onnx(&[1.0, 2.0], 0.0, "test").expect("export");
        for corrupt in [
            b"definitely not onnx".to_vec(),
            vec![0xff; 64],
            bytes[..bytes.len() / 2].to_vec(),
            Vec::new(),
        ] {
            assert!(OnnxModel::from_bytes(&corrupt).is_err());
        }
    }

    /// `features` f32 [N, `declared`] times `W` [`rows_of_w`, 1] + B, `out` [N, 1].
    fn linear(declared: usize, w_dims: &[usize], out: &str) -> Vec<u8> {
        let n_w: usize = w_dims.iter().product();
        let mut b = ModelBuilder::new("g");
        b.input("features", &[Dim::param("N"), Dim::Fixed(declared)])
            .initializer_f32("W", w_dims, &vec![0.5; n_w])
            .expect("W")
            .initializer_f32("B", &[1], &[0.0])
            .expect("B");
        b.node("MatMul", &["features", "W"], &["xw"]);
        b.node("Add", &["xw", "B"], &[out]);
        b.output(out, &[Dim::param("N"), Dim::Fixed(1)]);
        b.to_bytes("test")
    }

    #[test]
    fn builder_model_matching_the_contract_loads() {
        let model = OnnxModel::from_bytes(&linear(4, &[4, 1], "logit")).expect("load");
        assert_eq!(
            model.logits(&[1.0, 1.0, 1.0, 1.0], 1).expect("score"),
            vec![2.0]
        );
    }

    #[test]
    fn weights_not_matching_the_input_width_are_an_error() {
        let err = OnnxModel::from_bytes(&linear(5, &[3, 1], "logit")).expect_err("F mismatch");
        assert!(matches!(err, OnnxError::Load(_)), "{err}");
    }

    #[test]
    fn missing_logit_output_is_an_error() {
        let err = OnnxModel::from_bytes(&linear(3, &[3, 1], "score")).expect_err("no logit");
        assert!(err.to_string().contains("no `logit` output"), "{err}");
    }

    #[test]
    fn wrong_logit_rank_is_an_error() {
        // W of shape [F] makes MatMul produce [N], not [N, 1].
        let err = OnnxModel::from_bytes(&linear(3, &[3], "logit")).expect_err("rank 1");
        assert!(err.to_string().contains("expected [N, 1]"), "{err}");
    }

    #[test]
    fn dangling_output_and_bad_input_are_errors() {
        let mut b = ModelBuilder::new("g");
        b.input("features", &[Dim::param("N"), Dim::Fixed(2)]);
        b.output("logit", &[Dim::param("N"), Dim::Fixed(1)]);
        let err = OnnxModel::from_bytes(&b.to_bytes("t")).expect_err("dangling");
        assert!(err.to_string().contains("not produced"), "{err}");

        let mut b = ModelBuilder::new("g");
        b.input("features", &[Dim::param("N")]);
        b.node("Identity", &["features"], &["logit"]);
        b.output("logit", &[Dim::param("N")]);
        let err = OnnxModel::from_bytes(&b.to_bytes("t")).expect_err("rank 1 input");
        assert!(err.to_string().contains("rank 1"), "{err}");

        let mut b = ModelBuilder::new("g");
        b.input("a", &[Dim::param("N"), Dim::Fixed(2)]);
        b.input("b", &[Dim::param("N"), Dim::Fixed(2)]);
        b.node("Add", &["a", "b"], &["logit"]);
        b.output("logit", &[Dim::param("N"), Dim::Fixed(2)]);
        let err = OnnxModel::from_bytes(&b.to_bytes("t")).expect_err("two inputs");
        assert!(err.to_string().contains("exactly one graph input"), "{err}");
    }

    #[test]
    fn unsupported_operator_is_an_error() {
        let mut b = ModelBuilder::new("g");
        b.input("features", &[Dim::param("N"), Dim::Fixed(2)]);
        b.node("NoSuchOp", &["features"], &["logit"]);
        b.output("logit", &[Dim::param("N"), Dim::Fixed(1)]);
        let err = OnnxModel::from_bytes(&b.to_bytes("t")).expect_err("unknown op");
        assert!(matches!(err, OnnxError::Load(_)), "{err}");
    }
}
