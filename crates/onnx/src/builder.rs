//! A small writer of single-graph ONNX models, and attribute constructors.
//!
//! Why by hand: the protobuf is built with the prost types tract-onnx exposes
//! ([`tract_onnx::pb`]), so the bytes qualify writes are decoded by exactly the schema the
//! runtime reads them with, and no `onnx` Python toolchain is needed. The builder records
//! which operator-set domains the nodes use and writes the matching `opset_import`s.

use std::collections::BTreeMap;

use prost::Message;
use tract_onnx::pb;

use crate::error::WriteError;
use crate::{IR_VERSION, OPSET_VERSION, PRODUCER_NAME};

/// One dimension of a declared tensor shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dim {
    /// A fixed size.
    Fixed(usize),
    /// A symbolic size (ONNX `dim_param`), e.g. the batch dimension [`crate::BATCH_DIM`].
    Param(String),
}

impl Dim {
    /// A symbolic dimension named `name`.
    pub fn param(name: &str) -> Dim {
        Dim::Param(name.to_owned())
    }

    /// The batch dimension [`crate::BATCH_DIM`].
    pub fn batch() -> Dim {
        Dim::param(crate::BATCH_DIM)
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

/// A builder for single-graph ONNX models with f32 inputs and outputs.
///
/// The default domain is imported at [`OPSET_VERSION`] always, others as declared through
/// [`ModelBuilder::node_in_domain`].
#[derive(Debug, Clone)]
pub struct ModelBuilder {
    graph: pb::GraphProto,
    opsets: BTreeMap<String, i64>,
    metadata: Vec<pb::StringStringEntryProto>,
}

impl ModelBuilder {
    /// An empty model whose graph is called `graph_name`.
    pub fn new(graph_name: &str) -> ModelBuilder {
        ModelBuilder {
            graph: pb::GraphProto {
                name: graph_name.to_owned(),
                ..Default::default()
            },
            opsets: BTreeMap::from([(String::new(), OPSET_VERSION)]),
            metadata: Vec::new(),
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
    /// [`WriteError::InitializerShape`] if `data.len()` is not the product of `dims`.
    pub fn initializer_f32(
        &mut self,
        name: &str,
        dims: &[usize],
        data: &[f32],
    ) -> Result<&mut Self, WriteError> {
        check_shape(name, dims, data.len())?;
        self.graph.initializer.push(pb::TensorProto {
            name: name.to_owned(),
            dims: dims.iter().map(|&d| to_i64(d)).collect(),
            data_type: pb::tensor_proto::DataType::Float as i32,
            // raw_data is little-endian by the ONNX spec, and is what every exporter writes.
            raw_data: data.iter().flat_map(|v| v.to_le_bytes()).collect(),
            ..Default::default()
        });
        Ok(self)
    }

    /// Adds a constant int64 tensor (as `Slice` bounds are given).
    ///
    /// # Errors
    /// [`WriteError::InitializerShape`] if `data.len()` is not the product of `dims`.
    pub fn initializer_i64(
        &mut self,
        name: &str,
        dims: &[usize],
        data: &[i64],
    ) -> Result<&mut Self, WriteError> {
        check_shape(name, dims, data.len())?;
        self.graph.initializer.push(tensor_i64(name, dims, data));
        Ok(self)
    }

    /// Adds a `Constant` node whose output `name` is a one-element int64 tensor.
    pub fn constant_i64(&mut self, name: &str, value: i64) -> &mut Self {
        let mut attribute = attr::named("value", pb::attribute_proto::AttributeType::Tensor);
        attribute.t = Some(tensor_i64(name, &[1], &[value]));
        self.node("Constant", &[], &[name])
            .attribute
            .push(attribute);
        self
    }

    /// Adds a default-domain (`ai.onnx`) node; returns it so attributes can be pushed.
    pub fn node(&mut self, op_type: &str, inputs: &[&str], outputs: &[&str]) -> &mut pb::NodeProto {
        self.push_node("", op_type, inputs, outputs)
    }

    /// Adds a node from operator-set `domain` (e.g. [`crate::ML_DOMAIN`]) at
    /// `opset_version`, and imports that operator set.
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

    /// Adds a `metadata_props` entry (e.g. [`crate::NODE_COVERS_KEY`]).
    pub fn metadata(&mut self, key: &str, value: String) -> &mut Self {
        self.metadata.push(pb::StringStringEntryProto {
            key: key.to_owned(),
            value,
        });
        self
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
            metadata_props: self.metadata.clone(),
            ..Default::default()
        }
    }

    /// The finished model, serialised.
    pub fn to_bytes(&self, producer_version: &str) -> Vec<u8> {
        self.build(producer_version).encode_to_vec()
    }
}

/// Attribute constructors, for nodes such as `TreeEnsembleClassifier` that carry their
/// parameters as attributes rather than initializers.
pub mod attr {
    use tract_onnx::pb::{self, attribute_proto::AttributeType};

    pub(crate) fn named(name: &str, kind: AttributeType) -> pb::AttributeProto {
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

pub(crate) fn to_i64(n: usize) -> i64 {
    // usize -> i64 only fails beyond 2^63 elements, which no tensor here can have.
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn check_shape(name: &str, dims: &[usize], len: usize) -> Result<(), WriteError> {
    let expected: usize = dims.iter().product();
    if expected == len {
        Ok(())
    } else {
        Err(WriteError::InitializerShape {
            name: name.to_owned(),
            dims: dims.to_vec(),
            expected,
            len,
        })
    }
}

fn tensor_i64(name: &str, dims: &[usize], data: &[i64]) -> pb::TensorProto {
    pb::TensorProto {
        name: name.to_owned(),
        dims: dims.iter().map(|&d| to_i64(d)).collect(),
        data_type: pb::tensor_proto::DataType::Int64 as i32,
        int64_data: data.to_vec(),
        ..Default::default()
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ML_DOMAIN;

    #[test]
    fn imports_extra_domains_keeps_metadata_and_checks_initializers() {
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
        b.metadata("k", "v".to_owned());
        let model = b.build("v");
        let domains: Vec<(&str, i64)> = model
            .opset_import
            .iter()
            .map(|o| (o.domain.as_str(), o.version))
            .collect();
        assert_eq!(domains, [("", OPSET_VERSION), (ML_DOMAIN, 3)]);
        assert_eq!(model.metadata_props[0].key, "k");
        assert_eq!(
            b.initializer_f32("W", &[2, 2], &[1.0]).map(|_| ()),
            Err(WriteError::InitializerShape {
                name: "W".to_owned(),
                dims: vec![2, 2],
                expected: 4,
                len: 1,
            })
        );
        assert!(b.initializer_i64("S", &[1], &[1, 2]).is_err());
    }
}
