//! The packed layout scoring walks.
//!
//! Every split of every tree is one 16-byte [`Split`] in a single array (trees one after the
//! other, each in depth-first order so a row's path stays in few cache lines); a child
//! reference is either the index of another split or, with [`LEAF_BIT`] set, the index of a
//! leaf value. A row costs one compare and one select per level and no allocation; 100
//! trees × 31 leaves take about 47 KB, which stays in L2.

use super::{Forest, TreeNode, goes_left};

/// Set on a child reference that points into the leaf values.
pub const LEAF_BIT: u32 = 1 << 31;
/// Set on [`Split::feature`] when a NaN takes the left branch.
const NAN_LEFT: u32 = 1 << 31;

#[derive(Debug, Clone, Copy, PartialEq)]
struct Split {
    threshold: f32,
    /// Feature index, with [`NAN_LEFT`] possibly set.
    feature: u32,
    /// `[left, right]` child references.
    children: [u32; 2],
}

/// A forest in the packed layout (see the module docs).
#[derive(Debug, Clone, PartialEq)]
pub struct FlatForest {
    n_features: usize,
    /// Child reference of each tree's root.
    roots: Vec<u32>,
    splits: Vec<Split>,
    leaves: Vec<f64>,
}

impl FlatForest {
    /// Packs `forest`.
    ///
    /// # Errors
    /// When the forest has more than 2³¹ splits or leaves.
    pub fn new(forest: &Forest) -> Result<FlatForest, String> {
        let mut flat = FlatForest {
            n_features: forest.n_features(),
            roots: Vec::with_capacity(forest.trees().len()),
            splits: Vec::new(),
            leaves: Vec::new(),
        };
        for nodes in forest.trees() {
            let root = flat.push(nodes, 0)?;
            flat.roots.push(root);
        }
        Ok(flat)
    }

    /// Appends the subtree of `nodes[i]` depth-first; returns its child reference.
    fn push(&mut self, nodes: &[TreeNode], i: usize) -> Result<u32, String> {
        let too_big = || "the forest has more than 2^31 splits or leaves".to_owned();
        match nodes[i] {
            TreeNode::Leaf { value, .. } => {
                let r = u32::try_from(self.leaves.len())
                    .ok()
                    .filter(|r| r & LEAF_BIT == 0)
                    .ok_or_else(too_big)?;
                self.leaves.push(value);
                Ok(r | LEAF_BIT)
            }
            TreeNode::Split {
                feature,
                threshold,
                nan_left,
                left,
                right,
                ..
            } => {
                let r = u32::try_from(self.splits.len())
                    .ok()
                    .filter(|r| r & LEAF_BIT == 0)
                    .ok_or_else(too_big)?;
                let feature = u32::try_from(feature)
                    .ok()
                    .filter(|f| f & NAN_LEFT == 0)
                    .ok_or_else(|| format!("feature index {feature} is too large"))?;
                self.splits.push(Split {
                    threshold,
                    feature: feature | if nan_left { NAN_LEFT } else { 0 },
                    children: [0, 0],
                });
                let l = self.push(nodes, left)?;
                let rr = self.push(nodes, right)?;
                self.splits[r as usize].children = [l, rr];
                Ok(r)
            }
        }
    }

    /// Width of the rows it reads.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Raw score of one row (`x.len()` must be `n_features()`; a shorter row panics on
    /// indexing, so callers check the width first).
    #[inline]
    pub fn raw_score(&self, x: &[f32]) -> f64 {
        let x = &x[..self.n_features];
        let mut sum = 0.0;
        for &root in &self.roots {
            let mut r = root;
            while r & LEAF_BIT == 0 {
                let s = &self.splits[r as usize];
                let v = x[(s.feature & !NAN_LEFT) as usize];
                let left = goes_left(v, s.threshold, s.feature & NAN_LEFT != 0);
                r = s.children[usize::from(!left)];
            }
            sum += self.leaves[(r & !LEAF_BIT) as usize];
        }
        sum
    }

    /// Raw scores of consecutive rows of a row-major matrix, written into `out` (one per
    /// row; `x.len()` must be `out.len() * n_features()`).
    pub fn raw_scores_into(&self, x: &[f32], out: &mut [f64]) {
        for (row, o) in x.chunks_exact(self.n_features).zip(out.iter_mut()) {
            *o = self.raw_score(row);
        }
    }
}
