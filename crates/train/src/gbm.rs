//! One gradient-boosted fit with forust-ml, converted to qualify-core's [`TreeEnsemble`].
//!
//! Why forust-ml: it is pure Rust, builds on stable with default features only (rayon, serde,
//! rand, log, thiserror), fits histogram trees leaf-wise, takes sample weights, monotone
//! constraints and an evaluation set for early stopping, and its fitted trees are public
//! structs, so they can be converted exactly (`docs/benchmarks.md` has its fit time against
//! LightGBM's).
//!
//! Three forust-ml facts shape the conversion:
//! - a forust split sends a value **left when `v < split_value`** (strictly); ours goes left
//!   when `x <= threshold`. For an `f64` value `v < s` exactly when `v <= s.next_down()`, and
//!   [`f32_threshold_leq`] turns that into an `f32` threshold that gives the same branch for
//!   every `f32` input, so trees learnt on the `f32` matrix (cast to `f64`) agree exactly;
//! - missing values (NaN) take a node's `missing_node`; qualify's encoder imputes and never
//!   produces NaN, so that branch is never taken and is not carried over;
//! - with early stopping forust keeps the trees grown after the best iteration and predicts
//!   with the first `prediction_iteration` ones; the conversion keeps only those.
//!
//! And one forust-ml 0.8 flaw: it clamps leaf values to the monotone bounds only at splits on
//! the constrained feature itself, so a later split on another feature can step outside them
//! and break the declared direction (`tests::monotone_constraints_hold_along_the_feature`
//! found it). [`fit_booster`] therefore clamps every leaf to the bounds of its constrained
//! ancestors after fitting (XGBoost's rule), which makes each tree monotone: two rows that
//! differ only in a constrained feature part at a split on it, where every leaf on the low
//! side is at most the split's midpoint and every leaf on the high side at least it.
//!
//! [`fit`] checks, on every training row, that [`TreeEnsemble::raw_score`] reproduces
//! forust-ml's own prediction, so a conversion mistake can never reach a bundle.

use forust_ml::constraints::{Constraint, ConstraintMap};
use forust_ml::gradientbooster::GrowPolicy;
use forust_ml::metric::Metric;
use forust_ml::objective::ObjectiveType;
use forust_ml::{GradientBooster, Matrix};
use qualify_core::schema::Monotone;
use qualify_core::trees::{Node, Tree, TreeEnsemble, f32_threshold_leq};
use serde::{Deserialize, Serialize};

use crate::error::TrainError;

/// Largest difference allowed between [`TreeEnsemble::raw_score`] and forust-ml's prediction
/// (the same leaves added in a different order).
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
    /// Histogram bins per feature.
    pub bins: u16,
    /// Stop when the validation log loss has not improved for this many trees.
    pub early_stopping_rounds: usize,
    /// Threads for one fit (`None`: one per CPU).
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
    /// Checks the values forust-ml would otherwise reject late or silently misuse.
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
        if self.bins < 2 {
            return bad("bins", "must be at least 2", f64::from(self.bins));
        }
        if self.early_stopping_rounds == 0 {
            return bad("early stopping rounds", "must be at least 1", 0.0);
        }
        Ok(())
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

