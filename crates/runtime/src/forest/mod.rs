//! Tree ensembles read back from an ONNX `TreeEnsembleClassifier` node, evaluated natively.
//!
//! Why: tract 0.23 evaluates tree ensembles node by node through a generic interpreter
//! (hundreds of µs per row for 100 trees). qualify-runtime reads the node's attributes into a
//! [`Forest`] (plain nodes with covers, what [`shap`] walks) and a [`flat::FlatForest`] (the
//! packed layout scoring walks). tract still loads and optimises the whole graph, and
//! [`crate::onnx::OnnxModel`] checks at load that both evaluators agree.
//!
//! Only what tract and onnxruntime agree on is read natively (anything else is left to tract,
//! see [`Forest::from_node`]): a binary classifier (two class labels) whose leaf weights are
//! all on class id 0, `post_transform` `NONE`, no `base_values`, `BRANCH_LEQ`/`BRANCH_LT`
//! splits, node ids `0..n` in each tree with node 0 the root. The model's raw score is then
//! column 1 of the node's `[N, 2]` score output: the sum over trees of the reached leaf's
//! weights.

pub mod flat;
pub mod shap;

use tract_onnx::pb;

/// A node of one tree.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TreeNode {
    Split {
        feature: usize,
        /// Go left when `x[feature] <= threshold` (a `BRANCH_LT` threshold is stored as the
        /// next smaller `f32`, which is the same test).
        threshold: f32,
        /// Where a NaN goes (`nodes_missing_value_tracks_true`); otherwise NaN goes right.
        nan_left: bool,
        left: usize,
        right: usize,
        cover: f64,
    },
    Leaf {
        value: f64,
        cover: f64,
    },
}

impl TreeNode {
    /// Training weight that reached the node (NaN when the model carries no covers).
    pub fn cover(&self) -> f64 {
        match *self {
            TreeNode::Split { cover, .. } | TreeNode::Leaf { cover, .. } => cover,
        }
    }
}

/// Whether `x` takes the left branch of a split: the one decision rule of this module.
#[inline(always)]
pub fn goes_left(x: f32, threshold: f32, nan_left: bool) -> bool {
    x <= threshold || (nan_left && x.is_nan())
}

/// A binary tree ensemble: raw score = Σ over trees of the reached leaf's value.
#[derive(Debug, Clone, PartialEq)]
pub struct Forest {
    n_features: usize,
    /// `trees[t][0]` is the root of tree `t`.
    trees: Vec<Vec<TreeNode>>,
    has_covers: bool,
}

