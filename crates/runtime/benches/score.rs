//! Scoring throughput of a 40-feature logistic model through tract, for a single row (the
//! latency of one HTTP request) and a batch of 1,000 rows (bulk rescoring).
//!
//! `cargo bench -p qualify-runtime --bench score`; criterion reports rows/s as elements/s.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use qualify_runtime::onnx::OnnxModel;
use qualify_train::onnx::logistic_to_onnx;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const N_FEATURES: usize = 40;

fn score(c: &mut Criterion) {
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
        group.bench_function(format!("{rows}_rows"), |b| {
            b.iter(|| model.logits(black_box(&x), rows).expect("score"))
        });
    }
    group.finish();
}

criterion_group!(benches, score);
criterion_main!(benches);
