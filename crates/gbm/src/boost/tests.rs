use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::*;

/// `n` rows of `cols` uniform features in [-1, 1], converting with probability
/// `sigmoid(logit(row))`.
fn sample(
    n: usize,
    cols: usize,
    seed: u64,
    logit: impl Fn(&[f32]) -> f64,
) -> (Vec<f32>, Vec<bool>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut x = Vec::with_capacity(n * cols);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let row: Vec<f32> = (0..cols).map(|_| rng.random_range(-1.0..1.0)).collect();
        y.push(rng.random::<f64>() < 1.0 / (1.0 + (-logit(&row)).exp()));
        x.extend(row);
    }
    (x, y)
}

fn data<'a>(x: &'a [f32], cols: usize, y: &'a [bool], w: Option<&'a [f64]>) -> Data<'a> {
    Data {
        x,
        cols,
        y,
        weights: w,
    }
}

fn small() -> Params {
    Params {
        learning_rate: 0.2,
        max_leaves: 8,
        min_leaf_hessian: 1.0,
        l2: 1.0,
        max_bins: 64,
        early_stopping_rounds: 10,
        threads: Some(1),
    }
}

fn wave(r: &[f32]) -> f64 {
    2.0 * f64::from((3.0 * r[0]).sin()) + f64::from(r[1])
}

#[test]
fn training_scores_are_the_ensembles_raw_scores() {
    let (x, y) = sample(2000, 3, 1, wave);
    let f = fit(data(&x, 3, &y, None), None, 40, &small(), &[]).expect("fit");
    assert_eq!(f.ensemble.trees.len(), 40);
    assert_eq!(f.trees_grown, 40);
    for (row, s) in x.chunks(3).zip(&f.train_scores) {
        assert!((f.ensemble.raw_score(row) - s).abs() < 1e-9);
    }
    // And they learnt something: the training loss is well below the prior's.
    let prior = log_loss(
        &data(&x, 3, &y, None),
        &vec![f.ensemble.base_score; y.len()],
    );
    let model = log_loss(&data(&x, 3, &y, None), &f.train_scores);
    assert!(model < prior - 0.1, "{model} vs {prior}");
}

#[test]
fn early_stopping_keeps_the_best_iteration() {
    let (x, y) = sample(1500, 3, 2, wave);
    let (vx, vy) = sample(700, 3, 3, wave);
    let params = Params {
        learning_rate: 0.5,
        ..small()
    };
    let v = data(&vx, 3, &vy, None);
    let reported = std::sync::Mutex::new(Vec::new());
    let on_best = |trees| reported.lock().expect("not poisoned").push(trees);
    let f = fit_watched(data(&x, 3, &y, None), Some(v), 500, &params, &[], &on_best).expect("fit");
    // Each move of the best iteration was reported, the last being the trees kept.
    let reported = reported.into_inner().expect("not poisoned");
    assert!(reported.windows(2).all(|w| w[0] < w[1]), "{reported:?}");
    assert_eq!(reported.last(), Some(&f.ensemble.trees.len()));
    let losses = &f.validation_loss;
    assert_eq!(losses.len(), f.trees_grown);
    let best = (0..losses.len())
        .min_by(|&a, &b| losses[a].total_cmp(&losses[b]))
        .expect("losses");
    assert_eq!(f.ensemble.trees.len(), best + 1);
    assert_eq!(
        f.trees_grown,
        best + 1 + 10,
        "stopped 10 trees after the best"
    );
    // The kept ensemble scores the validation rows at the best loss.
    let z: Vec<f64> = vx.chunks(3).map(|r| f.ensemble.raw_score(r)).collect();
    assert!((log_loss(&v, &z) - losses[best]).abs() < 1e-12);
    for (row, s) in x.chunks(3).zip(&f.train_scores) {
        assert!((f.ensemble.raw_score(row) - s).abs() < 1e-9);
    }
}

