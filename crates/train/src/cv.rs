//! Cross-validated training of the logistic model and its calibrator.
//!
//! On the training part only: stratified k-fold cross-validation picks the L2 strength by
//! out-of-fold log loss; the chosen strength's out-of-fold log-odds (each predicted by a model
//! that never saw the row) are what the calibrator is fitted on; the final model is refitted
//! on the whole training part. The test part is never touched here.
//!
//! **Warm starts along the grid.** Within a fold the strengths are fitted from the strongest
//! L2 to the weakest, each Newton fit starting from the previous strength's solution
//! ([`logistic::fit_warm`]): the heavily penalised problem is the best conditioned, and each
//! weaker one starts near its optimum. Folds still fit in parallel. The results are those of
//! cold fits to within the solver's gradient tolerance (a test holds the two to each other).

use std::sync::Arc;

use ndarray::Array2;
use qualify_core::calibrate::{Calibrator, sigmoid};

use crate::calibration::{CalibrationMethod, fit_calibrator};
use crate::error::TrainError;
use crate::logistic::{self, LogisticModel, Solver};
use crate::matrix::select_rows;
use crate::split::assign_folds;

/// Settings of [`train_logistic`].
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Candidate L2 strengths (linfa's `alpha`, scikit-learn's `1 / C`).
    pub l2_grid: Vec<f64>,
    pub folds: usize,
    pub seed: u64,
    pub calibration: CalibrationMethod,
    pub solver: Solver,
    /// A group per row (a lead's moments): folds keep a group's rows together
    /// ([`crate::split::grouped_folds`]).
    pub groups: Option<Arc<[usize]>>,
    /// Start each fold's fit from the next stronger L2's solution (module docs).
    pub warm_start: bool,
}

impl Default for TrainOptions {
    fn default() -> Self {
        TrainOptions {
            l2_grid: vec![0.01, 0.1, 1.0, 10.0, 100.0],
            folds: 5,
            seed: 42,
            calibration: CalibrationMethod::Auto,
            solver: Solver::default(),
            groups: None,
            warm_start: true,
        }
    }
}

/// One candidate's cross-validation result (as the manifest records it).
pub use qualify_core::bundle::metrics::CvPoint;

/// The trained model, its calibrator and how they were chosen.
#[derive(Debug, Clone)]
pub struct TrainedLogistic {
    pub model: LogisticModel,
    pub calibrator: Calibrator,
    pub cv: Vec<CvPoint>,
    pub folds: usize,
    /// Out-of-fold log-odds of the chosen strength (what the calibrator was fitted on).
    pub oof: Vec<f64>,
}

