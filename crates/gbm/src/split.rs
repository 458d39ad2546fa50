//! The best split of a leaf, from its histogram, and leaf values under monotone bounds.
//!
//! Second-order boosting: a leaf with gradient sum `G` and hessian sum `H` takes the value
//! `w = -G / (H + λ)`, which lowers the loss by `G² / (2 (H + λ))`. A split's gain is what
//! the two children lower together minus what the leaf alone lowers (scaled by 2, as only
//! its sign and order matter). Splits leaving a side with hessian below the minimum are
//! not considered; a split must have a positive gain.
//!
//! Monotone constraints (XGBoost's and LightGBM's "basic" method): every leaf carries value
//! bounds `[lo, hi]`, inherited from its parent. Under bounds, a leaf's value is `w` clamped
//! into them and its loss reduction is computed *at that value*, not at `w`. A split on a
//! constrained feature is only taken when its children's values go the declared way, and it
//! gives the children bounds that meet at the middle of their values: increasing, the left
//! child gets `[lo, mid]` and the right `[mid, hi]`. Every leaf below a split on a
//! constrained feature is then on the right side of that middle, which makes each tree, and
//! so the ensemble, monotone in the feature.

use std::ops::Range;

use crate::bins::BinMapper;
use crate::hist::Bin;

/// A leaf's value bounds (before the learning rate).
pub(crate) type Bounds = (f64, f64);

/// The unconstrained bounds.
pub(crate) const FREE: Bounds = (f64::NEG_INFINITY, f64::INFINITY);

/// What split search needs besides the histogram.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rules<'a> {
    pub mapper: &'a BinMapper,
    /// Per feature: +1 increasing, −1 decreasing, 0 free.
    pub signs: &'a [i8],
    pub l2: f64,
    pub min_hessian: f64,
}

/// The best split found for a leaf: rows with `bin <= bin` of `feature` go left.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Split {
    pub feature: usize,
    pub bin: u8,
    pub gain: f64,
    /// The children's values (clamped into the leaf's bounds, before the learning rate).
    pub left_value: f64,
    pub right_value: f64,
}

/// `-G / (H + λ)` clamped into `bounds`.
#[inline]
pub(crate) fn leaf_value(g: f64, h: f64, l2: f64, bounds: Bounds) -> f64 {
    (-g / (h + l2)).clamp(bounds.0, bounds.1)
}

/// Twice the loss reduction of a leaf at value `w`.
#[inline]
fn reduction_at(g: f64, h: f64, l2: f64, w: f64) -> f64 {
    -(2.0 * g * w + (h + l2) * w * w)
}

/// The children's bounds after `split` of a leaf with `bounds` (module docs).
pub(crate) fn child_bounds(split: &Split, sign: i8, bounds: Bounds) -> (Bounds, Bounds) {
    let mid = (split.left_value + split.right_value) / 2.0;
    match sign {
        1 => ((bounds.0, mid), (mid, bounds.1)),
        -1 => ((mid, bounds.1), (bounds.0, mid)),
        _ => (bounds, bounds),
    }
}

/// The best split among `features` of a leaf with totals `total` and value `bounds`, whose
/// bins are `part` (global bin `base` first: a whole histogram, or one block's part of it),
/// or `None` when no split has a positive gain. Ties go to the lower feature, then bin.
pub(crate) fn best_split(
    rules: &Rules<'_>,
    part: &[Bin],
    base: usize,
    features: Range<usize>,
    total: Bin,
    bounds: Bounds,
) -> Option<Split> {
    let offsets = &rules.mapper.offsets;
    features
        .map(|f| {
            let bins = &part[offsets[f] - base..offsets[f + 1] - base];
            feature_split(rules, bins, total, bounds, f)
        })
        .fold(None, better)
}

/// The better of two splits; `first` (on lower features) wins ties.
pub(crate) fn better(first: Option<Split>, second: Option<Split>) -> Option<Split> {
    match (first, second) {
        (Some(x), Some(y)) => Some(if y.gain > x.gain { y } else { x }),
        (x, None) => x,
        (None, y) => y,
    }
}

/// The best split on feature `f`, whose histogram is `bins`.
fn feature_split(
    rules: &Rules<'_>,
    bins: &[Bin],
    total: Bin,
    bounds: Bounds,
    f: usize,
) -> Option<Split> {
    if bins.len() < 2 {
        return None;
    }
    let (l2, min_h) = (rules.l2, rules.min_hessian);
    let [g, h] = total;
    let sign = rules.signs[f];
    let constrained = sign != 0 || bounds != FREE;
    let (mut gl, mut hl) = (0.0, 0.0);
    let (mut best_gain, mut best_bin) = (0.0, None);
    if !constrained {
        let parent = g * g / (h + l2);
        for (k, b) in bins[..bins.len() - 1].iter().enumerate() {
            gl += b[0];
            hl += b[1];
            let (gr, hr) = (g - gl, h - hl);
            if hl < min_h {
                continue;
            }
            if hr < min_h {
                break;
            }
            let gain = gl * gl / (hl + l2) + gr * gr / (hr + l2) - parent;
            if gain > best_gain {
                (best_gain, best_bin) = (gain, Some(k));
            }
        }
    } else {
        let parent = reduction_at(g, h, l2, leaf_value(g, h, l2, bounds));
        for (k, b) in bins[..bins.len() - 1].iter().enumerate() {
            gl += b[0];
            hl += b[1];
            let (gr, hr) = (g - gl, h - hl);
            if hl < min_h {
                continue;
            }
            if hr < min_h {
                break;
            }
            let (wl, wr) = (
                leaf_value(gl, hl, l2, bounds),
                leaf_value(gr, hr, l2, bounds),
            );
            if (sign > 0 && wl > wr) || (sign < 0 && wl < wr) {
                continue;
            }
            let gain = reduction_at(gl, hl, l2, wl) + reduction_at(gr, hr, l2, wr) - parent;
            if gain > best_gain {
                (best_gain, best_bin) = (gain, Some(k));
            }
        }
    }
    let k = best_bin?;
    let (gl, hl) = bins[..=k]
        .iter()
        .fold((0.0, 0.0), |(g, h), b| (g + b[0], h + b[1]));
    Some(Split {
        feature: f,
        bin: k as u8,
        gain: best_gain,
        left_value: leaf_value(gl, hl, l2, bounds),
        right_value: leaf_value(g - gl, h - hl, l2, bounds),
    })
}

#[cfg(test)]
mod tests;
