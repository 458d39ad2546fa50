//! ONNX export of tree ensembles as one `TreeEnsembleClassifier` node (ai.onnx.ml).
//!
//! Why this shape: ONNX stays the interchange format, so the bundle a GBM writes opens in
//! onnxruntime and Netron like the logistic one, and `qualify-runtime` reads the same node's
//! attributes back into its own fast evaluator (tract loads and checks the graph).
//!
//! Graph contract (same input and outputs as [`crate::onnx::logistic_to_onnx`]):
//!
//! ```text
//! features  f32 [N, F]
//!   TreeEnsembleClassifier(features) -> label i64 [N], scores f32 [N, 2]
//!   Slice(scores, starts=[1], ends=[2], axes=[1]) -> logit        f32 [N, 1]
//!   Sigmoid(logit)                                -> probability  f32 [N, 1]
//! ```
//!
//! The classifier node is written the way binary exporters (skl2onnx, onnxmltools) write
//! it: two class labels `[0, 1]`, every leaf weight on class id 0, `post_transform = NONE`,
//! no `base_values`. Both tract and onnxruntime then put the raw sum of leaf weights in
//! column 1 of `scores` (column 0 is `1 - sum` in tract, `-sum` in onnxruntime: never read).
//! Only `BRANCH_LEQ` is written (left = "true" branch when `x <= threshold`, as in
//! [`qualify_core::trees`]), with `nodes_missing_value_tracks_true = 0`, so a NaN goes right.
//! The base score is added to every leaf of tree 0 (tract rejects a two-value `base_values`
//! and ignores nothing else); an ensemble without trees is written as one single-leaf tree
//! holding the base score. Node ids are the [`qualify_core::trees::Tree`] node indices.
//!
//! TreeSHAP needs each node's cover, which ONNX has no attribute for: it travels in the
//! model's `metadata_props` under [`NODE_COVERS_KEY`], as JSON `[[cover of node 0 of tree 0,
//! …], [tree 1 …], …]` indexed like `nodes_nodeids` (see docs/bundle.md).

use prost::Message;
use tract_onnx::pb;

use crate::onnx::{
    BATCH_DIM, Dim, INPUT_NAME, LOGIT_NAME, ML_DOMAIN, ModelBuilder, OnnxExportError,
    PROBABILITY_NAME, attr,
};
use qualify_core::trees::{Node, TreeEnsemble};

/// `metadata_props` key of the per-node covers (JSON array of arrays of numbers, one array
/// per tree, indexed by node id).
pub const NODE_COVERS_KEY: &str = "qualify.node_covers";
/// `ai.onnx.ml` operator-set version written for the `TreeEnsembleClassifier` node.
pub const ML_OPSET_VERSION: i64 = 3;
/// Name of the classifier's `[N, 2]` score output (column 1 is the raw log-odds).
pub const SCORES_NAME: &str = "scores";
/// Name of the classifier's label output (required by the operator, not a graph output).
pub const LABEL_NAME: &str = "label";

/// Writes `ensemble` as ONNX (see the module docs for the graph).
///
/// # Errors
/// [`OnnxExportError::InvalidEnsemble`] if the ensemble fails
/// [`TreeEnsemble::validate`], has no features, or has a leaf value or cover that is not
/// finite in `f32`.
pub fn tree_ensemble_to_onnx(
    ensemble: &TreeEnsemble,
    producer_version: &str,
) -> Result<Vec<u8>, OnnxExportError> {
    let invalid = |why: String| OnnxExportError::InvalidEnsemble(why);
    if ensemble.n_features == 0 {
        return Err(OnnxExportError::NoFeatures);
    }
    ensemble.validate().map_err(|e| invalid(e.to_string()))?;
    let attrs = Attributes::of(ensemble)?;

    let mut model = ModelBuilder::new("qualify_trees");
    model.input(
        INPUT_NAME,
        &[Dim::param(BATCH_DIM), Dim::Fixed(ensemble.n_features)],
    );
    let node = model.node_in_domain(
        ML_DOMAIN,
        ML_OPSET_VERSION,
        "TreeEnsembleClassifier",
        &[INPUT_NAME],
        &[LABEL_NAME, SCORES_NAME],
    );
    let n = attrs.tree_ids.len();
    node.attribute.extend([
        attr::ints("classlabels_int64s", &[0, 1]),
        attr::ints("nodes_treeids", &attrs.tree_ids),
        attr::ints("nodes_nodeids", &attrs.node_ids),
        attr::ints("nodes_featureids", &attrs.feature_ids),
        attr::floats("nodes_values", &attrs.values),
        attr::strings("nodes_modes", &attrs.modes),
        attr::ints("nodes_truenodeids", &attrs.true_ids),
        attr::ints("nodes_falsenodeids", &attrs.false_ids),
        attr::ints("nodes_missing_value_tracks_true", &vec![0; n]),
        attr::ints("class_treeids", &attrs.leaf_tree_ids),
        attr::ints("class_nodeids", &attrs.leaf_node_ids),
        attr::ints("class_ids", &vec![0; attrs.leaf_weights.len()]),
        attr::floats("class_weights", &attrs.leaf_weights),
        attr::string("post_transform", "NONE"),
    ]);

    add_logit_head(&mut model);
    Ok(to_bytes_with_covers(
        &model,
        &attrs.covers,
        producer_version,
    ))
}

