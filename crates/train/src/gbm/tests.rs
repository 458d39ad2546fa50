use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::*;
use crate::gbm_cv::ClassWeight;

/// `n` rows of `cols` uniform features in [-1, 1]; converts with probability
/// `sigmoid(logit(row))`.
fn data(n: usize, cols: usize, seed: u64, logit: impl Fn(&[f32]) -> f64) -> (Vec<f32>, Vec<bool>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut x = Vec::with_capacity(n * cols);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let row: Vec<f32> = (0..cols).map(|_| rng.random_range(-1.0..1.0)).collect();
        let p = 1.0 / (1.0 + (-logit(&row)).exp());
        y.push(rng.random::<f64>() < p);
        x.extend(row);
    }
    (x, y)
}

fn rows<'a>(x: &'a [f32], cols: usize, y: &'a [bool], w: &'a [f64]) -> Rows<'a> {
    Rows {
        x,
        cols,
        y,
        weights: w,
    }
}

fn small() -> GbmParams {
    GbmParams {
        max_trees: 60,
        learning_rate: 0.2,
        max_leaves: 8,
        min_leaf_weight: 1.0,
        threads: Some(1),
        ..GbmParams::default()
    }
}

fn log_loss(y: &[bool], z: &[f64]) -> f64 {
    let p: Vec<f64> = z.iter().map(|&z| 1.0 / (1.0 + (-z).exp())).collect();
    qualify_eval::log_loss(y, &p).expect("log loss")
}

/// An interaction (xor of two signs) no linear model can learn: the trees must beat the
/// constant prior on fresh rows by a wide margin.
#[test]
fn beats_a_constant_on_an_interaction() {
    let xor = |r: &[f32]| {
        if (r[0] > 0.0) ^ (r[1] > 0.0) {
            2.0
        } else {
            -2.0
        }
    };
    let (x, y) = data(3000, 4, 1, xor);
    let (tx, ty) = data(2000, 4, 2, xor);
    let w = vec![1.0; y.len()];
    let fitted = fit(rows(&x, 4, &y, &w), None, 60, &small(), &[]).expect("fit");
    let z: Vec<f64> = tx.chunks(4).map(|r| fitted.ensemble.raw_score(r)).collect();
    let rate = ty.iter().filter(|&&v| v).count() as f64 / ty.len() as f64;
    let prior = log_loss(&ty, &vec![(rate / (1.0 - rate)).ln(); ty.len()]);
    let model = log_loss(&ty, &z);
    assert!(model < prior - 0.25, "model {model} vs prior {prior}");
    assert_eq!(fitted.ensemble.trees.len(), 60);
}

/// The check holds the trees to the booster's scores: it passes on a real fit and names the
/// first row whose score is off (by more than the tolerance, or NaN).
#[test]
fn the_check_names_the_first_row_that_disagrees() {
    let smooth = |r: &[f32]| 3.0 * f64::from(r[0]) - 2.0 * f64::from(r[1] * r[2]);
    let (x, y) = data(1500, 3, 3, smooth);
    let w = vec![1.0; y.len()];
    let fitted = fit(rows(&x, 3, &y, &w), None, 30, &small(), &[]).expect("fit");
    let e = &fitted.ensemble;
    let mut scores: Vec<f64> = x.chunks(3).map(|r| e.raw_score(r)).collect();
    check_scores(e, &x, 3, &scores).expect("the ensemble's own scores pass");
    scores[700] += 1e-6;
    scores[900] = f64::NAN;
    let err = check_scores(e, &x, 3, &scores).expect_err("row 700 is off");
    assert!(
        matches!(err, TrainError::Conversion { row: 700, .. }),
        "{err}"
    );
    scores[700] -= 1e-6;
    let err = check_scores(e, &x, 3, &scores).expect_err("row 900 is NaN");
    assert!(
        matches!(err, TrainError::Conversion { row: 900, .. }),
        "{err}"
    );
    let err = check_scores(e, &x, 3, &scores[1..]).expect_err("a row short");
    assert!(err.to_string().contains("booster training scores"), "{err}");
    // Rows of another width than the trees' are refused, not misread.
    let narrow: Vec<f32> = x.chunks(3).flat_map(|r| [r[0], r[1]]).collect();
    let err = raw_scores(e, &narrow, 2).expect_err("two features");
    assert!(err.to_string().contains("rows of 3 features"), "{err}");
    // Batch scores are the ensemble's, rows across several parallel tasks.
    let batch = raw_scores(e, &x, 3).expect("scores");
    for (row, z) in x.chunks(3).zip(&batch) {
        assert!((e.raw_score(row) - z).abs() < 1e-12);
    }
}

