//! [`TreeEnsemble`] → `TreeEnsembleClassifier` attributes, the logit head, covers metadata.

use qualify_core::trees::{Node, TreeEnsemble};

use crate::builder::{Dim, ModelBuilder, attr, to_i64};
use crate::error::WriteError;
use crate::{
    INPUT_NAME, LABEL_NAME, LOGIT_NAME, ML_DOMAIN, ML_OPSET_VERSION, NODE_COVERS_KEY,
    PROBABILITY_NAME, SCORES_NAME,
};

/// Writes `ensemble` as ONNX (see [`crate::trees`] for the graph).
///
/// # Errors
/// [`WriteError::NoFeatures`] for an ensemble over no features,
/// [`WriteError::InvalidEnsemble`] if it fails [`TreeEnsemble::validate`], and
/// [`WriteError::LeafOverflow`] for a leaf value that is not finite in `f32`.
pub fn tree_ensemble_to_onnx(
    ensemble: &TreeEnsemble,
    producer_version: &str,
) -> Result<Vec<u8>, WriteError> {
    if ensemble.n_features == 0 {
        return Err(WriteError::NoFeatures);
    }
    ensemble
        .validate()
        .map_err(|error| WriteError::InvalidEnsemble { error })?;
    let a = Attributes::of(ensemble)?;

    let mut model = ModelBuilder::new("qualify_trees");
    model.input(INPUT_NAME, &[Dim::batch(), Dim::Fixed(ensemble.n_features)]);
    let node = model.node_in_domain(
        ML_DOMAIN,
        ML_OPSET_VERSION,
        "TreeEnsembleClassifier",
        &[INPUT_NAME],
        &[LABEL_NAME, SCORES_NAME],
    );
    node.attribute.extend([
        attr::ints("classlabels_int64s", &[0, 1]),
        attr::ints("nodes_treeids", &a.tree_ids),
        attr::ints("nodes_nodeids", &a.node_ids),
        attr::ints("nodes_featureids", &a.feature_ids),
        attr::floats("nodes_values", &a.values),
        attr::strings("nodes_modes", &a.modes),
        attr::ints("nodes_truenodeids", &a.true_ids),
        attr::ints("nodes_falsenodeids", &a.false_ids),
        attr::ints("nodes_missing_value_tracks_true", &a.nan_true),
        attr::ints("class_treeids", &a.leaf_tree_ids),
        attr::ints("class_nodeids", &a.leaf_node_ids),
        attr::ints("class_ids", &vec![0; a.leaf_weights.len()]),
        attr::floats("class_weights", &a.leaf_weights),
        attr::string("post_transform", "NONE"),
    ]);
    add_logit_head(&mut model);
    if let Some(covers) = &a.covers {
        add_covers(&mut model, covers)?;
    }
    Ok(model.to_bytes(producer_version))
}

/// Adds what follows the classifier in every tree graph: `Slice` of column 1 of
/// [`SCORES_NAME`] → [`LOGIT_NAME`] → `Sigmoid` → [`PROBABILITY_NAME`], and the two graph
/// outputs.
pub fn add_logit_head(model: &mut ModelBuilder) {
    model
        .constant_i64("slice_starts", 1)
        .constant_i64("slice_ends", 2)
        .constant_i64("slice_axes", 1);
    model.node(
        "Slice",
        &[SCORES_NAME, "slice_starts", "slice_ends", "slice_axes"],
        &[LOGIT_NAME],
    );
    model.node("Sigmoid", &[LOGIT_NAME], &[PROBABILITY_NAME]);
    model
        .output(LOGIT_NAME, &[Dim::batch(), Dim::Fixed(1)])
        .output(PROBABILITY_NAME, &[Dim::batch(), Dim::Fixed(1)]);
}

