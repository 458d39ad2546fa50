//! Fitting the candidates, scoring them on the test part, and keeping one.
//!
//! `auto` decides by the cross-validated log loss of calibrated out-of-fold probabilities
//! ([`candidate_score`]), never by the test part; every candidate's test figures are recorded
//! beside it in the manifest's `selection`, for the reader, not for the choice.

use qualify_core::bundle::metrics::{
    Candidate, Metrics, SELECTION_RULE, Selection, TrainingMetrics,
};
use qualify_core::schema::Monotone;

use super::prepare::Prepared;
use super::{ModelChoice, PipelineError, TrainConfig};
use crate::cv::{TrainOptions, train_logistic};
use crate::gbm_cv::{GbmOptions, train_gbm};
use crate::model::{TrainedModel, candidate_score};
use crate::progress::{Progress, Stage, TrainWarning};

/// Fits the model(s) the config asks for, in order (logistic, then GBM).
pub(crate) fn fit_candidates(
    config: &TrainConfig,
    data: &Prepared,
    monotone: &[(usize, Monotone)],
    progress: &dyn Progress,
) -> Result<Vec<TrainedModel>, PipelineError> {
    let cols = data.encoder.n_features();
    let (use_logistic, use_gbm) = config.fits();
    let logistic_fits = config.l2_grid.len() * config.folds + 1;
    let gbm_fits = config.folds + 1;
    let total = usize::from(use_logistic) * logistic_fits + usize::from(use_gbm) * gbm_fits;
    progress.stage(Stage::Fitting { fits: total });
    let mut candidates = Vec::new();
    if use_logistic {
        let options = TrainOptions {
            l2_grid: config.l2_grid.clone(),
            folds: config.folds,
            seed: config.seed,
            calibration: config.calibration,
            groups: data.groups_train.clone(),
            ..TrainOptions::default()
        };
        let trained = train_logistic(&data.x_train, cols, &data.y_train, &options, &|done, _| {
            progress.fitted(done, total)
        })?;
        candidates.push(TrainedModel::Logistic(trained));
    }
    if use_gbm {
        let offset = if use_logistic { logistic_fits } else { 0 };
        let options = GbmOptions {
            params: config.gbm.clone(),
            folds: config.folds,
            seed: config.seed,
            calibration: config.calibration,
            class_weight: config.class_weight,
            monotone: monotone.to_vec(),
            groups: data.groups_train.clone(),
            ..GbmOptions::default()
        };
        let trained = train_gbm(&data.x_train, cols, &data.y_train, &options, &|done, _| {
            progress.fitted(offset + done, total)
        })?;
        candidates.push(TrainedModel::Gbm(trained));
    }
    Ok(candidates)
}

/// Scores every candidate, keeps the best by the rule of the module docs, and returns it with
/// the figures the manifest records.
pub(crate) fn select(
    config: &TrainConfig,
    data: &Prepared,
    mut candidates: Vec<TrainedModel>,
) -> Result<(TrainedModel, TrainingMetrics), PipelineError> {
    let cols = data.encoder.n_features();
    let prior = Metrics::constant_prior(&data.y_test).map_err(|source| PipelineError::Metric {
        what: "the constant prior on the test part",
        source,
    })?;
    let mut scored = Vec::with_capacity(candidates.len());
    for m in &candidates {
        let p: Vec<f64> = m
            .logits(&data.x_test, cols)?
            .iter()
            .map(|&z| m.calibrator().apply(z))
            .collect();
        let test = Metrics::compute(&data.y_test, &p).map_err(|source| PipelineError::Metric {
            what: "the model on the test part",
            source,
        })?;
        let score = candidate_score(
            m,
            &data.y_train,
            config.calibration,
            config.folds,
            config.seed,
            data.groups_train.as_deref(),
        )?;
        scored.push(Candidate {
            kind: score.kind,
            cv_log_loss: score.cv_log_loss,
            cv_roc_auc: score.cv_roc_auc,
            test,
        });
    }
    let best = scored
        .iter()
        .enumerate()
        .min_by(|a, b| a.1.cv_log_loss.total_cmp(&b.1.cv_log_loss))
        .map(|(i, _)| i)
        .ok_or(PipelineError::NoCandidate)?;
    let trained = candidates.swap_remove(best);
    let selection = (config.model == ModelChoice::Auto).then(|| Selection {
        chosen: trained.kind(),
        rule: SELECTION_RULE.to_string(),
        candidates: scored.clone(),
    });
    let metrics = TrainingMetrics {
        test: scored.swap_remove(best).test,
        prior,
        cv: trained.cv(),
        selection,
    };
    Ok((trained, metrics))
}

/// Logistic regression cannot be constrained: a warning for each fitted weight that goes
/// against a declared direction (the GBM enforces them).
pub(crate) fn monotone_warnings(
    trained: &TrainedModel,
    monotone: &[(usize, Monotone)],
    feature_names: &[String],
) -> Vec<TrainWarning> {
    let TrainedModel::Logistic(m) = trained else {
        return Vec::new();
    };
    monotone
        .iter()
        .filter_map(|&(feature, direction)| {
            let weight = *m.model.weights.get(feature)?;
            let against = match direction {
                Monotone::Increasing => weight < 0.0,
                Monotone::Decreasing => weight > 0.0,
            };
            against.then(|| TrainWarning::MonotoneAgainst {
                feature: feature_names.get(feature).cloned().unwrap_or_default(),
                direction,
                weight,
            })
        })
        .collect()
}
