//! Cross-validated training of the gradient-boosted model and its calibrator.
//!
//! On the training part only, with the same stratified folds as the logistic model (same
//! seed), so `--model auto` compares the two on identical out-of-fold rows:
//! - each fold's model is fitted on the other folds, minus a stratified
//!   `validation_fraction` of them that early stopping watches (so the held-out fold never
//!   chooses its own model's size), and predicts the held-out fold: out-of-fold log-odds;
//! - the calibrator is fitted on those out-of-fold log-odds, as for logistic;
//! - the final model is refitted on the whole training part with the mean of the folds' best
//!   tree counts, without early stopping.
//!
//! The folds are fitted side by side on rayon's threads, and the refit grows alongside them
//! as far as the folds' best tree counts so far allow (a fit's trees depend neither on the
//! threads it gets nor on when its trees are grown, so the model is the same as with one fit
//! after the other).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use qualify_core::calibrate::{Calibrator, sigmoid};
use qualify_core::encoder::{ColumnState, Encoder};
use qualify_core::schema::{Monotone, Schema};
use qualify_core::trees::TreeEnsemble;
use serde::{Deserialize, Serialize};

use crate::calibration::{CalibrationMethod, fit_calibrator};
use crate::cv::check_groups;
use crate::error::TrainError;
use crate::gbm::{self, GbmParams, Rows};
use crate::split::{assign_folds, assign_split};

/// How rows are weighted in the boosting loss.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClassWeight {
    /// Every row weighs 1.
    #[default]
    None,
    /// Each class weighs half of the total (scikit-learn's `balanced`: n / (2 · n_class)).
    Balanced,
}

impl ClassWeight {
    /// Per-row weights for labels `y`.
    pub fn weights(self, y: &[bool]) -> Vec<f64> {
        match self {
            ClassWeight::None => vec![1.0; y.len()],
            ClassWeight::Balanced => {
                let n = y.len() as f64;
                let pos = y.iter().filter(|&&v| v).count() as f64;
                let (w_pos, w_neg) = (n / (2.0 * pos.max(1.0)), n / (2.0 * (n - pos).max(1.0)));
                y.iter().map(|&v| if v { w_pos } else { w_neg }).collect()
            }
        }
    }
}

/// Settings of [`train_gbm`].
#[derive(Debug, Clone)]
pub struct GbmOptions {
    pub params: GbmParams,
    pub folds: usize,
    pub seed: u64,
    pub calibration: CalibrationMethod,
    pub class_weight: ClassWeight,
    /// Share of each fold's training rows that early stopping watches.
    pub validation_fraction: f64,
    /// Monotone constraints by encoded feature index.
    pub monotone: Vec<(usize, Monotone)>,
    /// A group per row (a lead's moments): folds and the early-stopping share keep a
    /// group's rows together.
    pub groups: Option<Arc<[usize]>>,
}

impl Default for GbmOptions {
    fn default() -> Self {
        GbmOptions {
            params: GbmParams::default(),
            folds: 5,
            seed: 42,
            calibration: CalibrationMethod::Auto,
            class_weight: ClassWeight::None,
            validation_fraction: 0.1,
            monotone: Vec::new(),
            groups: None,
        }
    }
}

/// How cross-validation went (as the manifest records it).
pub use qualify_core::bundle::metrics::GbmCv;

/// The trained model, its calibrator and how they were chosen.
#[derive(Debug, Clone)]
pub struct TrainedGbm {
    pub ensemble: TreeEnsemble,
    pub calibrator: Calibrator,
    pub cv: GbmCv,
    pub options: GbmOptions,
    /// Out-of-fold log-odds of the training rows (what the calibrator was fitted on).
    pub oof: Vec<f64>,
}

