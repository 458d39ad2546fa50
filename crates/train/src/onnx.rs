//! ONNX export of trained models.
//!
//! Why ONNX: the trainer and the server must score identically, but the server must not link
//! the trainer (linfa, ndarray, later polars). Writing the fitted model as a plain ONNX graph
//! lets `qualify-runtime` execute it with tract, and lets data scientists open the very same
//! artefact with onnxruntime or Netron.
//!
//! The writer builds the ONNX protobuf directly with the prost types that tract-onnx exposes
//! ([`tract_onnx::pb`]), so the bytes we write are decoded by exactly the schema the runtime
//! reads them with, and no `onnx` Python toolchain is needed.
//!
//! Graph contract shared with `qualify_runtime::onnx` (see [`INPUT_NAME`], [`LOGIT_NAME`],
//! [`PROBABILITY_NAME`]):
//!
//! ```text
//! features  f32 [N, F]  (N symbolic, named "N")
//!   MatMul(features, W[F, 1]) -> Add(., B[1]) -> logit        f32 [N, 1]
//!   Sigmoid(logit)                            -> probability  f32 [N, 1]
//! ```
//!
//! The proto-building helpers live in the small [`ModelBuilder`] so that other model kinds
//! (for instance an `ai.onnx.ml` `TreeEnsembleClassifier` node, see [`ML_DOMAIN`] and
//! [`ModelBuilder::node_in_domain`]) can be written by the same code.
//!
//! ```
//! let bytes = qualify_train::onnx::logistic_to_onnx(&[0.5, -1.0], 0.25, "0.1.0").unwrap();
//! assert!(!bytes.is_empty());
//! ```

use std::collections::BTreeMap;

use prost::Message;
use tract_onnx::pb;

/// Name of the single graph input: the encoded feature matrix, f32 `[N, F]`.
pub const INPUT_NAME: &str = "features";
/// Name of the graph output holding the raw (uncalibrated) logit, f32 `[N, 1]`.
pub const LOGIT_NAME: &str = "logit";
/// Name of the graph output holding `sigmoid(logit)`, f32 `[N, 1]`.
pub const PROBABILITY_NAME: &str = "probability";
/// Name of the symbolic batch dimension.
pub const BATCH_DIM: &str = "N";
/// ONNX IR version written (ONNX 1.10+ reads it; tract does too).
pub const IR_VERSION: i64 = 8;
/// Default-domain (`ai.onnx`) operator set written.
pub const OPSET_VERSION: i64 = 13;
/// Domain of the traditional-ML operators (`TreeEnsembleClassifier`, ...).
pub const ML_DOMAIN: &str = "ai.onnx.ml";
/// `producer_name` written in every model.
pub const PRODUCER_NAME: &str = "qualify";

/// Why a model could not be exported.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OnnxExportError {
    /// A logistic model needs at least one feature.
    #[error("cannot export a model with no features (weights is empty)")]
    NoFeatures,
    /// A weight is NaN or infinite.
    #[error("weight {index} is not finite ({value})")]
    NonFiniteWeight {
        /// Position of the weight (the feature index).
        index: usize,
        /// The offending value.
        value: f32,
    },
    /// The bias is NaN or infinite.
    #[error("bias is not finite ({0})")]
    NonFiniteBias(f32),
    /// An initializer's data does not match its declared shape (a bug in the caller).
    #[error("initializer `{name}` has {len} values but its shape {dims:?} needs {expected}")]
    InitializerShape {
        /// Initializer name.
        name: String,
        /// Declared shape.
        dims: Vec<usize>,
        /// Number of values the shape needs.
        expected: usize,
        /// Number of values given.
        len: usize,
    },
    /// A tree ensemble that cannot be written (bad structure or a non-finite value).
    #[error("invalid tree ensemble: {0}")]
    InvalidEnsemble(String),
}

