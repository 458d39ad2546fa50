//! One tree laid out for [`super::TreeShap`], and the two passes that explain one row with it.
//!
//! Nodes are in depth-first preorder (a split's left child follows it), so a parent always
//! comes before its children: pass 1 walks the array forwards and pass 2 backwards, with no
//! recursion and no allocation. Everything that does not depend on the row is computed here
//! once: each edge's cumulative zero fraction `Z` (the product of the cover shares of the
//! edges on the path that split on the same feature, this one included) and the nearest
//! ancestor edge on the same feature, whose factor the edge replaces.

use qualify_core::trees::{Node, Tree, goes_left};

use super::quadrature::Rule;
use super::{ShapError, child_shares};

/// "No such node": the root's parent, an edge without a same-feature ancestor, a leaf's
/// right child.
const NONE: u32 = u32::MAX;
/// Per-row node state: the row satisfies every split on the path on this edge's feature
/// (`O = 1`).
const HOT: u8 = 1;
/// Per-row node state: some coalition reaches the node (`Z > 0` or `O = 1`); a dead subtree
/// adds nothing and is skipped.
const ALIVE: u8 = 2;

#[derive(Debug, Clone, Copy, PartialEq)]
struct ShapNode {
    /// A split's feature (unused on a leaf).
    feature: u32,
    /// A split's threshold (`x <= threshold` goes left).
    threshold: f32,
    /// A split's right child (the left one is the next node); [`NONE`] on a leaf.
    right: u32,
    nan_left: bool,
    /// The parent ([`NONE`] on the root).
    parent: u32,
    /// The node whose incoming edge is the nearest one above on the same feature, if any.
    ancestor: u32,
    /// `Z` of the incoming edge (1 on the root).
    zero: f64,
    /// A leaf's value (0 on a split).
    value: f64,
}

/// A tree in explanation layout, with the quadrature order its depth needs.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ShapTree {
    nodes: Vec<ShapNode>,
    /// The number of quadrature nodes: half the most distinct features on one path, rounded
    /// up (the integrands' degree is below that count).
    pub order: usize,
}

