//! Quantile binning: every feature value becomes a `u8` bin once, before the first tree.
//!
//! Why: a split only ever compares a value with a bin boundary, so trees can be grown on
//! small integers (histograms of at most 256 bins per feature instead of sorted values), and
//! because a bin's upper bound is an `f32` and `x` is in bin `k` exactly when
//! `x <= upper[k]` and `x > upper[k - 1]`, the split "bin ≤ k" *is* the split
//! `x <= upper[k]` of qualify-core's trees: no conversion, no rounding, no mismatch.
//!
//! Boundaries sit halfway between neighbouring distinct values (rounded down to an `f32`,
//! so a value on the boundary stays left), like LightGBM's. With more distinct values than
//! bins, distinct values are grouped greedily into bins of about equal weight (sample weights
//! count, so a row of weight 2 bins like two copies of it); a value heavier than a bin's share
//! gets a bin of its own.
//!
//! The binned rows are kept twice: column-major `u8` (partitioning a leaf reads one feature
//! of many rows) and as sparse rows of global bin indices without each feature's most
//! frequent bin (histograms read whole rows; that bin's sum is the leaf's total minus the
//! others, so one-hot and mostly-constant features cost almost nothing).
//!
//! The sparse rows are cut into one block of consecutive features per thread, of about equal
//! cells, each with its own row starts: a histogram's blocks fill disjoint parts of it, so
//! the threads can share every leaf, however small, and each bin still sums its rows in row
//! order (the same bits as one block).

use std::ops::Range;

use qualify_core::trees::f32_threshold_leq;
use rayon::prelude::*;

use crate::error::GbmError;
use crate::params::Data;

/// Padded length of a feature's boundaries (every `u8` bin index is in range).
const PAD: usize = 256;

/// The bin boundaries of every feature, fitted on the training rows.
#[derive(Debug, Clone)]
pub(crate) struct BinMapper {
    /// Per feature: ascending upper bounds padded to [`PAD`] with `+inf`; the first
    /// `bins[f]` are real (the last real one is `+inf` too).
    uppers: Vec<[f32; PAD]>,
    /// Bins per feature.
    bins: Vec<usize>,
    /// Start of each feature's bins in a histogram (`features + 1` entries).
    pub offsets: Vec<usize>,
    /// Each feature's most frequent bin on the training rows (not stored in sparse rows).
    pub default_bin: Vec<u8>,
}

/// A bin index within a feature block of a sparse row: `u16` while the block's bins fit,
/// else `u32`.
pub(crate) trait Cell: Copy + Send + Sync + 'static {
    fn index(self) -> usize;
    fn new(index: usize) -> Self;
}

impl Cell for u16 {
    #[inline(always)]
    fn index(self) -> usize {
        usize::from(self)
    }
    #[inline(always)]
    fn new(index: usize) -> Self {
        index as u16
    }
}

impl Cell for u32 {
    #[inline(always)]
    fn index(self) -> usize {
        self as usize
    }
    #[inline(always)]
    fn new(index: usize) -> Self {
        index as u32
    }
}

/// The cells of a feature block, in the narrowest type that holds its bin indices.
#[derive(Debug, Clone)]
pub(crate) enum Cells {
    Narrow(Vec<u16>),
    Wide(Vec<u32>),
}

impl Cells {
    fn len(&self) -> usize {
        match self {
            Cells::Narrow(c) => c.len(),
            Cells::Wide(c) => c.len(),
        }
    }
}

/// One block of consecutive features of the sparse rows: row `r`'s cells are
/// `cells[start[r]..start[r + 1]]`, each an index into the block's bins (global bin
/// `bins.start + index`).
#[derive(Debug, Clone)]
pub(crate) struct SparseBlock {
    pub features: Range<usize>,
    pub bins: Range<usize>,
    pub start: Vec<usize>,
    pub cells: Cells,
}

/// The sparse rows, in feature blocks (module docs).
#[derive(Debug, Clone)]
pub(crate) struct SparseRows {
    pub blocks: Vec<SparseBlock>,
    /// Cells per row, on average over the training rows.
    pub cells_per_row: f64,
}

/// The training rows, binned.
#[derive(Debug, Clone)]
pub(crate) struct Binned {
    pub rows: usize,
    /// Column-major bins: feature `f` of row `r` at `f * rows + r`.
    pub columns: Vec<u8>,
    pub sparse: SparseRows,
}

impl BinMapper {
    pub fn features(&self) -> usize {
        self.bins.len()
    }

    /// Bins in a histogram (all features).
    pub fn total_bins(&self) -> usize {
        self.offsets.last().copied().unwrap_or(0)
    }

    /// The split "bin ≤ `bin`" of feature `f` as a value threshold (`x <= threshold`).
    pub fn threshold(&self, f: usize, bin: u8) -> f32 {
        self.uppers[f][usize::from(bin)]
    }

    /// The bin of value `x` of feature `f`: the first `k` with `x <= upper[k]`.
    #[inline]
    pub fn bin(&self, f: usize, x: f32) -> u8 {
        bin_of(&self.uppers[f], x)
    }

