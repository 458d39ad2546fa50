//! A binary-classification tree ensemble in a plain, library-neutral form: the one tree type
//! of qualify.
//!
//! Why one type: the trainer converts whatever its GBM crate produces into a
//! [`TreeEnsemble`]; qualify-onnx writes it as a `TreeEnsembleClassifier` node (ai.onnx.ml)
//! and reads such a node back into it, for qualify's own graphs and imported ones alike; the
//! runtime packs it for scoring and walks it for TreeSHAP. Each side reads the same fields
//! with the same meaning, [`TreeEnsemble::validate`] is the one structural check, and
//! [`Tree::path`] the one decision rule. [`TreeEnsemble::raw_score`] is the reference
//! evaluator: simple pointer chasing, used for golden rows and as the oracle the fast
//! evaluator is tested against.
//!
//! Conventions, fixed here so every side agrees:
//! - a split sends a row **left when `x[feature] <= threshold`** (ONNX `BRANCH_LEQ`), right
//!   otherwise; a NaN goes left only when the split says so (`nan_left`, ONNX
//!   `nodes_missing_value_tracks_true`), else right (qualify's encoder never produces NaN;
//!   imported LightGBM trees do route it);
//! - thresholds are `f32`, like the encoded features, so the comparison is exact on both
//!   sides (convert an `f64` threshold `t` with [`f32_threshold_leq`]);
//! - the raw score is log-odds: `base_score + Σ leaf values`;
//! - `cover` is the training weight (hessian sum, or row count) that reached a node; TreeSHAP
//!   needs it. An ensemble has covers on every node or on none (an imported graph may carry
//!   none). Node 0 is the root.

use serde::{Deserialize, Serialize};

/// Trees whose leaf values add up, with a constant, to log-odds of conversion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TreeEnsemble {
    /// Width of the encoded feature row the trees read.
    pub n_features: usize,
    /// Constant added to the sum of leaves (log-odds).
    pub base_score: f64,
    pub trees: Vec<Tree>,
}

/// One tree; `nodes[0]` is the root.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    pub nodes: Vec<Node>,
}

/// A node of a [`Tree`]; children are indices into the same tree's `nodes`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub enum Node {
    Split {
        feature: usize,
        /// Go left when `x[feature] <= threshold`.
        threshold: f32,
        /// Whether a NaN goes left (otherwise it goes right).
        #[serde(default)]
        nan_left: bool,
        left: usize,
        right: usize,
        /// Training weight that reached the node, when known.
        #[serde(default)]
        cover: Option<f64>,
    },
    Leaf {
        value: f64,
        /// Training weight that reached the node, when known.
        #[serde(default)]
        cover: Option<f64>,
    },
}

/// Why a [`TreeEnsemble`] is not a valid ensemble; every variant names the tree and node.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TreeError {
    #[error("base score {value} is not finite")]
    NonFiniteBase { value: f64 },
    #[error("tree {tree} has no nodes")]
    EmptyTree { tree: usize },
    #[error("tree {tree}: node {node} points to node {child}, outside the tree's {len} nodes")]
    ChildOutOfRange {
        tree: usize,
        node: usize,
        child: usize,
        len: usize,
    },
    #[error("tree {tree}: node {node} is reached twice from the root")]
    ReachedTwice { tree: usize, node: usize },
    #[error("tree {tree}: node {node} is unreachable from the root")]
    Unreachable { tree: usize, node: usize },
    #[error("tree {tree}: node {node} splits on feature {feature} of {n_features}")]
    FeatureOutOfRange {
        tree: usize,
        node: usize,
        feature: usize,
        n_features: usize,
    },
    #[error("tree {tree}: node {node} has a NaN threshold")]
    NanThreshold { tree: usize, node: usize },
    #[error("tree {tree}: leaf {node} has value {value}")]
    NonFiniteLeaf {
        tree: usize,
        node: usize,
        value: f64,
    },
    #[error("tree {tree}: node {node} has cover {cover} (a finite, non-negative weight expected)")]
    BadCover {
        tree: usize,
        node: usize,
        cover: f64,
    },
    #[error(
        "tree {tree}: node {node} {} a cover but other nodes {}: covers are on every node or on none",
        if *has { "has" } else { "lacks" },
        if *has { "lack one" } else { "have one" }
    )]
    MixedCovers { tree: usize, node: usize, has: bool },
}

/// Whether `x` takes the left branch of a split: the one decision rule.
#[inline(always)]
pub fn goes_left(x: f32, threshold: f32, nan_left: bool) -> bool {
    x <= threshold || (nan_left && x.is_nan())
}

impl Node {
    /// Training weight that reached the node, when known.
    pub fn cover(&self) -> Option<f64> {
        match *self {
            Node::Split { cover, .. } | Node::Leaf { cover, .. } => cover,
        }
    }
}