/// Stores `covers` (one array per tree, by node id) under [`NODE_COVERS_KEY`].
///
/// # Errors
/// [`WriteError::BadCover`] for a cover that is not a finite, non-negative number.
pub fn add_covers(model: &mut ModelBuilder, covers: &[Vec<f64>]) -> Result<(), WriteError> {
    for (tree, c) in covers.iter().enumerate() {
        if let Some((node, &cover)) = c
            .iter()
            .enumerate()
            .find(|(_, c)| !(c.is_finite() && **c >= 0.0))
        {
            return Err(WriteError::BadCover { tree, node, cover });
        }
    }
    // Arrays of finite numbers are always valid JSON.
    let json = covers
        .iter()
        .map(|tree| {
            let nodes: Vec<String> = tree.iter().map(f64::to_string).collect();
            format!("[{}]", nodes.join(","))
        })
        .collect::<Vec<_>>()
        .join(",");
    model.metadata(NODE_COVERS_KEY, format!("[{json}]"));
    Ok(())
}

/// The classifier's parallel attribute arrays.
#[derive(Default)]
struct Attributes {
    tree_ids: Vec<i64>,
    node_ids: Vec<i64>,
    feature_ids: Vec<i64>,
    values: Vec<f32>,
    modes: Vec<&'static str>,
    true_ids: Vec<i64>,
    false_ids: Vec<i64>,
    nan_true: Vec<i64>,
    leaf_tree_ids: Vec<i64>,
    leaf_node_ids: Vec<i64>,
    leaf_weights: Vec<f32>,
    covers: Option<Vec<Vec<f64>>>,
}

impl Attributes {
    /// The attributes of a validated ensemble; an ensemble without trees becomes one
    /// single-leaf tree holding the base score.
    fn of(ensemble: &TreeEnsemble) -> Result<Attributes, WriteError> {
        let single_leaf = [Node::Leaf {
            value: 0.0,
            cover: Some(1.0),
        }];
        let trees: Vec<&[Node]> = if ensemble.trees.is_empty() {
            vec![&single_leaf]
        } else {
            ensemble.trees.iter().map(|t| t.nodes.as_slice()).collect()
        };
        let mut a = Attributes {
            covers: ensemble.has_covers().then(Vec::new),
            ..Attributes::default()
        };
        for (t, nodes) in trees.into_iter().enumerate() {
            if let Some(covers) = &mut a.covers {
                covers.push(nodes.iter().map(|n| n.cover().unwrap_or(0.0)).collect());
            }
            for (i, node) in nodes.iter().enumerate() {
                a.tree_ids.push(to_i64(t));
                a.node_ids.push(to_i64(i));
                a.push(t, i, *node, ensemble.base_score)?;
            }
        }
        Ok(a)
    }

    fn push(&mut self, t: usize, i: usize, node: Node, base_score: f64) -> Result<(), WriteError> {
        match node {
            Node::Split {
                feature,
                threshold,
                nan_left,
                left,
                right,
                ..
            } => {
                self.feature_ids.push(to_i64(feature));
                self.values.push(threshold);
                self.modes.push("BRANCH_LEQ");
                self.true_ids.push(to_i64(left));
                self.false_ids.push(to_i64(right));
                self.nan_true.push(i64::from(nan_left));
            }
            Node::Leaf { value, .. } => {
                self.feature_ids.push(0);
                self.values.push(0.0);
                self.modes.push("LEAF");
                self.true_ids.push(0);
                self.false_ids.push(0);
                self.nan_true.push(0);
                // tract rejects a two-value base_values: the base goes into tree 0's leaves.
                let folded = if t == 0 { value + base_score } else { value };
                let weight = folded as f32;
                if !weight.is_finite() {
                    return Err(WriteError::LeafOverflow {
                        tree: t,
                        node: i,
                        value: folded,
                    });
                }
                self.leaf_tree_ids.push(to_i64(t));
                self.leaf_node_ids.push(to_i64(i));
                self.leaf_weights.push(weight);
            }
        }
        Ok(())
    }
}
