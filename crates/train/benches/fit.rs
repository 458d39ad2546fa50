//! Logistic fit on 100k × 40 (the design of `examples/bench_data.rs`), with the training
//! matrix column-major (what qualify uses) and row-major (linfa's natural input), to show why
//! `matrix.rs` exists. `scripts/bench_logistic.sh` times scikit-learn on the same rows.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use ndarray::Array2;
use qualify_train::logistic::{Solver, fit};
use qualify_train::matrix::column_major;

#[allow(dead_code)]
#[path = "../examples/bench_data.rs"]
mod bench_data;

const ROWS: usize = 100_000;
const COLS: usize = 40;
/// scikit-learn's default C = 1.0.
const ALPHA: f64 = 1.0;

fn fit_100k_x_40(c: &mut Criterion) {
    let (x, y) = bench_data::design(ROWS, COLS, 42);
    let col_major = column_major(&x, ROWS, COLS);
    let row_major = Array2::from_shape_fn((ROWS, COLS), |(i, j)| f64::from(x[i * COLS + j]));
    let mut group = c.benchmark_group("logistic_fit_100k_x_40");
    group.sample_size(10);
    group.bench_function("column_major", |b| {
        b.iter(|| fit(black_box(&col_major), &y, ALPHA, Solver::default()))
    });
    group.bench_function("row_major", |b| {
        b.iter(|| fit(black_box(&row_major), &y, ALPHA, Solver::default()))
    });
    group.finish();
}

criterion_group!(benches, fit_100k_x_40);
criterion_main!(benches);