/// Sample weights reach the trainer: weight 2 on a row fits as that row twice.
#[test]
fn a_weight_of_two_fits_like_a_duplicated_row() {
    let (x, y) = data(600, 3, 11, |r| 2.0 * f64::from(r[0]));
    let w: Vec<f64> = (0..y.len())
        .map(|i| if i % 3 == 0 { 2.0 } else { 1.0 })
        .collect();
    let (mut dx, mut dy) = (x.clone(), y.clone());
    for i in (0..y.len()).step_by(3) {
        dx.extend_from_slice(&x[i * 3..i * 3 + 3]);
        dy.push(y[i]);
    }
    let ones = vec![1.0; dy.len()];
    let a = fit(rows(&x, 3, &y, &w), None, 20, &small(), &[]).expect("weighted");
    let b = fit(rows(&dx, 3, &dy, &ones), None, 20, &small(), &[]).expect("duplicated");
    for r in x.chunks(3) {
        let (sa, sb) = (a.ensemble.raw_score(r), b.ensemble.raw_score(r));
        assert!((sa - sb).abs() < 1e-6, "{r:?}: {sa} vs {sb}");
    }
}

/// Pure noise: the validation loss stops improving at once, so training stops long before
/// the limit and keeps only the trees up to the best iteration.
#[test]
fn early_stopping_stops_on_noise() {
    let (x, y) = data(2000, 4, 4, |_| -0.5);
    let (vx, vy) = data(500, 4, 5, |_| -0.5);
    let (w, vw) = (vec![1.0; y.len()], vec![1.0; vy.len()]);
    let params = GbmParams {
        early_stopping_rounds: 10,
        ..small()
    };
    let fitted = fit(
        rows(&x, 4, &y, &w),
        Some(rows(&vx, 4, &vy, &vw)),
        500,
        &params,
        &[],
    )
    .expect("fit");
    assert!(fitted.trees_grown < 100, "grew {}", fitted.trees_grown);
    assert_eq!(fitted.ensemble.trees.len() + 10, fitted.trees_grown);
}

/// Balanced class weights count the rare converted leads as much as the rest, so every raw
/// score moves up against the unweighted fit on the same rows.
#[test]
fn balanced_class_weights_raise_the_raw_scores() {
    let (x, y) = data(2000, 3, 6, |r| -2.0 + f64::from(r[0]));
    let plain = vec![1.0; y.len()];
    let balanced = ClassWeight::Balanced.weights(&y);
    let fit_with = |w: &[f64]| {
        fit(rows(&x, 3, &y, w), None, 30, &small(), &[])
            .expect("fit")
            .ensemble
    };
    let (a, b) = (fit_with(&plain), fit_with(&balanced));
    let mean = |e: &TreeEnsemble| x.chunks(3).map(|r| e.raw_score(r)).sum::<f64>() / 2000.0;
    assert!(a.base_score < -1.0 && b.base_score.abs() < 1e-9, "{a:?}");
    assert!(mean(&b) > mean(&a) + 1.0, "{} vs {}", mean(&b), mean(&a));
}

/// A label that rises and falls along feature 0: constrained increasing (or decreasing),
/// the score never goes the other way along it, from any starting row.
#[test]
fn monotone_constraints_hold_along_the_feature() {
    let wave = |r: &[f32]| 2.0 * f64::from((3.0 * r[0]).sin()) + f64::from(r[1]);
    let (x, y) = data(3000, 3, 8, wave);
    let w = vec![1.0; y.len()];
    let mut rng = StdRng::seed_from_u64(10);
    for (direction, sign) in [(Monotone::Increasing, 1.0), (Monotone::Decreasing, -1.0)] {
        let e = fit(rows(&x, 3, &y, &w), None, 60, &small(), &[(0, direction)])
            .expect("fit")
            .ensemble;
        for _ in 0..50 {
            let mut row: Vec<f32> = (0..3).map(|_| rng.random_range(-1.0..1.0)).collect();
            let mut last = f64::NEG_INFINITY;
            for step in 0..=80 {
                row[0] = -1.2 + 2.4 * step as f32 / 80.0;
                let s = sign * e.raw_score(&row);
                assert!(s >= last - 1e-12, "{direction:?} broken at {row:?}");
                last = s;
            }
        }
    }
    // Unconstrained, the same data gives a score that falls somewhere along feature 0.
    let free = fit(rows(&x, 3, &y, &w), None, 60, &small(), &[])
        .expect("fit")
        .ensemble;
    let along: Vec<f64> = (0..=80)
        .map(|s| free.raw_score(&[-1.2 + 2.4 * s as f32 / 80.0, 0.0, 0.0]))
        .collect();
    assert!(along.windows(2).any(|w| w[1] < w[0] - 1e-3));
}

#[test]
fn rejects_bad_input_with_reasons() {
    let x = [0.0f32, 1.0, f32::NAN, 2.0];
    let y = [true, false];
    let w = [1.0, 1.0];
    let err = fit(rows(&x, 2, &y, &w), None, 5, &small(), &[]).expect_err("NaN");
    assert!(err.to_string().contains("row 1, feature 0"), "{err}");
    let ok = [0.0f32, 1.0, 0.5, 2.0];
    let err = fit(
        rows(&ok, 2, &y, &w),
        None,
        5,
        &small(),
        &[(5, Monotone::Increasing)],
    )
    .expect_err("feature 5");
    assert!(err.to_string().contains("feature 5"), "{err}");
    let bad = GbmParams {
        learning_rate: 0.0,
        ..small()
    };
    assert!(fit(rows(&ok, 2, &y, &w), None, 5, &bad, &[]).is_err());
}
