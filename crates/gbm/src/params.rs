//! Hyperparameters and input rows, and the checks that run before any work.
//!
//! Everything a fit could trip over later (a NaN, a negative weight, one class, a constraint
//! on a feature that does not exist) is refused here with the row, feature or parameter
//! named, so the boosting loop itself has no error paths.

use qualify_core::schema::Monotone;

use crate::error::{GbmError, Parameter, Part};

/// Hyperparameters of one fit. The defaults are LightGBM's where it has the same knob
/// (learning rate 0.1, 31 leaves, 255 bins; L2 0 and min leaf hessian 1e-3).
#[derive(Debug, Clone, PartialEq)]
pub struct Params {
    /// Shrinkage applied to every leaf value.
    pub learning_rate: f64,
    /// Leaves per tree; trees grow leaf-wise (the best split anywhere first).
    pub max_leaves: usize,
    /// Minimum hessian sum in a leaf (with unit weights, about rows × p(1−p)).
    pub min_leaf_hessian: f64,
    /// L2 penalty on leaf values.
    pub l2: f64,
    /// Histogram bins per feature, 2 to 256 (quantiles of the training values).
    pub max_bins: usize,
    /// With validation rows: stop when their log loss has not improved for this many trees.
    pub early_stopping_rounds: usize,
    /// Threads for the fit: `None` runs on the caller's rayon pool (by default one thread
    /// per CPU); `Some(n)` on a pool of its own. The trees do not depend on it.
    pub threads: Option<usize>,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            learning_rate: 0.1,
            max_leaves: 31,
            min_leaf_hessian: 1e-3,
            l2: 0.0,
            max_bins: 255,
            early_stopping_rounds: 50,
            threads: None,
        }
    }
}

impl Params {
    /// Checks every value; the first bad one is the error.
    pub fn validate(&self) -> Result<(), GbmError> {
        let bad = |name, requirement, value: f64| {
            Err(GbmError::Parameter {
                name,
                requirement,
                value,
            })
        };
        let lr = self.learning_rate;
        if !(lr.is_finite() && lr > 0.0) {
            return bad(Parameter::LearningRate, "must be a positive number", lr);
        }
        if self.max_leaves < 2 {
            let v = self.max_leaves as f64;
            return bad(Parameter::MaxLeaves, "must be at least 2", v);
        }
        let (h, l2) = (self.min_leaf_hessian, self.l2);
        if !(h.is_finite() && h >= 0.0) {
            return bad(Parameter::MinLeafHessian, "must be finite and >= 0", h);
        }
        if !(l2.is_finite() && l2 >= 0.0) {
            return bad(Parameter::L2, "must be finite and >= 0", l2);
        }
        if h == 0.0 && l2 == 0.0 {
            // A leaf value is -G / (H + l2): one of the two must keep H + l2 away from 0.
            return bad(
                Parameter::MinLeafHessian,
                "must be positive when l2 is 0",
                h,
            );
        }
        if !(2..=256).contains(&self.max_bins) {
            let v = self.max_bins as f64;
            return bad(Parameter::MaxBins, "must be between 2 and 256", v);
        }
        if self.early_stopping_rounds == 0 {
            return bad(Parameter::EarlyStoppingRounds, "must be at least 1", 0.0);
        }
        if self.threads == Some(0) {
            return bad(Parameter::Threads, "must be at least 1", 0.0);
        }
        Ok(())
    }
}

/// Rows to fit on or to watch: a row-major `f32` matrix (`y.len()` × `cols`), labels and
/// optional per-row weights (`None`: every row weighs 1).
#[derive(Debug, Clone, Copy)]
pub struct Data<'a> {
    pub x: &'a [f32],
    pub cols: usize,
    pub y: &'a [bool],
    pub weights: Option<&'a [f64]>,
}

impl Data<'_> {
    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.y.len()
    }

    /// Weight of row `i`.
    #[inline]
    pub(crate) fn weight(&self, i: usize) -> f64 {
        self.weights.map_or(1.0, |w| w[i])
    }

    /// Shape, finite values, weights; both classes in the training rows.
    pub(crate) fn check(&self, part: Part) -> Result<(), GbmError> {
        let rows = self.y.len();
        if self.cols == 0 || self.x.len() != rows * self.cols {
            return Err(GbmError::Shape {
                part,
                values: self.x.len(),
                rows,
                cols: self.cols,
            });
        }
        if rows == 0 {
            return Err(GbmError::NoRows { part });
        }
        if let Some(w) = self.weights {
            if w.len() != rows {
                return Err(GbmError::WeightCount {
                    part,
                    weights: w.len(),
                    rows,
                });
            }
            if let Some(row) = w.iter().position(|w| !(w.is_finite() && *w >= 0.0)) {
                return Err(GbmError::BadWeight {
                    part,
                    row,
                    weight: w[row],
                });
            }
        }
        if let Some(i) = self.x.iter().position(|v| !v.is_finite()) {
            return Err(GbmError::NonFinite {
                part,
                row: i / self.cols,
                feature: i % self.cols,
                value: self.x[i],
            });
        }
        let (mut pos, mut all) = (0.0, 0.0);
        for (i, &label) in self.y.iter().enumerate() {
            let w = self.weight(i);
            all += w;
            if label {
                pos += w;
            }
        }
        if all <= 0.0 {
            return Err(GbmError::NoWeight { part });
        }
        let rate = pos / all;
        // Early stopping can watch one class; the trees need both to learn anything.
        if part == Part::Training && !(rate > 0.0 && rate < 1.0) {
            return Err(GbmError::OneClass { part, rate });
        }
        Ok(())
    }
}

/// Per-feature constraint as a sign (+1 increasing, −1 decreasing, 0 free), checked.
pub(crate) fn constraint_signs(
    monotone: &[(usize, Monotone)],
    features: usize,
) -> Result<Vec<i8>, GbmError> {
    let mut signs = vec![0i8; features];
    for &(feature, direction) in monotone {
        let slot = signs
            .get_mut(feature)
            .ok_or(GbmError::MonotoneFeature { feature, features })?;
        if *slot != 0 {
            return Err(GbmError::MonotoneTwice { feature });
        }
        *slot = match direction {
            Monotone::Increasing => 1,
            Monotone::Decreasing => -1,
        };
    }
    Ok(signs)
}