/// What a DFS step does: enter a node, or leave an edge (restoring the feature's latest
/// edge on the path).
enum Step {
    Enter {
        node: usize,
        parent: u32,
        share: f64,
        is_right: bool,
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
        if u32::try_from(tree.nodes.len()).map_or(true, |n| n == NONE) {
            return Err(too_large());
        }
        let mut nodes: Vec<ShapNode> = Vec::with_capacity(tree.nodes.len());
        // The latest edge on the current path per feature, by the node it leads to.
        let mut latest = vec![NONE; n_features];
        let mut most_distinct = 0;
        let mut stack = vec![Step::Enter {
            node: 0,
            parent: NONE,
            share: 1.0,
            is_right: false,
            distinct: 0,
        }];
        while let Some(step) = stack.pop() {
            let (node, parent, share, is_right, mut distinct) = match step {
                Step::Leave { feature, saved } => {
                    latest[feature] = saved;
                    continue;
                }
                Step::Enter {
                    node,
                    parent,
                    share,
                    is_right,
                    distinct,
                } => (node, parent, share, is_right, distinct),
            };
            // Fits: the node count was checked above.
            let k = nodes.len() as u32;
            let (mut ancestor, mut zero) = (NONE, share);
            if parent != NONE {
                let feature = nodes[parent as usize].feature as usize;
                ancestor = latest[feature];
                match nodes.get(ancestor as usize) {
                    Some(a) => zero *= a.zero,
                    None => distinct += 1,
                }
                stack.push(Step::Leave {
                    feature,
                    saved: ancestor,
                });
                latest[feature] = k;
                if is_right {
                    nodes[parent as usize].right = k;
                }
            }
            let mut laid = ShapNode {
                feature: 0,
                threshold: 0.0,
                right: NONE,
                nan_left: false,
                parent,
                ancestor,
                zero,
                value: 0.0,
            };
            match tree.nodes[node] {
                Node::Leaf { value, .. } => {
                    laid.value = value;
                    most_distinct = most_distinct.max(distinct);
                }
                Node::Split {
                    feature,
                    threshold,
                    nan_left,
                    left,
                    right,
                    ..
                } => {
                    laid.feature = u32::try_from(feature).map_err(|_| too_large())?;
                    laid.threshold = threshold;
                    laid.nan_left = nan_left;
                    let (share_left, share_right) = child_shares(&tree.nodes, left, right);
                    for (child, share, is_right) in
                        [(right, share_right, true), (left, share_left, false)]
                    {
                        stack.push(Step::Enter {
                            node: child,
                            parent: k,
                            share,
                            is_right,
                            distinct,
                        });
                    }
                }
            }
            nodes.push(laid);
        }
        Ok(ShapTree {
            nodes,
            order: most_distinct.div_ceil(2).max(1),
        })
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Adds the tree's SHAP values for row `x` into `phi` (both checked to be `n_features`
    /// long). `rule` has [`ShapTree::order`] nodes; `p`, `s` and `state` hold at least
    /// `len() × order`, `len() × order` and `len()` entries.
    pub fn add(
        &self,
        rule: &Rule,
        x: &[f32],
        phi: &mut [f64],
        p: &mut [f64],
        s: &mut [f64],
        state: &mut [u8],
    ) {
        let nodes = self.nodes.as_slice();
        let q = rule.len();
        if nodes.len() < 2 {
            return; // a single leaf: no feature changes its value
        }
        let (t, one_minus_t, w) = (&rule.t[..q], &rule.one_minus_t[..q], &rule.w[..q]);

        // Pass 1, root to leaves: which edges the row satisfies, and the prefix products
        // P(node) = Π over the path's features of their latest factor F = (1 - t) Z + t O.
        p[..q].fill(1.0);
        state[0] = HOT | ALIVE;
        for (k, node) in nodes.iter().enumerate() {
            if node.right == NONE {
                s[k * q..][..q].fill(node.value);
                continue;
            }
            s[k * q..][..q].fill(0.0);
            let right = node.right as usize;
            if state[k] & ALIVE == 0 {
                state[k + 1] = 0;
                state[right] = 0;
                continue;
            }
            let left = goes_left(x[node.feature as usize], node.threshold, node.nan_left);
            for (c, satisfied) in [(k + 1, left), (right, !left)] {
                let child = &nodes[c];
                let ancestor = nodes.get(child.ancestor as usize);
                let hot = satisfied
                    && (child.ancestor == NONE || state[child.ancestor as usize] & HOT != 0);
                let alive = hot || child.zero > 0.0;
                state[c] = u8::from(hot) * HOT | u8::from(alive) * ALIVE;
                if !alive {
                    continue;
                }
                let (before, after) = p.split_at_mut(c * q);
                let (pk, pc) = (&before[k * q..][..q], &mut after[..q]);
                let o = f64::from(u8::from(hot));
                match ancestor {
                    None => {
                        for m in 0..q {
                            pc[m] = pk[m] * (one_minus_t[m] * child.zero + o * t[m]);
                        }
                    }
                    Some(a) => {
                        let oa = f64::from(state[child.ancestor as usize] & HOT);
                        for m in 0..q {
                            let f = one_minus_t[m] * child.zero + o * t[m];
                            let fa = one_minus_t[m] * a.zero + oa * t[m];
                            pc[m] = pk[m] * f / fa;
                        }
                    }
                }
            }
        }

        // Pass 2, leaves to root: the suffix sums S(node) = Σ over the leaves below of
        // value × the factors between, and each edge's share of the integral.
        for c in (1..nodes.len()).rev() {
            let st = state[c];
            if st & ALIVE == 0 {
                continue;
            }
            let child = &nodes[c];
            let k = child.parent as usize;
            let feature = nodes[k].feature as usize;
            let o = f64::from(st & HOT);
            let (before, after) = s.split_at_mut(c * q);
            let (sk, sc) = (&mut before[k * q..][..q], &after[..q]);
            let pk = &p[k * q..][..q];
            let mut acc = 0.0;
            match nodes.get(child.ancestor as usize) {
                None => {
                    for m in 0..q {
                        acc += w[m] * pk[m] * sc[m];
                        sk[m] += (one_minus_t[m] * child.zero + o * t[m]) * sc[m];
                    }
                    acc *= o - child.zero;
                }
                Some(a) => {
                    let oa = f64::from(state[child.ancestor as usize] & HOT);
                    let (oz, oza) = (o - child.zero, oa - a.zero);
                    for m in 0..q {
                        let inv = 1.0 / (one_minus_t[m] * a.zero + oa * t[m]);
                        let r = (one_minus_t[m] * child.zero + o * t[m]) * inv;
                        acc += w[m] * pk[m] * sc[m] * inv * (oz - oza * r);
                        sk[m] += r * sc[m];
                    }
                }
            }
            phi[feature] += acc;
        }
    }
}