impl Tree {
    /// The node indices `x` visits, root first, its leaf last. On a tree that passed
    /// [`TreeEnsemble::validate`] the last one is always a leaf.
    pub fn path<'a>(&'a self, x: &'a [f32]) -> impl Iterator<Item = usize> + 'a {
        std::iter::successors(Some(0), move |&i| match self.nodes.get(i)? {
            Node::Leaf { .. } => None,
            Node::Split {
                feature,
                threshold,
                nan_left,
                left,
                right,
                ..
            } => {
                let v = x.get(*feature).copied().unwrap_or(f32::NAN);
                Some(if goes_left(v, *threshold, *nan_left) {
                    *left
                } else {
                    *right
                })
            }
        })
    }

    /// Leaf value reached by `x` (NaN on a tree that fails [`TreeEnsemble::validate`]).
    pub fn leaf_value(&self, x: &[f32]) -> f64 {
        match self.path(x).last().and_then(|i| self.nodes.get(i)) {
            Some(Node::Leaf { value, .. }) => *value,
            _ => f64::NAN,
        }
    }
}

impl TreeEnsemble {
    /// Log-odds for one encoded row (`n_features` long), on a validated ensemble.
    pub fn raw_score(&self, x: &[f32]) -> f64 {
        self.base_score + self.trees.iter().map(|t| t.leaf_value(x)).sum::<f64>()
    }

    /// Whether every node carries its cover (what TreeSHAP needs). True for an ensemble
    /// without nodes.
    pub fn has_covers(&self) -> bool {
        self.nodes().all(|n| n.cover().is_some())
    }

    /// Each node's cover by tree and node index, when every node has one.
    pub fn covers(&self) -> Option<Vec<Vec<f64>>> {
        self.trees
            .iter()
            .map(|t| t.nodes.iter().map(Node::cover).collect())
            .collect()
    }

    fn nodes(&self) -> impl Iterator<Item = &Node> {
        self.trees.iter().flat_map(|t| &t.nodes)
    }

    /// Checks that the base score is finite; every tree is non-empty, its children in
    /// range, and every node reached exactly once from the root; split features are below
    /// `n_features` and thresholds not NaN; leaf values are finite; and covers are finite,
    /// non-negative, and on every node or on none.
    ///
    /// # Errors
    /// The first problem found, naming the tree and node.
    pub fn validate(&self) -> Result<(), TreeError> {
        if !self.base_score.is_finite() {
            return Err(TreeError::NonFiniteBase {
                value: self.base_score,
            });
        }
        let with_covers = self.nodes().next().map(|n| n.cover().is_some());
        for (t, tree) in self.trees.iter().enumerate() {
            self.validate_tree(t, tree, with_covers.unwrap_or(false))?;
        }
        Ok(())
    }

    fn validate_tree(&self, t: usize, tree: &Tree, with_covers: bool) -> Result<(), TreeError> {
        let n = tree.nodes.len();
        if n == 0 {
            return Err(TreeError::EmptyTree { tree: t });
        }
        let mut seen = vec![false; n];
        let mut stack = vec![0usize];
        while let Some(i) = stack.pop() {
            if std::mem::replace(&mut seen[i], true) {
                return Err(TreeError::ReachedTwice { tree: t, node: i });
            }
            let node = tree.nodes[i];
            match (node.cover(), with_covers) {
                (Some(_), false) | (None, true) => {
                    return Err(TreeError::MixedCovers {
                        tree: t,
                        node: i,
                        has: !with_covers,
                    });
                }
                (Some(cover), true) if !(cover.is_finite() && cover >= 0.0) => {
                    return Err(TreeError::BadCover {
                        tree: t,
                        node: i,
                        cover,
                    });
                }
                _ => {}
            }
            match node {
                Node::Leaf { value, .. } if !value.is_finite() => {
                    return Err(TreeError::NonFiniteLeaf {
                        tree: t,
                        node: i,
                        value,
                    });
                }
                Node::Leaf { .. } => {}
                Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                    ..
                } => {
                    if feature >= self.n_features {
                        return Err(TreeError::FeatureOutOfRange {
                            tree: t,
                            node: i,
                            feature,
                            n_features: self.n_features,
                        });
                    }
                    if threshold.is_nan() {
                        return Err(TreeError::NanThreshold { tree: t, node: i });
                    }
                    if let Some(child) = [left, right].into_iter().find(|&c| c >= n) {
                        return Err(TreeError::ChildOutOfRange {
                            tree: t,
                            node: i,
                            child,
                            len: n,
                        });
                    }
                    stack.extend([left, right]);
                }
            }
        }
        match seen.iter().position(|s| !s) {
            Some(i) => Err(TreeError::Unreachable { tree: t, node: i }),
            None => Ok(()),
        }
    }
}

/// The largest `f32` that is `<= t`: for every `f32` x, `x <= t` exactly when
/// `x <= f32_threshold_leq(t)`, so a split learnt on `f64` thresholds gives the same branch
/// on `f32` inputs.
pub fn f32_threshold_leq(t: f64) -> f32 {
    let r = t as f32; // round to nearest
    if f64::from(r) > t { r.next_down() } else { r }
}

#[cfg(test)]
mod tests;
