//! The input-signature check: what the scoring contract needs from a graph, read from the
//! protobuf before any runtime sees it.
//!
//! Why before: tract is not panic-free on malformed graphs (it looks graph outputs up by
//! name and panics on a dangling one), and a foreign graph must be refused with a message
//! that names its input, not with whatever the runtime happens to say. The runtime checks
//! qualify's whole contract ([`check_contract`]); the importer only the input
//! ([`input_signature`]), since it writes the outputs itself.

use prost::Message;
use tract_onnx::pb;

use crate::LOGIT_NAME;
use crate::error::{ContractError, DimFound};

/// The one input of a graph: its name and its fixed width `F` (the batch size is free).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    pub input: String,
    pub n_features: usize,
}

/// Decodes an ONNX protobuf.
///
/// # Errors
/// [`ContractError::Decode`] when the bytes are not one.
pub fn decode(bytes: &[u8]) -> Result<pb::ModelProto, ContractError> {
    pb::ModelProto::decode(bytes).map_err(|error| ContractError::Decode { error })
}

/// The graph's one input (inputs that are initializers do not count), which must be an f32
/// tensor `[N, F]` with a fixed, positive `F`.
///
/// # Errors
/// The [`ContractError`] naming what the input lacks.
pub fn input_signature(graph: &pb::GraphProto) -> Result<Signature, ContractError> {
    let inputs: Vec<&pb::ValueInfoProto> = graph
        .input
        .iter()
        .filter(|i| !graph.initializer.iter().any(|t| t.name == i.name))
        .collect();
    let [input] = inputs.as_slice() else {
        return Err(ContractError::InputCount {
            names: inputs.iter().map(|i| i.name.clone()).collect(),
        });
    };
    let name = &input.name;
    let Some(pb::type_proto::Value::TensorType(tensor)) =
        input.r#type.as_ref().and_then(|t| t.value.as_ref())
    else {
        return Err(ContractError::InputNotTensor { name: name.clone() });
    };
    if tensor.elem_type != pb::tensor_proto::DataType::Float as i32 {
        return Err(ContractError::InputType {
            name: name.clone(),
            elem_type: tensor.elem_type,
        });
    }
    let dims = tensor
        .shape
        .as_ref()
        .map(|s| s.dim.as_slice())
        .unwrap_or_default();
    let [_, width] = dims else {
        return Err(ContractError::InputRank {
            name: name.clone(),
            rank: dims.len(),
        });
    };
    use pb::tensor_shape_proto::dimension::Value;
    let n_features = match &width.value {
        Some(Value::DimValue(f)) if *f > 0 => usize::try_from(*f).ok(),
        _ => None,
    };
    let found = match &width.value {
        Some(Value::DimValue(f)) => DimFound::Value(*f),
        Some(Value::DimParam(p)) => DimFound::Symbol(p.clone()),
        None => DimFound::Unset,
    };
    match n_features {
        Some(n_features) => Ok(Signature {
            input: name.clone(),
            n_features,
        }),
        None => Err(ContractError::InputWidth {
            name: name.clone(),
            found,
        }),
    }
}

