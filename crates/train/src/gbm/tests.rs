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
    let fitted = fit(rows(&x, 4, &y, &w), None, 60, &small(), &[], 7).expect("fit");
    let z: Vec<f64> = tx.chunks(4).map(|r| fitted.ensemble.raw_score(r)).collect();
    let rate = ty.iter().filter(|&&v| v).count() as f64 / ty.len() as f64;
    let prior = log_loss(&ty, &vec![(rate / (1.0 - rate)).ln(); ty.len()]);
    let model = log_loss(&ty, &z);
    assert!(model < prior - 0.25, "model {model} vs prior {prior}");
    assert_eq!(fitted.ensemble.trees.len(), 60);
}

/// The converted trees against forust-ml's own predict on rows the model never saw, with
/// feature values placed exactly on, just above and just below every split value: the
/// strict-versus-inclusive comparison and the f64-to-f32 threshold are where a conversion
/// goes wrong.
#[test]
fn converted_trees_agree_with_forust_at_the_thresholds() {
    let smooth = |r: &[f32]| 3.0 * f64::from(r[0]) - 2.0 * f64::from(r[1] * r[2]);
    let (x, y) = data(1500, 3, 3, smooth);
    let w = vec![1.0; y.len()];
    let train = rows(&x, 3, &y, &w);
    let xf = column_major_f64(&x, 3);
    let booster = fit_booster(train, &xf, None, 30, &small(), &[], 1).expect("fit");
    let ensemble = to_ensemble(&booster, 3).expect("convert");
    let mut probe: Vec<f32> = Vec::new();
    let mut rng = StdRng::seed_from_u64(9);
    for tree in &booster.trees {
        for node in tree.nodes.iter().filter(|n| !n.is_leaf) {
            let s = node.split_value;
            for v in [
                s as f32,
                (s as f32).next_up(),
                (s as f32).next_down(),
                f32_threshold_leq(s),
            ] {
                let mut row: Vec<f32> = (0..3).map(|_| rng.random_range(-1.0..1.0)).collect();
                row[node.split_feature] = v;
                probe.extend(row);
            }
        }
    }
    let n = probe.len() / 3;
    assert!(n > 100, "{n} probe rows");
    let pf = column_major_f64(&probe, 3);
    let want = booster.predict(&Matrix::new(&pf, n, 3), false);
    for (row, want) in probe.chunks(3).zip(want) {
        let got = ensemble.raw_score(row);
        assert!(
            (got - want).abs() <= CONVERSION_TOLERANCE,
            "{row:?}: {got} vs {want}"
        );
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
        3,
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
        fit(rows(&x, 3, &y, w), None, 30, &small(), &[], 1)
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
        let e = fit(
            rows(&x, 3, &y, &w),
            None,
            60,
            &small(),
            &[(0, direction)],
            2,
        )
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
    let free = fit(rows(&x, 3, &y, &w), None, 60, &small(), &[], 2)
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
    let err = fit(rows(&x, 2, &y, &w), None, 5, &small(), &[], 1).expect_err("NaN");
    assert!(err.to_string().contains("row 1, feature 0"), "{err}");
    let ok = [0.0f32, 1.0, 0.5, 2.0];
    let err = fit(
        rows(&ok, 2, &y, &w),
        None,
        5,
        &small(),
        &[(5, Monotone::Increasing)],
        1,
    )
    .expect_err("feature 5");
    assert!(err.to_string().contains("feature 5"), "{err}");
    let bad = GbmParams {
        learning_rate: 0.0,
        ..small()
    };
    assert!(fit(rows(&ok, 2, &y, &w), None, 5, &bad, &[], 1).is_err());
}