/// Trains on a row-major matrix `x` (`y.len()` × `cols`). `progress(done, total)` is called
/// after each fit.
pub fn train_logistic(
    x: &[f32],
    cols: usize,
    y: &[bool],
    options: &TrainOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<TrainedLogistic, TrainError> {
    if x.len() != y.len() * cols || cols == 0 {
        return Err(TrainError::Shape {
            what: "logistic training matrix",
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
    if options.l2_grid.is_empty() {
        return Err(TrainError::EmptyL2Grid);
    }
    check_groups(options.groups.as_deref(), y.len())?;
    let total = options.l2_grid.len() * options.folds + 1;
    let done = std::sync::atomic::AtomicUsize::new(0);
    let tick = || {
        progress(
            done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1,
            total,
        )
    };

    let fold_of = assign_folds(y, options.groups.as_deref(), options.folds, options.seed);
    let folds: Vec<Fold> = (0..options.folds)
        .map(|f| Fold::new(x, cols, y, &fold_of, f))
        .collect();
    let mut oof_by_strength = out_of_fold_logits(&folds, y.len(), options, &tick)?;
    let mut cv = Vec::new();
    // (log loss, L2 strength, index in the grid) of the best candidate so far.
    let mut best: Option<(f64, f64, usize)> = None;
    for (index, (&alpha, oof)) in options.l2_grid.iter().zip(&oof_by_strength).enumerate() {
        let p: Vec<f64> = oof.iter().map(|&z| sigmoid(z)).collect();
        let point = CvPoint {
            l2: alpha,
            log_loss: qualify_eval::log_loss(y, &p)
                .map_err(TrainError::metric("cross-validated log loss"))?,
            roc_auc: qualify_eval::roc_auc(y, &p)
                .map_err(TrainError::metric("cross-validated ROC AUC"))?,
        };
        if best
            .as_ref()
            .is_none_or(|(loss, _, _)| point.log_loss < *loss)
        {
            best = Some((point.log_loss, alpha, index));
        }
        cv.push(point);
    }
    let Some((_, alpha, index)) = best else {
        return Err(TrainError::NoFiniteCv { cv });
    };
    let oof = std::mem::take(&mut oof_by_strength[index]);
    let calibrator = fit_calibrator(options.calibration, &oof, y)?;
    let all: Vec<usize> = (0..y.len()).collect();
    let model = logistic::fit(&select_rows(x, cols, &all), y, alpha, options.solver)?;
    tick();
    Ok(TrainedLogistic {
        model,
        calibrator,
        cv,
        folds: options.folds,
        oof,
    })
}

/// Groups, when given, must name one group per row.
pub(crate) fn check_groups(groups: Option<&[usize]>, rows: usize) -> Result<(), TrainError> {
    match groups {
        Some(g) if g.len() != rows => Err(TrainError::Rows {
            what: "row groups",
            got: g.len(),
            rows,
        }),
        _ => Ok(()),
    }
}

/// One fold's training matrix and held-out rows.
struct Fold {
    train_x: Array2<f64>,
    train_y: Vec<bool>,
    held_out_x: Array2<f64>,
    held_out_rows: Vec<usize>,
}

impl Fold {
    fn new(x: &[f32], cols: usize, y: &[bool], fold_of: &[usize], fold: usize) -> Fold {
        let (held_out_rows, train_rows): (Vec<usize>, Vec<usize>) =
            (0..y.len()).partition(|&i| fold_of[i] == fold);
        Fold {
            train_x: select_rows(x, cols, &train_rows),
            train_y: train_rows.iter().map(|&i| y[i]).collect(),
            held_out_x: select_rows(x, cols, &held_out_rows),
            held_out_rows,
        }
    }
}

/// For each strength of the grid (in grid order), log-odds for every row from the model of
/// the fold that held it out. Folds fit in parallel; within a fold the strengths go from the
/// strongest to the weakest, warm-started when the options say so.
fn out_of_fold_logits(
    folds: &[Fold],
    rows: usize,
    options: &TrainOptions,
    tick: &(dyn Fn() + Sync),
) -> Result<Vec<Vec<f64>>, TrainError> {
    let grid = &options.l2_grid;
    let mut order: Vec<usize> = (0..grid.len()).collect();
    order.sort_by(|&a, &b| grid[b].total_cmp(&grid[a]));
    let order = &order;
    let fitted: Vec<Result<Vec<Vec<f64>>, TrainError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = folds
            .iter()
            .map(|fold| {
                scope.spawn(move || {
                    let mut logits = vec![Vec::new(); grid.len()];
                    let mut previous: Option<LogisticModel> = None;
                    for &index in order {
                        let start = previous.as_ref().filter(|_| options.warm_start);
                        let model = logistic::fit_warm(
                            &fold.train_x,
                            &fold.train_y,
                            grid[index],
                            options.solver,
                            start,
                        )?
                        .model;
                        tick();
                        logits[index] = model.logits(fold.held_out_x.view());
                        previous = Some(model);
                    }
                    Ok(logits)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Err(TrainError::FitPanicked)))
            .collect()
    });
    let mut oof = vec![vec![0.0; rows]; grid.len()];
    for (fold, by_strength) in folds.iter().zip(fitted) {
        for (column, logits) in oof.iter_mut().zip(by_strength?) {
            for (&row, z) in fold.held_out_rows.iter().zip(logits) {
                column[row] = z;
            }
        }
    }
    Ok(oof)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Uniform numbers in [0, 1) from a small linear congruential generator: the same data
    /// on every platform, without a dependency.
    fn uniform(seed: u64) -> impl FnMut() -> f64 {
        let mut state = seed;
        move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as f64 / (1u64 << 31) as f64
        }
    }

    #[test]
    fn cross_validation_prefers_more_regularisation_on_noise() {
        // Pure-noise features: the heaviest penalty must win, and the calibrator must land near
        // the base rate whatever the logit.
        let n = 600;
        let mut x = Vec::with_capacity(n * 5);
        let mut y = Vec::with_capacity(n);
        let mut next = uniform(7);
        for _ in 0..n {
            for _ in 0..5 {
                x.push((next() * 2.0 - 1.0) as f32);
            }
            y.push(next() < 0.3);
        }
        let options = TrainOptions {
            l2_grid: vec![1e-4, 1e3],
            ..TrainOptions::default()
        };
        let calls = std::sync::atomic::AtomicUsize::new(0);
        let trained = train_logistic(&x, 5, &y, &options, &|_, _| {
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        })
        .expect("train");
        assert_eq!(calls.into_inner(), 2 * 5 + 1);
        assert_eq!(trained.model.alpha, 1e3, "{:?}", trained.cv);
        let rate = y.iter().filter(|&&v| v).count() as f64 / n as f64;
        let typical = trained.calibrator.apply(trained.model.intercept);
        assert!(
            (typical - rate).abs() < 0.1,
            "calibrated {typical} vs rate {rate}"
        );
    }

    /// Warm-started and cold cross-validation: the same chosen strength, the same figures and
    /// out-of-fold log-odds to within the solver's tolerance.
    #[test]
    fn warm_starts_change_nothing_beyond_the_tolerance() {
        let (n, p) = (2000, 6);
        let mut x = Vec::with_capacity(n * p);
        let mut y = Vec::with_capacity(n);
        let mut next = uniform(11);
        for _ in 0..n {
            let row: Vec<f64> = (0..p).map(|_| next() * 4.0 - 2.0).collect();
            let z = -1.5 + row[0] - 0.5 * row[1] + 0.2 * row[2];
            y.push(next() < 1.0 / (1.0 + (-z).exp()));
            x.extend(row.iter().map(|&v| v as f32));
        }
        let train = |warm_start: bool, gradient_tolerance: f64| {
            let options = TrainOptions {
                l2_grid: vec![0.01, 1.0, 30.0, 1000.0, 0.1],
                warm_start,
                solver: Solver {
                    gradient_tolerance,
                    ..Solver::default()
                },
                ..TrainOptions::default()
            };
            train_logistic(&x, p, &y, &options, &|_, _| {}).expect("train")
        };
        for (tolerance, logits_within) in [(1e-4, 1e-3), (1e-10, 1e-8)] {
            let (warm, cold) = (train(true, tolerance), train(false, tolerance));
            assert_eq!(warm.model.alpha, cold.model.alpha, "{:?}", cold.cv);
            for (a, b) in warm.cv.iter().zip(&cold.cv) {
                assert_eq!(a.l2, b.l2);
                assert!(
                    (a.log_loss - b.log_loss).abs() < logits_within,
                    "{a:?} vs {b:?}"
                );
            }
            for (a, b) in warm.oof.iter().zip(&cold.oof) {
                assert!(
                    (a - b).abs() < logits_within,
                    "tolerance {tolerance}: {a} vs {b}"
                );
            }
        }
    }
}
