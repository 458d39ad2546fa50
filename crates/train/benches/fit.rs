//! Logistic fit on 100k × 40 (the design of `examples/bench_data.rs`): the Newton–Cholesky
//! solver on the column-major matrix (what qualify trains on) and on a row-major one (copied
//! once per fit), and linfa-logistic's L-BFGS on the column-major one (the solver qualify
//! used before, still its path for wide matrices). `scripts/bench_logistic.sh` times
//! scikit-learn on the same rows.
//!
//! The `logistic_crossover` group times both solvers on 20k rows at widths 40 to 400: where
//! Newton's `n p² / 2` Hessian stops paying (`logistic::NEWTON_MAX_FEATURES`).

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use ndarray::Array2;
use qualify_train::logistic::{Method, Solver, fit};
use qualify_train::matrix::column_major;

#[allow(dead_code)]
#[path = "../examples/bench_data.rs"]
mod bench_data;

const ROWS: usize = 100_000;
const COLS: usize = 40;
/// scikit-learn's default C = 1.0.
const ALPHA: f64 = 1.0;

fn solver(method: Method) -> Solver {
    Solver {
        method,
        ..Solver::default()
    }
}

fn fit_100k_x_40(c: &mut Criterion) {
    let (x, y) = bench_data::design(ROWS, COLS, 42);
    let col_major = column_major(&x, ROWS, COLS);
    let row_major = Array2::from_shape_fn((ROWS, COLS), |(i, j)| f64::from(x[i * COLS + j]));
    let mut group = c.benchmark_group("logistic_fit_100k_x_40");
    group.sample_size(10);
    group.bench_function("newton_column_major", |b| {
        b.iter(|| fit(black_box(&col_major), &y, ALPHA, solver(Method::Newton)))
    });
    group.bench_function("newton_row_major", |b| {
        b.iter(|| fit(black_box(&row_major), &y, ALPHA, solver(Method::Newton)))
    });
    group.bench_function("lbfgs_column_major", |b| {
        b.iter(|| fit(black_box(&col_major), &y, ALPHA, solver(Method::Lbfgs)))
    });
    group.finish();
}

fn crossover(c: &mut Criterion) {
    let rows = 20_000;
    let mut group = c.benchmark_group("logistic_crossover");
    group.sample_size(10);
    for cols in [40, 100, 200, 400] {
        let (x, y) = bench_data::design(rows, cols, 42);
        let x = column_major(&x, rows, cols);
        for (name, method) in [("newton", Method::Newton), ("lbfgs", Method::Lbfgs)] {
            group.bench_with_input(BenchmarkId::new(name, cols), &x, |b, x| {
                b.iter(|| fit(black_box(x), &y, ALPHA, solver(method)))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, fit_100k_x_40, crossover);
criterion_main!(benches);