/// Trains on a row-major matrix `x` (`y.len()` × `cols`). `progress(done, total)` is called
/// after each of the `folds + 1` fits, as they finish (the folds' in any order).
pub fn train_gbm(
    x: &[f32],
    cols: usize,
    y: &[bool],
    options: &GbmOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<TrainedGbm, TrainError> {
    options.params.validate()?;
    if x.len() != y.len() * cols || cols == 0 {
        return Err(TrainError::Shape {
            what: "GBM training matrix",
            values: x.len(),
            rows: y.len(),
            cols,
        });
    }
    if options.folds < 2 {
        return Err(TrainError::Folds {
            folds: options.folds,
        });
    }
    if !(options.validation_fraction > 0.0 && options.validation_fraction < 0.5) {
        return Err(TrainError::EarlyStoppingShare {
            share: options.validation_fraction,
        });
    }
    match options.params.threads {
        None => cross_validate(x, cols, y, options, progress),
        Some(threads) => rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .map_err(|source| TrainError::Gbm {
                source: qualify_gbm::GbmError::Threads { threads, source },
            })?
            .install(|| cross_validate(x, cols, y, options, progress)),
    }
}

/// One fold's rows: those it holds out, and the rest split into fitting and early-stopping
/// rows.
struct Fold {
    held_out: Vec<usize>,
    fit_rows: Vec<usize>,
    stop_rows: Vec<usize>,
}

/// [`train_gbm`] on the current rayon pool (checked arguments). The folds' fits run side by
/// side as rayon tasks, each fit's own parallel work sharing the same threads, and the refit
/// grows alongside them as far as their best tree counts so far allow
/// ([`grow_refit_alongside`]): a fit's trees do not depend on the threads it gets nor on
/// how its growing is cut up, so the result is the same as one fit after the other, only
/// sooner.
fn cross_validate(
    x: &[f32],
    cols: usize,
    y: &[bool],
    options: &GbmOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<TrainedGbm, TrainError> {
    let params = GbmParams {
        threads: None,
        ..options.params.clone()
    };
    let total = options.folds + 1;
    let weights = options.class_weight.weights(y);
    check_groups(options.groups.as_deref(), y.len())?;
    let groups = options.groups.as_deref();
    let fold_of = assign_folds(y, groups, options.folds, options.seed);
    let folds: Vec<Fold> = (0..options.folds)
        .map(|fold| {
            let (held_out, rest): (Vec<usize>, Vec<usize>) =
                (0..y.len()).partition(|&i| fold_of[i] == fold);
            let rest_y: Vec<bool> = rest.iter().map(|&i| y[i]).collect();
            let rest_groups: Option<Vec<usize>> =
                groups.map(|g| rest.iter().map(|&i| g[i]).collect());
            let stop = assign_split(
                &rest_y,
                rest_groups.as_deref(),
                options.validation_fraction,
                options.seed.wrapping_add(fold as u64),
            );
            let pick = |rows: &[usize]| rows.iter().map(|&r| rest[r]).collect::<Vec<usize>>();
            let (fit_rows, stop_rows) = (pick(&stop.train), pick(&stop.test));
            let sp = stop_rows.iter().filter(|&&i| y[i]).count();
            let sn = stop_rows.len() - sp;
            if sp == 0 || sn == 0 {
                return Err(TrainError::EarlyStoppingRows {
                    fold: fold + 1,
                    rows: stop_rows.len(),
                    of: rest.len(),
                    positives: sp,
                    negatives: sn,
                });
            }
            Ok(Fold {
                held_out,
                fit_rows,
                stop_rows,
            })
        })
        .collect::<Result<_, _>>()?;
    let all = Rows {
        x,
        cols,
        y,
        weights: &weights,
    };
    let refit = gbm::training(all, &params, &options.monotone)?;
    let mut refit = refit.boosting();
    let done = AtomicUsize::new(0);
    // Each fold's best tree count so far (its final count once it is done).
    let best_so_far: Vec<AtomicUsize> = folds.iter().map(|_| AtomicUsize::new(0)).collect();
    // Each fold's fit, in fold order.
    let mut fitted: Vec<Option<Result<FoldFit, TrainError>>> = folds.iter().map(|_| None).collect();
    rayon::scope(|scope| {
        for ((fold, slot), best) in folds.iter().zip(&mut fitted).zip(&best_so_far) {
            let (params, done) = (&params, &done);
            scope.spawn(move |_| {
                let _unwinding = CountIfUnwinding(done);
                let on_best = |trees| best.store(trees, Ordering::Release);
                *slot = Some(fit_fold(all, fold, params, &options.monotone, &on_best));
                progress(done.fetch_add(1, Ordering::AcqRel) + 1, total);
            });
        }
        grow_refit_alongside(&mut refit, &done, &best_so_far);
    });
    let mut oof = vec![0.0; y.len()];
    let (mut best_trees, mut trees_grown) = (Vec::new(), Vec::new());
    // The first fold that failed (in fold order) is the error.
    for (fold, fitted) in folds.iter().zip(fitted) {
        let FoldFit {
            fit,
            held_out_scores,
        } = fitted.expect("the scope ran every fold")?;
        for (&i, score) in fold.held_out.iter().zip(held_out_scores) {
            oof[i] = score;
        }
        best_trees.push(fit.ensemble.trees.len());
        trees_grown.push(fit.trees_grown);
    }
    let final_trees = ((best_trees.iter().sum::<usize>() as f64 / best_trees.len() as f64).round()
        as usize)
        .max(1);
    while refit.trees() < final_trees && refit.grow() {}
    let refitted = refit
        .finish()
        .map_err(|source| TrainError::Gbm { source })?;
    let ensemble = gbm::checked(refitted, all)?.ensemble;
    progress(total, total);
    let calibrator = fit_calibrator(options.calibration, &oof, y)?;
    let p: Vec<f64> = oof.iter().map(|&z| sigmoid(z)).collect();
    let cv = GbmCv {
        best_trees,
        trees_grown,
        final_trees,
        log_loss: qualify_eval::log_loss(y, &p)
            .map_err(TrainError::metric("cross-validated log loss"))?,
        roc_auc: qualify_eval::roc_auc(y, &p)
            .map_err(TrainError::metric("cross-validated ROC AUC"))?,
    };
    Ok(TrainedGbm {
        ensemble,
        calibrator,
        cv,
        options: options.clone(),
        oof,
    })
}

/// Counts a fold as done if its task unwinds, so that the refit stops waiting for it (the
/// scope then raises the panic again).
struct CountIfUnwinding<'a>(&'a AtomicUsize);

impl Drop for CountIfUnwinding<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.fetch_add(1, Ordering::AcqRel);
        }
    }
}

