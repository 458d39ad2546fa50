//! Gradient histograms: per global bin, the sums of the gradients and hessians of a leaf's
//! rows. Building them is where a fit spends its time.
//!
//! - A histogram is built by walking the leaf's rows (sparse rows of global bin indices,
//!   `bins.rs`) and adding each row's `f32` gradient pair, widened to `f64`, to its bins;
//!   each feature's most frequent bin is skipped and set afterwards to the leaf's total minus
//!   the feature's other bins ([`fill_default_bins`]).
//! - Only the smaller child of a split is built; the larger one is its parent minus it
//!   ([`subtract`]), exact up to rounding, in place in the parent's buffer.
//! - Large leaves are cut into 2, 4 or 8 row chunks summed on rayon's threads into their own
//!   buffers, then added up in chunk order. The chunk count depends on the work only, never
//!   on the thread count, so one thread and many give bit-identical trees.

use rayon::prelude::*;

use crate::bins::{BinMapper, Cell, Rows, SparseRows};

/// One bin: `[gradient sum, hessian sum]`.
pub(crate) type Bin = [f64; 2];

/// Row-chunks of a leaf never do less than this many cell additions each.
const MIN_CHUNK_CELLS: usize = 1 << 16;
/// Nor fewer than this many per histogram bin (so zeroing and summing chunk buffers stays a
/// small share of the work).
const CELLS_PER_BIN: usize = 32;
const MAX_CHUNKS: usize = 8;

/// Which rows a histogram sums: all of them (the root) or a leaf's.
#[derive(Debug, Clone, Copy)]
pub(crate) enum RowSet<'a> {
    All(usize),
    Some(&'a [u32]),
}

impl RowSet<'_> {
    fn len(&self) -> usize {
        match self {
            RowSet::All(n) => *n,
            RowSet::Some(r) => r.len(),
        }
    }
}

/// Buffers a grower reuses from tree to tree.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    chunks: Vec<Vec<Bin>>,
}

/// Sums the gradient pairs of `rows` into `out` (zeroed first; every bin, default bins
/// included) and returns the rows' totals.
pub(crate) fn build(
    rows_data: &Rows,
    mapper: &BinMapper,
    gh: &[[f32; 2]],
    rows: RowSet<'_>,
    out: &mut [Bin],
    scratch: &mut Scratch,
) -> Bin {
    let total = match rows_data {
        Rows::Narrow(s) => build_chunked(s, gh, rows, out, scratch),
        Rows::Wide(s) => build_chunked(s, gh, rows, out, scratch),
    };
    fill_default_bins(out, mapper, total);
    total
}

fn build_chunked<C: Cell>(
    sparse: &SparseRows<C>,
    gh: &[[f32; 2]],
    rows: RowSet<'_>,
    out: &mut [Bin],
    scratch: &mut Scratch,
) -> Bin {
    let n = rows.len();
    let total_rows = sparse.start.len().saturating_sub(1).max(1);
    let cells = n * sparse.cells.len() / total_rows;
    let per_chunk = MIN_CHUNK_CELLS.max(CELLS_PER_BIN * out.len());
    let k = chunk_count(cells / per_chunk.max(1));
    if k == 1 {
        out.fill([0.0; 2]);
        return accumulate(sparse, gh, rows, 0, n, out);
    }
    while scratch.chunks.len() < k - 1 {
        scratch.chunks.push(Vec::new());
    }
    let mut buffers: Vec<&mut [Bin]> = Vec::with_capacity(k);
    buffers.push(out);
    for b in scratch.chunks.iter_mut().take(k - 1) {
        b.resize(buffers[0].len(), [0.0; 2]);
        buffers.push(&mut b[..]);
    }
    let totals: Vec<Bin> = buffers
        .par_iter_mut()
        .enumerate()
        .map(|(i, buffer)| {
            buffer.fill([0.0; 2]);
            accumulate(sparse, gh, rows, n * i / k, n * (i + 1) / k, buffer)
        })
        .collect();
    let (first, rest) = buffers.split_at_mut(1);
    let out = &mut *first[0];
    const SPAN: usize = 4096;
    out.par_chunks_mut(SPAN).enumerate().for_each(|(s, out)| {
        let span = s * SPAN..s * SPAN + out.len();
        for other in rest.iter() {
            for (o, v) in out.iter_mut().zip(&other[span.clone()]) {
                o[0] += v[0];
                o[1] += v[1];
            }
        }
    });
    totals
        .iter()
        .fold([0.0; 2], |a, t| [a[0] + t[0], a[1] + t[1]])
}

/// 1, 2, 4 or 8 chunks for `fits` chunks' worth of work.
fn chunk_count(fits: usize) -> usize {
    match fits {
        0..=1 => 1,
        2..=3 => 2,
        4..=7 => 4,
        _ => MAX_CHUNKS,
    }
}

/// Adds rows `a..b` of `rows` into `out`; returns their totals. The hot loop of a fit.
fn accumulate<C: Cell>(
    sparse: &SparseRows<C>,
    gh: &[[f32; 2]],
    rows: RowSet<'_>,
    a: usize,
    b: usize,
    out: &mut [Bin],
) -> Bin {
    let (mut tg, mut th) = (0.0, 0.0);
    let mut add = |r: usize| {
        let [g, h] = gh[r];
        let (g, h) = (f64::from(g), f64::from(h));
        tg += g;
        th += h;
        for &c in &sparse.cells[sparse.start[r]..sparse.start[r + 1]] {
            let bin = &mut out[c.index()];
            bin[0] += g;
            bin[1] += h;
        }
    };
    match rows {
        RowSet::All(_) => (a..b).for_each(&mut add),
        RowSet::Some(r) => r[a..b].iter().for_each(|&r| add(r as usize)),
    }
    [tg, th]
}

/// Sets each feature's default bin (never accumulated) to the leaf total minus the
/// feature's other bins.
pub(crate) fn fill_default_bins(hist: &mut [Bin], mapper: &BinMapper, total: Bin) {
    for (f, w) in mapper.offsets.windows(2).enumerate() {
        let bins = &mut hist[w[0]..w[1]];
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
