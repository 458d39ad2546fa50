//! One tree laid out for [`super::TreeShap`], and the two passes that explain one row with it.
//!
//! Splits are in depth-first preorder (a parent before its children), each with its two
//! outgoing edges (named `2 × split + side`, side 0 = left); leaves follow as values. Pass 1
//! walks the splits forwards, pass 2 backwards, with no recursion and no allocation. What
//! does not depend on the row is computed once here: each edge's cumulative zero fraction `Z`
//! (the product of the cover shares of the path's edges on the same feature, this one
//! included), the nearest ancestor edge on the same feature, whose factor the edge replaces,
//! and the reciprocal of that factor at each quadrature node, for both states of the
//! ancestor.
//!
//! Why branch-free: which child is a leaf, which split repeats a feature and which edge no
//! coalition reaches vary from split to split, and a mispredicted branch costs as much as the
//! arithmetic of a split. So every split runs the same arithmetic: a leaf has a scratch row
//! like a split (its `S` is its value), a split without a same-feature ancestor points at an
//! always-satisfied sentinel edge and rows of ones, and an unreachable edge (`Z = 0`, `O = 0`)
//! has `F = 0`, which zeroes everything below it (the reciprocal table holds 0 where
//! `1 / F` would be infinite, so no NaN appears).
//!
//! The kernel is generic over the number of quadrature nodes it carries per split, `Q`, so
//! that the per-node arrays are fixed-size and stay in registers; a rule longer than the
//! largest `Q` is integrated in blocks of `Q` nodes (nodes never interact until the final
//! weighted sum).

use qualify_core::trees::{Node, Tree, goes_left};

use super::{ShapError, child_shares};

/// No such split or edge.
const NONE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Split {
    feature: u32,
    /// `x <= threshold` goes left.
    threshold: f32,
    nan_left: bool,
    /// `[left, right]` scratch rows: a split's index, or `n_splits` + a leaf's index.
    child: [u32; 2],
    /// `Z` of each outgoing edge.
    zero: [f64; 2],
    /// The nearest edge above on the same feature (the same for both sides), or the
    /// always-satisfied sentinel edge `2 × n_splits`.
    ancestor: u32,
    /// That edge's `Z` (1 for the sentinel).
    ancestor_zero: f64,
    /// First of this split's two rows of `1 / F(ancestor)` (ancestor unsatisfied, satisfied)
    /// in [`ShapTree::inverse`]; 0 (two rows of ones) without an ancestor.
    inverse: u32,
}

/// A tree in explanation layout, for one quadrature rule.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ShapTree {
    splits: Vec<Split>,
    leaves: Vec<f64>,
    /// Quadrature nodes this tree needs: half the most distinct features on one path,
    /// rounded up (the integrands' degree is below that count).
    pub order: usize,
    /// Rows of `rule length` values: two rows of ones, then per split with an ancestor
    /// `1 / F(ancestor)` at each quadrature node with the ancestor unsatisfied
    /// (`1 / ((1 - t) Z)`, or 0 when that `Z` is 0: the edge below is then unreachable) and
    /// satisfied (`1 / ((1 - t) Z + t)`).
    inverse: Vec<f64>,
}

/// A DFS step: enter a node through an edge, or leave an edge (restoring the feature's
/// latest edge on the path).
enum Step {
    Enter {
        node: usize,
        edge: u32,
        share: f64,
        distinct: usize,
    },
    Leave {
        feature: usize,
        saved: u32,
    },
}

/// Where a child reference points before the leaves' rows are numbered after the splits.
const LEAF: u32 = 1 << 31;

