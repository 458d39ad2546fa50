//! Exact path-dependent TreeSHAP (Lundberg et al. 2018, "Consistent individualized feature
//! attribution for tree ensembles", Algorithm 2), in log-odds.
//!
//! The value of a feature set `S` for one tree is the path-dependent conditional expectation
//! `E[f(x) | x_S]`: walk from the root; at a split on a feature in `S` follow `x`, at any
//! other split take both children weighted by their share of the training cover. The Shapley
//! values of that game over all features are computed in `O(leaves × depth²)` per tree, and
//! they add up exactly: `expected_value + Σ φ = raw score`, where `expected_value` is the
//! game's value of the empty set. A child's share is `cover(child) / (cover(left) +
//! cover(right))` (½ each when both are 0), so the shares of a split always add to 1 even
//! when the stored covers do not add up exactly.
//!
//! The game needs every node's cover: [`TreeShap::new`] only accepts an ensemble that has
//! them ([`TreeEnsemble::has_covers`]).

use qualify_core::trees::{Node, TreeEnsemble, goes_left};

const NO_FEATURE: usize = usize::MAX;

#[derive(Debug, Clone, Copy)]
struct PathElement {
    feature: usize,
    zero_fraction: f64,
    one_fraction: f64,
    pweight: f64,
}

const EMPTY: PathElement = PathElement {
    feature: NO_FEATURE,
    zero_fraction: 0.0,
    one_fraction: 0.0,
    pweight: 0.0,
};

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

/// TreeSHAP over a validated ensemble that carries every node's cover.
#[derive(Debug, Clone)]
pub struct TreeShap {
    ensemble: TreeEnsemble,
    expected: f64,
}

impl TreeShap {
    /// `None` when `ensemble` lacks covers or fails [`TreeEnsemble::validate`].
    pub fn new(ensemble: TreeEnsemble) -> Option<TreeShap> {
        let usable = ensemble.has_covers() && ensemble.validate().is_ok();
        usable.then(|| TreeShap {
            expected: expected_value(&ensemble),
            ensemble,
        })
    }

    /// The game's value of the empty set: the base score plus, over trees, the
    /// cover-weighted mean leaf value.
    pub fn expected_value(&self) -> f64 {
        self.expected
    }

    /// The ensemble explained.
    pub fn ensemble(&self) -> &TreeEnsemble {
        &self.ensemble
    }

    /// Adds each feature's SHAP value for row `x` (`n_features` long) into `phi`
    /// (`n_features` long).
    pub fn add_shap_values(&self, x: &[f32], phi: &mut [f64]) {
        for tree in &self.ensemble.trees {
            let nodes = tree.nodes.as_slice();
            let depth = max_depth(nodes, 0);
            let mut path = vec![EMPTY; (depth + 2) * (depth + 3) / 2];
            let mut walk = Walk { nodes, x, phi };
            walk.recurse(0, &mut path, 0, 0, 1.0, 1.0, NO_FEATURE);
        }
    }
}

fn expected_value(ensemble: &TreeEnsemble) -> f64 {
    fn mean(nodes: &[Node], i: usize) -> f64 {
        match nodes[i] {
            Node::Leaf { value, .. } => value,
            Node::Split { left, right, .. } => {
                let (sl, sr) = child_shares(nodes, left, right);
                sl * mean(nodes, left) + sr * mean(nodes, right)
            }
        }
    }
    ensemble.base_score
        + ensemble
            .trees
            .iter()
            .map(|t| mean(&t.nodes, 0))
            .sum::<f64>()
}

fn max_depth(nodes: &[Node], i: usize) -> usize {
    match nodes[i] {
        Node::Leaf { .. } => 0,
        Node::Split { left, right, .. } => 1 + max_depth(nodes, left).max(max_depth(nodes, right)),
    }
}

struct Walk<'a> {
    nodes: &'a [Node],
    x: &'a [f32],
    phi: &'a mut [f64],
}

