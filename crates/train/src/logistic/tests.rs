//! The Newton path against linfa-logistic's L-BFGS and against the optimality condition
//! written from the definition of the objective.

use super::*;
use crate::matrix::column_major;
use ndarray::ShapeBuilder;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Tight limits, so that both solvers land on the optimum itself.
fn tight(method: Method) -> Solver {
    Solver {
        max_iterations: 20_000,
        gradient_tolerance: 1e-10,
        method,
    }
}

/// The objective and its gradient, row by row from the definition (no blocks, no lanes).
fn objective(x: &Array2<f64>, y: &[bool], m: &LogisticModel) -> (f64, Vec<f64>) {
    let p = x.ncols();
    let (mut loss, mut grad) = (0.0, vec![0.0; p + 1]);
    for (row, &label) in x.rows().into_iter().zip(y) {
        let z: f64 = m.intercept + row.iter().zip(&m.weights).map(|(a, w)| a * w).sum::<f64>();
        let prob = 1.0 / (1.0 + (-z).exp());
        loss += if label {
            -prob.ln()
        } else {
            -(1.0 - prob).ln()
        };
        let r = prob - f64::from(u8::from(label));
        for (g, a) in grad.iter_mut().zip(row.iter().chain([&1.0])) {
            *g += r * a;
        }
    }
    for (g, w) in grad.iter_mut().zip(&m.weights) {
        loss += 0.5 * m.alpha * w * w;
        *g += m.alpha * w;
    }
    (loss, grad)
}

/// A random problem: `p` standard-ish features, the last a near-constant column when
/// `near_constant`, labels from known weights and an intercept setting the base rate.
fn problem(
    seed: u64,
    n: usize,
    p: usize,
    intercept: f64,
    near_constant: bool,
) -> (Array2<f64>, Vec<bool>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let truth: Vec<f64> = (0..p).map(|_| rng.random_range(-1.5..1.5)).collect();
    let mut x = Vec::with_capacity(n * p);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let mut row: Vec<f32> = (0..p).map(|_| rng.random_range(-2.0..2.0)).collect();
        if near_constant {
            // Almost always 1: a column nearly collinear with the intercept.
            row[p - 1] = if rng.random::<f64>() < 0.005 {
                0.0
            } else {
                1.0
            };
        }
        let z = intercept
            + row
                .iter()
                .zip(&truth)
                .map(|(a, w)| f64::from(*a) * w)
                .sum::<f64>();
        y.push(rng.random::<f64>() < 1.0 / (1.0 + (-z).exp()));
        x.extend(row);
    }
    (column_major(&x, n, p), y)
}

/// Newton and L-BFGS on balanced, imbalanced and near-constant-column problems along an L2
/// grid: the same objective value to 1e-9 and the same weights to 1e-5, relative.
#[test]
fn newton_and_lbfgs_reach_the_same_optimum() {
    let cases = [
        (11, 3000, 6, 0.0, false),
        (12, 4000, 8, -3.5, false),
        (13, 3000, 5, -1.0, true),
        (14, 700, 12, 2.5, false),
    ];
    for (seed, n, p, intercept, near_constant) in cases {
        let (x, y) = problem(seed, n, p, intercept, near_constant);
        for alpha in [1e-3, 0.1, 1.0, 10.0, 100.0] {
            let newton = fit_warm(&x, &y, alpha, tight(Method::Newton), None).expect("newton");
            assert!(
                matches!(newton.path, FitPath::Newton { .. }),
                "{:?}",
                newton.path
            );
            let lbfgs = fit_warm(&x, &y, alpha, tight(Method::Lbfgs), None).expect("lbfgs");
            let (a, b) = (&newton.model, &lbfgs.model);
            let (loss_a, _) = objective(&x, &y, a);
            let (loss_b, _) = objective(&x, &y, b);
            let what = format!("seed {seed}, alpha {alpha}");
            assert!(
                (loss_a - loss_b).abs() <= 1e-9 * loss_b,
                "{what}: loss {loss_a} vs {loss_b}"
            );
            let scale = b
                .weights
                .iter()
                .fold(b.intercept.abs(), |s, w| s.max(w.abs()));
            for (j, (u, v)) in a
                .weights
                .iter()
                .chain([&a.intercept])
                .zip(b.weights.iter().chain([&b.intercept]))
                .enumerate()
            {
                assert!(
                    (u - v).abs() <= 1e-5 * scale,
                    "{what}, parameter {j}: {u} vs {v}"
                );
            }
        }
    }
}

/// At the default tolerance, the gradient computed from the definition is within it.
#[test]
fn the_newton_solution_zeroes_the_gradient() {
    for (seed, intercept) in [(21, 0.0), (22, -4.0)] {
        let (x, y) = problem(seed, 5000, 10, intercept, true);
        for alpha in [0.0, 0.01, 3.0] {
            let solver = Solver::default();
            let fitted = fit_warm(&x, &y, alpha, solver, None).expect("fit");
            assert!(
                matches!(fitted.path, FitPath::Newton { .. }),
                "{:?}",
                fitted.path
            );
            let (_, grad) = objective(&x, &y, &fitted.model);
            let norm = grad.iter().map(|g| g * g).sum::<f64>().sqrt();
            assert!(
                norm <= solver.gradient_tolerance * y.len() as f64,
                "seed {seed}, alpha {alpha}: gradient norm {norm}"
            );
        }
    }
}

