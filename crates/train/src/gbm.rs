//! One gradient-boosted fit with qualify-gbm, the workspace's own histogram GBM, which grows
//! its trees directly as qualify-core's [`TreeEnsemble`] (thresholds on `f32` with the
//! `x <= threshold` rule), so there is no conversion to get wrong.
//!
//! Why our own trainer rather than a library: it is as fast as LightGBM on this workload
//! (`docs/benchmarks.md`, section 6) and keeps what qualify needs (sample weights, monotone
//! constraints by bound propagation, early stopping on a validation set) and nothing else.
//!
//! The check stays: [`fit`] compares, on every training row, the trees' score (walked as the
//! server walks them, packed by qualify-runtime) with the booster's own training-time scores
//! (accumulated leaf by leaf from the rows each leaf holds, never by walking the trees), so a
//! tree that routes a row differently from how it was grown can never reach a bundle.

use qualify_core::schema::Monotone;
use qualify_core::trees::TreeEnsemble;
use qualify_runtime::forest::flat::FlatForest;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::TrainError;

/// Largest difference allowed between [`TreeEnsemble::raw_score`] and the booster's own
/// training scores (the same leaf values added in a different order).
pub const CONVERSION_TOLERANCE: f64 = 1e-9;

/// Hyperparameters of the boosted trees.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GbmParams {
    /// Upper bound on the number of trees (early stopping usually stops well before).
    pub max_trees: usize,
    pub learning_rate: f32,
    /// Leaves per tree; trees grow leaf-wise (best split first), like LightGBM's.
    pub max_leaves: usize,
    /// Minimum hessian sum in a leaf (about rows × p(1−p); LightGBM's `min_child_weight`).
    pub min_leaf_weight: f32,
    /// L2 penalty on leaf values.
    pub l2: f32,
    /// Histogram bins per feature, 2 to 256.
    pub bins: u16,
    /// Stop when the validation log loss has not improved for this many trees.
    pub early_stopping_rounds: usize,
    /// Threads for a fit, or for a whole cross-validated training (`None`: rayon's global
    /// pool, one thread per CPU).
    #[serde(skip)]
    pub threads: Option<usize>,
}

impl Default for GbmParams {
    /// Defaults chosen by cross-validation on the training part of X Education
    /// (`docs/xeducation.md`), never on its test part.
    fn default() -> Self {
        GbmParams {
            max_trees: 1000,
            learning_rate: 0.05,
            max_leaves: 15,
            min_leaf_weight: 5.0,
            l2: 1.0,
            bins: 256,
            early_stopping_rounds: 50,
            threads: None,
        }
    }
}

impl GbmParams {
    /// Checks every value, before any work (the names are the config's).
    pub fn validate(&self) -> Result<(), TrainError> {
        let bad = |name, requirement, value: f64| {
            Err(TrainError::GbmParameter {
                name,
                requirement,
                value,
            })
        };
        if self.max_trees == 0 {
            return bad("max trees", "must be at least 1", 0.0);
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return bad(
                "learning rate",
                "must be a positive number",
                f64::from(self.learning_rate),
            );
        }
        if self.max_leaves < 2 {
            return bad("leaves", "must be at least 2", self.max_leaves as f64);
        }
        if !(self.min_leaf_weight.is_finite() && self.min_leaf_weight >= 0.0) {
            return bad(
                "min leaf weight",
                "must be finite and >= 0",
                f64::from(self.min_leaf_weight),
            );
        }
        if !(self.l2.is_finite() && self.l2 >= 0.0) {
            return bad("l2", "must be finite and >= 0", f64::from(self.l2));
        }
        if !(2..=256).contains(&self.bins) {
            return bad("bins", "must be between 2 and 256", f64::from(self.bins));
        }
        if self.min_leaf_weight == 0.0 && self.l2 == 0.0 {
            // A leaf value is -G / (H + l2): one of the two keeps H + l2 away from 0.
            return bad("min leaf weight", "must be positive when l2 is 0", 0.0);
        }
        if self.threads == Some(0) {
            return bad("threads", "must be at least 1", 0.0);
        }
        if self.early_stopping_rounds == 0 {
            return bad("early stopping rounds", "must be at least 1", 0.0);
        }
        Ok(())
    }

    /// The trainer's parameters.
    fn engine(&self) -> qualify_gbm::Params {
        qualify_gbm::Params {
            learning_rate: f64::from(self.learning_rate),
            max_leaves: self.max_leaves,
            min_leaf_hessian: f64::from(self.min_leaf_weight),
            l2: f64::from(self.l2),
            max_bins: usize::from(self.bins),
            early_stopping_rounds: self.early_stopping_rounds,
            threads: self.threads,
        }
    }
}

/// Training rows for one fit: a row-major `f32` matrix (`y.len()` × `cols`) with labels and
/// per-row weights.
#[derive(Debug, Clone, Copy)]
pub struct Rows<'a> {
    pub x: &'a [f32],
    pub cols: usize,
    pub y: &'a [bool],
    pub weights: &'a [f64],
}

impl<'a> Rows<'a> {
    fn data(self) -> qualify_gbm::Data<'a> {
        qualify_gbm::Data {
            x: self.x,
            cols: self.cols,
            y: self.y,
            weights: Some(self.weights),
        }
    }
}