/// Writes a logistic-regression model `logit = features · weights + bias` as ONNX.
///
/// The graph has one input `features` (f32 `[N, F]`, `F = weights.len()`) and two outputs,
/// `logit` and `probability` (both f32 `[N, 1]`); see the module docs.
///
/// # Errors
/// [`OnnxExportError::NoFeatures`] if `weights` is empty, and
/// [`OnnxExportError::NonFiniteWeight`] / [`OnnxExportError::NonFiniteBias`] for NaN or
/// infinite parameters.
pub fn logistic_to_onnx(
    weights: &[f32],
    bias: f32,
    producer_version: &str,
) -> Result<Vec<u8>, OnnxExportError> {
    if weights.is_empty() {
        return Err(OnnxExportError::NoFeatures);
    }
    if let Some((index, &value)) = weights.iter().enumerate().find(|(_, w)| !w.is_finite()) {
        return Err(OnnxExportError::NonFiniteWeight { index, value });
    }
    if !bias.is_finite() {
        return Err(OnnxExportError::NonFiniteBias(bias));
    }
    let n_features = weights.len();

    let mut model = ModelBuilder::new("qualify_logistic");
    model
        .input(INPUT_NAME, &[Dim::param(BATCH_DIM), Dim::Fixed(n_features)])
        .initializer_f32("W", &[n_features, 1], weights)?
        .initializer_f32("B", &[1], &[bias])?;
    model.node("MatMul", &[INPUT_NAME, "W"], &["xw"]);
    model.node("Add", &["xw", "B"], &[LOGIT_NAME]);
    model.node("Sigmoid", &[LOGIT_NAME], &[PROBABILITY_NAME]);
    model
        .output(LOGIT_NAME, &[Dim::param(BATCH_DIM), Dim::Fixed(1)])
        .output(PROBABILITY_NAME, &[Dim::param(BATCH_DIM), Dim::Fixed(1)]);
    Ok(model.to_bytes(producer_version))
}

/// One dimension of a declared tensor shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dim {
    /// A fixed size.
    Fixed(usize),
    /// A symbolic size (ONNX `dim_param`), e.g. the batch dimension `N`.
    Param(String),
}

impl Dim {
    /// A symbolic dimension named `name`.
    pub fn param(name: &str) -> Dim {
        Dim::Param(name.to_owned())
    }

    fn to_proto(&self) -> pb::tensor_shape_proto::Dimension {
        use pb::tensor_shape_proto::dimension::Value;
        let value = match self {
            Dim::Fixed(n) => Value::DimValue(to_i64(*n)),
            Dim::Param(name) => Value::DimParam(name.clone()),
        };
        pb::tensor_shape_proto::Dimension {
            value: Some(value),
            ..Default::default()
        }
    }
}

/// A small builder for single-graph ONNX models with f32 tensors.
///
/// It records which operator-set domains the nodes use and writes the matching
/// `opset_import`s: the default domain at [`OPSET_VERSION`] always, others as declared through
/// [`ModelBuilder::node_in_domain`].
#[derive(Debug, Clone)]
pub struct ModelBuilder {
    graph: pb::GraphProto,
    opsets: BTreeMap<String, i64>,
}

impl ModelBuilder {
    /// An empty model whose graph is called `graph_name`.
    pub fn new(graph_name: &str) -> ModelBuilder {
        let mut opsets = BTreeMap::new();
        opsets.insert(String::new(), OPSET_VERSION);
        ModelBuilder {
            graph: pb::GraphProto {
                name: graph_name.to_owned(),
                ..Default::default()
            },
            opsets,
        }
    }

    /// Declares a graph input: an f32 tensor of shape `dims`.
    pub fn input(&mut self, name: &str, dims: &[Dim]) -> &mut Self {
        self.graph.input.push(value_info_f32(name, dims));
        self
    }

    /// Declares a graph output: an f32 tensor of shape `dims`, produced by some node.
    pub fn output(&mut self, name: &str, dims: &[Dim]) -> &mut Self {
        self.graph.output.push(value_info_f32(name, dims));
        self
    }

    /// Adds a constant f32 tensor (row-major `data` of shape `dims`).
    ///
    /// # Errors
    /// [`OnnxExportError::InitializerShape`] if `data.len()` is not the product of `dims`.
    pub fn initializer_f32(
        &mut self,
        name: &str,
        dims: &[usize],
        data: &[f32],
    ) -> Result<&mut Self, OnnxExportError> {
        self.graph.initializer.push(tensor_f32(name, dims, data)?);
        Ok(self)
    }