#[test]
fn a_weight_of_two_is_a_duplicated_row() {
    let (x, y) = sample(800, 3, 4, wave);
    let weights: Vec<f64> = (0..y.len())
        .map(|i| if i % 4 == 0 { 2.0 } else { 1.0 })
        .collect();
    let (mut dx, mut dy) = (x.clone(), y.clone());
    for i in (0..y.len()).step_by(4) {
        dx.extend_from_slice(&x[i * 3..(i + 1) * 3]);
        dy.push(y[i]);
    }
    let weighted = fit(data(&x, 3, &y, Some(&weights)), None, 30, &small(), &[]).expect("fit");
    let copied = fit(data(&dx, 3, &dy, None), None, 30, &small(), &[]).expect("fit");
    let (a, b) = (&weighted.ensemble, &copied.ensemble);
    assert!((a.base_score - b.base_score).abs() < 1e-12);
    for (ta, tb) in a.trees.iter().zip(&b.trees) {
        assert_eq!(ta.nodes.len(), tb.nodes.len());
    }
    let mut rng = StdRng::seed_from_u64(5);
    for _ in 0..500 {
        let row: Vec<f32> = (0..3).map(|_| rng.random_range(-1.2..1.2)).collect();
        assert!(
            (a.raw_score(&row) - b.raw_score(&row)).abs() < 1e-9,
            "{row:?}"
        );
    }
}

#[test]
fn the_thread_count_does_not_change_the_trees() {
    let (x, y) = sample(30_000, 6, 6, wave);
    let run = |threads| {
        let params = Params {
            threads: Some(threads),
            max_leaves: 31,
            ..small()
        };
        fit(data(&x, 6, &y, None), None, 15, &params, &[]).expect("fit")
    };
    let one = run(1);
    for threads in [2, 3] {
        let other = run(threads);
        assert_eq!(one.ensemble, other.ensemble, "{threads} threads");
        assert_eq!(one.train_scores, other.train_scores, "{threads} threads");
    }
}

#[test]
fn monotone_constraints_hold_from_any_row() {
    let (x, y) = sample(3000, 3, 8, wave);
    let mut rng = StdRng::seed_from_u64(10);
    for (direction, sign) in [(Monotone::Increasing, 1.0), (Monotone::Decreasing, -1.0)] {
        let f = fit(data(&x, 3, &y, None), None, 60, &small(), &[(0, direction)]).expect("fit");
        let e = &f.ensemble;
        for _ in 0..100 {
            let mut row: Vec<f32> = (0..3).map(|_| rng.random_range(-1.0..1.0)).collect();
            let mut last = f64::NEG_INFINITY;
            for step in 0..=120 {
                row[0] = -1.2 + 2.4 * step as f32 / 120.0;
                let s = sign * e.raw_score(&row);
                assert!(s >= last - 1e-12, "{direction:?} broken at {row:?}");
                last = s;
            }
        }
    }
    // Unconstrained, the same data gives a score that falls somewhere along feature 0.
    let free = fit(data(&x, 3, &y, None), None, 60, &small(), &[]).expect("fit");
    let along: Vec<f64> = (0..=80)
        .map(|s| {
            free.ensemble
                .raw_score(&[-1.2 + 2.4 * s as f32 / 80.0, 0.0, 0.0])
        })
        .collect();
    assert!(along.windows(2).any(|w| w[1] < w[0] - 1e-3));
}

#[test]
fn growing_a_tree_at_a_time_is_fitting_that_many() {
    let (x, y) = sample(3000, 4, 13, wave);
    let w: Vec<f64> = (0..3000).map(|i| 1.0 + f64::from(i % 3)).collect();
    let monotone = [(1, Monotone::Increasing)];
    let params = Params {
        threads: None,
        ..small()
    };
    let training = Training::new(data(&x, 4, &y, Some(&w)), &params, &monotone).expect("bin");
    let mut boosting = training.boosting();
    // Grown in two stretches, as a caller that learns the count later would.
    for _ in 0..12 {
        assert!(boosting.grow());
    }
    assert_eq!(boosting.trees(), 12);
    while boosting.trees() < 30 {
        assert!(boosting.grow());
    }
    let grown = boosting.finish().expect("trees");
    let fitted = fit(data(&x, 4, &y, Some(&w)), None, 30, &params, &monotone).expect("fit");
    assert_eq!(grown.ensemble, fitted.ensemble);
    assert_eq!(grown.train_scores, fitted.train_scores);
    assert_eq!(grown.trees_grown, 30);
    // Nothing to split: no tree, and none after.
    let flat = vec![1.0f32; 400];
    let y: Vec<bool> = (0..400).map(|i| i % 3 == 0).collect();
    let training = Training::new(data(&flat, 1, &y, None), &params, &[]).expect("bin");
    let mut boosting = training.boosting();
    assert!(!boosting.grow());
    assert!(!boosting.grow());
    assert!(
        boosting
            .finish()
            .expect("no trees")
            .ensemble
            .trees
            .is_empty()
    );
    // Bad rows are refused as `fit` refuses them.
    let nan = [0.0f32, f32::NAN];
    let err = Training::new(data(&nan, 1, &[true, false], None), &params, &[]).expect_err("NaN");
    assert!(err.to_string().contains("training rows: row 1"), "{err}");
}

