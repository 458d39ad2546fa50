//! GBM fit on 100k × 40 (the design of `examples/bench_data.rs`): 200 trees, learning rate
//! 0.05, 31 leaves, qualify's other defaults (min leaf hessian 5, L2 1, 256 bins), no early
//! stopping: what `qualify train` runs per fit, `gbm::fit` (qualify-gbm's fit plus the check
//! of the trees against the booster's own training scores on every row), on 2 threads and
//! on 1. The trainer alone, like for like with LightGBM, is `crates/gbm/benches/fit.rs`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use qualify_train::gbm::{GbmParams, Rows, fit};

#[allow(dead_code)]
#[path = "../examples/bench_data.rs"]
mod bench_data;

const ROWS: usize = 100_000;
const COLS: usize = 40;
const TREES: usize = 200;

fn gbm_fit_100k_x_40(c: &mut Criterion) {
    let (x, y) = bench_data::design(ROWS, COLS, 42);
    let weights = vec![1.0; ROWS];
    let rows = Rows {
        x: &x,
        cols: COLS,
        y: &y,
        weights: &weights,
    };
    let mut group = c.benchmark_group("train_gbm_fit_100k_x_40");
    group.sample_size(10);
    for (name, threads) in [("qualify_fit_2_threads", 2), ("qualify_fit_1_thread", 1)] {
        let p = GbmParams {
            max_trees: TREES,
            learning_rate: 0.05,
            max_leaves: 31,
            threads: Some(threads),
            ..GbmParams::default()
        };
        group.bench_function(name, |b| {
            b.iter(|| fit(black_box(rows), None, TREES, &p, &[]).expect("fit"))
        });
    }
    group.finish();
}

criterion_group!(benches, gbm_fit_100k_x_40);
criterion_main!(benches);