impl Walk<'_> {
    /// `buf[parent..parent + depth + 1]` is the parent's path; this node's path is built
    /// right after it.
    #[allow(clippy::too_many_arguments)]
    fn recurse(
        &mut self,
        node: usize,
        buf: &mut [PathElement],
        parent: usize,
        mut depth: usize,
        zero_fraction: f64,
        one_fraction: f64,
        feature: usize,
    ) {
        let start = parent + depth + 1;
        buf.copy_within(parent..parent + depth + 1, start);
        let path = &mut buf[start..];
        extend(path, depth, zero_fraction, one_fraction, feature);

        match self.nodes[node] {
            Node::Leaf { value, .. } => {
                for i in 1..=depth {
                    let w = unwound_sum(path, depth, i);
                    let el = path[i];
                    self.phi[el.feature] += w * (el.one_fraction - el.zero_fraction) * value;
                }
            }
            Node::Split {
                feature: split,
                threshold,
                nan_left,
                left,
                right,
                ..
            } => {
                let (share_left, share_right) = child_shares(self.nodes, left, right);
                let (hot, cold, hot_share, cold_share) =
                    if goes_left(self.x[split], threshold, nan_left) {
                        (left, right, share_left, share_right)
                    } else {
                        (right, left, share_right, share_left)
                    };
                let mut incoming_zero = 1.0;
                let mut incoming_one = 1.0;
                // A feature already on the path: undo that split and redo it here.
                if let Some(k) = (0..=depth).find(|&k| path[k].feature == split) {
                    incoming_zero = path[k].zero_fraction;
                    incoming_one = path[k].one_fraction;
                    unwind(path, depth, k);
                    depth -= 1;
                }
                for (child, zero, one) in [
                    (hot, hot_share * incoming_zero, incoming_one),
                    (cold, cold_share * incoming_zero, 0.0),
                ] {
                    // A branch no coalition reaches adds nothing (and would divide by 0).
                    if zero != 0.0 || one != 0.0 {
                        self.recurse(child, buf, start, depth + 1, zero, one, split);
                    }
                }
            }
        }
    }
}

fn extend(path: &mut [PathElement], depth: usize, zero: f64, one: f64, feature: usize) {
    path[depth] = PathElement {
        feature,
        zero_fraction: zero,
        one_fraction: one,
        pweight: if depth == 0 { 1.0 } else { 0.0 },
    };
    let d1 = (depth + 1) as f64;
    for i in (0..depth).rev() {
        path[i + 1].pweight += one * path[i].pweight * (i + 1) as f64 / d1;
        path[i].pweight = zero * path[i].pweight * (depth - i) as f64 / d1;
    }
}

fn unwind(path: &mut [PathElement], depth: usize, k: usize) {
    let one = path[k].one_fraction;
    let zero = path[k].zero_fraction;
    let d1 = (depth + 1) as f64;
    let mut next_one_portion = path[depth].pweight;
    for i in (0..depth).rev() {
        if one != 0.0 {
            let tmp = path[i].pweight;
            path[i].pweight = next_one_portion * d1 / ((i + 1) as f64 * one);
            next_one_portion = tmp - path[i].pweight * zero * (depth - i) as f64 / d1;
        } else {
            path[i].pweight = path[i].pweight * d1 / (zero * (depth - i) as f64);
        }
    }
    for i in k..depth {
        path[i].feature = path[i + 1].feature;
        path[i].zero_fraction = path[i + 1].zero_fraction;
        path[i].one_fraction = path[i + 1].one_fraction;
    }
}

fn unwound_sum(path: &[PathElement], depth: usize, k: usize) -> f64 {
    let one = path[k].one_fraction;
    let zero = path[k].zero_fraction;
    let mut next_one_portion = path[depth].pweight;
    let mut total = 0.0;
    if one != 0.0 {
        for i in (0..depth).rev() {
            let tmp = next_one_portion / ((i + 1) as f64 * one);
            total += tmp;
            next_one_portion = path[i].pweight - tmp * zero * (depth - i) as f64;
        }
    } else if zero != 0.0 {
        for i in (0..depth).rev() {
            total += path[i].pweight / (zero * (depth - i) as f64);
        }
    }
    total * (depth + 1) as f64
}