/// One fold's fit and its held-out rows' log-odds.
struct FoldFit {
    fit: gbm::GbmFit,
    held_out_scores: Vec<f64>,
}

/// Fits `fold` of `all` on its fitting rows, early-stopped on its stopping rows (its best
/// tree count reported to `on_best` as it moves), and scores its held-out rows.
fn fit_fold(
    all: Rows<'_>,
    fold: &Fold,
    params: &GbmParams,
    monotone: &[(usize, Monotone)],
    on_best: &(dyn Fn(usize) + Sync),
) -> Result<FoldFit, TrainError> {
    let Rows {
        x,
        cols,
        y,
        weights,
    } = all;
    let part = Part::new(x, cols, y, weights, &fold.fit_rows);
    let watch = Part::new(x, cols, y, weights, &fold.stop_rows);
    let fitted = gbm::fit_watched(
        part.rows(cols),
        Some(watch.rows(cols)),
        params.max_trees,
        params,
        monotone,
        on_best,
    )?;
    let held_out_scores = held_out_scores(&fitted.ensemble, x, cols, &fold.held_out)?;
    Ok(FoldFit {
        fit: fitted,
        held_out_scores,
    })
}

/// Grows the refit while the folds run, as far as their tree counts allow.
///
/// The refit keeps the mean of the folds' best tree counts, rounded, and a fit grown to `n`
/// trees is the first `n` trees of a longer one. A fold's final best count is never below
/// its best so far, so while folds run the refit may grow up to their best counts so far,
/// summed and divided by the folds (rounded down). Growing then fills a thread that would
/// otherwise wait for the last folds (with more folds than threads, the last ones run
/// alone). When it may not grow, this thread runs queued fold work, or naps.
fn grow_refit_alongside(
    refit: &mut qualify_gbm::Boosting<'_>,
    done: &AtomicUsize,
    best_so_far: &[AtomicUsize],
) {
    let folds = best_so_far.len();
    loop {
        // `done` first: a fold counted done has stored its final count.
        let all_done = done.load(Ordering::Acquire) == folds;
        let sum: usize = best_so_far.iter().map(|b| b.load(Ordering::Acquire)).sum();
        if refit.trees() < sum / folds {
            if !refit.grow() {
                return;
            }
        } else if all_done {
            return;
        } else if rayon::yield_now() != Some(rayon::Yield::Executed) {
            std::thread::sleep(std::time::Duration::from_micros(50));
        }
    }
}