/// qualify's scoring contract: one f32 `[N, F]` input ([`input_signature`]), an output
/// named [`LOGIT_NAME`], and every graph output produced by a node, an input or an
/// initializer. (That `logit` is f32 `[N, 1]` is checked once the runtime has typed the
/// graph.)
///
/// # Errors
/// The [`ContractError`] naming what the graph lacks.
pub fn check_contract(proto: &pb::ModelProto) -> Result<Signature, ContractError> {
    let graph = proto.graph.as_ref().ok_or(ContractError::NoGraph)?;
    let signature = input_signature(graph)?;
    let produced = |name: &str| {
        graph.input.iter().any(|i| i.name == name)
            || graph.initializer.iter().any(|t| t.name == name)
            || graph
                .node
                .iter()
                .any(|n| n.output.iter().any(|o| o == name))
    };
    if let Some(dangling) = graph.output.iter().find(|o| !produced(&o.name)) {
        return Err(ContractError::DanglingOutput {
            name: dangling.name.clone(),
        });
    }
    if !graph.output.iter().any(|o| o.name == LOGIT_NAME) {
        return Err(ContractError::NoLogit {
            outputs: graph.output.iter().map(|o| o.name.clone()).collect(),
        });
    }
    Ok(signature)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builder::{Dim, ModelBuilder};
    use crate::logistic_to_onnx;

    fn check(b: &ModelBuilder) -> Result<Signature, ContractError> {
        check_contract(&decode(&b.to_bytes("t")).expect("decode"))
    }

    #[test]
    fn the_logistic_graph_meets_the_contract() {
        let bytes = logistic_to_onnx(&[1.0, 2.0, 3.0], 0.0, "t").expect("write");
        let proto = decode(&bytes).expect("decode");
        assert_eq!(
            check_contract(&proto),
            Ok(Signature {
                input: "features".to_owned(),
                n_features: 3
            })
        );
    }

    #[test]
    fn corrupt_bytes_are_a_decode_error() {
        for bytes in [&b"definitely not onnx"[..], &[0xff; 64][..]] {
            assert!(matches!(decode(bytes), Err(ContractError::Decode { .. })));
        }
    }

    #[test]
    fn dangling_outputs_missing_logit_and_bad_inputs_are_named() {
        let mut b = ModelBuilder::new("g");
        b.input("features", &[Dim::batch(), Dim::Fixed(2)]);
        b.output("logit", &[Dim::batch(), Dim::Fixed(1)]);
        assert_eq!(
            check(&b),
            Err(ContractError::DanglingOutput {
                name: "logit".to_owned()
            })
        );

        let mut b = ModelBuilder::new("g");
        b.input("features", &[Dim::batch(), Dim::Fixed(2)]);
        b.node("Identity", &["features"], &["score"]);
        b.output("score", &[Dim::batch(), Dim::Fixed(2)]);
        let err = check(&b).expect_err("no logit");
        assert!(err.to_string().contains("no `logit` output"), "{err}");

        let mut b = ModelBuilder::new("g");
        b.input("features", &[Dim::batch()]);
        b.node("Identity", &["features"], &["logit"]);
        b.output("logit", &[Dim::batch()]);
        let err = check(&b).expect_err("rank 1 input");
        assert!(err.to_string().contains("rank 1"), "{err}");

        let mut b = ModelBuilder::new("g");
        b.input("features", &[Dim::batch(), Dim::param("F")]);
        b.node("Identity", &["features"], &["logit"]);
        b.output("logit", &[Dim::batch(), Dim::Fixed(1)]);
        let err = check(&b).expect_err("symbolic width");
        assert!(err.to_string().contains("the symbol `F`"), "{err}");

        let mut b = ModelBuilder::new("g");
        b.input("a", &[Dim::batch(), Dim::Fixed(2)]);
        b.input("b", &[Dim::batch(), Dim::Fixed(2)]);
        b.node("Add", &["a", "b"], &["logit"]);
        b.output("logit", &[Dim::batch(), Dim::Fixed(2)]);
        assert_eq!(
            check(&b),
            Err(ContractError::InputCount {
                names: vec!["a".to_owned(), "b".to_owned()]
            })
        );
    }

    #[test]
    fn an_initializer_listed_as_input_is_not_the_input() {
        let mut b = ModelBuilder::new("g");
        b.input("features", &[Dim::batch(), Dim::Fixed(2)])
            .input("W", &[Dim::Fixed(2), Dim::Fixed(1)])
            .initializer_f32("W", &[2, 1], &[1.0, 2.0])
            .expect("W");
        b.node("MatMul", &["features", "W"], &["logit"]);
        b.output("logit", &[Dim::batch(), Dim::Fixed(1)]);
        assert_eq!(check(&b).map(|s| s.n_features), Ok(2));
    }
}
