//! Scoring throughput, for a single row (the latency of one HTTP request) and a batch of
//! 1,000 rows (bulk rescoring):
//! - `logistic_40`: a 40-feature logistic model, as the runtime scores it (`native`: the dot
//!   product) and through tract (`tract`);
//! - `trees_100x31`: 100 trees × 31 leaves on 40 features (leaf-wise random trees, like
//!   LightGBM's `num_leaves = 31`), written by `qualify_onnx::trees`, scored by the
//!   native evaluator (`native`) and by tract on the same graph (`tract`). TreeSHAP on the
//!   same shape is `benches/treeshap.rs`.
//!
//! `cargo bench -p qualify-runtime --bench score`; criterion reports rows/s as elements/s.
//! With `QUALIFY_BENCH_DIR` set, the tree model (`trees_100x31.onnx`), the 1,000 rows
//! (`rows_1000x40.f32`, little-endian f32, row-major) and the native logits
//! (`logits_1000.f64`) are written there, so `scripts/bench_trees.sh` can time onnxruntime on
//! the very same file and check that it computes the same logits.

use std::hint::black_box;
use std::path::PathBuf;

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use qualify_onnx::logistic_to_onnx;
use qualify_onnx::trees::tree_ensemble_to_onnx;
use qualify_runtime::onnx::OnnxModel;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use common::{leafwise_ensemble, uniform_rows};

const N_FEATURES: usize = 40;
const N_TREES: usize = 100;
const N_LEAVES: usize = 31;

fn logistic(c: &mut Criterion) {
    let mut rng = StdRng::seed_from_u64(40);
    let weights: Vec<f32> = (0..N_FEATURES)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let bytes = logistic_to_onnx(&weights, 0.1, "bench").expect("export");
    let model = OnnxModel::from_bytes(&bytes).expect("load");

    let mut group = c.benchmark_group("logistic_40");
    for rows in [1usize, 1000] {
        let x: Vec<f32> = (0..rows * N_FEATURES)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        group.throughput(Throughput::Elements(rows as u64));
        group.bench_function(format!("native/{rows}_rows"), |b| {
            b.iter(|| model.logits(black_box(&x), rows).expect("score"))
        });
        group.bench_function(format!("tract/{rows}_rows"), |b| {
            b.iter(|| model.tract_logits(black_box(&x), rows).expect("score"))
        });
    }
    group.finish();
}

fn trees(c: &mut Criterion) {
    let ensemble = leafwise_ensemble(100, N_FEATURES, N_TREES, N_LEAVES);
    let bytes = tree_ensemble_to_onnx(&ensemble, "bench").expect("export");
    let model = OnnxModel::from_bytes(&bytes).expect("load");
    assert_eq!(model.native_kind(), qualify_runtime::NativeKind::Trees);
    let x = uniform_rows(101, N_FEATURES, 1000);
    if let Some(dir) = std::env::var_os("QUALIFY_BENCH_DIR").map(PathBuf::from) {
        let logits = model.logits(&x, 1000).expect("score");
        let write = |name: &str, bytes: &[u8]| {
            std::fs::write(dir.join(name), bytes).expect("write bench file");
        };
        write("trees_100x31.onnx", &bytes);
        write(
            "rows_1000x40.f32",
            &x.iter().flat_map(|v| v.to_le_bytes()).collect::<Vec<u8>>(),
        );
        write(
            "logits_1000.f64",
            &logits
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect::<Vec<u8>>(),
        );
    }

    // Single rows cycle through the 1,000 rows: one row scored again and again would let the
    // branch predictor learn its path.
    let row = |i: usize| &x[i % 1000 * N_FEATURES..][..N_FEATURES];
    let mut group = c.benchmark_group("trees_100x31");
    group.throughput(Throughput::Elements(1));
    let mut i = 0;
    group.bench_function("native_1_rows", |b| {
        b.iter(|| {
            i += 1;
            model.logits(black_box(row(i)), 1).expect("score")
        })
    });
    group.bench_function("native_1_row_no_alloc", |b| {
        b.iter(|| {
            i += 1;
            model.logit(black_box(row(i))).expect("score")
        })
    });
    group.throughput(Throughput::Elements(1000));
    group.bench_function("native_1000_rows", |b| {
        b.iter(|| model.logits(black_box(&x), 1000).expect("score"))
    });
    // tract takes hundreds of µs per row here: fewer samples, and skipped when the bench
    // only runs as a test (`cargo test --all-targets` runs it unoptimised: over a minute).
    if !std::env::args().any(|a| a == "--bench") {
        group.finish();
        return;
    }
    group.sample_size(10);
    group.throughput(Throughput::Elements(1));
    group.bench_function("tract_1_rows", |b| {
        b.iter(|| {
            i += 1;
            model.tract_logits(black_box(row(i)), 1).expect("score")
        })
    });
    group.throughput(Throughput::Elements(1000));
    group.bench_function("tract_1000_rows", |b| {
        b.iter(|| model.tract_logits(black_box(&x), 1000).expect("score"))
    });
    group.finish();
}

criterion_group!(benches, logistic, trees);
criterion_main!(benches);