impl ShapTree {
    /// Lays out tree `index` of a validated ensemble with covers over `n_features`; call
    /// [`ShapTree::set_rule`] before explaining with it.
    pub fn new(tree: &Tree, index: usize, n_features: usize) -> Result<ShapTree, ShapError> {
        // Scratch rows, edge names and the sentinel all fit below LEAF.
        if tree.nodes.len() >= (LEAF / 2) as usize {
            return Err(ShapError::TooLarge {
                tree: index,
                nodes: tree.nodes.len(),
            });
        }
        let mut splits: Vec<Split> = Vec::new();
        let mut leaves = Vec::new();
        // The latest edge on the current path per feature.
        let mut latest = vec![NONE; n_features];
        let mut most_distinct = 0;
        let mut stack = vec![Step::Enter {
            node: 0,
            edge: NONE,
            share: 1.0,
            distinct: 0,
        }];
        while let Some(step) = stack.pop() {
            let (node, edge, share, mut distinct) = match step {
                Step::Leave { feature, saved } => {
                    latest[feature] = saved;
                    continue;
                }
                Step::Enter {
                    node,
                    edge,
                    share,
                    distinct,
                } => (node, edge, share, distinct),
            };
            let (parent, side) = ((edge / 2) as usize, (edge % 2) as usize);
            if edge != NONE {
                let feature = splits[parent].feature as usize;
                let ancestor = latest[feature];
                let ancestor_zero = match ancestor {
                    NONE => {
                        distinct += 1;
                        1.0
                    }
                    a => splits[(a / 2) as usize].zero[(a % 2) as usize],
                };
                let p = &mut splits[parent];
                p.zero[side] = share * ancestor_zero;
                p.ancestor = ancestor;
                p.ancestor_zero = ancestor_zero;
                stack.push(Step::Leave {
                    feature,
                    saved: ancestor,
                });
                latest[feature] = edge;
            }
            // Fits: the node count was checked above.
            let reference = match tree.nodes[node] {
                Node::Leaf { value, .. } => {
                    most_distinct = most_distinct.max(distinct);
                    leaves.push(value);
                    LEAF | (leaves.len() - 1) as u32
                }
                Node::Split {
                    feature,
                    threshold,
                    nan_left,
                    left,
                    right,
                    ..
                } => {
                    let k = splits.len() as u32;
                    splits.push(Split {
                        feature: feature as u32,
                        threshold,
                        nan_left,
                        child: [NONE; 2],
                        zero: [0.0; 2],
                        ancestor: NONE,
                        ancestor_zero: 1.0,
                        inverse: 0,
                    });
                    let (share_left, share_right) = child_shares(&tree.nodes, left, right);
                    // Right pushed first, so the left subtree comes next in preorder.
                    for (child, share, side) in [(right, share_right, 1), (left, share_left, 0)] {
                        stack.push(Step::Enter {
                            node: child,
                            edge: 2 * k + side,
                            share,
                            distinct,
                        });
                    }
                    k
                }
            };
            if edge != NONE {
                splits[parent].child[side] = reference;
            }
        }
        // Leaves' rows follow the splits'; no ancestor means the sentinel edge.
        let n = splits.len() as u32;
        for split in &mut splits {
            for c in &mut split.child {
                if *c & LEAF != 0 {
                    *c = n + (*c & !LEAF);
                }
            }
            if split.ancestor == NONE {
                split.ancestor = 2 * n;
            }
        }
        Ok(ShapTree {
            splits,
            leaves,
            order: most_distinct.div_ceil(2).max(1),
            inverse: Vec::new(),
        })
    }

    /// Computes the ancestors' inverse factors at the nodes `(t, 1 - t)` of the rule this
    /// tree will be explained with.
    pub fn set_rule(&mut self, t: &[f64], one_minus_t: &[f64]) {
        let len = t.len();
        let mut inverse = vec![1.0; 2 * len];
        let n = self.splits.len() as u32;
        for split in &mut self.splits {
            if split.ancestor == 2 * n {
                split.inverse = 0;
                continue;
            }
            // Fits: two rows per split, and the split count was checked.
            split.inverse = (inverse.len() / len) as u32;
            let za = split.ancestor_zero;
            // An unsatisfied ancestor with Z = 0 (or so small that 1 / F overflows) leaves
            // the edges below unreachable, or all but: they add nothing, and 0 keeps them
            // finite.
            inverse.extend(one_minus_t.iter().map(|&omt| {
                let f = omt * za;
                if f >= f64::MIN_POSITIVE { 1.0 / f } else { 0.0 }
            }));
            inverse.extend(
                t.iter()
                    .zip(one_minus_t)
                    .map(|(&t, &omt)| 1.0 / (omt * za + t)),
            );
        }
        self.inverse = inverse;
    }

    /// Number of splits.
    pub fn n_splits(&self) -> usize {
        self.splits.len()
    }

    /// Number of scratch rows a row needs (splits and leaves).
    pub fn n_rows(&self) -> usize {
        self.splits.len() + self.leaves.len()
    }