    /// Adds a default-domain (`ai.onnx`) node; returns it so attributes can be pushed.
    pub fn node(&mut self, op_type: &str, inputs: &[&str], outputs: &[&str]) -> &mut pb::NodeProto {
        self.push_node("", op_type, inputs, outputs)
    }

    /// Adds a node from operator-set `domain` (e.g. [`ML_DOMAIN`]) at `opset_version`, and
    /// imports that operator set.
    pub fn node_in_domain(
        &mut self,
        domain: &str,
        opset_version: i64,
        op_type: &str,
        inputs: &[&str],
        outputs: &[&str],
    ) -> &mut pb::NodeProto {
        self.opsets.insert(domain.to_owned(), opset_version);
        self.push_node(domain, op_type, inputs, outputs)
    }

    fn push_node(
        &mut self,
        domain: &str,
        op_type: &str,
        inputs: &[&str],
        outputs: &[&str],
    ) -> &mut pb::NodeProto {
        let index = self.graph.node.len();
        self.graph.node.push(pb::NodeProto {
            name: format!("{}_{index}", op_type.to_lowercase()),
            op_type: op_type.to_owned(),
            domain: domain.to_owned(),
            input: inputs.iter().map(|s| (*s).to_owned()).collect(),
            output: outputs.iter().map(|s| (*s).to_owned()).collect(),
            ..Default::default()
        });
        &mut self.graph.node[index]
    }

    /// The finished model proto.
    pub fn build(&self, producer_version: &str) -> pb::ModelProto {
        pb::ModelProto {
            ir_version: IR_VERSION,
            producer_name: PRODUCER_NAME.to_owned(),
            producer_version: producer_version.to_owned(),
            opset_import: self
                .opsets
                .iter()
                .map(|(domain, &version)| pb::OperatorSetIdProto {
                    domain: domain.clone(),
                    version,
                })
                .collect(),
            graph: Some(self.graph.clone()),
            ..Default::default()
        }
    }

    /// The finished model, serialised.
    pub fn to_bytes(&self, producer_version: &str) -> Vec<u8> {
        self.build(producer_version).encode_to_vec()
    }
}

/// Attribute helpers, for nodes such as `TreeEnsembleClassifier` that carry their parameters
/// as attributes rather than initializers.
pub mod attr {
    use tract_onnx::pb::{self, attribute_proto::AttributeType};

    fn named(name: &str, kind: AttributeType) -> pb::AttributeProto {
        pb::AttributeProto {
            name: name.to_owned(),
            r#type: kind as i32,
            ..Default::default()
        }
    }

    /// An `INT` attribute.
    pub fn int(name: &str, value: i64) -> pb::AttributeProto {
        pb::AttributeProto {
            i: value,
            ..named(name, AttributeType::Int)
        }
    }

    /// An `INTS` attribute.
    pub fn ints(name: &str, values: &[i64]) -> pb::AttributeProto {
        pb::AttributeProto {
            ints: values.to_vec(),
            ..named(name, AttributeType::Ints)
        }
    }

    /// A `FLOATS` attribute.
    pub fn floats(name: &str, values: &[f32]) -> pb::AttributeProto {
        pb::AttributeProto {
            floats: values.to_vec(),
            ..named(name, AttributeType::Floats)
        }
    }

    /// A `STRING` attribute.
    pub fn string(name: &str, value: &str) -> pb::AttributeProto {
        pb::AttributeProto {
            s: value.as_bytes().to_vec(),
            ..named(name, AttributeType::String)
        }
    }

    /// A `STRINGS` attribute.
    pub fn strings(name: &str, values: &[&str]) -> pb::AttributeProto {
        pb::AttributeProto {
            strings: values.iter().map(|s| s.as_bytes().to_vec()).collect(),
            ..named(name, AttributeType::Strings)
        }
    }
}