    /// Bins a row-major matrix (`x.len() / features` rows) into a row-major `u8` matrix.
    pub fn bin_rows(&self, x: &[f32]) -> Vec<u8> {
        let f = self.features();
        let mut out = vec![0u8; x.len()];
        out.par_chunks_mut(f * 1024)
            .zip(x.par_chunks(f * 1024))
            .for_each(|(out, x)| {
                for (o, (j, &v)) in out.iter_mut().zip(x.iter().enumerate()) {
                    *o = self.bin(j % f, v);
                }
            });
        out
    }
}

/// Fits the bin boundaries on `data` and bins it (see the module docs).
pub(crate) fn bin_training(
    data: &Data<'_>,
    max_bins: usize,
) -> Result<(BinMapper, Binned), GbmError> {
    let (n, cols) = (data.rows(), data.cols);
    let per_feature: Vec<(Vec<f32>, Vec<u8>, u8, usize)> = (0..cols)
        .into_par_iter()
        .map(|f| {
            let column: Vec<f32> = (0..n).map(|r| data.x[r * cols + f] + 0.0).collect();
            let uppers = boundaries(&column, data.weights, max_bins);
            let mapper = padded(&uppers);
            let bins: Vec<u8> = column.iter().map(|&v| bin_of(&mapper, v)).collect();
            let mut counts = [0usize; PAD];
            for &b in &bins {
                counts[usize::from(b)] += 1;
            }
            let default = (0..uppers.len())
                .max_by_key(|&b| (counts[b], std::cmp::Reverse(b)))
                .unwrap_or(0) as u8;
            let cells = n - counts[usize::from(default)];
            (uppers, bins, default, cells)
        })
        .collect();
    let mut offsets = Vec::with_capacity(cols + 1);
    offsets.push(0);
    let mut mapper = BinMapper {
        uppers: Vec::with_capacity(cols),
        bins: Vec::with_capacity(cols),
        offsets: Vec::new(),
        default_bin: Vec::with_capacity(cols),
    };
    let mut columns = Vec::with_capacity(n * cols);
    let mut cells = Vec::with_capacity(cols);
    for (uppers, bins, default, feature_cells) in per_feature {
        cells.push(feature_cells);
        offsets.push(offsets.last().copied().unwrap_or(0) + uppers.len());
        mapper.bins.push(uppers.len());
        mapper.uppers.push(padded(&uppers));
        mapper.default_bin.push(default);
        columns.extend_from_slice(&bins);
    }
    mapper.offsets = offsets;
    if u32::try_from(mapper.total_bins()).is_err() {
        return Err(GbmError::TooManyBins {
            features: cols,
            bins: max_bins,
        });
    }
    let blocks: Vec<SparseBlock> = feature_blocks(&cells, rayon::current_num_threads())
        .into_iter()
        .map(|features| sparse_block(&columns, n, &mapper, features))
        .collect();
    let all_cells: usize = blocks.iter().map(|b| b.cells.len()).sum();
    let sparse = SparseRows {
        blocks,
        cells_per_row: all_cells as f64 / n.max(1) as f64,
    };
    Ok((
        mapper,
        Binned {
            rows: n,
            columns,
            sparse,
        },
    ))
}

/// Up to `threads` ranges of consecutive features (at least one, none empty) with about
/// equal shares of the cells, given each feature's cells.
pub(crate) fn feature_blocks(cells: &[usize], threads: usize) -> Vec<Range<usize>> {
    let blocks = threads.clamp(1, cells.len().max(1));
    let total: usize = cells.iter().sum();
    let mut out = Vec::with_capacity(blocks);
    let (mut begin, mut acc) = (0, 0);
    for (f, &c) in cells.iter().enumerate() {
        acc += c;
        let left = cells.len() - f - 1;
        let wanted = blocks - out.len() - 1;
        // Close a block once it holds its share, while enough features are left for the
        // rest; and whenever only one feature per remaining block is left.
        let share = acc * blocks >= total * (out.len() + 1);
        if wanted > 0 && ((share && left >= wanted) || left == wanted) {
            out.push(begin..f + 1);
            begin = f + 1;
        }
    }
    out.push(begin..cells.len());
    out
}

/// The sparse rows of `features` (one block) of a column-major binned matrix whose bin
/// indices fit a `u32`.
fn sparse_block(
    columns: &[u8],
    n: usize,
    mapper: &BinMapper,
    features: Range<usize>,
) -> SparseBlock {
    let bins = mapper.offsets[features.start]..mapper.offsets[features.end];
    let (start, cells) = if bins.len() <= usize::from(u16::MAX) + 1 {
        let (start, cells) = block_cells::<u16>(columns, n, mapper, &features, bins.start);
        (start, Cells::Narrow(cells))
    } else {
        let (start, cells) = block_cells::<u32>(columns, n, mapper, &features, bins.start);
        (start, Cells::Wide(cells))
    };
    SparseBlock {
        features,
        bins,
        start,
        cells,
    }
}

