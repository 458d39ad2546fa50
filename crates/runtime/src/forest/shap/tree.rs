//! One tree laid out for [`super::TreeShap`], and the two passes that explain one row with it.
//!
//! Only splits get a slot: in depth-first preorder (a parent before its children), each with
//! its two outgoing edges; a leaf is a value a child reference points to. Pass 1 walks the
//! splits forwards, pass 2 backwards, with no recursion and no allocation. What does not
//! depend on the row is computed once here: each edge's cumulative zero fraction `Z` (the
//! product of the cover shares of the path's edges on the same feature, this one included),
//! and the nearest ancestor edge on the same feature, whose factor the edge replaces. An edge
//! is named `2 × split + side` (side 0 = left).
//!
//! The kernel is generic over the number of quadrature nodes it carries per split, `Q`, so
//! that the per-node arrays are fixed-size and stay in registers; a rule longer than the
//! largest `Q` is integrated in blocks of `Q` nodes (nodes never interact until the final
//! weighted sum).

use qualify_core::trees::{Node, Tree, goes_left};

use super::{ShapError, child_shares};

/// No such split or edge.
const NONE: u32 = u32::MAX;
/// Set on a child reference that points into the leaf values.
const LEAF: u32 = 1 << 31;
/// Per-row split state: some coalition reaches the split (its incoming edge has `Z > 0` or
/// `O = 1`). Otherwise its subtree adds nothing and is skipped.
const ALIVE: u8 = 1;
/// Per-row split state, shifted by the side: the row satisfies every split on the path on
/// this edge's feature (`O = 1`).
const HOT: u8 = 2;
/// Per-row split state, shifted by the side: the edge is reached by some coalition.
const LIVE_EDGE: u8 = 8;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Split {
    feature: u32,
    /// `x <= threshold` goes left.
    threshold: f32,
    nan_left: bool,
    /// `[left, right]`: a split index, or [`LEAF`] | a leaf index.
    child: [u32; 2],
    /// `Z` of each outgoing edge.
    zero: [f64; 2],
    /// The nearest edge above on the same feature (the same for both sides), or [`NONE`].
    ancestor: u32,
    /// That edge's `Z` (1 without one).
    ancestor_zero: f64,
}

/// A tree in explanation layout.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ShapTree {
    splits: Vec<Split>,
    leaves: Vec<f64>,
    /// Quadrature nodes this tree needs: half the most distinct features on one path,
    /// rounded up (the integrands' degree is below that count).
    pub order: usize,
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