/// Adds what follows the classifier in every tree graph: `Slice` of column 1 of
/// [`SCORES_NAME`] → `logit` → `Sigmoid` → `probability`, and the two graph outputs.
pub fn add_logit_head(model: &mut ModelBuilder) {
    constant_i64(model, "slice_starts", 1);
    constant_i64(model, "slice_ends", 2);
    constant_i64(model, "slice_axes", 1);
    model.node(
        "Slice",
        &[SCORES_NAME, "slice_starts", "slice_ends", "slice_axes"],
        &[LOGIT_NAME],
    );
    model.node("Sigmoid", &[LOGIT_NAME], &[PROBABILITY_NAME]);
    model
        .output(LOGIT_NAME, &[Dim::param(BATCH_DIM), Dim::Fixed(1)])
        .output(PROBABILITY_NAME, &[Dim::param(BATCH_DIM), Dim::Fixed(1)]);
}

/// The serialised model with `covers` (one array per tree, by node id) stored under
/// [`NODE_COVERS_KEY`].
pub fn to_bytes_with_covers(
    model: &ModelBuilder,
    covers: &[Vec<f64>],
    producer_version: &str,
) -> Vec<u8> {
    let mut proto = model.build(producer_version);
    // Finite f64s always serialise; the writer and `qualify import` check finiteness.
    let covers = serde_json::to_string(covers).unwrap_or_else(|_| "[]".to_owned());
    proto.metadata_props.push(pb::StringStringEntryProto {
        key: NODE_COVERS_KEY.to_owned(),
        value: covers,
    });
    proto.encode_to_vec()
}

/// A `Constant` node holding a one-element int64 tensor (Slice takes its bounds as inputs).
fn constant_i64(model: &mut ModelBuilder, name: &str, value: i64) {
    let tensor = pb::TensorProto {
        name: name.to_owned(),
        dims: vec![1],
        data_type: pb::tensor_proto::DataType::Int64 as i32,
        int64_data: vec![value],
        ..Default::default()
    };
    model
        .node("Constant", &[], &[name])
        .attribute
        .push(pb::AttributeProto {
            name: "value".to_owned(),
            r#type: pb::attribute_proto::AttributeType::Tensor as i32,
            t: Some(tensor),
            ..Default::default()
        });
}

/// The node's parallel attribute arrays.
#[derive(Default)]
struct Attributes {
    tree_ids: Vec<i64>,
    node_ids: Vec<i64>,
    feature_ids: Vec<i64>,
    values: Vec<f32>,
    modes: Vec<&'static str>,
    true_ids: Vec<i64>,
    false_ids: Vec<i64>,
    leaf_tree_ids: Vec<i64>,
    leaf_node_ids: Vec<i64>,
    leaf_weights: Vec<f32>,
    covers: Vec<Vec<f64>>,
}