impl Rows<'_> {
    fn check(&self, what: &'static str) -> Result<(), TrainError> {
        if self.cols == 0 || self.x.len() != self.y.len() * self.cols {
            return Err(TrainError::Shape {
                what,
                values: self.x.len(),
                rows: self.y.len(),
                cols: self.cols,
            });
        }
        if self.weights.len() != self.y.len() {
            return Err(TrainError::Rows {
                what: "row weights",
                got: self.weights.len(),
                rows: self.y.len(),
            });
        }
        if self.y.is_empty() {
            return Err(TrainError::NoRows { what });
        }
        if let Some(i) = self.x.iter().position(|v| !v.is_finite()) {
            return Err(TrainError::NonFinite {
                what,
                row: i / self.cols,
                feature: i % self.cols,
                value: self.x[i],
            });
        }
        Ok(())
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
/// keeps the trees up to the best iteration. Converts the result and checks it (module doc).
pub fn fit(
    train: Rows<'_>,
    validation: Option<Rows<'_>>,
    trees: usize,
    params: &GbmParams,
    monotone: &[(usize, Monotone)],
    seed: u64,
) -> Result<GbmFit, TrainError> {
    let x = column_major_f64(train.x, train.cols);
    let booster = fit_booster(train, &x, validation, trees, params, monotone, seed)?;
    let trees_grown = booster.trees.len();
    let ensemble = to_ensemble(&booster, train.cols)?;
    let matrix = Matrix::new(&x, train.y.len(), train.cols);
    let expected = booster.predict(&matrix, params.threads != Some(1));
    for (row, (features, want)) in train.x.chunks(train.cols).zip(expected).enumerate() {
        let got = ensemble.raw_score(features);
        if (got - want).abs() > CONVERSION_TOLERANCE {
            return Err(TrainError::Conversion { row, got, want });
        }
    }
    Ok(GbmFit {
        ensemble,
        trees_grown,
    })
}

/// forust-ml's fit alone, on `x` (the training rows as a column-major `f64` matrix from
/// [`column_major_f64`]); [`fit`] adds the conversion and its check.
pub fn fit_booster(
    train: Rows<'_>,
    x: &[f64],
    validation: Option<Rows<'_>>,
    trees: usize,
    params: &GbmParams,
    monotone: &[(usize, Monotone)],
    seed: u64,
) -> Result<GradientBooster, TrainError> {
    params.validate()?;
    train.check("training rows")?;
    if x.len() != train.x.len() {
        return Err(TrainError::Rows {
            what: "the f64 copy of the training matrix",
            got: x.len(),
            rows: train.x.len(),
        });
    }
    if let Some(&(feature, _)) = monotone.iter().find(|(f, _)| *f >= train.cols) {
        return Err(TrainError::MonotoneFeature {
            feature,
            features: train.cols,
        });
    }
    let mut booster = GradientBooster::default();
    booster.objective_type = ObjectiveType::LogLoss;
    booster.iterations = trees.max(1);
    booster.learning_rate = params.learning_rate;
    booster.max_leaves = params.max_leaves;
    booster.max_depth = usize::MAX;
    booster.grow_policy = GrowPolicy::LossGuide;
    booster.min_leaf_weight = params.min_leaf_weight;
    booster.l2 = params.l2;
    booster.nbins = params.bins;
    booster.parallel = params.threads != Some(1);
    booster.num_threads = params.threads;
    booster.seed = seed;
    booster.initialize_base_score = true;
    booster.allow_missing_splits = false;
    booster.monotone_constraints = (!monotone.is_empty()).then(|| {
        monotone
            .iter()
            .map(|&(feature, direction)| {
                let c = match direction {
                    Monotone::Increasing => Constraint::Positive,
                    Monotone::Decreasing => Constraint::Negative,
                };
                (feature, c)
            })
            .collect::<ConstraintMap>()
    });
    let y = labels_f64(train.y);
    let fitted = match validation {
        Some(v) => {
            v.check("validation rows")?;
            if v.cols != train.cols {
                return Err(TrainError::Shape {
                    what: "validation rows (training rows' width)",
                    values: v.x.len(),
                    rows: v.y.len(),
                    cols: train.cols,
                });
            }
            booster.evaluation_metric = Some(Metric::LogLoss);
            booster.early_stopping_rounds = Some(params.early_stopping_rounds);
            let vx = column_major_f64(v.x, v.cols);
            let vy = labels_f64(v.y);
            let eval = vec![(Matrix::new(&vx, v.y.len(), v.cols), &vy[..], v.weights)];
            booster.fit(
                &Matrix::new(x, train.y.len(), train.cols),
                &y,
                train.weights,
                Some(eval),
            )
        }
        None => booster.fit(
            &Matrix::new(x, train.y.len(), train.cols),
            &y,
            train.weights,
            None,
        ),
    };
    fitted.map_err(|source| TrainError::Forust { source })?;
    if !monotone.is_empty() {
        for tree in &mut booster.trees {
            clamp_to_monotone_bounds(tree, monotone);
        }
    }
    Ok(booster)
}

/// Clamps each leaf of `tree` to the value bounds its constrained ancestors set (module doc).
fn clamp_to_monotone_bounds(tree: &mut forust_ml::tree::Tree, monotone: &[(usize, Monotone)]) {
    let nodes = &mut tree.nodes;
    let mut stack = vec![(0usize, f32::NEG_INFINITY, f32::INFINITY)];
    while let Some((i, lo, hi)) = stack.pop() {
        let Some(node) = nodes.get(i) else { continue };
        if node.is_leaf {
            nodes[i].weight_value = nodes[i].weight_value.clamp(lo, hi);
            continue;
        }
        let (left, right) = (node.left_child, node.right_child);
        let direction = monotone
            .iter()
            .find(|(f, _)| *f == node.split_feature)
            .map(|(_, d)| *d);
        let (left_bounds, right_bounds) = match direction {
            None => ((lo, hi), (lo, hi)),
            Some(d) => {
                let weight = |j: usize| nodes.get(j).map_or(0.0, |n| n.weight_value);
                let mid = ((weight(left) + weight(right)) / 2.0).clamp(lo, hi);
                match d {
                    Monotone::Increasing => ((lo, mid), (mid, hi)),
                    Monotone::Decreasing => ((mid, hi), (lo, mid)),
                }
            }
        };
        stack.push((left, left_bounds.0, left_bounds.1));
        stack.push((right, right_bounds.0, right_bounds.1));
    }
}

/// Converts the trees forust-ml predicts with (module doc) into a [`TreeEnsemble`] over
/// `n_features` features, and validates it.
pub fn to_ensemble(
    booster: &GradientBooster,
    n_features: usize,
) -> Result<TreeEnsemble, TrainError> {
    let used = booster
        .prediction_iteration
        .unwrap_or(booster.trees.len())
        .min(booster.trees.len());
    let trees = booster.trees[..used]
        .iter()
        .map(convert_tree)
        .collect::<Result<Vec<Tree>, TrainError>>()?;
    let ensemble = TreeEnsemble {
        n_features,
        base_score: booster.base_score,
        trees,
    };
    ensemble
        .validate()
        .map_err(|e| TrainError::InvalidTrees { source: e.into() })?;
    Ok(ensemble)
}

/// One tree, renumbered in depth-first order from the root (children after their parent).
fn convert_tree(tree: &forust_ml::tree::Tree) -> Result<Tree, TrainError> {
    // (forust-ml's node type is not exported; its fields are.)
    let nodes = &tree.nodes;
    if nodes.is_empty() {
        return Err(TrainError::ForustTree {
            problem: "is empty".into(),
        });
    }
    let mut out: Vec<Node> = Vec::with_capacity(nodes.len());
    // (forust index, index of the parent's slot to patch, is left child)
    let mut stack = vec![(0usize, None::<(usize, bool)>)];
    while let Some((i, parent)) = stack.pop() {
        let node = nodes.get(i).ok_or_else(|| TrainError::ForustTree {
            problem: format!("points to node {i}, which it does not have"),
        })?;
        if out.len() >= nodes.len() {
            return Err(TrainError::ForustTree {
                problem: "has a cycle".into(),
            });
        }
        let at = out.len();
        if node.is_leaf {
            out.push(Node::Leaf {
                value: f64::from(node.weight_value),
                cover: Some(f64::from(node.hessian_sum)),
            });
        } else {
            out.push(Node::Split {
                feature: node.split_feature,
                // forust: left when v < split_value; ours: left when x <= threshold.
                threshold: f32_threshold_leq(node.split_value.next_down()),
                // qualify's encoder never produces NaN (module doc).
                nan_left: false,
                left: 0,
                right: 0,
                cover: Some(f64::from(node.hessian_sum)),
            });
            stack.push((node.right_child, Some((at, false))));
            stack.push((node.left_child, Some((at, true))));
        }
        if let Some((p, is_left)) = parent
            && let Node::Split { left, right, .. } = &mut out[p]
        {
            *(if is_left { left } else { right }) = at;
        }
    }
    Ok(Tree { nodes: out })
}

/// The row-major `f32` matrix as forust-ml's column-major `f64` (values exactly preserved).
pub fn column_major_f64(x: &[f32], cols: usize) -> Vec<f64> {
    let rows = x.len() / cols.max(1);
    let mut out = vec![0.0; x.len()];
    for (i, row) in x.chunks(cols).enumerate() {
        for (j, &v) in row.iter().enumerate() {
            out[j * rows + i] = f64::from(v);
        }
    }
    out
}

fn labels_f64(y: &[bool]) -> Vec<f64> {
    y.iter().map(|&v| f64::from(u8::from(v))).collect()
}

#[cfg(test)]
mod tests;