impl ShapTree {
    /// Lays out tree `index` of a validated ensemble with covers over `n_features`.
    pub fn new(tree: &Tree, index: usize, n_features: usize) -> Result<ShapTree, ShapError> {
        let too_large = || ShapError::TooLarge {
            tree: index,
            nodes: tree.nodes.len(),
        };
        // Both kinds of index, and edge names, fit below LEAF.
        if tree.nodes.len() >= (LEAF / 2) as usize {
            return Err(too_large());
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
        Ok(ShapTree {
            splits,
            leaves,
            order: most_distinct.div_ceil(2).max(1),
        })
    }

    /// Number of splits (the scratch rows a row needs).
    pub fn n_splits(&self) -> usize {
        self.splits.len()
    }

    /// Adds the tree's SHAP values for row `x` into `phi` (both checked to be `n_features`
    /// long), integrating with the rule `(t, w)` in blocks of `Q` nodes (`t.len()` a multiple
    /// of `Q`, at least [`ShapTree::order`]). `p` and `s` hold at least `n_splits() × Q`
    /// entries, `state` `n_splits()`.
    #[allow(clippy::too_many_arguments)]
    pub fn add<const Q: usize>(
        &self,
        t: &[f64],
        one_minus_t: &[f64],
        w: &[f64],
        x: &[f32],
        phi: &mut [f64],
        p: &mut [f64],
        s: &mut [f64],
        state: &mut [u8],
    ) {
        let n = self.splits.len();
        if n == 0 {
            return; // a single leaf: no feature changes its value
        }
        let p = &mut p.as_chunks_mut::<Q>().0[..n];
        let s = &mut s.as_chunks_mut::<Q>().0[..n];
        let state = &mut state[..n];
        let blocks = t
            .as_chunks::<Q>()
            .0
            .iter()
            .zip(one_minus_t.as_chunks::<Q>().0)
            .zip(w.as_chunks::<Q>().0);
        for ((t, omt), w) in blocks {
            self.forward(t, omt, x, p, state);
            self.backward(t, omt, w, phi, p, s, state);
        }
    }

    /// Pass 1, root to leaves: which edges the row satisfies and which some coalition
    /// reaches, and each split's prefix product `P` = Π over its path's features of their
    /// latest factor `F = (1 - t) Z + t O`.
    fn forward<const Q: usize>(
        &self,
        t: &[f64; Q],
        omt: &[f64; Q],
        x: &[f32],
        p: &mut [[f64; Q]],
        state: &mut [u8],
    ) {
        p[0] = [1.0; Q];
        state[0] = ALIVE;
        for (k, split) in self.splits.iter().enumerate() {
            if state[k] & ALIVE == 0 {
                for c in split.child {
                    if c & LEAF == 0 {
                        state[c as usize] = 0;
                    }
                }
                continue;
            }
            let left = goes_left(x[split.feature as usize], split.threshold, split.nan_left);
            let (ancestor_hot, oa) = match split.ancestor {
                NONE => (true, 1.0),
                a => {
                    let hot = state[(a / 2) as usize] & (HOT << (a % 2)) != 0;
                    (hot, f64::from(u8::from(hot)))
                }
            };
            let mut st = ALIVE;
            for side in 0..2 {
                let hot = ancestor_hot && (side == 0) == left;
                let live = hot || split.zero[side] > 0.0;
                st |= u8::from(hot) * (HOT << side) | u8::from(live) * (LIVE_EDGE << side);
                let c = split.child[side];
                if c & LEAF != 0 {
                    continue;
                }
                let c = c as usize;
                state[c] = u8::from(live) * ALIVE;
                if !live {
                    continue;
                }
                let (o, z, za) = (
                    f64::from(u8::from(hot)),
                    split.zero[side],
                    split.ancestor_zero,
                );
                let pk = p[k];
                let pc = &mut p[c];
                if split.ancestor == NONE {
                    for m in 0..Q {
                        pc[m] = pk[m] * (omt[m] * z + o * t[m]);
                    }
                } else {
                    for m in 0..Q {
                        pc[m] = pk[m] * (omt[m] * z + o * t[m]) / (omt[m] * za + oa * t[m]);
                    }
                }
            }
            state[k] = st;
        }
    }

    /// Pass 2, leaves to root: each split's suffix sum `S` = Σ over the leaves below of value
    /// × the factors between, and each split's share of the integral for its feature:
    /// `Σ_side (O - Z) ∫ P S(child)`, less, for a feature met before on the path, the share
    /// the ancestor edge already counted for these leaves.
    #[allow(clippy::too_many_arguments)]
    fn backward<const Q: usize>(
        &self,
        t: &[f64; Q],
        omt: &[f64; Q],
        w: &[f64; Q],
        phi: &mut [f64],
        p: &[[f64; Q]],
        s: &mut [[f64; Q]],
        state: &[u8],
    ) {
        for (k, split) in self.splits.iter().enumerate().rev() {
            let st = state[k];
            if st & ALIVE == 0 {
                continue;
            }
            let mut sk = [0.0; Q];
            let mut acc = [0.0; Q];
            let oa = f64::from(u8::from(
                split.ancestor != NONE
                    && state[(split.ancestor / 2) as usize] & (HOT << (split.ancestor % 2)) != 0,
            ));
            let oza = oa - split.ancestor_zero;
            for side in 0..2 {
                if st & (LIVE_EDGE << side) == 0 {
                    continue;
                }
                let c = split.child[side];
                let sc = if c & LEAF != 0 {
                    [self.leaves[(c & !LEAF) as usize]; Q]
                } else {
                    s[c as usize]
                };
                let o = f64::from(u8::from(st & (HOT << side) != 0));
                let z = split.zero[side];
                if split.ancestor == NONE {
                    for m in 0..Q {
                        sk[m] += (omt[m] * z + o * t[m]) * sc[m];
                        acc[m] += (o - z) * sc[m];
                    }
                } else {
                    for m in 0..Q {
                        let inv = 1.0 / (omt[m] * split.ancestor_zero + oa * t[m]);
                        let r = (omt[m] * z + o * t[m]) * inv;
                        sk[m] += r * sc[m];
                        acc[m] += inv * (o - z - oza * r) * sc[m];
                    }
                }
            }
            s[k] = sk;
            let pk = &p[k];
            let mut total = 0.0;
            for m in 0..Q {
                total += w[m] * pk[m] * acc[m];
            }
            phi[split.feature as usize] += total;
        }
    }
}
