//! A binary-classification tree ensemble in a plain, library-neutral form.
//!
//! This is the hand-off between the trainer (which converts whatever its GBM crate produces
//! into a [`TreeEnsemble`]), the ONNX writer (`TreeEnsembleClassifier`, ai.onnx.ml) and the
//! runtime (which reads the ONNX attributes back into its own flattened layout).
//! [`TreeEnsemble::raw_score`] is the reference evaluator: simple pointer chasing, used for
//! golden rows and as the oracle the fast evaluator is tested against.
//!
//! Conventions, fixed here so every side agrees:
//! - a split sends a row **left when `x[feature] <= threshold`** (ONNX `BRANCH_LEQ`), right
//!   otherwise, so a NaN goes right (the encoder never produces NaN);
//! - thresholds are `f32`, like the encoded features, so the comparison is exact on both
//!   sides (convert an `f64` threshold `t` with [`f32_threshold_leq`]);
//! - the raw score is log-odds: `base_score + Σ leaf values`; the ONNX writer folds
//!   `base_score` into the leaves because tract rejects a two-value `base_values`;
//! - `cover` is the training weight (hessian sum, or row count) that reached a node; TreeSHAP
//!   needs it. Node 0 is the root.

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
        left: usize,
        right: usize,
        cover: f64,
    },
    Leaf {
        value: f64,
        cover: f64,
    },
}

impl Node {
    /// Training weight that reached the node.
    pub fn cover(&self) -> f64 {
        match *self {
            Node::Split { cover, .. } | Node::Leaf { cover, .. } => cover,
        }
    }
}

impl Tree {
    /// Leaf value reached by `x`.
    pub fn leaf_value(&self, x: &[f32]) -> f64 {
        let mut i = 0;
        loop {
            match self.nodes[i] {
                Node::Leaf { value, .. } => return value,
                Node::Split {
                    feature,
                    threshold,
                    left,
                    right,
                    ..
                } => i = if x[feature] <= threshold { left } else { right },
            }
        }
    }
}

impl TreeEnsemble {
    /// Log-odds for one encoded row (`n_features` long).
    pub fn raw_score(&self, x: &[f32]) -> f64 {
        self.base_score + self.trees.iter().map(|t| t.leaf_value(x)).sum::<f64>()
    }

    /// Checks that children indices are in range, every node is reached once from the root,
    /// features are below `n_features`, and values are finite.
    pub fn validate(&self) -> Result<(), String> {
        if !self.base_score.is_finite() {
            return Err(format!("base score {} is not finite", self.base_score));
        }
        for (t, tree) in self.trees.iter().enumerate() {
            let n = tree.nodes.len();
            if n == 0 {
                return Err(format!("tree {t} has no nodes"));
            }
            let mut seen = vec![false; n];
            let mut stack = vec![0usize];
            while let Some(i) = stack.pop() {
                if std::mem::replace(&mut seen[i], true) {
                    return Err(format!("tree {t}: node {i} is reached twice"));
                }
                match tree.nodes[i] {
                    Node::Leaf { value, .. } if !value.is_finite() => {
                        return Err(format!("tree {t}: leaf {i} has value {value}"));
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
                            return Err(format!(
                                "tree {t}: node {i} splits on feature {feature} of {}",
                                self.n_features
                            ));
                        }
                        if threshold.is_nan() {
                            return Err(format!("tree {t}: node {i} has a NaN threshold"));
                        }
                        if left >= n || right >= n {
                            return Err(format!("tree {t}: node {i} points outside the tree"));
                        }
                        stack.extend([left, right]);
                    }
                }
            }
            if let Some(i) = seen.iter().position(|s| !s) {
                return Err(format!("tree {t}: node {i} is unreachable"));
            }
        }
        Ok(())
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
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn f32_threshold_gives_the_same_branch(t in -1e6f64..1e6, x in -1e6f32..1e6) {
            let t32 = f32_threshold_leq(t);
            prop_assert!(f64::from(t32) <= t);
            prop_assert_eq!(f64::from(x) <= t, x <= t32);
            // and for the f32 neighbours of t itself
            for y in [t32, t32.next_up(), t32.next_down()] {
                prop_assert_eq!(f64::from(y) <= t, y <= t32);
            }
        }
    }

    #[test]
    fn raw_score_walks_left_on_leq() {
        let tree = Tree {
            nodes: vec![
                Node::Split {
                    feature: 1,
                    threshold: 0.5,
                    left: 1,
                    right: 2,
                    cover: 10.0,
                },
                Node::Leaf {
                    value: -1.0,
                    cover: 6.0,
                },
                Node::Leaf {
                    value: 2.0,
                    cover: 4.0,
                },
            ],
        };
        let e = TreeEnsemble {
            n_features: 2,
            base_score: 0.25,
            trees: vec![tree],
        };
        assert_eq!(e.validate(), Ok(()));
        assert_eq!(e.raw_score(&[9.0, 0.5]), -0.75);
        assert_eq!(e.raw_score(&[9.0, 0.6]), 2.25);
        assert_eq!(e.raw_score(&[9.0, f32::NAN]), 2.25);
    }

    #[test]
    fn validate_rejects_cycles_and_bad_features() {
        let cyclic = Tree {
            nodes: vec![Node::Split {
                feature: 0,
                threshold: 0.0,
                left: 0,
                right: 0,
                cover: 1.0,
            }],
        };
        let e = TreeEnsemble {
            n_features: 1,
            base_score: 0.0,
            trees: vec![cyclic],
        };
        assert!(e.validate().is_err());
        let wide = Tree {
            nodes: vec![
                Node::Split {
                    feature: 3,
                    threshold: 0.0,
                    left: 1,
                    right: 2,
                    cover: 1.0,
                },
                Node::Leaf {
                    value: 0.0,
                    cover: 1.0,
                },
                Node::Leaf {
                    value: 0.0,
                    cover: 1.0,
                },
            ],
        };
        let e = TreeEnsemble {
            n_features: 2,
            base_score: 0.0,
            trees: vec![wide],
        };
        assert!(
            e.validate()
                .expect_err("feature out of range")
                .contains("feature 3")
        );
    }
}