/// The result of one fit.
#[derive(Debug, Clone)]
pub struct GbmFit {
    /// The trees prediction uses (up to the best iteration when early stopping ran).
    pub ensemble: TreeEnsemble,
    /// Trees grown before stopping (the best ones plus `early_stopping_rounds`).
    pub trees_grown: usize,
}

/// Fits up to `trees` trees on `train`; with `validation`, stops early on its log loss and
/// keeps the trees up to the best iteration; then checks the trees against the booster's own
/// training scores (module doc). Bad rows or parameters are refused with what and where.
pub fn fit(
    train: Rows<'_>,
    validation: Option<Rows<'_>>,
    trees: usize,
    params: &GbmParams,
    monotone: &[(usize, Monotone)],
) -> Result<GbmFit, TrainError> {
    fit_watched(train, validation, trees, params, monotone, &|_| {})
}

/// [`fit`], reporting the best tree count to `on_best` as it moves
/// ([`qualify_gbm::fit_watched`]).
pub fn fit_watched(
    train: Rows<'_>,
    validation: Option<Rows<'_>>,
    trees: usize,
    params: &GbmParams,
    monotone: &[(usize, Monotone)],
    on_best: &(dyn Fn(usize) + Sync),
) -> Result<GbmFit, TrainError> {
    params.validate()?;
    let fitted = qualify_gbm::fit_watched(
        train.data(),
        validation.map(Rows::data),
        trees,
        &params.engine(),
        monotone,
        on_best,
    )
    .map_err(|source| TrainError::Gbm { source })?;
    checked(fitted, train)
}

/// `train` binned for a fit grown a tree at a time ([`qualify_gbm::Boosting`], on the
/// current rayon pool), for a caller that learns the tree count while it grows; [`checked`]
/// then checks its trees as [`fit`] does.
pub fn training<'a>(
    train: Rows<'a>,
    params: &GbmParams,
    monotone: &[(usize, Monotone)],
) -> Result<qualify_gbm::Training<'a>, TrainError> {
    params.validate()?;
    qualify_gbm::Training::new(train.data(), &params.engine(), monotone)
        .map_err(|source| TrainError::Gbm { source })
}

/// A fit on `train` once its trees score every row as the booster did (module doc).
pub fn checked(fitted: qualify_gbm::Fitted, train: Rows<'_>) -> Result<GbmFit, TrainError> {
    check_scores(&fitted.ensemble, train.x, train.cols, &fitted.train_scores)?;
    Ok(GbmFit {
        ensemble: fitted.ensemble,
        trees_grown: fitted.trees_grown,
    })
}

/// Checks that `ensemble` scores every row of `x` (row-major, `cols` wide) as `want`, within
/// [`CONVERSION_TOLERANCE`]; the first row that differs is the error.
pub fn check_scores(
    ensemble: &TreeEnsemble,
    x: &[f32],
    cols: usize,
    want: &[f64],
) -> Result<(), TrainError> {
    if cols == 0 || x.len() != want.len() * cols {
        return Err(TrainError::Rows {
            what: "booster training scores",
            got: want.len(),
            rows: x.len() / cols.max(1),
        });
    }
    // The trees packed as the server walks them (qualify-runtime's `FlatForest`: one 16-byte
    // split per node, faster to walk than the node enum), rows in parallel: the check walks
    // every tree for every row. The first row that differs, by position, is the one
    // reported whatever the threads.
    let got = raw_scores(ensemble, x, cols)?;
    let differs = got
        .par_iter()
        .zip(want)
        .enumerate()
        // A NaN on either side fails the check.
        .find_first(|(_, (got, want))| {
            let diff = (*got - *want).abs();
            diff.is_nan() || diff > CONVERSION_TOLERANCE
        });
    match differs {
        Some((row, (&got, &want))) => Err(TrainError::Conversion { row, got, want }),
        None => Ok(()),
    }
}

/// The raw log-odds of every row of `x` (row-major, `cols` wide) under `ensemble`, walked
/// packed (as [`check_scores`] walks them), rows in parallel; rows of another width than the
/// ensemble's are an error.
pub fn raw_scores(ensemble: &TreeEnsemble, x: &[f32], cols: usize) -> Result<Vec<f64>, TrainError> {
    let width = ensemble.n_features;
    if width == 0 || cols != width || !x.len().is_multiple_of(width) {
        return Err(TrainError::Shape {
            what: "rows to score",
            values: x.len(),
            rows: x.len() / width.max(1),
            cols: width,
        });
    }
    let forest = packed(ensemble)?;
    let mut scores = vec![0.0; x.len() / width];
    scores
        .par_chunks_mut(SCORED_ROWS_PER_TASK)
        .zip(x.par_chunks(SCORED_ROWS_PER_TASK * width))
        .for_each(|(out, rows)| forest.raw_scores_into(rows, out));
    Ok(scores)
}

/// Rows per parallel task of [`raw_scores`].
const SCORED_ROWS_PER_TASK: usize = 1024;

/// `ensemble` packed as the server walks it (qualify-runtime's `FlatForest`).
fn packed(ensemble: &TreeEnsemble) -> Result<FlatForest, TrainError> {
    FlatForest::new(ensemble).map_err(|e| TrainError::InvalidTrees {
        source: Box::new(e),
    })
}

#[cfg(test)]
mod tests;
