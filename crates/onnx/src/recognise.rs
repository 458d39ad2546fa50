//! Recognising the two graph shapes qualify writes, from the protobuf.
//!
//! Why: tract runs any graph, but it is slow on tree ensembles, and explanations need the
//! model's parameters (the logistic weights, the trees and their covers), not just its
//! output. The two shapes are recognised exactly; any other graph is left to tract alone
//! (and cannot be explained):
//!
//! ```text
//! trees:   features → TreeEnsembleClassifier → scores[:, 1:2] (Slice) → logit
//! linear:  features → MatMul(W [F, 1]) → Add(B [1]) → logit
//! ```

use qualify_core::trees::TreeEnsemble;
use tract_onnx::pb;

use crate::error::ReadError;
use crate::logistic::read_linear;
use crate::signature::Signature;
use crate::trees::{read_covers, read_tree_ensemble};
use crate::{LOGIT_NAME, producer};

/// A graph of a shape qualify writes, with its parameters.
#[derive(Debug, Clone, PartialEq)]
pub enum Recognised {
    /// A tree ensemble (base score folded into tree 0; covers when the graph carries them).
    Trees(TreeEnsemble),
    /// `logit = features · weights + bias`.
    Linear { weights: Vec<f32>, bias: f32 },
}

/// Recognises the graph behind output [`LOGIT_NAME`] of a model whose input is `signature`
/// (as [`crate::check_contract`] returns it).
///
/// # Errors
/// `Ok(None)`: a graph of another shape. `Err`: a tree-ensemble graph that cannot be read
/// as a [`TreeEnsemble`], with the reason (the runtime then leaves it to tract).
pub fn recognise(
    proto: &pb::ModelProto,
    signature: &Signature,
) -> Result<Option<Recognised>, ReadError> {
    let Some(graph) = proto.graph.as_ref() else {
        return Ok(None);
    };
    let Some(last) = producer(graph, LOGIT_NAME) else {
        return Ok(None);
    };
    match last.op_type.as_str() {
        "Slice" => trees(proto, graph, last, signature),
        "Add" => Ok(
            read_linear(graph, last, &signature.input, signature.n_features)
                .map(|(weights, bias)| Recognised::Linear { weights, bias }),
        ),
        _ => Ok(None),
    }
}

fn trees(
    proto: &pb::ModelProto,
    graph: &pb::GraphProto,
    slice: &pb::NodeProto,
    signature: &Signature,
) -> Result<Option<Recognised>, ReadError> {
    let Some(scores) = slice.input.first() else {
        return Ok(None);
    };
    let Some(classifier) = producer(graph, scores) else {
        return Ok(None);
    };
    if classifier.op_type != "TreeEnsembleClassifier"
        || classifier.output.get(1) != Some(scores)
        || classifier.input.first() != Some(&signature.input)
    {
        return Ok(None);
    }
    let bound = |i: usize| {
        slice
            .input
            .get(i)
            .and_then(|name| constant_i64(graph, name))
    };
    let column_one = bound(1) == Some(vec![1])
        && bound(2) == Some(vec![2])
        && matches!(bound(3).as_deref(), Some([1] | [-1]))
        && slice.input.get(4).is_none_or(|_| bound(4) == Some(vec![1]));
    if !column_one {
        return Err(ReadError::NotColumnOne);
    }
    let covers = read_covers(proto)?;
    let ensemble = read_tree_ensemble(classifier, signature.n_features, covers.as_deref())?;
    Ok(Some(Recognised::Trees(ensemble)))
}

/// The values of an int64 constant (a `Constant` node's `value` or an initializer).
fn constant_i64(graph: &pb::GraphProto, name: &str) -> Option<Vec<i64>> {
    let tensor = graph
        .initializer
        .iter()
        .find(|t| t.name == name)
        .or_else(|| {
            let node = producer(graph, name).filter(|n| n.op_type == "Constant")?;
            node.attribute
                .iter()
                .find(|a| a.name == "value")
                .and_then(|a| a.t.as_ref())
        })?;
    if tensor.data_type != pb::tensor_proto::DataType::Int64 as i32 {
        return None;
    }
    if tensor.raw_data.is_empty() {
        Some(tensor.int64_data.clone())
    } else {
        Some(
            tensor
                .raw_data
                .chunks_exact(8)
                .map(|c| i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect(),
        )
    }
}