/// Row starts and cells (bin indices from `base`) of `features`, rows in parallel.
fn block_cells<C: Cell>(
    columns: &[u8],
    n: usize,
    mapper: &BinMapper,
    features: &Range<usize>,
    base: usize,
) -> (Vec<usize>, Vec<C>) {
    const ROWS: usize = 4096;
    let width = features.len();
    let parts: Vec<(Vec<usize>, Vec<C>)> = (0..n.div_ceil(ROWS))
        .into_par_iter()
        .map(|b| {
            let rows = b * ROWS..((b + 1) * ROWS).min(n);
            let mut lens = Vec::with_capacity(rows.len());
            let mut cells = Vec::with_capacity(rows.len() * width);
            for r in rows {
                let before = cells.len();
                for f in features.clone() {
                    let bin = columns[f * n + r];
                    if bin != mapper.default_bin[f] {
                        cells.push(C::new(mapper.offsets[f] - base + usize::from(bin)));
                    }
                }
                lens.push(cells.len() - before);
            }
            (lens, cells)
        })
        .collect();
    let mut start = Vec::with_capacity(n + 1);
    start.push(0);
    let mut cells = Vec::with_capacity(parts.iter().map(|p| p.1.len()).sum());
    for (lens, part) in parts {
        for len in lens {
            start.push(start.last().copied().unwrap_or(0) + len);
        }
        cells.extend_from_slice(&part);
    }
    (start, cells)
}

fn padded(uppers: &[f32]) -> [f32; PAD] {
    let mut p = [f32::INFINITY; PAD];
    p[..uppers.len()].copy_from_slice(uppers);
    p
}

/// The first `k` with `x <= u[k]`, by a branch-free binary search over the padded bounds.
#[inline]
fn bin_of(u: &[f32; PAD], x: f32) -> u8 {
    let mut i = 0usize;
    for step in [128, 64, 32, 16, 8, 4, 2, 1] {
        if u[i + step - 1] < x {
            i += step;
        }
    }
    i as u8
}

/// An order-preserving `u32` key of a finite `f32` (no `-0.0`: callers add `0.0`).
fn key(v: f32) -> u32 {
    let b = v.to_bits();
    if b >> 31 == 1 { !b } else { b | 0x8000_0000 }
}

fn from_key(k: u32) -> f32 {
    f32::from_bits(if k >> 31 == 1 { k & 0x7fff_ffff } else { !k })
}

/// Upper bounds of a feature's bins (the last one `+inf`), at most `max_bins` of them.
pub(crate) fn boundaries(column: &[f32], weights: Option<&[f64]>, max_bins: usize) -> Vec<f32> {
    // Distinct values, ascending, with their weight.
    let mut distinct: Vec<(f32, f64)> = Vec::new();
    match weights {
        None => {
            let mut keys: Vec<u32> = column.iter().map(|&v| key(v)).collect();
            keys.sort_unstable();
            for k in keys {
                match distinct.last_mut() {
                    Some((v, c)) if key(*v) == k => *c += 1.0,
                    _ => distinct.push((from_key(k), 1.0)),
                }
            }
        }
        Some(w) => {
            let mut keyed: Vec<(u32, f64)> =
                column.iter().zip(w).map(|(&v, &w)| (key(v), w)).collect();
            keyed.sort_unstable_by_key(|p| p.0);
            for (k, w) in keyed {
                match distinct.last_mut() {
                    Some((v, c)) if key(*v) == k => *c += w,
                    _ => distinct.push((from_key(k), w)),
                }
            }
        }
    }
    let counts: Vec<f64> = distinct.iter().map(|d| d.1).collect();
    let mut uppers: Vec<f32> = cut_after(&counts, max_bins)
        .into_iter()
        .map(|i| {
            let (a, b) = (f64::from(distinct[i].0), f64::from(distinct[i + 1].0));
            f32_threshold_leq(a + (b - a) / 2.0)
        })
        .collect();
    uppers.push(f32::INFINITY);
    uppers
}

/// Which distinct values (by index) end a bin, given each one's weight: every one when
/// they fit, else greedy bins of about equal weight (module docs). At most `max_bins - 1`.
pub(crate) fn cut_after(counts: &[f64], max_bins: usize) -> Vec<usize> {
    let d = counts.len();
    if d <= max_bins {
        return (0..d.saturating_sub(1)).collect();
    }
    let mut cuts = Vec::with_capacity(max_bins - 1);
    let mut rest: f64 = counts.iter().sum();
    let mut acc = 0.0;
    for i in 0..d - 1 {
        let bins_left = max_bins - cuts.len();
        if bins_left <= 1 {
            break;
        }
        acc += counts[i];
        let cut = if d - i <= bins_left {
            true
        } else {
            let target = rest / bins_left as f64;
            // Stop here when full, or when the next value would overshoot the share by more
            // than stopping now falls short of it.
            acc >= target || counts[i + 1] > 2.0 * (target - acc)
        };
        if cut {
            cuts.push(i);
            rest -= acc;
            acc = 0.0;
        }
    }
    cuts
}

#[cfg(test)]
mod tests;
