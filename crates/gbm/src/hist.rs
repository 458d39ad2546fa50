//! Gradient histograms: per global bin, the sums of the gradients and hessians of a leaf's
//! rows. Building them is where a fit spends its time.
//!
//! - A histogram is built one feature block at a time (`bins.rs`), each block into its own
//!   part of the histogram, by walking the leaf's rows (sparse rows of bin indices) and
//!   adding each row's `f32` gradient pair, widened to `f64`, to its bins. Each feature's
//!   most frequent bin is skipped and set afterwards to the leaf's total minus the feature's
//!   other bins ([`fill_default_bins`]).
//! - Only the smaller child of a split is built; the larger one is its parent minus it
//!   ([`subtract`]), exact up to rounding, in place in the parent's buffer.
//! - Threads share a histogram by block (the grower in `tree.rs` runs the blocks as rayon
//!   tasks). Every bin sums its rows in row order whatever the blocks, so the trees are the
//!   same bits on any number of threads, and no thread has a buffer to clear or add up.

use crate::bins::{BinMapper, Cell, Cells, SparseBlock};

/// One bin: `[gradient sum, hessian sum]`.
pub(crate) type Bin = [f64; 2];

/// Which rows a histogram sums: all of them (the root) or a leaf's.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RowSet<'a> {
    All(usize),
    Some(&'a [u32]),
}

impl RowSet<'_> {
    pub fn len(&self) -> usize {
        match self {
            RowSet::All(n) => *n,
            RowSet::Some(r) => r.len(),
        }
    }
}

/// The part of `hist` (a whole histogram) that holds each block's bins, in block order.
pub(crate) fn block_parts<'h>(hist: &'h mut [Bin], blocks: &[SparseBlock]) -> Vec<&'h mut [Bin]> {
    let mut parts = Vec::with_capacity(blocks.len());
    let mut rest = hist;
    for block in blocks {
        let (part, tail) = std::mem::take(&mut rest).split_at_mut(block.bins.len());
        parts.push(part);
        rest = tail;
    }
    parts
}

/// Sums the gradient pairs of `rows` into `part`, the bins of `block` (zeroed first; every
/// bin, default bins included), and returns the rows' totals.
pub(crate) fn build_block(
    block: &SparseBlock,
    mapper: &BinMapper,
    gh: &[[f32; 2]],
    rows: RowSet<'_>,
    part: &mut [Bin],
) -> Bin {
    part.fill([0.0; 2]);
    let total = match &block.cells {
        Cells::Narrow(cells) => accumulate(&block.start, cells, gh, rows, part),
        Cells::Wide(cells) => accumulate(&block.start, cells, gh, rows, part),
    };
    fill_default_bins(part, mapper, block, total);
    total
}

/// A whole histogram, block after block, on one thread; returns the rows' totals.
#[cfg(test)]
pub(crate) fn build(
    blocks: &[SparseBlock],
    mapper: &BinMapper,
    gh: &[[f32; 2]],
    rows: RowSet<'_>,
    out: &mut [Bin],
) -> Bin {
    let parts = block_parts(out, blocks);
    let totals: Vec<Bin> = blocks
        .iter()
        .zip(parts)
        .map(|(block, part)| build_block(block, mapper, gh, rows, part))
        .collect();
    totals.first().copied().unwrap_or([0.0; 2])
}

/// Adds `rows` into `out` (a block's bins); returns their totals. The hot loop of a fit.
fn accumulate<C: Cell>(
    start: &[usize],
    cells: &[C],
    gh: &[[f32; 2]],
    rows: RowSet<'_>,
    out: &mut [Bin],
) -> Bin {
    let (mut tg, mut th) = (0.0, 0.0);
    let mut add = |r: usize| {
        let [g, h] = gh[r];
        let (g, h) = (f64::from(g), f64::from(h));
        tg += g;
        th += h;
        for &c in &cells[start[r]..start[r + 1]] {
            let bin = &mut out[c.index()];
            bin[0] += g;
            bin[1] += h;
        }
    };
    match rows {
        RowSet::All(n) => (0..n).for_each(&mut add),
        RowSet::Some(r) => r.iter().for_each(|&r| add(r as usize)),
    }
    [tg, th]
}

/// Sets the default bin (never accumulated) of each of the block's features to the leaf
/// total minus the feature's other bins.
fn fill_default_bins(part: &mut [Bin], mapper: &BinMapper, block: &SparseBlock, total: Bin) {
    let base = block.bins.start;
    for f in block.features.clone() {
        let bins = &mut part[mapper.offsets[f] - base..mapper.offsets[f + 1] - base];
        let d = usize::from(mapper.default_bin[f]);
        bins[d] = [0.0; 2];
        let (g, h) = bins
            .iter()
            .fold((0.0, 0.0), |(g, h), b| (g + b[0], h + b[1]));
        bins[d] = [total[0] - g, total[1] - h];
    }
}

/// `parent -= child`, bin by bin: the parent's buffer becomes the other child's histogram.
pub(crate) fn subtract(parent: &mut [Bin], child: &[Bin]) {
    for (p, c) in parent.iter_mut().zip(child) {
        p[0] -= c[0];
        p[1] -= c[1];
    }
}

#[cfg(test)]
mod tests;
