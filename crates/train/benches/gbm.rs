//! GBM fit on 100k × 40 (the design of `examples/bench_data.rs`): 200 trees, learning rate
//! 0.05, 31 leaves, no early stopping — LightGBM's settings in `scripts/bench_gbm.sh`, which
//! times LightGBM on the very same rows in the same run.
//!
//! - `forust_fit`: forust-ml's fit alone (binning, 200 trees; monotone clamping is a no-op);
//! - `qualify_fit`: what `qualify train` runs per fit, `gbm::fit`: the above, plus the
//!   conversion to `TreeEnsemble` and its check against forust-ml's predict on every row;
//! - `forust_fit_1_thread`: forust-ml's fit on one thread.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use qualify_train::gbm::{GbmParams, Rows, column_major_f64, fit, fit_booster};

#[allow(dead_code)]
#[path = "../examples/bench_data.rs"]
mod bench_data;

const ROWS: usize = 100_000;
const COLS: usize = 40;
const TREES: usize = 200;

fn params(threads: Option<usize>) -> GbmParams {
    GbmParams {
        max_trees: TREES,
        learning_rate: 0.05,
        max_leaves: 31,
        threads,
        ..GbmParams::default()
    }
}

fn gbm_fit_100k_x_40(c: &mut Criterion) {
    let (x, y) = bench_data::design(ROWS, COLS, 42);
    let weights = vec![1.0; ROWS];
    let rows = Rows {
        x: &x,
        cols: COLS,
        y: &y,
        weights: &weights,
    };
    let xf = column_major_f64(&x, COLS);
    let mut group = c.benchmark_group("gbm_fit_100k_x_40");
    group.sample_size(10);
    for (name, threads) in [("forust_fit", None), ("forust_fit_1_thread", Some(1))] {
        let p = params(threads);
        group.bench_function(name, |b| {
            b.iter(|| fit_booster(black_box(rows), &xf, None, TREES, &p, &[], 42).expect("fit"))
        });
    }
    let p = params(None);
    group.bench_function("qualify_fit", |b| {
        b.iter(|| fit(black_box(rows), None, TREES, &p, &[], 42).expect("fit"))
    });
    group.finish();
}

criterion_group!(benches, gbm_fit_100k_x_40);
criterion_main!(benches);