/// Starting from another strength's solution reaches this strength's optimum.
#[test]
fn a_warm_start_reaches_the_cold_optimum() {
    let (x, y) = problem(31, 3000, 7, -2.0, false);
    let heavy = fit(&x, &y, 100.0, tight(Method::Newton)).expect("heavy");
    let cold = fit_warm(&x, &y, 0.01, tight(Method::Newton), None).expect("cold");
    let warm = fit_warm(&x, &y, 0.01, tight(Method::Newton), Some(&heavy)).expect("warm");
    for (u, v) in warm.model.weights.iter().zip(&cold.model.weights) {
        assert!((u - v).abs() < 1e-8, "{u} vs {v}");
    }
    assert!((warm.model.intercept - cold.model.intercept).abs() < 1e-8);
}

/// Two equal columns and no L2: the Hessian is singular; the fit says so and falls back to
/// L-BFGS, whose weights are finite and whose predictions fit the data.
#[test]
fn collinear_columns_without_l2_fall_back_to_lbfgs() {
    let (x, y) = problem(41, 2000, 3, -1.0, false);
    let mut wide = Array2::zeros((x.nrows(), 4).f());
    for (j, source) in [0, 1, 2, 0].into_iter().enumerate() {
        wide.column_mut(j).assign(&x.column(source));
    }
    let fitted = fit_warm(&wide, &y, 0.0, Solver::default(), None).expect("fit");
    assert!(
        matches!(
            fitted.path,
            FitPath::Lbfgs {
                newton_failed: Some(NewtonFailure::NotPositiveDefinite { column: 3, .. })
            }
        ),
        "{:?}",
        fitted.path
    );
    let m = &fitted.model;
    assert!(
        m.weights.iter().all(|w| w.is_finite()) && m.intercept.is_finite(),
        "{m:?}"
    );
    // The two copies share one weight between them: their sum is the narrow fit's weight.
    let narrow = fit(&x, &y, 0.0, Solver::default()).expect("narrow");
    assert!(
        (m.weights[0] + m.weights[3] - narrow.weights[0]).abs() < 1e-3,
        "{m:?} vs {narrow:?}"
    );
}

/// A row-major matrix is copied to column-major: the very same fit.
#[test]
fn any_layout_gives_the_same_fit() {
    let (x, y) = problem(51, 1500, 5, -1.0, false);
    let row_major = x.as_standard_layout().into_owned();
    assert!(row_major.is_standard_layout());
    assert_eq!(
        fit(&x, &y, 1.0, Solver::default()).expect("column-major"),
        fit(&row_major, &y, 1.0, Solver::default()).expect("row-major")
    );
}

/// Rare positives generated from known weights: the fitted model must give P(converted),
/// recover the weights' signs, and predict the base rate on average.
#[test]
fn orients_to_the_converted_class_on_imbalanced_data() {
    let mut rng = StdRng::seed_from_u64(1);
    let (n, true_w, true_b) = (4000, [1.5, -2.0, 0.0], -2.5);
    let mut x = Vec::with_capacity(n * 3);
    let mut y = Vec::with_capacity(n);
    for _ in 0..n {
        let row: Vec<f32> = (0..3).map(|_| rng.random_range(-1.0..1.0)).collect();
        let z: f64 = true_b
            + row
                .iter()
                .zip(true_w)
                .map(|(a, w)| f64::from(*a) * w)
                .sum::<f64>();
        y.push(rng.random::<f64>() < 1.0 / (1.0 + (-z).exp()));
        x.extend(row);
    }
    let rate = y.iter().filter(|&&v| v).count() as f64 / n as f64;
    assert!(rate < 0.2, "positives are the minority ({rate})");
    for method in [Method::Newton, Method::Lbfgs] {
        let solver = Solver {
            method,
            ..Solver::default()
        };
        let m = fit(&column_major(&x, n, 3), &y, 1e-3, solver).expect("fit");
        assert!(
            m.weights[0] > 1.0 && m.weights[1] < -1.4 && m.weights[2].abs() < 0.3,
            "{method:?}: {m:?}"
        );
        assert!((m.intercept - true_b).abs() < 0.4, "{method:?}: {m:?}");
        let mean_p: f64 = m
            .logits(column_major(&x, n, 3).view())
            .iter()
            .map(|z| 1.0 / (1.0 + (-z).exp()))
            .sum::<f64>()
            / n as f64;
        assert!(
            (mean_p - rate).abs() < 0.01,
            "{method:?}: mean prediction {mean_p} vs rate {rate}"
        );
    }
}

#[test]
fn rejects_bad_parameters_and_inputs() {
    let x = column_major(&[0.0, 1.0], 2, 1);
    assert!(matches!(
        fit(&x, &[true], 1.0, Solver::default()),
        Err(TrainError::Rows { .. })
    ));
    assert!(matches!(
        fit(&x, &[true, false], f64::NAN, Solver::default()),
        Err(TrainError::L2 { .. })
    ));
    let start = LogisticModel {
        weights: vec![0.0; 2],
        intercept: 0.0,
        alpha: 1.0,
    };
    assert!(matches!(
        fit_warm(&x, &[true, false], 1.0, Solver::default(), Some(&start)),
        Err(TrainError::Shape {
            values: 2,
            cols: 1,
            ..
        })
    ));
    let bad = column_major(&[0.0, 1.0, f32::INFINITY, 2.0], 4, 1);
    let err = fit(&bad, &[true, false, true, false], 1.0, Solver::default());
    assert!(
        matches!(
            err,
            Err(TrainError::NonFinite {
                row: 2,
                feature: 0,
                ..
            })
        ),
        "{err:?}"
    );
    // One class only: linfa's error, not a panic or a silent model.
    assert!(matches!(
        fit(&x, &[true, true], 1.0, Solver::default()),
        Err(TrainError::Logistic { .. })
    ));
}
