//! Exact path-dependent TreeSHAP in `O(nodes × depth / 2)` per tree and row, in log-odds.
//!
//! **The game** (Lundberg et al. 2018, "Consistent individualized feature attribution for
//! tree ensembles"): the value of a feature set `S` for one tree is `E[f(x) | x_S]` by the
//! path-dependent rule: walk from the root; at a split on a feature in `S` follow `x`, at any
//! other split take both children weighted by their share of the training cover. A child's
//! share is `cover(child) / (cover(left) + cover(right))` (½ each when both are 0), so the
//! shares of a split always add to 1 even when the stored covers do not add up. The Shapley
//! values of that game add up exactly: `expected_value + Σ φ = raw score`, where
//! `expected_value` is the value of the empty set.
//!
//! **Why not the textbook algorithm**: Algorithm 2 of the paper ([`reference`]) carries, for
//! every leaf, a table of Shapley weights per subset size along the path, `O(leaves ×
//! depth²)` per tree with a recursion, a copy of the path per node and divisions in its
//! inner loop: about 0.9 ms per row for 100 trees × 31 leaves.
//!
//! **What we compute instead.** For one leaf `l` of value `v`, each distinct feature `j` on
//! its path has a zero fraction `Z_j` (the product of its edges' cover shares) and a one
//! fraction `O_j ∈ {0, 1}` (whether `x` satisfies all of its splits on the path); the leaf's
//! game is `v × Π_{j∈S} O_j × Π_{j∉S} Z_j`, and its Shapley value for feature `i` is, by the
//! Beta integral `∫₀¹ t^k (1-t)^(d-1-k) dt = k! (d-1-k)! / d!`,
//!
//! `φ_i(l) = v (O_i - Z_i) ∫₀¹ Π_{j≠i} F_j(t) dt`, with `F_j(t) = (1 - t) Z_j + t O_j`.
//!
//! The integrand is a polynomial of degree below the path's distinct feature count `d`, so
//! Gauss–Legendre quadrature with `⌈D/2⌉` nodes ([`quadrature`]; `D` the tree's largest `d`)
//! integrates it exactly, and only its values at those nodes are ever needed. Summed over
//! leaves, the products factor along the tree: a forward pass computes each node's prefix
//! product `P` of its path's factors, a backward pass the suffix sums `S` of leaf values
//! times the factors below, and each edge adds `(O - Z) ∫ P(parent) S(child)` to its
//! feature ([`tree`]). A feature split twice on a path has one factor, the latest edge's
//! (cumulative `Z`, `O`): that edge divides out its ancestor's factor and takes back the
//! ancestor's share for the leaves below it. This is the edge decomposition of Linear
//! TreeShap (Yu, Bifet, Read and Xu, NeurIPS 2022), with exact quadrature in place of its
//! polynomial interpolation: a handful of multiply-adds per node and quadrature node, no
//! per-leaf tables, and every factor in `[0, 1]`.
//!
//! **Memory**: per tree, 40 bytes per node (preorder layout, cumulative `Z`, ancestor link);
//! 100 trees × 31 leaves take about 240 KB. Per row, two `nodes × ⌈D/2⌉` scratch arrays of
//! the largest tree (about 5 KB there), allocated once per call.
//!
//! The game needs every node's cover: [`TreeShap::new`] only accepts an ensemble that has
//! them ([`TreeEnsemble::has_covers`]).

pub mod quadrature;
pub mod reference;
mod tree;

use qualify_core::trees::{Node, TreeEnsemble, TreeError};

use quadrature::Rule;
use tree::ShapTree;

/// Why an ensemble cannot be explained, or a row not explained.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ShapError {
    #[error("the tree ensemble carries no node covers (TreeSHAP weighs branches by them)")]
    NoCovers,
    #[error("invalid tree ensemble: {error}")]
    Invalid { error: TreeError },
    #[error("tree {tree} has {nodes} nodes, more than TreeSHAP's layout indexes")]
    TooLarge { tree: usize, nodes: usize },
    #[error("the {operand} has {got} entries, the ensemble reads {expected} features")]
    Width {
        operand: Operand,
        expected: usize,
        got: usize,
    },
}

/// Which argument of an explanation call has the wrong length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operand {
    /// The encoded row.
    Row,
    /// The per-feature output.
    Contributions,
}

impl std::fmt::Display for Operand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Operand::Row => "encoded row",
            Operand::Contributions => "contribution buffer",
        })
    }
}

