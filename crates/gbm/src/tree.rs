//! Growing one tree, leaf-wise: the leaf whose best split gains most is split first, until
//! the tree has `max_leaves` leaves or no leaf has a split with a positive gain (LightGBM's
//! growth; depth is not limited).
//!
//! The rows of every leaf are a contiguous range of one index array (`order`), ascending
//! within the range: a split partitions its leaf's range in place, stably, so histogram
//! building and the score update walk rows in memory order. After a split only the smaller
//! child's histogram is built; the larger one is the parent's minus it (`hist.rs`).
//!
//! The tree is built directly as qualify-core's [`Tree`]: a split on bin `k` is the node
//! `x <= upper[k]` (`bins.rs`), with the hessian sum as cover.

use qualify_core::trees::{Node, Tree};

use crate::bins::{BinMapper, Binned};
use crate::hist::{self, Bin, RowSet, Scratch};
use crate::split::{self, Bounds, FREE, Rules, Split};

/// A tree as grown: the core tree, each split's bin, and each leaf's rows and value.
#[derive(Debug, Clone)]
pub(crate) struct Grown {
    pub tree: Tree,
    /// Per node: the bin of a split ("bin ≤ this goes left"); 0 on leaves.
    pub split_bins: Vec<u8>,
    /// Per leaf: its rows as a range of [`Grower::order`], and its value.
    pub leaves: Vec<(usize, usize, f64)>,
}

impl Grown {
    /// The value of the leaf a binned row (row-major, one `u8` per feature) reaches.
    pub fn binned_value(&self, row: &[u8]) -> f64 {
        let mut i = 0;
        loop {
            match self.tree.nodes[i] {
                Node::Leaf { value, .. } => return value,
                Node::Split {
                    feature,
                    left,
                    right,
                    ..
                } => {
                    i = if row[feature] <= self.split_bins[i] {
                        left
                    } else {
                        right
                    }
                }
            }
        }
    }
}

/// A leaf while the tree grows.
#[derive(Debug)]
struct Leaf {
    node: usize,
    begin: usize,
    end: usize,
    total: Bin,
    bounds: Bounds,
    hist: Option<Vec<Bin>>,
    best: Option<Split>,
}

/// Grows trees on one binned training set, reusing its buffers from tree to tree.
#[derive(Debug)]
pub(crate) struct Grower<'a> {
    binned: &'a Binned,
    rules: Rules<'a>,
    max_leaves: usize,
    learning_rate: f64,
    order: Vec<u32>,
    right: Vec<u32>,
    free: Vec<Vec<Bin>>,
    scratch: Scratch,
}

impl<'a> Grower<'a> {
    pub fn new(
        binned: &'a Binned,
        rules: Rules<'a>,
        max_leaves: usize,
        learning_rate: f64,
    ) -> Self {
        Grower {
            binned,
            rules,
            max_leaves,
            learning_rate,
            order: Vec::new(),
            right: vec![0; binned.rows],
            free: Vec::new(),
            scratch: Scratch::default(),
        }
    }

    /// The rows of every leaf of the last tree, by the ranges in [`Grown::leaves`].
    pub fn order(&self) -> &[u32] {
        &self.order
    }

