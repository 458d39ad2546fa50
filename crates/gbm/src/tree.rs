//! Growing one tree, leaf-wise: the leaf whose best split gains most is split first, until
//! the tree has `max_leaves` leaves or no leaf has a split with a positive gain (LightGBM's
//! growth; depth is not limited).
//!
//! The rows of every leaf are a contiguous range of one index array (`order`), ascending
//! within the range: a split partitions its leaf's range in place, stably, so histogram
//! building and the score update walk rows in memory order. After a split only the smaller
//! child's histogram is built; the larger one is the parent's minus it (`hist.rs`).
//!
//! Threads share the work by feature block (`bins.rs`): for the root and after each split,
//! one task per block builds that block's part of the smaller child's histogram, subtracts
//! it from the parent's and searches both children's splits among the block's features; the
//! blocks' best splits are then compared in feature order. One hand-over per split, and the
//! same trees on any number of threads.
//!
//! The tree is built directly as qualify-core's [`Tree`]: a split on bin `k` is the node
//! `x <= upper[k]` (`bins.rs`), with the hessian sum as cover.

use qualify_core::trees::{Node, Tree};

use rayon::prelude::*;

use crate::bins::{BinMapper, Binned, SparseBlock};
use crate::hist::{self, Bin, RowSet};
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
    /// Its best split and its histogram, while it has a split worth taking.
    best: Option<(Split, Vec<Bin>)>,
}

/// The larger child of a split, whose histogram is its parent's minus its sibling's.
struct Derived<'h> {
    /// The parent's histogram, which becomes this child's.
    hist: &'h mut [Bin],
    parent_total: Bin,
    bounds: Bounds,
    rows: usize,
}

/// One feature block's share of [`Grower::build_and_search`]: its part of the histogram to
/// build and, after a split, its part of the one to derive.
struct BlockTask<'b, 'h> {
    block: &'b SparseBlock,
    built: &'h mut [Bin],
    derived: Option<&'h mut [Bin]>,
}