    /// Adds the tree's SHAP values for row `x` into `phi` (both checked to be `n_features`
    /// long), integrating with the rule given to [`ShapTree::set_rule`], `(t, 1 - t, w)`, in
    /// blocks of `Q` nodes (its length is a multiple of `Q`). `p` and `s` hold at least
    /// `n_rows() × Q` entries, `hot` `2 × n_splits() + 1`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    pub fn add<const Q: usize>(
        &self,
        t: &[f64],
        one_minus_t: &[f64],
        w: &[f64],
        x: &[f32],
        phi: &mut [f64],
        p: &mut [f64],
        s: &mut [f64],
        hot: &mut [u8],
    ) {
        let n = self.splits.len();
        if n == 0 {
            return; // a single leaf: no feature changes its value
        }
        let rows = self.n_rows();
        let p = &mut p.as_chunks_mut::<Q>().0[..rows];
        let s = &mut s.as_chunks_mut::<Q>().0[..rows];
        let hot = &mut hot[..2 * n + 1];
        let len = t.len();
        let blocks = t
            .as_chunks::<Q>()
            .0
            .iter()
            .zip(one_minus_t.as_chunks::<Q>().0)
            .zip(w.as_chunks::<Q>().0)
            .enumerate();
        for (b, ((t, omt), w)) in blocks {
            let inverse = self.inverse.get(b * Q..).unwrap_or_default();
            let lanes = Lanes {
                t,
                omt,
                w,
                inverse,
                len,
            };
            self.forward(&lanes, x, p, hot);
            for (row, &value) in s[n..].iter_mut().zip(&self.leaves) {
                *row = [value; Q];
            }
            self.backward(&lanes, phi, p, s, hot);
        }
    }

    /// Pass 1, root to leaves: which edges the row satisfies, and each node's prefix product
    /// `P` = Π over its path's features of their latest factor `F = (1 - t) Z + t O`.
    #[inline(always)]
    fn forward<const Q: usize>(
        &self,
        l: &Lanes<'_, Q>,
        x: &[f32],
        p: &mut [[f64; Q]],
        hot: &mut [u8],
    ) {
        let n = self.splits.len();
        p[0] = [1.0; Q];
        hot[2 * n] = 1;
        for (k, split) in self.splits.iter().enumerate() {
            let left = goes_left(x[split.feature as usize], split.threshold, split.nan_left);
            let oa = hot[split.ancestor as usize];
            let satisfied = [oa & u8::from(left), oa & u8::from(!left)];
            hot[2 * k] = satisfied[0];
            hot[2 * k + 1] = satisfied[1];
            let g = l.inverse(split.inverse as usize + usize::from(oa));
            let mut pg = p[k];
            for m in 0..Q {
                pg[m] *= g[m];
            }
            for side in 0..2 {
                let (o, z) = (f64::from(satisfied[side]), split.zero[side]);
                let pc = &mut p[split.child[side] as usize];
                for m in 0..Q {
                    pc[m] = pg[m] * (l.omt[m] * z + o * l.t[m]);
                }
            }
        }
    }

    /// Pass 2, leaves to root: each split's suffix sum `S` = Σ over the leaves below of value
    /// × the factors between, and each split's share of the integral for its feature:
    /// `Σ_side (O - Z) ∫ P S(child)`, less, for a feature met before on the path, the share
    /// the ancestor edge already counted for these leaves.
    fn backward<const Q: usize>(
        &self,
        l: &Lanes<'_, Q>,
        phi: &mut [f64],
        p: &[[f64; Q]],
        s: &mut [[f64; Q]],
        hot: &[u8],
    ) {
        for (k, split) in self.splits.iter().enumerate().rev() {
            let oa = hot[split.ancestor as usize];
            let g = l.inverse(split.inverse as usize + usize::from(oa));
            let oza = f64::from(oa) - split.ancestor_zero;
            // u = Σ_side F S(child), d = Σ_side (O - Z) S(child); then S = g u and the
            // integrand is P g (d - (O_a - Z_a) g u), g = 1 / F(ancestor) (1 without one).
            let mut u = [0.0; Q];
            let mut d = [0.0; Q];
            for side in 0..2 {
                let sc = &s[split.child[side] as usize];
                let (o, z) = (f64::from(hot[2 * k + side]), split.zero[side]);
                let oz = o - z;
                for m in 0..Q {
                    u[m] += (l.omt[m] * z + o * l.t[m]) * sc[m];
                    d[m] += oz * sc[m];
                }
            }
            let pk = &p[k];
            let sk = &mut s[k];
            let mut total = 0.0;
            for m in 0..Q {
                sk[m] = g[m] * u[m];
                total += l.w[m] * pk[m] * g[m] * (d[m] - oza * sk[m]);
            }
            phi[split.feature as usize] += total;
        }
    }
}

/// One block of `Q` quadrature nodes, and where the tree's inverse rows hold them.
struct Lanes<'a, const Q: usize> {
    t: &'a [f64; Q],
    omt: &'a [f64; Q],
    w: &'a [f64; Q],
    /// The inverse table from this block's first node on.
    inverse: &'a [f64],
    /// The rule's length: the stride of the inverse rows.
    len: usize,
}

impl<const Q: usize> Lanes<'_, Q> {
    /// Row `row` of the inverse table, at this block's nodes ([`ShapTree::set_rule`] wrote
    /// every row a split names; ones otherwise).
    #[inline(always)]
    fn inverse(&self, row: usize) -> [f64; Q] {
        self.inverse
            .get(row * self.len..)
            .and_then(|r| r.first_chunk::<Q>())
            .copied()
            .unwrap_or([1.0; Q])
    }
}