/// The monotone constraints a schema declares, as encoded feature indices: each constrained
/// numeric column's standardised value (its missing indicator stays free).
pub fn monotone_features(
    schema: &Schema,
    encoder: &Encoder,
) -> Result<Vec<(usize, Monotone)>, TrainError> {
    let mut out = Vec::new();
    let mut at = 0;
    for column in &encoder.columns {
        let declared = schema.column(&column.name).and_then(|c| c.monotone);
        match (declared, &column.state) {
            (Some(direction), ColumnState::Numeric(_)) => out.push((at, direction)),
            (Some(_), _) => {
                return Err(TrainError::MonotoneNotNumeric {
                    column: column.name.clone(),
                });
            }
            (None, _) => {}
        }
        at += column.state.width();
    }
    Ok(out)
}

/// The log-odds of rows `held_out` of `x` under `ensemble`, scored as the server scores
/// (packed trees, rows in batches: [`gbm::raw_scores`]).
fn held_out_scores(
    ensemble: &TreeEnsemble,
    x: &[f32],
    cols: usize,
    held_out: &[usize],
) -> Result<Vec<f64>, TrainError> {
    let rows: Vec<f32> = held_out
        .iter()
        .flat_map(|&i| x[i * cols..(i + 1) * cols].iter().copied())
        .collect();
    gbm::raw_scores(ensemble, &rows, cols)
}

/// Selected rows, copied out (row-major).
struct Part {
    x: Vec<f32>,
    y: Vec<bool>,
    weights: Vec<f64>,
}

impl Part {
    fn new(x: &[f32], cols: usize, y: &[bool], weights: &[f64], rows: &[usize]) -> Part {
        Part {
            x: rows
                .iter()
                .flat_map(|&r| x[r * cols..(r + 1) * cols].iter().copied())
                .collect(),
            y: rows.iter().map(|&r| y[r]).collect(),
            weights: rows.iter().map(|&r| weights[r]).collect(),
        }
    }