    fn mapper(&self) -> &'a BinMapper {
        self.rules.mapper
    }

    fn buffer(&mut self) -> Vec<Bin> {
        let mut b = self.free.pop().unwrap_or_default();
        b.resize(self.mapper().total_bins(), [0.0; 2]);
        b
    }

    /// Whether a leaf with these rows and totals could be split at all.
    fn splittable(&self, rows: usize, total: Bin) -> bool {
        rows >= 2 && total[1] >= 2.0 * self.rules.min_hessian
    }

    fn search(&self, leaf: &mut Leaf) {
        leaf.best = match &leaf.hist {
            Some(h) if self.splittable(leaf.end - leaf.begin, leaf.total) => {
                split::best_split(&self.rules, h, leaf.total, leaf.bounds)
            }
            _ => None,
        };
    }

    /// Grows one tree on gradient pairs `gh` (one per training row).
    pub fn grow(&mut self, gh: &[[f32; 2]]) -> Grown {
        let n = self.binned.rows;
        self.order.clear();
        self.order.extend(0..n as u32);
        let mut root_hist = self.buffer();
        let total = hist::build(
            &self.binned.sparse,
            self.mapper(),
            gh,
            RowSet::All(n),
            &mut root_hist,
            &mut self.scratch,
        );
        let mut root = Leaf {
            node: 0,
            begin: 0,
            end: n,
            total,
            bounds: FREE,
            hist: Some(root_hist),
            best: None,
        };
        self.search(&mut root);
        let mut nodes = vec![Node::Leaf {
            value: 0.0,
            cover: None,
        }];
        let mut split_bins = vec![0u8];
        let mut leaves = vec![root];
        while leaves.len() < self.max_leaves {
            let Some((i, best)) = pick(&leaves) else {
                break;
            };
            let leaf = leaves.swap_remove(i);
            let full = leaves.len() + 2 >= self.max_leaves;
            let (left, right) = self.split(leaf, best, gh, &mut nodes, &mut split_bins, full);
            leaves.push(left);
            leaves.push(right);
        }
        let l2 = self.rules.l2;
        let mut out = Vec::with_capacity(leaves.len());
        for leaf in leaves {
            let value = self.learning_rate
                * split::leaf_value(leaf.total[0], leaf.total[1], l2, leaf.bounds);
            nodes[leaf.node] = Node::Leaf {
                value,
                cover: Some(leaf.total[1]),
            };
            out.push((leaf.begin, leaf.end, value));
            if let Some(h) = leaf.hist {
                self.free.push(h);
            }
        }
        Grown {
            tree: Tree { nodes },
            split_bins,
            leaves: out,
        }
    }

    /// Splits `leaf` by `best` into two new leaves; their histograms are built and searched
    /// unless the tree then has its `max_leaves` (`full`), when only their totals matter.
    fn split(
        &mut self,
        mut leaf: Leaf,
        best: Split,
        gh: &[[f32; 2]],
        nodes: &mut Vec<Node>,
        split_bins: &mut Vec<u8>,
        full: bool,
    ) -> (Leaf, Leaf) {
        let f = best.feature;
        let n = self.binned.rows;
        let column = &self.binned.columns[f * n..(f + 1) * n];
        let rows = &mut self.order[leaf.begin..leaf.end];
        let mid = leaf.begin + partition(rows, &mut self.right, column, best.bin);
        let (l, r) = (nodes.len(), nodes.len() + 1);
        nodes[leaf.node] = Node::Split {
            feature: f,
            threshold: self.mapper().threshold(f, best.bin),
            nan_left: false,
            left: l,
            right: r,
            cover: Some(leaf.total[1]),
        };
        split_bins[leaf.node] = best.bin;
        for _ in 0..2 {
            nodes.push(Node::Leaf {
                value: 0.0,
                cover: None,
            });
            split_bins.push(0);
        }
        let (left_bounds, right_bounds) =
            split::child_bounds(&best, self.rules.signs[f], leaf.bounds);
        let left = Leaf {
            node: l,
            begin: leaf.begin,
            end: mid,
            total: [0.0; 2],
            bounds: left_bounds,
            hist: None,
            best: None,
        };
        let right = Leaf {
            node: r,
            begin: mid,
            end: leaf.end,
            total: [0.0; 2],
            bounds: right_bounds,
            hist: None,
            best: None,
        };
        let left_small = mid - leaf.begin <= leaf.end - mid;
        let (mut small, mut large) = if left_small {
            (left, right)
        } else {
            (right, left)
        };
        let small_rows = &self.order[small.begin..small.end];
        let parent_hist = leaf.hist.take();
        if full {
            small.total = small_rows.iter().fold([0.0; 2], |t, &row| {
                let [g, h] = gh[row as usize];
                [t[0] + f64::from(g), t[1] + f64::from(h)]
            });
            if let Some(p) = parent_hist {
                self.free.push(p);
            }
        } else {
            let mut h = self.free.pop().unwrap_or_default();
            h.resize(self.mapper().total_bins(), [0.0; 2]);
            small.total = hist::build(
                &self.binned.sparse,
                self.rules.mapper,
                gh,
                RowSet::Some(small_rows),
                &mut h,
                &mut self.scratch,
            );
            small.hist = Some(h);
            large.hist = parent_hist;
            if let (Some(p), Some(h)) = (large.hist.as_mut(), small.hist.as_ref()) {
                hist::subtract(p, h);
            }
        }
        large.total = [
            leaf.total[0] - small.total[0],
            leaf.total[1] - small.total[1],
        ];
        if !full {
            for child in [&mut small, &mut large] {
                self.search(child);
                if child.best.is_none()
                    && let Some(h) = child.hist.take()
                {
                    self.free.push(h);
                }
            }
        }
        if left_small {
            (small, large)
        } else {
            (large, small)
        }
    }
}

/// The leaf with the best split (ties: the lower node index) and that split, if any.
fn pick(leaves: &[Leaf]) -> Option<(usize, Split)> {
    let mut best: Option<(usize, Split)> = None;
    for (i, leaf) in leaves.iter().enumerate() {
        if let Some(s) = leaf.best {
            let better = match best {
                None => true,
                Some((j, b)) => s.gain > b.gain || (s.gain == b.gain && leaf.node < leaves[j].node),
            };
            if better {
                best = Some((i, s));
            }
        }
    }
    best
}

/// Stable in-place partition of `rows` by `column[row] <= bin` (left first), branch-free;
/// returns the number of left rows. `right` is scratch at least `rows.len()` long.
pub(crate) fn partition(rows: &mut [u32], right: &mut [u32], column: &[u8], bin: u8) -> usize {
    let (mut l, mut r) = (0, 0);
    for i in 0..rows.len() {
        let row = rows[i];
        let goes_left = column[row as usize] <= bin;
        rows[l] = row;
        right[r] = row;
        l += usize::from(goes_left);
        r += usize::from(!goes_left);
    }
    rows[l..].copy_from_slice(&right[..r]);
    l
}

#[cfg(test)]
mod tests;
