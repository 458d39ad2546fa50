//! Cross-validated training of the logistic model and its calibrator.
//!
//! On the training part only: stratified k-fold cross-validation picks the L2 strength by
//! out-of-fold log loss; the chosen strength's out-of-fold log-odds (each predicted by a model
//! that never saw the row) are what the calibrator is fitted on; the final model is refitted
//! on the whole training part. The test part is never touched here.

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
    let mut cv = Vec::new();
    // (log loss, L2 strength, out-of-fold log-odds) of the best candidate so far.
    let mut best: Option<(f64, f64, Vec<f64>)> = None;
    for &alpha in &options.l2_grid {
        let oof = out_of_fold_logits(&folds, y.len(), alpha, options.solver, &tick)?;
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
            best = Some((point.log_loss, alpha, oof));
        }
        cv.push(point);
    }
    let Some((_, alpha, oof)) = best else {
        return Err(TrainError::NoFiniteCv { cv });
    };
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

/// Log-odds for every row from the model of the fold that held it out; folds fit in parallel.
fn out_of_fold_logits(
    folds: &[Fold],
    rows: usize,
    alpha: f64,
    solver: Solver,
    tick: &(dyn Fn() + Sync),
) -> Result<Vec<f64>, TrainError> {
    let fitted: Vec<Result<Vec<f64>, TrainError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = folds
            .iter()
            .map(|fold| {
                scope.spawn(move || {
                    let model = logistic::fit(&fold.train_x, &fold.train_y, alpha, solver)?;
                    tick();
                    Ok(model.logits(fold.held_out_x.view()))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Err(TrainError::FitPanicked)))
            .collect()
    });
    let mut oof = vec![0.0; rows];
    for (fold, logits) in folds.iter().zip(fitted) {
        for (&row, z) in fold.held_out_rows.iter().zip(logits?) {
            oof[row] = z;
        }
    }
    Ok(oof)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_validation_prefers_more_regularisation_on_noise() {
        // Pure-noise features: the heaviest penalty must win, and the calibrator must land near
        // the base rate whatever the logit.
        let n = 600;
        let mut x = Vec::with_capacity(n * 5);
        let mut y = Vec::with_capacity(n);
        let mut state = 7u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as f64 / (1u64 << 31) as f64
        };
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
}
