//! Graph shapes the runtime also understands natively, recognised from the ONNX protobuf.
//!
//! Why: tract runs any graph, but it is slow on tree ensembles, and explanations need the
//! model's parameters (the logistic weights, the trees and their covers), not just its
//! output. The two shapes qualify writes are recognised exactly; any other graph is left to
//! tract alone (and cannot be explained):
//!
//! ```text
//! trees:   features → TreeEnsembleClassifier → scores[:, 1:2] (Slice) → logit
//! linear:  features → MatMul(W [F, 1]) → Add(B [1]) → logit
//! ```

use tract_onnx::pb;

use crate::forest::Forest;
use crate::forest::flat::FlatForest;

/// `metadata_props` key holding the node covers (written by `qualify_train::onnx_trees`).
pub const NODE_COVERS_KEY: &str = "qualify.node_covers";

/// A recognised graph, with what native evaluation and explanations need.
#[derive(Debug, Clone)]
pub enum Native {
    /// A tree ensemble; scored by `flat`, explained (when it has covers) from `forest`.
    Trees { forest: Forest, flat: FlatForest },
    /// `logit = features · weights + bias`.
    Linear { weights: Vec<f32>, bias: f32 },
}

/// Recognises the graph behind output `logit` of a model whose single input is `input`
/// (`n_features` wide). `Ok(None)`: a graph of another shape; `Err`: a tree-ensemble graph the
/// native evaluator cannot reproduce, with the reason (tract then scores it alone).
pub fn recognise(
    proto: &pb::ModelProto,
    input: &str,
    logit: &str,
    n_features: usize,
) -> Result<Option<Native>, String> {
    let Some(graph) = proto.graph.as_ref() else {
        return Ok(None);
    };
    let Some(last) = producer(graph, logit) else {
        return Ok(None);
    };
    match last.op_type.as_str() {
        "Slice" => trees(proto, graph, last, input, n_features),
        "Add" => Ok(linear(graph, last, input, n_features)),
        _ => Ok(None),
    }
}

fn producer<'g>(graph: &'g pb::GraphProto, name: &str) -> Option<&'g pb::NodeProto> {
    graph
        .node
        .iter()
        .find(|n| n.output.iter().any(|o| o == name))
}

fn trees(
    proto: &pb::ModelProto,
    graph: &pb::GraphProto,
    slice: &pb::NodeProto,
    input: &str,
    n_features: usize,
) -> Result<Option<Native>, String> {
    let Some(scores) = slice.input.first() else {
        return Ok(None);
    };
    let Some(tec) = producer(graph, scores) else {
        return Ok(None);
    };
    if tec.op_type != "TreeEnsembleClassifier"
        || tec.output.get(1) != Some(scores)
        || tec.input.first().map(String::as_str) != Some(input)
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
        return Err("`logit` is not column 1 of the classifier's scores".to_owned());
    }
    let covers = match proto
        .metadata_props
        .iter()
        .find(|p| p.key == NODE_COVERS_KEY)
    {
        Some(entry) => Some(
            serde_json::from_str::<Vec<Vec<f64>>>(&entry.value).map_err(|e| {
                format!("metadata {NODE_COVERS_KEY} is not a JSON array of arrays of numbers: {e}")
            })?,
        ),
        None => None,
    };
    let forest = Forest::from_node(tec, n_features, covers.as_deref())?;
    let flat = FlatForest::new(&forest)?;
    Ok(Some(Native::Trees { forest, flat }))
}

fn linear(
    graph: &pb::GraphProto,
    add: &pb::NodeProto,
    input: &str,
    n_features: usize,
) -> Option<Native> {
    let [a, b] = add.input.as_slice() else {
        return None;
    };
    // Either operand order: Add(xw, B) or Add(B, xw).
    let (matmul, bias) = [(a, b), (b, a)].into_iter().find_map(|(m, c)| {
        let node = producer(graph, m).filter(|n| n.op_type == "MatMul")?;
        Some((node, initializer_f32(graph, c)?))
    })?;
    let [x, w] = matmul.input.as_slice() else {
        return None;
    };
    if x != input {
        return None;
    }
    let (weights, dims) = initializer_f32(graph, w)?;
    let width_ok = dims == [n_features as i64, 1] || dims == [n_features as i64];
    let (bias, bias_dims) = bias;
    let bias_ok = bias.len() == 1 && bias_dims.iter().product::<i64>() == 1;
    (width_ok && bias_ok && weights.len() == n_features).then(|| Native::Linear {
        weights,
        bias: bias[0],
    })
}

/// The values and dims of a float initializer named `name`.
fn initializer_f32(graph: &pb::GraphProto, name: &str) -> Option<(Vec<f32>, Vec<i64>)> {
    let t = graph.initializer.iter().find(|t| t.name == name)?;
    if t.data_type != pb::tensor_proto::DataType::Float as i32 {
        return None;
    }
    let values = if t.raw_data.is_empty() {
        t.float_data.clone()
    } else {
        t.raw_data
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect()
    };
    (values.len() as i64 == t.dims.iter().product::<i64>()).then(|| (values, t.dims.clone()))
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