/// Exact TreeSHAP over a validated ensemble that carries every node's cover (see the module
/// docs).
#[derive(Debug, Clone)]
pub struct TreeShap {
    n_features: usize,
    expected: f64,
    trees: Vec<ShapTree>,
    /// `rules[q - 1]` has `q` nodes, for every order a tree needs.
    rules: Vec<Rule>,
    /// The largest `nodes × order` and node count of a tree: the scratch sizes.
    scratch: usize,
    max_nodes: usize,
}

impl TreeShap {
    /// Lays out `ensemble` for explanation.
    ///
    /// # Errors
    /// [`ShapError::NoCovers`] when it lacks covers, [`ShapError::Invalid`] when it fails
    /// [`TreeEnsemble::validate`], [`ShapError::TooLarge`] for a tree of 2³² nodes or more.
    pub fn new(ensemble: &TreeEnsemble) -> Result<TreeShap, ShapError> {
        check(ensemble)?;
        let trees = ensemble
            .trees
            .iter()
            .enumerate()
            .map(|(i, t)| ShapTree::new(t, i, ensemble.n_features))
            .collect::<Result<Vec<_>, _>>()?;
        let max_order = trees.iter().map(|t| t.order).max().unwrap_or(1);
        Ok(TreeShap {
            n_features: ensemble.n_features,
            expected: expected_value(ensemble),
            scratch: trees.iter().map(|t| t.len() * t.order).max().unwrap_or(0),
            max_nodes: trees.iter().map(ShapTree::len).max().unwrap_or(0),
            rules: (1..=max_order).map(Rule::new).collect(),
            trees,
        })
    }

    /// The game's value of the empty set: the base score plus, over trees, the
    /// cover-weighted mean leaf value.
    pub fn expected_value(&self) -> f64 {
        self.expected
    }

    /// Width of the rows it explains.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Adds each feature's SHAP value for row `x` into `phi` (both `n_features` long).
    ///
    /// # Errors
    /// [`ShapError::Width`] when `x` or `phi` has another length.
    pub fn add_shap_values(&self, x: &[f32], phi: &mut [f64]) -> Result<(), ShapError> {
        check_widths(self.n_features, x, phi)?;
        let mut p = vec![0.0; self.scratch];
        let mut s = vec![0.0; self.scratch];
        let mut state = vec![0u8; self.max_nodes];
        for tree in &self.trees {
            let rule = &self.rules[tree.order - 1];
            tree.add(rule, x, phi, &mut p, &mut s, &mut state);
        }
        Ok(())
    }
}

/// Shares of the left and right child of a split (see the module docs; a missing cover
/// counts as 0).
pub fn child_shares(nodes: &[Node], left: usize, right: usize) -> (f64, f64) {
    let cover = |i: usize| nodes[i].cover().unwrap_or(0.0);
    let (l, r) = (cover(left), cover(right));
    let total = l + r;
    if total > 0.0 {
        (l / total, r / total)
    } else {
        (0.5, 0.5)
    }
}

/// The base score plus each tree's cover-weighted mean leaf value (iteratively: a validated
/// tree may be deep).
fn expected_value(ensemble: &TreeEnsemble) -> f64 {
    let mut total = ensemble.base_score;
    for tree in &ensemble.trees {
        let mut stack = vec![(0usize, 1.0f64)];
        while let Some((i, weight)) = stack.pop() {
            match tree.nodes[i] {
                Node::Leaf { value, .. } => total += weight * value,
                Node::Split { left, right, .. } => {
                    let (sl, sr) = child_shares(&tree.nodes, left, right);
                    stack.extend([(left, weight * sl), (right, weight * sr)]);
                }
            }
        }
    }
    total
}

/// What both algorithms need of an ensemble: covers, and a valid structure.
fn check(ensemble: &TreeEnsemble) -> Result<(), ShapError> {
    ensemble
        .validate()
        .map_err(|error| ShapError::Invalid { error })?;
    if ensemble.has_covers() {
        Ok(())
    } else {
        Err(ShapError::NoCovers)
    }
}

fn check_widths(n_features: usize, x: &[f32], phi: &[f64]) -> Result<(), ShapError> {
    for (operand, got) in [(Operand::Row, x.len()), (Operand::Contributions, phi.len())] {
        if got != n_features {
            return Err(ShapError::Width {
                operand,
                expected: n_features,
                got,
            });
        }
    }
    Ok(())
}