impl Forest {
    /// Reads a `TreeEnsembleClassifier` node reading `n_features`-wide rows. `covers`, when
    /// given, holds each node's cover by tree and node id (see `qualify_train::onnx_trees`).
    ///
    /// # Errors
    /// A message naming the attribute or node when the node uses something the native
    /// evaluator does not reproduce (see the module docs) or is malformed.
    pub fn from_node(
        node: &pb::NodeProto,
        n_features: usize,
        covers: Option<&[Vec<f64>]>,
    ) -> Result<Forest, String> {
        let a = Attrs(node);
        let labels = a
            .ints("classlabels_int64s")
            .map(<[i64]>::len)
            .or_else(|| a.get("classlabels_strings").map(|s| s.strings.len()))
            .unwrap_or(0);
        if labels != 2 {
            return Err(format!(
                "{labels} class labels (the native evaluator reads binary classifiers)"
            ));
        }
        if let Some(t) = a.string("post_transform")
            && t != "NONE"
        {
            return Err(format!("post_transform {t} (NONE expected)"));
        }
        for unsupported in [
            "base_values",
            "base_values_as_tensor",
            "nodes_values_as_tensor",
        ] {
            if a.get(unsupported).is_some() {
                return Err(format!("attribute {unsupported} is not supported"));
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
        let nan_true = match a.ints("nodes_missing_value_tracks_true") {
            Some(v) if v.len() == n => v.iter().map(|&t| t != 0).collect(),
            Some(v) => {
                return Err(format!(
                    "nodes_missing_value_tracks_true has {} values for {n} nodes",
                    v.len()
                ));
            }
            None => vec![false; n],
        };
        let leaf_tree_ids = a.required_ints("class_treeids")?;
        let m = leaf_tree_ids.len();
        let leaf_node_ids = a.ints_of_len("class_nodeids", m)?;
        let class_ids = a.ints_of_len("class_ids", m)?;
        let weights = a.floats_of_len("class_weights", m)?;
        if let Some(c) = class_ids.iter().find(|&&c| c != 0) {
            return Err(format!(
                "a leaf weight is on class id {c} (only class id 0 is read)"
            ));
        }

        // Group nodes by tree; node ids must be 0..len in each tree.
        let n_trees = index(*tree_ids.iter().max().unwrap_or(&-1) + 1, "tree count")?;
        let mut trees: Vec<Vec<Option<TreeNode>>> = vec![Vec::new(); n_trees];
        let mut slots: Vec<(usize, usize, usize)> = Vec::with_capacity(n); // (tree, node, attr)
        for k in 0..n {
            let t = index(tree_ids[k], "nodes_treeids")?;
            let id = index(node_ids[k], "nodes_nodeids")?;
            slots.push((t, id, k));
        }
        slots.sort_unstable();
        for &(t, id, k) in &slots {
            if id != trees[t].len() {
                return Err(format!(
                    "tree {t}: node ids are not 0..n (found {id} after {} nodes)",
                    trees[t].len()
                ));
            }
            let cover = match covers {
                Some(c) => *c.get(t).and_then(|c| c.get(id)).ok_or_else(|| {
                    format!("the node covers have no entry for tree {t} node {id}")
                })?,
                None => f64::NAN,
            };
            let mode = modes[k].as_str();
            let node = match mode {
                "LEAF" => TreeNode::Leaf { value: 0.0, cover },
                "BRANCH_LEQ" | "BRANCH_LT" => {
                    let feature = index(feature_ids[k], "nodes_featureids")?;
                    if feature >= n_features {
                        return Err(format!(
                            "tree {t} node {id} reads feature {feature} of {n_features}"
                        ));
                    }
                    let mut threshold = values[k];
                    if mode == "BRANCH_LT" {
                        // x < t  <=>  x <= the largest f32 below t (for every non-NaN x).
                        if threshold == f32::NEG_INFINITY {
                            return Err(format!("tree {t} node {id}: BRANCH_LT against -inf"));
                        }
                        threshold = threshold.next_down();
                    }
                    if threshold.is_nan() {
                        return Err(format!("tree {t} node {id} has a NaN threshold"));
                    }
                    TreeNode::Split {
                        feature,
                        threshold,
                        nan_left: nan_true[k],
                        left: index(true_ids[k], "nodes_truenodeids")?,
                        right: index(false_ids[k], "nodes_falsenodeids")?,
                        cover,
                    }
                }
                other => return Err(format!("tree {t} node {id} has mode {other}")),
            };
            trees[t].push(Some(node));
        }
        for k in 0..m {
            let t = index(leaf_tree_ids[k], "class_treeids")?;
            let id = index(leaf_node_ids[k], "class_nodeids")?;
            match trees.get_mut(t).and_then(|tree| tree.get_mut(id)) {
                Some(Some(TreeNode::Leaf { value, .. })) => *value += f64::from(weights[k]),
                Some(Some(TreeNode::Split { .. })) => {
                    return Err(format!("a class weight is on tree {t} split node {id}"));
                }
                _ => return Err(format!("a class weight is on missing tree {t} node {id}")),
            }
        }
        let trees: Vec<Vec<TreeNode>> = trees
            .into_iter()
            .map(|t| t.into_iter().flatten().collect())
            .collect();
        let forest = Forest {
            n_features,
            trees,
            has_covers: covers.is_some(),
        };
        forest.validate()?;
        Ok(forest)
    }

    /// Every tree non-empty, children in range, each node reached exactly once from its
    /// root, leaf values finite, covers (when present) finite and non-negative.
    fn validate(&self) -> Result<(), String> {
        if self.trees.is_empty() {
            return Err("the ensemble has no trees".to_owned());
        }
        for (t, nodes) in self.trees.iter().enumerate() {
            if nodes.is_empty() {
                return Err(format!("tree {t} has no nodes"));
            }
            let mut seen = vec![false; nodes.len()];
            let mut stack = vec![0usize];
            while let Some(i) = stack.pop() {
                let Some(node) = nodes.get(i) else {
                    return Err(format!("tree {t}: a child points to missing node {i}"));
                };
                if std::mem::replace(&mut seen[i], true) {
                    return Err(format!("tree {t}: node {i} is reached twice"));
                }
                let cover = node.cover();
                if self.has_covers && !(cover.is_finite() && cover >= 0.0) {
                    return Err(format!("tree {t}: node {i} has cover {cover}"));
                }
                match *node {
                    TreeNode::Leaf { value, .. } if !value.is_finite() => {
                        return Err(format!("tree {t}: leaf {i} has value {value}"));
                    }
                    TreeNode::Leaf { .. } => {}
                    TreeNode::Split { left, right, .. } => stack.extend([left, right]),
                }
            }
            if let Some(i) = seen.iter().position(|s| !s) {
                return Err(format!("tree {t}: node {i} is unreachable from the root"));
            }
        }
        Ok(())
    }

    /// Width of the rows it reads.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// The trees; `trees()[t][0]` is the root of tree `t`.
    pub fn trees(&self) -> &[Vec<TreeNode>] {
        &self.trees
    }

    /// Whether every node has a cover (needed by [`shap`]).
    pub fn has_covers(&self) -> bool {
        self.has_covers
    }

    /// Raw score of one row by walking the trees node by node (the slow reference; scoring
    /// uses [`flat::FlatForest`]).
    pub fn raw_score(&self, x: &[f32]) -> f64 {
        self.trees
            .iter()
            .map(|nodes| match path(nodes, x).last().map(|i| nodes[i]) {
                Some(TreeNode::Leaf { value, .. }) => value,
                _ => unreachable!("a path starts at the root and ends at a leaf"),
            })
            .sum()
    }
}

/// The node ids `x` visits in one tree, root first, its leaf last.
pub fn path<'a>(nodes: &'a [TreeNode], x: &'a [f32]) -> impl Iterator<Item = usize> + 'a {
    std::iter::successors(Some(0), move |&i| match nodes[i] {
        TreeNode::Leaf { .. } => None,
        TreeNode::Split {
            feature,
            threshold,
            nan_left,
            left,
            right,
            ..
        } => Some(if goes_left(x[feature], threshold, nan_left) {
            left
        } else {
            right
        }),
    })
}

fn index(v: i64, what: &str) -> Result<usize, String> {
    usize::try_from(v).map_err(|_| format!("{what} holds {v}"))
}

/// Attribute look-up on a node, with errors naming the attribute.
struct Attrs<'a>(&'a pb::NodeProto);

impl<'a> Attrs<'a> {
    fn get(&self, name: &str) -> Option<&'a pb::AttributeProto> {
        self.0.attribute.iter().find(|a| a.name == name)
    }

