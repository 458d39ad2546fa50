//! One fit on 100k × 40 (the design of `crates/train/examples/bench_data.rs`, the rows
//! `scripts/bench_gbm.sh` hands LightGBM in the same run): 200 trees, learning rate 0.05,
//! 31 leaves, 255 bins, min leaf hessian 1e-3, L2 0 (LightGBM's defaults for the rest), no
//! early stopping; on 2 threads and on 1.
//!
//! `QUALIFY_BENCH_ROWS` / `QUALIFY_BENCH_COLS` change the shape (for profiling).

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use qualify_gbm::{Data, Params, fit};

#[allow(dead_code)]
#[path = "../../train/examples/bench_data.rs"]
mod bench_data;

const TREES: usize = 200;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn gbm_fit(c: &mut Criterion) {
    let (rows, cols) = (
        env("QUALIFY_BENCH_ROWS", 100_000),
        env("QUALIFY_BENCH_COLS", 40),
    );
    let (x, y) = bench_data::design(rows, cols, 42);
    let data = Data {
        x: &x,
        cols,
        y: &y,
        weights: None,
    };
    let mut group = c.benchmark_group(format!("gbm_fit_{}k_x_{cols}", rows / 1000));
    group.sample_size(10);
    for (name, threads) in [("qualify_gbm_2_threads", 2), ("qualify_gbm_1_thread", 1)] {
        let params = Params {
            learning_rate: 0.05,
            max_leaves: 31,
            max_bins: 255,
            threads: Some(threads),
            ..Params::default()
        };
        group.bench_function(name, |b| {
            b.iter(|| fit(black_box(data), None, TREES, &params, &[]).expect("fit"))
        });
    }
    group.finish();
}

criterion_group!(benches, gbm_fit);
criterion_main!(benches);