impl Attributes {
    fn of(ensemble: &TreeEnsemble) -> Result<Attributes, OnnxExportError> {
        let invalid = |why: String| OnnxExportError::InvalidEnsemble(why);
        let mut a = Attributes::default();
        let single_leaf = [Node::Leaf {
            value: 0.0,
            cover: Some(1.0),
        }];
        let trees: Vec<&[Node]> = if ensemble.trees.is_empty() {
            vec![&single_leaf]
        } else {
            ensemble.trees.iter().map(|t| t.nodes.as_slice()).collect()
        };
        for (t, nodes) in trees.into_iter().enumerate() {
            let mut covers = Vec::with_capacity(nodes.len());
            for (i, node) in nodes.iter().enumerate() {
                let cover = node.cover().unwrap_or(f64::NAN);
                if !cover.is_finite() || cover < 0.0 {
                    return Err(invalid(format!("tree {t}: node {i} has cover {cover}")));
                }
                covers.push(cover);
                a.tree_ids.push(to_i64(t));
                a.node_ids.push(to_i64(i));
                match *node {
                    Node::Split {
                        feature,
                        threshold,
                        left,
                        right,
                        ..
                    } => {
                        a.feature_ids.push(to_i64(feature));
                        a.values.push(threshold);
                        a.modes.push("BRANCH_LEQ");
                        a.true_ids.push(to_i64(left));
                        a.false_ids.push(to_i64(right));
                    }
                    Node::Leaf { value, .. } => {
                        a.feature_ids.push(0);
                        a.values.push(0.0);
                        a.modes.push("LEAF");
                        a.true_ids.push(0);
                        a.false_ids.push(0);
                        let folded = if t == 0 {
                            value + ensemble.base_score
                        } else {
                            value
                        };
                        let weight = folded as f32;
                        if !weight.is_finite() {
                            return Err(invalid(format!(
                                "tree {t}: leaf {i} value {folded} overflows f32"
                            )));
                        }
                        a.leaf_tree_ids.push(to_i64(t));
                        a.leaf_node_ids.push(to_i64(i));
                        a.leaf_weights.push(weight);
                    }
                }
            }
            a.covers.push(covers);
        }
        Ok(a)
    }
}