    fn ints(&self, name: &str) -> Option<&'a [i64]> {
        self.get(name).map(|a| a.ints.as_slice())
    }

    fn string(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(|a| String::from_utf8_lossy(&a.s).into_owned())
    }

    fn required_ints(&self, name: &str) -> Result<&'a [i64], String> {
        match self.ints(name) {
            Some(v) if !v.is_empty() => Ok(v),
            _ => Err(format!("attribute {name} is missing or empty")),
        }
    }

    fn ints_of_len(&self, name: &str, n: usize) -> Result<&'a [i64], String> {
        let v = self.ints(name).unwrap_or_default();
        check_len(name, v.len(), n)?;
        Ok(v)
    }

    fn floats_of_len(&self, name: &str, n: usize) -> Result<&'a [f32], String> {
        let v = self
            .get(name)
            .map(|a| a.floats.as_slice())
            .unwrap_or_default();
        check_len(name, v.len(), n)?;
        Ok(v)
    }

    fn strings_of_len(&self, name: &str, n: usize) -> Result<Vec<String>, String> {
        let v: Vec<String> = self
            .get(name)
            .map(|a| {
                a.strings
                    .iter()
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect()
            })
            .unwrap_or_default();
        check_len(name, v.len(), n)?;
        Ok(v)
    }
}

fn check_len(name: &str, len: usize, n: usize) -> Result<(), String> {
    if len == n {
        Ok(())
    } else {
        Err(format!("attribute {name} has {len} values, expected {n}"))
    }
}
