//! A trained model of either kind, and the cross-validated comparison behind `--model auto`.
//!
//! The comparison is on calibrated probabilities, because that is what a bundle serves: each
//! candidate's out-of-fold log-odds (same folds for both) are calibrated *cross-fitted* — for
//! each fold, a calibrator fitted on the other folds' out-of-fold scores, with the method the
//! user asked for, scores that fold — and the pooled log loss decides. No test row is used.

use qualify_core::bundle::ModelKind;
use qualify_core::bundle::metrics::CvResults;
use qualify_core::calibrate::Calibrator;
use serde::{Deserialize, Serialize};

use crate::calibration::{CalibrationMethod, fit_calibrator};
use crate::cv::TrainedLogistic;
use crate::error::TrainError;
use crate::gbm;
use crate::gbm_cv::TrainedGbm;
use crate::matrix::column_major;
use crate::split::assign_folds;

/// A trained, calibrated model.
#[derive(Debug, Clone)]
pub enum TrainedModel {
    Logistic(TrainedLogistic),
    Gbm(TrainedGbm),
}

impl TrainedModel {
    /// `ModelInfo.kind`.
    pub fn kind(&self) -> ModelKind {
        match self {
            TrainedModel::Logistic(_) => ModelKind::Logistic,
            TrainedModel::Gbm(_) => ModelKind::Gbm,
        }
    }

    pub fn calibrator(&self) -> &Calibrator {
        match self {
            TrainedModel::Logistic(m) => &m.calibrator,
            TrainedModel::Gbm(m) => &m.calibrator,
        }
    }

    /// Out-of-fold log-odds of the training rows.
    pub fn oof(&self) -> &[f64] {
        match self {
            TrainedModel::Logistic(m) => &m.oof,
            TrainedModel::Gbm(m) => &m.oof,
        }
    }

    /// Raw log-odds for a row-major matrix of `cols` features, natively (f64).
    ///
    /// # Errors
    /// Trees that cannot be packed for walking (invalid trees).
    pub fn logits(&self, x: &[f32], cols: usize) -> Result<Vec<f64>, TrainError> {
        match self {
            TrainedModel::Logistic(m) => {
                let rows = x.len() / cols.max(1);
                Ok(m.model.logits(column_major(x, rows, cols).view()))
            }
            TrainedModel::Gbm(m) => gbm::raw_scores(&m.ensemble, x, cols),
        }
    }

    /// Cross-validation results as the manifest records them.
    pub fn cv(&self) -> CvResults {
        match self {
            TrainedModel::Logistic(m) => CvResults::Logistic(m.cv.clone()),
            TrainedModel::Gbm(m) => CvResults::Gbm(m.cv.clone()),
        }
    }
}

/// One candidate's cross-validated result on calibrated out-of-fold probabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CandidateScore {
    pub kind: ModelKind,
    /// Pooled log loss of the cross-fitted calibrated out-of-fold probabilities.
    pub cv_log_loss: f64,
    pub cv_roc_auc: f64,
}

/// Scores `model` as the module doc says. `folds`, `seed` and `groups` must be those it was
/// trained with (its out-of-fold scores came from those folds).
pub fn candidate_score(
    model: &TrainedModel,
    y: &[bool],
    method: CalibrationMethod,
    folds: usize,
    seed: u64,
    groups: Option<&[usize]>,
) -> Result<CandidateScore, TrainError> {
    let oof = model.oof();
    if oof.len() != y.len() {
        return Err(TrainError::Rows {
            what: "out-of-fold scores",
            got: oof.len(),
            rows: y.len(),
        });
    }
    let fold_of = assign_folds(y, groups, folds, seed);
    let mut p = vec![0.0; y.len()];
    for fold in 0..folds {
        let (inside, outside): (Vec<usize>, Vec<usize>) =
            (0..y.len()).partition(|&i| fold_of[i] == fold);
        let z: Vec<f64> = outside.iter().map(|&i| oof[i]).collect();
        let labels: Vec<bool> = outside.iter().map(|&i| y[i]).collect();
        let calibrator = fit_calibrator(method, &z, &labels)?;
        for i in inside {
            p[i] = calibrator.apply(oof[i]);
        }
    }
    Ok(CandidateScore {
        kind: model.kind(),
        cv_log_loss: qualify_eval::log_loss(y, &p)
            .map_err(TrainError::metric("calibrated cross-validated log loss"))?,
        cv_roc_auc: qualify_eval::roc_auc(y, &p)
            .map_err(TrainError::metric("calibrated cross-validated ROC AUC"))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cv::{TrainOptions, train_logistic};
    use crate::gbm_cv::tests::{quick, xor_data};
    use crate::gbm_cv::train_gbm;

    /// On an interaction, the trees must win the calibrated cross-validated comparison, and
    /// both candidates are scored on the same folds.
    #[test]
    fn auto_prefers_trees_on_an_interaction() {
        let (x, y) = xor_data(1500, 3);
        let options = quick();
        let logistic = train_logistic(
            &x,
            3,
            &y,
            &TrainOptions {
                folds: options.folds,
                seed: options.seed,
                ..TrainOptions::default()
            },
            &|_, _| {},
        )
        .expect("logistic");
        let gbm = train_gbm(&x, 3, &y, &options, &|_, _| {}).expect("gbm");
        let score = |m: &TrainedModel| {
            candidate_score(
                m,
                &y,
                CalibrationMethod::Platt,
                options.folds,
                options.seed,
                None,
            )
            .expect("score")
        };
        let (l, g) = (
            score(&TrainedModel::Logistic(logistic)),
            score(&TrainedModel::Gbm(gbm)),
        );
        assert_eq!((l.kind, g.kind), (ModelKind::Logistic, ModelKind::Gbm));
        assert!(g.cv_log_loss < l.cv_log_loss - 0.05, "{g:?} vs {l:?}");
        assert!(g.cv_roc_auc > l.cv_roc_auc, "{g:?} vs {l:?}");
    }
}
