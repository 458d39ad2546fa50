//! Graphs the runtime also understands natively: the two shapes qualify writes, recognised
//! by qualify-onnx ([`qualify_onnx::recognise`]).
//!
//! Why: tract runs any graph, but it is slow on tree ensembles, a call into it costs
//! microseconds where a logistic model's dot product costs nanoseconds, and explanations need
//! the model's parameters (the logistic weights, the trees and their covers), not just its
//! output. A recognised tree ensemble is packed for scoring ([`FlatForest`]); a logistic
//! graph is scored as its dot product ([`Native::raw_score`]). Before either scores
//! anything, it must agree with tract on probe rows ([`probe_rows`], [`linear_probe_rows`]).

use std::fmt;

use qualify_core::trees::{Node, TreeEnsemble};
use qualify_onnx::Recognised;
use serde::{Deserialize, Serialize};

use crate::forest::flat::{FlatForest, PackError};

/// A recognised graph, with what native evaluation and explanations need.
#[derive(Debug, Clone)]
pub enum Native {
    /// A tree ensemble: scored by `flat`, explained (when it has covers) from `ensemble`.
    Trees {
        ensemble: TreeEnsemble,
        flat: FlatForest,
    },
    /// `logit = features · weights + bias`.
    Linear { weights: Vec<f32>, bias: f32 },
}

/// Which evaluator scores a model: shown by the server and `qualify import`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NativeKind {
    /// A tree ensemble scored by the native evaluator.
    Trees,
    /// A logistic graph (scored as its dot product, explained from its weights).
    Linear,
    /// Any other graph: tract alone, not explainable.
    Graph,
}

impl NativeKind {
    /// The lowercase name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            NativeKind::Trees => "trees",
            NativeKind::Linear => "linear",
            NativeKind::Graph => "graph",
        }
    }
}

impl fmt::Display for NativeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Native {
    /// The native form of a recognised graph.
    ///
    /// # Errors
    /// [`PackError`] when a tree ensemble cannot be packed.
    pub fn from_recognised(recognised: Recognised) -> Result<Native, PackError> {
        Ok(match recognised {
            Recognised::Trees(ensemble) => Native::Trees {
                flat: FlatForest::new(&ensemble)?,
                ensemble,
            },
            Recognised::Linear { weights, bias } => Native::Linear { weights, bias },
        })
    }

    pub fn kind(&self) -> NativeKind {
        match self {
            Native::Trees { .. } => NativeKind::Trees,
            Native::Linear { .. } => NativeKind::Linear,
        }
    }

    /// The raw score (log-odds) of one row (`n_features` long): the trees' sum, or
    /// `row · weights + bias` summed in `f64` (tract sums in `f32`).
    pub fn raw_score(&self, row: &[f32]) -> f64 {
        match self {
            Native::Trees { flat, .. } => flat.raw_score(row),
            Native::Linear { weights, bias } => {
                // Four running sums, so the additions do not wait on each other; the order
                // is fixed, so a row scores the same in a batch and alone.
                let mut sums = [0.0f64; 4];
                let mut rows = row.chunks_exact(4);
                let mut ws = weights.chunks_exact(4);
                for (x, w) in rows.by_ref().zip(ws.by_ref()) {
                    for k in 0..4 {
                        sums[k] += f64::from(x[k]) * f64::from(w[k]);
                    }
                }
                let tail: f64 = rows
                    .remainder()
                    .iter()
                    .zip(ws.remainder())
                    .map(|(&x, &w)| f64::from(x) * f64::from(w))
                    .sum();
                (sums[0] + sums[1]) + (sums[2] + sums[3]) + tail + f64::from(*bias)
            }
        }
    }

    /// The rows on which this evaluator must agree with tract before it scores anything.
    pub fn probe_rows(&self, n_features: usize, rows: usize) -> Vec<f32> {
        match self {
            Native::Trees { ensemble, .. } => probe_rows(ensemble, rows),
            Native::Linear { .. } => linear_probe_rows(n_features, rows),
        }
    }
}

/// `rows` rows for a linear model: values spread over [-4, 4] (standardised inputs, one-hot
/// zeros and ones) by a fixed hash of (row, feature), and every feature at 1 alone in turn,
/// so a wrong weight anywhere shows.
pub fn linear_probe_rows(n_features: usize, rows: usize) -> Vec<f32> {
    let mut x = vec![0.0f32; rows * n_features];
    for (r, row) in x.chunks_exact_mut(n_features.max(1)).enumerate() {
        for (f, cell) in row.iter_mut().enumerate() {
            *cell = if r % 2 == 0 {
                let z = splitmix((r as u64) << 32 ^ f as u64);
                (z >> 40) as f32 / (1u64 << 24) as f32 * 8.0 - 4.0
            } else if (r / 2) % n_features.max(1) == f {
                1.0
            } else {
                0.0
            };
        }
    }
    x
}

/// SplitMix64: a fixed, well-spread hash of `z`.
fn splitmix(z: u64) -> u64 {
    let mut z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// `rows` rows that send every split both ways: feature `f` of row `r` is one of the
/// thresholds the ensemble compares `f` with (the exact value, or the next `f32` above it),
/// chosen by a fixed hash of `(r, f)`; 0 for a feature no split reads.
pub fn probe_rows(ensemble: &TreeEnsemble, rows: usize) -> Vec<f32> {
    let n = ensemble.n_features;
    let mut thresholds: Vec<Vec<f32>> = vec![Vec::new(); n];
    for node in ensemble.trees.iter().flat_map(|t| &t.nodes) {
        if let Node::Split {
            feature, threshold, ..
        } = *node
            && let Some(ts) = thresholds.get_mut(feature)
        {
            ts.push(threshold);
        }
    }
    let mut x = vec![0.0f32; rows * n];
    for (r, row) in x.chunks_exact_mut(n.max(1)).enumerate() {
        for (f, (cell, ts)) in row.iter_mut().zip(&thresholds).enumerate() {
            if ts.is_empty() {
                continue;
            }
            // A fixed hash of (r, f): deterministic, and spread over all thresholds.
            let z = splitmix((r as u64) << 32 ^ f as u64);
            let t = ts[(z >> 1) as usize % ts.len()];
            *cell = if z & 1 == 0 { t } else { t.next_up() };
        }
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn native_kind_serialises_lowercase() {
        for kind in [NativeKind::Trees, NativeKind::Linear, NativeKind::Graph] {
            let json = serde_json::to_string(&kind).expect("json");
            assert_eq!(json, format!("\"{kind}\""));
            assert_eq!(serde_json::from_str::<NativeKind>(&json).ok(), Some(kind));
        }
    }
}
