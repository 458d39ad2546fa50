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
//! **Why not the textbook algorithm**: Algorithm 2 of the paper ([`mod@reference`]) carries, for
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
//! feature (`tree.rs`). A feature split twice on a path has one factor, the latest edge's
//! (cumulative `Z`, `O`): that edge divides out its ancestor's factor and takes back the
//! ancestor's share for the leaves below it. This is the edge decomposition of Linear
//! TreeShap (Yu, Bifet, Read and Xu, NeurIPS 2022), with exact quadrature in place of its
//! polynomial interpolation: no per-leaf tables (Fast TreeSHAP v2's grow as `2^depth` per
//! leaf), every factor in `[0, 1]`, and the results equal Algorithm 2's to about 1e-14.
//!
//! **Cost**: per row and tree, two passes over the splits with `⌈D/2⌉` multiply-adds per
//! split and quadrature node in fixed-size arrays (`tree.rs`: the kernel is compiled for
//! each order up to 8, then 12 and 16, and vectorised with AVX2 where the CPU has it, via
//! `pulp`'s runtime dispatch), no branch on the tree's shape and no division.
//!
//! **Memory**: per tree, 56 bytes per split and 8 per leaf (preorder layout, cumulative
//! `Z`, ancestor link), plus `2 × ⌈D/2⌉` reciprocals per split that repeats a feature of its
//! path: about 0.2 MB for 100 trees × 31 leaves. Per row, two `(splits + leaves) × ⌈D/2⌉`
//! scratch arrays of the largest tree (under 10 KB there), allocated once per call.
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
    trees: Vec<Planned>,
    /// The quadrature rules the trees use, each once.
    rules: Vec<Rule>,
    /// The largest `(splits + leaves) × block` and split count of a tree: the scratch sizes.
    scratch: usize,
    max_splits: usize,
}

/// A tree with the rule it integrates with and the block width of its kernel.
#[derive(Debug, Clone)]
struct Planned {
    tree: ShapTree,
    rule: usize,
    block: Block,
}

/// The block widths the kernel is compiled for: every order up to 8 exactly (a tree of up
/// to 16 distinct features on a path), then 12 and 16; a longer rule runs in blocks of 16.
/// A rule longer than the tree needs is still exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    Q1,
    Q2,
    Q3,
    Q4,
    Q5,
    Q6,
    Q7,
    Q8,
    Q12,
    Q16,
}

impl Block {
    /// The block, and the rule length, for a tree that needs `order` nodes.
    fn for_order(order: usize) -> (Block, usize) {
        let block = match order {
            0 | 1 => Block::Q1,
            2 => Block::Q2,
            3 => Block::Q3,
            4 => Block::Q4,
            5 => Block::Q5,
            6 => Block::Q6,
            7 => Block::Q7,
            8 => Block::Q8,
            9..=12 => Block::Q12,
            _ => Block::Q16,
        };
        let width = block.width();
        (block, order.max(1).next_multiple_of(width))
    }

    fn width(self) -> usize {
        match self {
            Block::Q1 => 1,
            Block::Q2 => 2,
            Block::Q3 => 3,
            Block::Q4 => 4,
            Block::Q5 => 5,
            Block::Q6 => 6,
            Block::Q7 => 7,
            Block::Q8 => 8,
            Block::Q12 => 12,
            Block::Q16 => 16,
        }
    }
}

impl TreeShap {
    /// Lays out `ensemble` for explanation.
    ///
    /// # Errors
    /// [`ShapError::NoCovers`] when it lacks covers, [`ShapError::Invalid`] when it fails
    /// [`TreeEnsemble::validate`], [`ShapError::TooLarge`] for a tree of 2³⁰ nodes or more.
    pub fn new(ensemble: &TreeEnsemble) -> Result<TreeShap, ShapError> {
        check(ensemble)?;
        let mut rules: Vec<Rule> = Vec::new();
        let mut trees = Vec::with_capacity(ensemble.trees.len());
        for (i, tree) in ensemble.trees.iter().enumerate() {
            let mut tree = ShapTree::new(tree, i, ensemble.n_features)?;
            let (block, length) = Block::for_order(tree.order);
            let rule = match rules.iter().position(|r| r.len() == length) {
                Some(r) => r,
                None => {
                    rules.push(Rule::new(length));
                    rules.len() - 1
                }
            };
            tree.set_rule(&rules[rule].t, &rules[rule].one_minus_t);
            trees.push(Planned { tree, rule, block });
        }
        Ok(TreeShap {
            n_features: ensemble.n_features,
            expected: expected_value(ensemble),
            scratch: trees
                .iter()
                .map(|t| t.tree.n_rows() * t.block.width())
                .max()
                .unwrap_or(0),
            max_splits: trees.iter().map(|t| t.tree.n_splits()).max().unwrap_or(0),
            rules,
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
        let mut state = vec![0u8; 2 * self.max_splits + 1];
        // The kernel is plain Rust over fixed-size arrays; compiled inside `dispatch`, it is
        // vectorised with AVX2 where the CPU has it (SSE2 otherwise).
        pulp::Arch::new().dispatch(
            #[inline(always)]
            || {
                for planned in &self.trees {
                    let rule = &self.rules[planned.rule];
                    let (t, omt, w) = (&rule.t[..], &rule.one_minus_t[..], &rule.w[..]);
                    let tree = &planned.tree;
                    let (p, s, st) = (&mut p[..], &mut s[..], &mut state[..]);
                    match planned.block {
                        Block::Q1 => tree.add::<1>(t, omt, w, x, phi, p, s, st),
                        Block::Q2 => tree.add::<2>(t, omt, w, x, phi, p, s, st),
                        Block::Q3 => tree.add::<3>(t, omt, w, x, phi, p, s, st),
                        Block::Q4 => tree.add::<4>(t, omt, w, x, phi, p, s, st),
                        Block::Q5 => tree.add::<5>(t, omt, w, x, phi, p, s, st),
                        Block::Q6 => tree.add::<6>(t, omt, w, x, phi, p, s, st),
                        Block::Q7 => tree.add::<7>(t, omt, w, x, phi, p, s, st),
                        Block::Q8 => tree.add::<8>(t, omt, w, x, phi, p, s, st),
                        Block::Q12 => tree.add::<12>(t, omt, w, x, phi, p, s, st),
                        Block::Q16 => tree.add::<16>(t, omt, w, x, phi, p, s, st),
                    }
                }
            },
        );
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
