//! The logistic graph: `logit = features · W + B`, and `probability = sigmoid(logit)`.
//!
//! ```text
//! features  f32 [N, F]
//!   MatMul(features, W[F, 1]) -> Add(., B[1]) -> logit        f32 [N, 1]
//!   Sigmoid(logit)                            -> probability  f32 [N, 1]
//! ```
//!
//! [`logistic_to_onnx`] writes it for qualify's logistic models and for imported
//! `LinearClassifier`s; [`read_linear`] recognises it (either operand order of the `Add`), so
//! the runtime can explain a logistic model from its weights.

use tract_onnx::pb;

use crate::builder::{Dim, ModelBuilder};
use crate::error::WriteError;
use crate::{INPUT_NAME, LOGIT_NAME, PROBABILITY_NAME, producer};

/// Writes a logistic-regression model `logit = features · weights + bias` as ONNX (see the
/// module docs).
///
/// # Errors
/// [`WriteError::NoFeatures`] if `weights` is empty, and [`WriteError::NonFiniteWeight`] /
/// [`WriteError::NonFiniteBias`] for NaN or infinite parameters.
pub fn logistic_to_onnx(
    weights: &[f32],
    bias: f32,
    producer_version: &str,
) -> Result<Vec<u8>, WriteError> {
    if weights.is_empty() {
        return Err(WriteError::NoFeatures);
    }
    if let Some((index, &value)) = weights.iter().enumerate().find(|(_, w)| !w.is_finite()) {
        return Err(WriteError::NonFiniteWeight { index, value });
    }
    if !bias.is_finite() {
        return Err(WriteError::NonFiniteBias { value: bias });
    }
    let n_features = weights.len();

    let mut model = ModelBuilder::new("qualify_logistic");
    model
        .input(INPUT_NAME, &[Dim::batch(), Dim::Fixed(n_features)])
        .initializer_f32("W", &[n_features, 1], weights)?
        .initializer_f32("B", &[1], &[bias])?;
    model.node("MatMul", &[INPUT_NAME, "W"], &["xw"]);
    model.node("Add", &["xw", "B"], &[LOGIT_NAME]);
    model.node("Sigmoid", &[LOGIT_NAME], &[PROBABILITY_NAME]);
    model
        .output(LOGIT_NAME, &[Dim::batch(), Dim::Fixed(1)])
        .output(PROBABILITY_NAME, &[Dim::batch(), Dim::Fixed(1)]);
    Ok(model.to_bytes(producer_version))
}

/// `(weights, bias)` when the `Add` node `add` computes `input · W + B` with `W` of
/// `n_features` floats (`[F, 1]` or `[F]`) and a one-value `B`; `None` otherwise.
pub(crate) fn read_linear(
    graph: &pb::GraphProto,
    add: &pb::NodeProto,
    input: &str,
    n_features: usize,
) -> Option<(Vec<f32>, f32)> {
    let [a, b] = add.input.as_slice() else {
        return None;
    };
    // Either operand order: Add(xw, B) or Add(B, xw).
    let (matmul, (bias, bias_dims)) = [(a, b), (b, a)].into_iter().find_map(|(m, c)| {
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
    let f = i64::try_from(n_features).ok()?;
    let width_ok = dims == [f, 1] || dims == [f];
    let bias_ok = bias.len() == 1 && bias_dims.iter().product::<i64>() == 1;
    (width_ok && bias_ok && weights.len() == n_features).then(|| (weights, bias[0]))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{BATCH_DIM, IR_VERSION, OPSET_VERSION, PRODUCER_NAME, decode};

    #[test]
    fn the_graph_has_the_documented_shape_and_reads_back() {
        let bytes = logistic_to_onnx(&[1.0, 2.0, 3.0], -0.5, "9.9.9").expect("export");
        let model = decode(&bytes).expect("decode");
        assert_eq!(model.ir_version, IR_VERSION);
        assert_eq!(model.producer_name, PRODUCER_NAME);
        assert_eq!(model.producer_version, "9.9.9");
        assert_eq!(model.opset_import.len(), 1);
        assert_eq!(model.opset_import[0].version, OPSET_VERSION);
        let graph = model.graph.expect("graph");
        let ops: Vec<&str> = graph.node.iter().map(|n| n.op_type.as_str()).collect();
        assert_eq!(ops, ["MatMul", "Add", "Sigmoid"]);
        let outputs: Vec<&str> = graph.output.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(outputs, [LOGIT_NAME, PROBABILITY_NAME]);
        let Some(pb::type_proto::Value::TensorType(t)) =
            graph.input[0].r#type.as_ref().and_then(|t| t.value.clone())
        else {
            panic!("input has no tensor type");
        };
        let dims = t.shape.expect("shape").dim;
        use pb::tensor_shape_proto::dimension::Value;
        assert_eq!(dims[0].value, Some(Value::DimParam(BATCH_DIM.to_owned())));
        assert_eq!(dims[1].value, Some(Value::DimValue(3)));
        assert_eq!(
            read_linear(&graph, &graph.node[1], INPUT_NAME, 3),
            Some((vec![1.0, 2.0, 3.0], -0.5))
        );
        assert_eq!(read_linear(&graph, &graph.node[1], INPUT_NAME, 2), None);
        assert_eq!(read_linear(&graph, &graph.node[1], "other", 3), None);
    }

    #[test]
    fn rejects_bad_parameters() {
        assert_eq!(logistic_to_onnx(&[], 0.0, "x"), Err(WriteError::NoFeatures));
        assert!(matches!(
            logistic_to_onnx(&[1.0, f32::NAN], 0.0, "x"),
            Err(WriteError::NonFiniteWeight { index: 1, .. })
        ));
        assert!(matches!(
            logistic_to_onnx(&[1.0], f32::INFINITY, "x"),
            Err(WriteError::NonFiniteBias { .. })
        ));
    }
}