/// Leaves with less work than this (cells to sum and bins to search) are done on one
/// thread, block after block: handing blocks to other threads would cost more than it saves.
const MIN_PARALLEL_WORK: f64 = 16384.0;

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

    /// A leaf's best split with its histogram, or `None` (and the buffer back to the pool).
    fn keep(&mut self, best: Option<Split>, hist: Vec<Bin>) -> Option<(Split, Vec<Bin>)> {
        match best {
            Some(split) => Some((split, hist)),
            None => {
                self.free.push(hist);
                None
            }
        }
    }

    /// Grows one tree on gradient pairs `gh` (one per training row).
    pub fn grow(&mut self, gh: &[[f32; 2]]) -> Grown {
        let n = self.binned.rows;
        self.order.clear();
        self.order.extend(0..n as u32);
        let mut root_hist = self.buffer();
        let (total, [best, _]) =
            self.build_and_search(gh, RowSet::All(n), &mut root_hist, FREE, None);
        let root = Leaf {
            node: 0,
            begin: 0,
            end: n,
            total,
            bounds: FREE,
            best: self.keep(best, root_hist),
        };
        let mut nodes = vec![Node::Leaf {
            value: 0.0,
            cover: None,
        }];
        let mut split_bins = vec![0u8];
        let mut leaves = vec![root];
        while leaves.len() < self.max_leaves {
            let Some(i) = pick(&leaves) else {
                break;
            };
            // `pick` only names a leaf with a split; taken before the leaf leaves the list,
            // so no leaf could ever drop out of the tree.
            let Some(best) = leaves[i].best.take() else {
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
            if let Some((_, h)) = leaf.best {
                self.free.push(h);
            }
        }
        Grown {
            tree: Tree { nodes },
            split_bins,
            leaves: out,
        }
    }

    /// Splits `leaf` by its `best` split (with its histogram `hist`) into two new leaves; their
    /// histograms are made and searched unless the tree then has its `max_leaves` (`full`),
    /// when only their totals matter.
    fn split(
        &mut self,
        leaf: Leaf,
        (best, hist): (Split, Vec<Bin>),
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
            best: None,
        };
        let right = Leaf {
            node: r,
            begin: mid,
            end: leaf.end,
            total: [0.0; 2],
            bounds: right_bounds,
            best: None,
        };
        let left_small = mid - leaf.begin <= leaf.end - mid;
        let (mut small, mut large) = if left_small {
            (left, right)
        } else {
            (right, left)
        };
        if full {
            small.total = self.order[small.begin..small.end]
                .iter()
                .fold([0.0; 2], |t, &row| {
                    let [g, h] = gh[row as usize];
                    [t[0] + f64::from(g), t[1] + f64::from(h)]
                });
            self.free.push(hist);
        } else {
            let mut small_hist = self.buffer();
            let mut large_hist = hist;
            let derived = Derived {
                hist: &mut large_hist,
                parent_total: leaf.total,
                bounds: large.bounds,
                rows: large.end - large.begin,
            };
            let small_rows = RowSet::Some(&self.order[small.begin..small.end]);
            let (total, [small_best, large_best]) =
                self.build_and_search(gh, small_rows, &mut small_hist, small.bounds, Some(derived));
            small.total = total;
            small.best = self.keep(small_best, small_hist);
            large.best = self.keep(large_best, large_hist);
        }
        large.total = [
            leaf.total[0] - small.total[0],
            leaf.total[1] - small.total[1],
        ];
        if left_small {
            (small, large)
        } else {
            (large, small)
        }
    }

    /// Builds the histogram of `rows` into `hist` and searches the best split of their leaf
    /// (value `bounds`); with `derived`, also makes the sibling's histogram by subtraction
    /// and searches it. Each feature block is one task, run in parallel when the leaf is
    /// worth it (module docs of `hist.rs`). Returns the rows' totals and the two best splits.
    fn build_and_search(
        &self,
        gh: &[[f32; 2]],
        rows: RowSet<'_>,
        hist: &mut [Bin],
        bounds: Bounds,
        derived: Option<Derived<'_>>,
    ) -> (Bin, [Option<Split>; 2]) {
        let blocks = &self.binned.sparse.blocks;
        let n = rows.len();
        let (derived_parts, derived_leaf) = match derived {
            Some(d) => (
                hist::block_parts(d.hist, blocks)
                    .into_iter()
                    .map(Some)
                    .collect(),
                Some((d.parent_total, d.bounds, d.rows)),
            ),
            None => (blocks.iter().map(|_| None).collect::<Vec<_>>(), None),
        };
        let tasks: Vec<BlockTask<'_, '_>> = blocks
            .iter()
            .zip(hist::block_parts(hist, blocks))
            .zip(derived_parts)
            .map(|((block, built), derived)| BlockTask {
                block,
                built,
                derived,
            })
            .collect();
        let work = |task: BlockTask<'_, '_>| {
            let BlockTask {
                block,
                built,
                derived,
            } = task;
            let total = hist::build_block(block, self.mapper(), gh, rows, built);
            let best = self.search(block, built, total, bounds, n);
            let derived_best = match (derived, derived_leaf) {
                (Some(part), Some((parent_total, bounds, rows))) => {
                    hist::subtract(part, built);
                    let total = [parent_total[0] - total[0], parent_total[1] - total[1]];
                    self.search(block, part, total, bounds, rows)
                }
                _ => None,
            };
            (total, [best, derived_best])
        };
        let work_size =
            n as f64 * self.binned.sparse.cells_per_row + 2.0 * self.mapper().total_bins() as f64;
        let found: Vec<(Bin, [Option<Split>; 2])> =
            if blocks.len() > 1 && work_size >= MIN_PARALLEL_WORK {
                tasks.into_par_iter().map(work).collect()
            } else {
                tasks.into_iter().map(work).collect()
            };
        // Every block summed the same rows in the same order: any block's totals will do.
        let total = found.first().map_or([0.0; 2], |f| f.0);
        let best = found.iter().fold([None, None], |acc, f| {
            [split::better(acc[0], f.1[0]), split::better(acc[1], f.1[1])]
        });
        (total, best)
    }

    /// The best split among a block's features of a leaf with `rows` rows, totals `total`
    /// and value `bounds`, whose block part of the histogram is `part`; `None` when the leaf
    /// cannot be split at all.
    fn search(
        &self,
        block: &SparseBlock,
        part: &[Bin],
        total: Bin,
        bounds: Bounds,
        rows: usize,
    ) -> Option<Split> {
        if rows < 2 || total[1] < 2.0 * self.rules.min_hessian {
            return None;
        }
        split::best_split(
            &self.rules,
            part,
            block.bins.start,
            block.features.clone(),
            total,
            bounds,
        )
    }
}

/// The leaf with the best split (ties: the lower node index), if any.
fn pick(leaves: &[Leaf]) -> Option<usize> {
    let mut best: Option<(usize, f64)> = None;
    for (i, leaf) in leaves.iter().enumerate() {
        if let Some((s, _)) = &leaf.best {
            let better = match best {
                None => true,
                Some((j, gain)) => s.gain > gain || (s.gain == gain && leaf.node < leaves[j].node),
            };
            if better {
                best = Some((i, s.gain));
            }
        }
    }
    best.map(|b| b.0)
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