#[test]
fn noise_stops_early_or_never_splits() {
    let (x, y) = sample(2000, 4, 11, |_| -0.5);
    let (vx, vy) = sample(500, 4, 12, |_| -0.5);
    let f = fit(
        data(&x, 4, &y, None),
        Some(data(&vx, 4, &vy, None)),
        500,
        &small(),
        &[],
    )
    .expect("fit");
    assert!(f.trees_grown < 100, "grew {}", f.trees_grown);
    // Nothing to split at all: no tree.
    let flat = vec![1.0f32; 400];
    let y: Vec<bool> = (0..400).map(|i| i % 3 == 0).collect();
    let f = fit(data(&flat, 1, &y, None), None, 10, &small(), &[]).expect("fit");
    assert!(f.ensemble.trees.is_empty());
    assert!((f.ensemble.base_score - (0.5f64).ln()).abs() < 0.01);
}

#[test]
fn bad_input_is_refused_with_where() {
    let y = [true, false];
    let nan = [0.0f32, 1.0, f32::NAN, 2.0];
    let err = fit(data(&nan, 2, &y, None), None, 5, &small(), &[]).expect_err("NaN");
    assert!(
        err.to_string().contains("training rows: row 1, feature 0"),
        "{err}"
    );
    let ok = [0.0f32, 1.0, 0.5, 2.0];
    let err = fit(
        data(&ok, 2, &y, None),
        None,
        5,
        &small(),
        &[(5, Monotone::Increasing)],
    )
    .expect_err("feature 5");
    assert!(err.to_string().contains("feature 5"), "{err}");
    let twice = [(1, Monotone::Increasing), (1, Monotone::Decreasing)];
    assert!(matches!(
        fit(data(&ok, 2, &y, None), None, 5, &small(), &twice),
        Err(GbmError::MonotoneTwice { feature: 1 })
    ));
    let err = fit(data(&ok, 2, &[true, true], None), None, 5, &small(), &[]).expect_err("class");
    assert!(err.to_string().contains("both classes"), "{err}");
    let err = fit(data(&ok, 2, &y, Some(&[1.0, -1.0])), None, 5, &small(), &[]).expect_err("w");
    assert!(err.to_string().contains("row 1 has weight -1"), "{err}");
    let err = fit(data(&ok, 3, &y, None), None, 5, &small(), &[]).expect_err("shape");
    assert!(matches!(err, GbmError::Shape { .. }), "{err}");
    let narrow = [0.0f32, 1.0];
    let err = fit(
        data(&ok, 2, &y, None),
        Some(data(&narrow, 1, &y, None)),
        5,
        &small(),
        &[],
    )
    .expect_err("width");
    assert!(
        matches!(err, GbmError::ValidationWidth { got: 1, want: 2 }),
        "{err}"
    );
    for bad in [
        Params {
            learning_rate: 0.0,
            ..small()
        },
        Params {
            max_leaves: 1,
            ..small()
        },
        Params {
            max_bins: 257,
            ..small()
        },
        Params {
            l2: 0.0,
            min_leaf_hessian: 0.0,
            ..small()
        },
        Params {
            threads: Some(0),
            ..small()
        },
    ] {
        let err = fit(data(&ok, 2, &y, None), None, 5, &bad, &[]).expect_err("params");
        assert!(matches!(err, GbmError::Parameter { .. }), "{err}");
    }
}
