//! The reference: path-dependent TreeSHAP as Lundberg et al. 2018 ("Consistent individualized
//! feature attribution for tree ensembles") write it, Algorithm 2, in log-odds.
//!
//! Why it stays: it is the textbook recursion, `O(leaves × depth²)` per tree, which maintains
//! the Shapley weights of every subset size along the path and "unwinds" a feature met twice.
//! It shares nothing with [`super::TreeShap`]'s quadrature but the game, so tests hold the two
//! (and brute force) equal, and the benchmark runs it as the in-run peer. The runtime does not
//! call it.

use qualify_core::trees::{Node, TreeEnsemble, goes_left};

use super::{ShapError, check, check_widths, child_shares, expected_value};

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

/// Algorithm 2 over a validated ensemble that carries every node's cover.
#[derive(Debug, Clone)]
pub struct ReferenceTreeShap {
    ensemble: TreeEnsemble,
    expected: f64,
}

impl ReferenceTreeShap {
    /// # Errors
    /// As [`super::TreeShap::new`].
    pub fn new(ensemble: TreeEnsemble) -> Result<ReferenceTreeShap, ShapError> {
        check(&ensemble)?;
        Ok(ReferenceTreeShap {
            expected: expected_value(&ensemble),
            ensemble,
        })
    }

    /// The game's value of the empty set (as [`super::TreeShap::expected_value`]).
    pub fn expected_value(&self) -> f64 {
        self.expected
    }

    /// Adds each feature's SHAP value for row `x` into `phi` (both `n_features` long).
    ///
    /// # Errors
    /// [`ShapError::Width`] when `x` or `phi` has another length.
    pub fn add_shap_values(&self, x: &[f32], phi: &mut [f64]) -> Result<(), ShapError> {
        check_widths(self.ensemble.n_features, x, phi)?;
        for tree in &self.ensemble.trees {
            let nodes = tree.nodes.as_slice();
            let depth = max_depth(nodes, 0);
            let mut path = vec![EMPTY; (depth + 2) * (depth + 3) / 2];
            let mut walk = Walk { nodes, x, phi };
            walk.recurse(0, &mut path, 0, 0, 1.0, 1.0, NO_FEATURE);
        }
        Ok(())
    }
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