    fn rows(&self, cols: usize) -> Rows<'_> {
        Rows {
            x: &self.x,
            cols,
            y: &self.y,
            weights: &self.weights,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use qualify_core::value::{RawColumn, RawTable};
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    /// Rows whose label follows the xor of two signs, ~35% converted.
    pub(crate) fn xor_data(n: usize, seed: u64) -> (Vec<f32>, Vec<bool>) {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut x = Vec::with_capacity(n * 3);
        let mut y = Vec::with_capacity(n);
        for _ in 0..n {
            let row: Vec<f32> = (0..3).map(|_| rng.random_range(-1.0..1.0)).collect();
            let p = if (row[0] > 0.0) ^ (row[1] > 0.0) {
                0.6
            } else {
                0.1
            };
            y.push(rng.random::<f64>() < p);
            x.extend(row);
        }
        (x, y)
    }

    pub(crate) fn quick() -> GbmOptions {
        GbmOptions {
            params: GbmParams {
                max_trees: 200,
                learning_rate: 0.1,
                max_leaves: 8,
                early_stopping_rounds: 10,
                threads: Some(1),
                ..GbmParams::default()
            },
            folds: 3,
            ..GbmOptions::default()
        }
    }

    #[test]
    fn cross_validates_calibrates_and_refits() {
        let (x, y) = xor_data(1500, 1);
        let calls = AtomicUsize::new(0);
        let trained = train_gbm(&x, 3, &y, &quick(), &|_, total| {
            assert_eq!(total, 4);
            calls.fetch_add(1, Ordering::Relaxed);
        })
        .expect("train");
        assert_eq!(calls.into_inner(), 4);
        let cv = &trained.cv;
        assert_eq!(cv.best_trees.len(), 3);
        assert!(
            cv.best_trees
                .iter()
                .zip(&cv.trees_grown)
                .all(|(b, g)| b + 10 == *g)
        );
        let (lo, hi) = (cv.best_trees.iter().min(), cv.best_trees.iter().max());
        assert!(Some(&cv.final_trees) >= lo && Some(&cv.final_trees) <= hi);
        assert_eq!(trained.ensemble.trees.len(), cv.final_trees);
        assert!(cv.roc_auc > 0.75, "{cv:?}");
        // Calibrated out-of-fold probabilities average to the base rate.
        let rate = y.iter().filter(|&&v| v).count() as f64 / y.len() as f64;
        let mean = trained
            .oof
            .iter()
            .map(|&z| trained.calibrator.apply(z))
            .sum::<f64>()
            / y.len() as f64;
        assert!((mean - rate).abs() < 0.02, "{mean} vs {rate}");
    }

    /// Folds fitted one after the other on one thread, or side by side on two or three,
    /// give the same model, calibrator and out-of-fold scores, bit for bit.
    #[test]
    fn folds_side_by_side_train_what_one_thread_trains() {
        let (x, y) = xor_data(3000, 3);
        let train = |threads| {
            let mut options = quick();
            options.params.threads = Some(threads);
            train_gbm(&x, 3, &y, &options, &|_, _| {}).expect("train")
        };
        let one = train(1);
        // The refit, grown alongside the folds, is the plain fit of its tree count.
        let weights = quick().class_weight.weights(&y);
        let all = Rows {
            x: &x,
            cols: 3,
            y: &y,
            weights: &weights,
        };
        let alone = gbm::fit(all, None, one.cv.final_trees, &quick().params, &[]).expect("fit");
        assert_eq!(one.ensemble, alone.ensemble);
        for threads in [2, 3] {
            let other = train(threads);
            assert_eq!(one.ensemble, other.ensemble, "{threads} threads");
            assert_eq!(one.oof, other.oof, "{threads} threads");
            assert_eq!(one.calibrator, other.calibrator, "{threads} threads");
            assert_eq!(one.cv, other.cv, "{threads} threads");
        }
    }

    #[test]
    fn too_few_rows_for_early_stopping_is_an_error() {
        let (x, mut y) = xor_data(60, 2);
        y.iter_mut().enumerate().for_each(|(i, v)| *v = i < 4);
        let err = train_gbm(&x, 3, &y, &quick(), &|_, _| {}).expect_err("no positives");
        assert!(err.to_string().contains("early-stopping rows"), "{err}");
    }

    #[test]
    fn monotone_columns_map_to_their_value_feature() {
        let schema = Schema::from_toml(
            r#"
            [[column]]
            name = "converted"
            role = "label"
            [[column]]
            name = "industry"
            role = "firmographic"
            type = "categorical"
            [[column]]
            name = "visits"
            role = "behavioural"
            type = "numeric"
            monotone = "increasing"
            "#,
            "inline",
        )
        .expect("schema");
        let mut table = RawTable::new();
        let levels = ["saas", "retail"].map(|l| Some(l.to_string()));
        let industry = (0..40).map(|i| levels[i % 2].clone()).collect();
        table
            .push("industry", RawColumn::Text(industry))
            .expect("push");
        let visits = (0..40).map(|i| Some(f64::from(i))).collect();
        table
            .push("visits", RawColumn::Number(visits))
            .expect("push");
        let encoder =
            Encoder::fit(&schema, &table, &(0..40).collect::<Vec<_>>(), None).expect("encoder");
        let monotone = monotone_features(&schema, &encoder).expect("map");
        assert_eq!(monotone.len(), 1);
        let names = encoder.feature_names();
        assert_eq!(names[monotone[0].0], "visits");
        assert_eq!(monotone[0].1, Monotone::Increasing);
    }
}