fn to_i64(n: usize) -> i64 {
    // usize -> i64 only fails beyond 2^63 elements, which no tensor here can have.
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn value_info_f32(name: &str, dims: &[Dim]) -> pb::ValueInfoProto {
    let tensor = pb::type_proto::Tensor {
        elem_type: pb::tensor_proto::DataType::Float as i32,
        shape: Some(pb::TensorShapeProto {
            dim: dims.iter().map(Dim::to_proto).collect(),
        }),
    };
    pb::ValueInfoProto {
        name: name.to_owned(),
        r#type: Some(pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(tensor)),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn tensor_f32(
    name: &str,
    dims: &[usize],
    data: &[f32],
) -> Result<pb::TensorProto, OnnxExportError> {
    let expected: usize = dims.iter().product();
    if expected != data.len() {
        return Err(OnnxExportError::InitializerShape {
            name: name.to_owned(),
            dims: dims.to_vec(),
            expected,
            len: data.len(),
        });
    }
    Ok(pb::TensorProto {
        name: name.to_owned(),
        dims: dims.iter().map(|&d| to_i64(d)).collect(),
        data_type: pb::tensor_proto::DataType::Float as i32,
        // raw_data is little-endian by the ONNX spec, and is what every exporter writes.
        raw_data: data.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> pb::ModelProto {
        pb::ModelProto::decode(bytes).expect("written model decodes")
    }

    #[test]
    fn logistic_graph_has_the_documented_shape() {
        let bytes = logistic_to_onnx(&[1.0, 2.0, 3.0], -0.5, "9.9.9").expect("export");
        let model = decode(&bytes);
        assert_eq!(model.ir_version, IR_VERSION);
        assert_eq!(model.producer_name, PRODUCER_NAME);
        assert_eq!(model.producer_version, "9.9.9");
        assert_eq!(model.opset_import.len(), 1);
        assert_eq!(model.opset_import[0].version, OPSET_VERSION);
        let graph = model.graph.expect("graph");
        let ops: Vec<&str> = graph.node.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(ops, ["MatMul", "Add", "Sigmoid"]);
        let inputs: Vec<&str> = graph.input.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(inputs, [INPUT_NAME]);
        let outputs: Vec<&str> = graph.output.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(outputs, [LOGIT_NAME, PROBABILITY_NAME]);
        let w = &graph.initializer[0];
        assert_eq!(w.dims, [3, 1]);
        assert_eq!(w.raw_data.len(), 12);
        let Some(pb::type_proto::Value::TensorType(t)) =
            graph.input[0].r#type.as_ref().and_then(|t| t.value.clone())
        else {
            panic!("input has no tensor type");
        };
        let dims = t.shape.expect("shape").dim;
        use pb::tensor_shape_proto::dimension::Value;
        assert_eq!(dims[0].value, Some(Value::DimParam(BATCH_DIM.to_owned())));
        assert_eq!(dims[1].value, Some(Value::DimValue(3)));
    }

    #[test]
    fn rejects_bad_parameters() {
        assert_eq!(
            logistic_to_onnx(&[], 0.0, "x"),
            Err(OnnxExportError::NoFeatures)
        );
        assert!(matches!(
            logistic_to_onnx(&[1.0, f32::NAN], 0.0, "x"),
            Err(OnnxExportError::NonFiniteWeight { index: 1, .. })
        ));
        assert!(matches!(
            logistic_to_onnx(&[1.0], f32::INFINITY, "x"),
            Err(OnnxExportError::NonFiniteBias(_))
        ));
    }

    #[test]
    fn builder_imports_extra_domains_and_checks_initializers() {
        let mut b = ModelBuilder::new("g");
        b.node_in_domain(
            ML_DOMAIN,
            3,
            "TreeEnsembleClassifier",
            &["x"],
            &["label", "probs"],
        )
        .attribute
        .push(attr::ints("nodes_treeids", &[0]));
        let model = b.build("v");
        let domains: Vec<(&str, i64)> = model
            .opset_import
            .iter()
            .map(|o| (o.domain.as_str(), o.version))
            .collect();
        assert_eq!(domains, [("", OPSET_VERSION), (ML_DOMAIN, 3)]);
        assert!(matches!(
            b.initializer_f32("W", &[2, 2], &[1.0]),
            Err(OnnxExportError::InitializerShape {
                expected: 4,
                len: 1,
                ..
            })
        ));
    }
}