fn to_i64(n: usize) -> i64 {
    // Node, tree and feature counts are far below 2^63.
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use qualify_core::trees::{Node, Tree};
    use tract_onnx::prelude::*;

    /// A random tree with at most `depth` levels over `n_features` features.
    fn random_tree(
        n_features: usize,
        depth: u32,
    ) -> impl Strategy<Value = Vec<(bool, usize, f32, f64)>> {
        // A preorder list of (is_split, feature, threshold, leaf value); turned into nodes by
        // `build_tree`, which stops splitting at `depth`.
        prop::collection::vec(
            (
                prop::bool::weighted(0.7),
                0..n_features,
                -2.0f32..2.0,
                -1.0f64..1.0,
            ),
            1 << (depth + 1),
        )
    }

    fn build_tree(spec: &[(bool, usize, f32, f64)], depth: u32) -> Tree {
        fn grow(
            spec: &[(bool, usize, f32, f64)],
            next: &mut usize,
            depth: u32,
            nodes: &mut Vec<Node>,
        ) -> (usize, f64) {
            let (split, feature, threshold, value) = spec[*next % spec.len()];
            *next += 1;
            let index = nodes.len();
            if !split || depth == 0 {
                let cover = 1.0 + (*next % 7) as f64;
                nodes.push(Node::Leaf {
                    value,
                    cover: Some(cover),
                });
                return (index, cover);
            }
            nodes.push(Node::Leaf {
                value: 0.0,
                cover: None,
            });
            let (left, lc) = grow(spec, next, depth - 1, nodes);
            let (right, rc) = grow(spec, next, depth - 1, nodes);
            nodes[index] = Node::Split {
                feature,
                threshold,
                nan_left: false,
                left,
                right,
                cover: Some(lc + rc),
            };
            (index, lc + rc)
        }
        let mut nodes = Vec::new();
        grow(spec, &mut 0, depth, &mut nodes);
        Tree { nodes }
    }

    fn tract_logits(bytes: &[u8], n_features: usize, x: &[f32], rows: usize) -> Vec<f32> {
        let mut model = onnx()
            .model_for_read(&mut &*bytes)
            .expect("tract reads the graph")
            .with_input_fact(0, f32::fact([rows, n_features]).into())
            .expect("input fact");
        model
            .select_outputs_by_name([LOGIT_NAME])
            .expect("logit output");
        let model = model
            .into_optimized()
            .expect("optimise")
            .into_runnable()
            .expect("plan");
        let input = Tensor::from_shape(&[rows, n_features], x).expect("input tensor");
        let out = model.run(tvec![input.into_tvalue()]).expect("run");
        let logit = out[0].to_plain_array_view::<f32>().expect("f32 logit");
        assert_eq!(logit.shape(), [rows, 1]);
        logit.iter().copied().collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn tract_matches_the_reference_evaluator(
            n_features in 1usize..6,
            depth in 0u32..5,
            specs in prop::collection::vec(random_tree(6, 4), 0..12),
            base_score in -3.0f64..3.0,
            seed_rows in prop::collection::vec(-2.5f32..2.5, 6 * 9),
        ) {
            let trees: Vec<Tree> = specs
                .iter()
                .map(|s| {
                    let s: Vec<_> = s.iter().map(|&(a, f, t, v)| (a, f % n_features, t, v)).collect();
                    build_tree(&s, depth)
                })
                .collect();
            let ensemble = TreeEnsemble { n_features, base_score, trees };
            prop_assert_eq!(ensemble.validate(), Ok(()));
            let bytes = tree_ensemble_to_onnx(&ensemble, "test").expect("export");
            let rows = seed_rows.len() / 6;
            // Reuse thresholds as inputs for some cells, so `x == threshold` is exercised.
            let mut x: Vec<f32> = seed_rows[..rows * n_features].to_vec();
            if let Some(Node::Split { threshold, feature, .. }) =
                ensemble.trees.first().map(|t| t.nodes[0])
            {
                x[feature] = threshold;
            }
            let got = tract_logits(&bytes, n_features, &x, rows);
            for (row, &logit) in x.chunks(n_features).zip(&got) {
                let expected = ensemble.raw_score(row);
                prop_assert!(
                    (f64::from(logit) - expected).abs() < 1e-5,
                    "tract {} vs reference {}", logit, expected
                );
            }
        }
    }

    #[test]
    fn covers_travel_in_the_metadata() {
        let tree = build_tree(
            &[
                (true, 1, 0.5, 0.0),
                (false, 0, 0.0, -1.0),
                (false, 0, 0.0, 2.0),
            ],
            3,
        );
        let ensemble = TreeEnsemble {
            n_features: 2,
            base_score: 0.25,
            trees: vec![tree.clone(), tree],
        };
        let bytes = tree_ensemble_to_onnx(&ensemble, "v").expect("export");
        let proto = pb::ModelProto::decode(&*bytes).expect("decode");
        let covers = proto
            .metadata_props
            .iter()
            .find(|p| p.key == NODE_COVERS_KEY)
            .expect("covers entry");
        let covers: Vec<Vec<f64>> = serde_json::from_str(&covers.value).expect("JSON");
        let expected: Vec<Vec<f64>> = ensemble
            .trees
            .iter()
            .map(|t| t.nodes.iter().filter_map(Node::cover).collect())
            .collect();
        assert_eq!(covers, expected);
        assert_eq!(
            tract_logits(&bytes, 2, &[0.0, 0.5, 0.0, 0.6], 2),
            [-1.75, 4.25]
        );
    }

    #[test]
    fn an_ensemble_without_trees_scores_its_base() {
        let ensemble = TreeEnsemble {
            n_features: 3,
            base_score: -1.5,
            trees: Vec::new(),
        };
        let bytes = tree_ensemble_to_onnx(&ensemble, "v").expect("export");
        assert_eq!(tract_logits(&bytes, 3, &[0.0; 6], 2), [-1.5, -1.5]);
    }

    #[test]
    fn invalid_ensembles_are_errors() {
        let leaf = |value| Node::Leaf {
            value,
            cover: Some(1.0),
        };
        let e = TreeEnsemble {
            n_features: 1,
            base_score: 0.0,
            trees: vec![Tree {
                nodes: vec![leaf(f64::NAN)],
            }],
        };
        let err = tree_ensemble_to_onnx(&e, "v").expect_err("NaN leaf");
        assert!(err.to_string().contains("leaf 0"), "{err}");
        let e = TreeEnsemble {
            n_features: 1,
            base_score: 0.0,
            trees: vec![Tree {
                nodes: vec![leaf(1e300)],
            }],
        };
        let err = tree_ensemble_to_onnx(&e, "v").expect_err("overflow");
        assert!(err.to_string().contains("overflows f32"), "{err}");
        let e = TreeEnsemble {
            n_features: 0,
            base_score: 0.0,
            trees: Vec::new(),
        };
        assert_eq!(
            tree_ensemble_to_onnx(&e, "v"),
            Err(OnnxExportError::NoFeatures)
        );
    }
}
