//! `TreeEnsembleClassifier` attributes (and covers metadata) → [`TreeEnsemble`].

use qualify_core::trees::{Node, Tree, TreeEnsemble};
use tract_onnx::pb;

use crate::NODE_COVERS_KEY;
use crate::attrs::Attrs;
use crate::error::ReadError;

/// The node covers stored under [`NODE_COVERS_KEY`] in `proto`'s metadata, if any.
///
/// # Errors
/// [`ReadError::CoversJson`] when the entry is not a JSON array of arrays of numbers.
pub fn read_covers(proto: &pb::ModelProto) -> Result<Option<Vec<Vec<f64>>>, ReadError> {
    proto
        .metadata_props
        .iter()
        .find(|p| p.key == NODE_COVERS_KEY)
        .map(|entry| {
            serde_json::from_str(&entry.value).map_err(|error| ReadError::CoversJson { error })
        })
        .transpose()
}

/// Reads a `TreeEnsembleClassifier` node reading `n_features`-wide rows into a validated
/// [`TreeEnsemble`] with base score 0 (see [`crate::trees`] for what is read). `covers`,
/// when given, holds each node's cover by tree and node id, for every node.
///
/// # Errors
/// A [`ReadError`] naming the attribute, tree or node the reader does not reproduce or that
/// is malformed.
pub fn read_tree_ensemble(
    node: &pb::NodeProto,
    n_features: usize,
    covers: Option<&[Vec<f64>]>,
) -> Result<TreeEnsemble, ReadError> {
    let a = Attrs::of(node);
    let labels = a.class_label_count();
    if labels != 2 {
        return Err(ReadError::ClassLabels { count: labels });
    }
    if let Some(t) = a.string("post_transform")
        && t != "NONE"
    {
        return Err(ReadError::PostTransform { found: t });
    }
    for name in [
        "base_values",
        "base_values_as_tensor",
        "nodes_values_as_tensor",
        "class_weights_as_tensor",
    ] {
        if a.get(name).is_some() {
            return Err(ReadError::Unsupported {
                name: name.to_owned(),
            });
        }
    }
    let tree_ids = a.required_ints("nodes_treeids")?;
    let n = tree_ids.len();
    let node_ids = a.ints_of_len("nodes_nodeids", n)?;
    let feature_ids = a.ints_of_len("nodes_featureids", n)?;
    let true_ids = a.ints_of_len("nodes_truenodeids", n)?;
    let false_ids = a.ints_of_len("nodes_falsenodeids", n)?;
    let values = a.floats_of_len("nodes_values", n)?;
    let modes = a.strings_of_len("nodes_modes", n)?;
    let nan_true = match a.get("nodes_missing_value_tracks_true") {
        Some(_) => a.ints_of_len("nodes_missing_value_tracks_true", n)?,
        None => &[],
    };
    let leaf_tree_ids = a.required_ints("class_treeids")?;
    let m = leaf_tree_ids.len();
    let leaf_node_ids = a.ints_of_len("class_nodeids", m)?;
    let class_ids = a.ints_of_len("class_ids", m)?;
    let weights = a.floats_of_len("class_weights", m)?;
    if let Some(&class_id) = class_ids.iter().find(|&&c| c != 0) {
        return Err(ReadError::WeightClass { class_id });
    }

    // Nodes sorted by (tree, node id); node ids must be 0..len in each tree.
    let mut slots: Vec<(usize, usize, usize)> = Vec::with_capacity(n); // (tree, node, attr)
    for k in 0..n {
        let t = a.index("nodes_treeids", tree_ids[k])?;
        let id = a.index("nodes_nodeids", node_ids[k])?;
        slots.push((t, id, k));
    }
    slots.sort_unstable();
    // Tree ids must be 0..n_trees too (checked before allocating the trees).
    let mut n_trees = 0;
    for &(t, _, _) in &slots {
        if t > n_trees {
            return Err(ReadError::TreeIds { missing: n_trees });
        }
        n_trees = n_trees.max(t + 1);
    }
    if let Some(c) = covers
        && c.len() != n_trees
    {
        return Err(ReadError::CoverTrees {
            found: c.len(),
            expected: n_trees,
        });
    }
    let mut trees: Vec<Tree> = vec![Tree { nodes: Vec::new() }; n_trees];
    for &(t, id, k) in &slots {
        let count = trees[t].nodes.len();
        if id != count {
            return Err(ReadError::NodeIds {
                tree: t,
                found: id,
                count,
            });
        }
        let cover = match covers {
            Some(c) => Some(
                *c.get(t)
                    .and_then(|c| c.get(id))
                    .ok_or(ReadError::MissingCover { tree: t, node: id })?,
            ),
            None => None,
        };
        let node = match modes[k].as_str() {
            "LEAF" => Node::Leaf { value: 0.0, cover },
            mode @ ("BRANCH_LEQ" | "BRANCH_LT") => {
                let mut threshold = values[k];
                if mode == "BRANCH_LT" {
                    // x < t  <=>  x <= the largest f32 below t (for every non-NaN x).
                    if threshold == f32::NEG_INFINITY {
                        return Err(ReadError::LessThanNegInfinity { tree: t, node: id });
                    }
                    threshold = threshold.next_down();
                }
                Node::Split {
                    feature: a.index("nodes_featureids", feature_ids[k])?,
                    threshold,
                    nan_left: nan_true.get(k).is_some_and(|&v| v != 0),
                    left: a.index("nodes_truenodeids", true_ids[k])?,
                    right: a.index("nodes_falsenodeids", false_ids[k])?,
                    cover,
                }
            }
            other => {
                return Err(ReadError::Mode {
                    tree: t,
                    node: id,
                    mode: other.to_owned(),
                });
            }
        };
        trees[t].nodes.push(node);
    }
    for k in 0..m {
        let t = a.index("class_treeids", leaf_tree_ids[k])?;
        let id = a.index("class_nodeids", leaf_node_ids[k])?;
        match trees.get_mut(t).and_then(|tree| tree.nodes.get_mut(id)) {
            Some(Node::Leaf { value, .. }) => *value += f64::from(weights[k]),
            _ => return Err(ReadError::WeightOffLeaf { tree: t, node: id }),
        }
    }
    let ensemble = TreeEnsemble {
        n_features,
        base_score: 0.0,
        trees,
    };
    ensemble
        .validate()
        .map_err(|error| ReadError::Invalid { error })?;
    Ok(ensemble)
}
