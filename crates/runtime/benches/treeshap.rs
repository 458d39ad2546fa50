//! TreeSHAP per row: the runtime's algorithm (`quadrature`, `forest::shap::TreeShap`) against
//! Algorithm 2 of Lundberg et al. (`algorithm2`, `forest::shap::reference`), the in-run peer,
//! on the same rows:
//! - `treeshap_100x31`: 100 leaf-wise random trees × 31 leaves on 40 features (the scoring
//!   bench's model, seed 100), plus `explained_score_1_row`: what an explained request costs
//!   the runtime after encoding (the native logit, TreeSHAP, and the grouping into the top
//!   reasons of 40 one-feature columns, as `Model::explain_json` does);
//! - `treeshap_187x15`: 187 leaf-wise random trees × 15 leaves on 40 features;
//! - with `QUALIFY_BENCH_LIGHTGBM` set to the directory `scripts/bench_treeshap_lightgbm.py`
//!   wrote, `lightgbm_100x31` and `lightgbm_187x15`: the very models LightGBM trained and
//!   timed its own `pred_contrib` on, on its 1,000 held-out rows. Before timing, both
//!   algorithms are held to LightGBM's contributions on every row (the bench stops if any
//!   differs by more than 1e-6).
//!
//! Single rows cycle through 1,000 rows (one row again and again would let the branch
//! predictor learn its paths). `scripts/bench_treeshap.sh` runs it all with the Python peer.

use std::hint::black_box;
use std::path::{Path, PathBuf};

mod common;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use qualify_core::trees::TreeEnsemble;
use qualify_runtime::explain::explanation;
use qualify_runtime::forest::flat::FlatForest;
use qualify_runtime::forest::shap::TreeShap;
use qualify_runtime::forest::shap::reference::ReferenceTreeShap;

use common::{leafwise_ensemble, uniform_rows};

const N_FEATURES: usize = 40;
const ROWS: usize = 1000;

/// Benches both algorithms on `ensemble` over `rows` (`ROWS` × `N_FEATURES`) in group
/// `name`; with `explained`, also the explained score.
fn bench_shape(c: &mut Criterion, name: &str, ensemble: &TreeEnsemble, x: &[f32], explained: bool) {
    let fast = TreeShap::new(ensemble).expect("the bench ensemble has covers");
    let reference = ReferenceTreeShap::new(ensemble.clone()).expect("covers");
    let row = |i: usize| &x[i % ROWS * N_FEATURES..][..N_FEATURES];
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(1));
    let mut i = 0;
    let mut phi = vec![0.0; N_FEATURES];
    group.bench_function("quadrature_1_row", |b| {
        b.iter(|| {
            i += 1;
            phi.fill(0.0);
            fast.add_shap_values(black_box(row(i)), &mut phi)
                .expect("explain");
            black_box(&phi);
        })
    });
    group.bench_function("algorithm2_1_row", |b| {
        b.iter(|| {
            i += 1;
            phi.fill(0.0);
            reference
                .add_shap_values(black_box(row(i)), &mut phi)
                .expect("explain");
            black_box(&phi);
        })
    });
    if explained {
        let flat = FlatForest::new(ensemble).expect("pack");
        let names: Vec<String> = (0..N_FEATURES).map(|f| format!("f{f:02}")).collect();
        let spans: Vec<(&str, std::ops::Range<usize>)> = names
            .iter()
            .enumerate()
            .map(|(f, n)| (n.as_str(), f..f + 1))
            .collect();
        group.bench_function("explained_score_1_row", |b| {
            b.iter(|| {
                i += 1;
                let x = black_box(row(i));
                let logit = flat.raw_score(x);
                let mut phi = vec![0.0; N_FEATURES];
                fast.add_shap_values(x, &mut phi).expect("explain");
                let e = explanation(
                    &spans,
                    fast.expected_value(),
                    &phi,
                    |_| serde_json::Value::Null,
                    3,
                );
                (logit, e)
            })
        });
    }
    group.finish();
    if std::env::args().any(|a| a == "--bench") {
        cpu_time(name, &fast, &reference, x);
    }
}

/// CPU time this thread has run, from the scheduler (Linux), in nanoseconds.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// µs per row of each algorithm over all rows, per CPU-second of this thread: on a shared
/// machine wall time counts the time other processes hold the core.
fn cpu_time(name: &str, fast: &TreeShap, reference: &ReferenceTreeShap, x: &[f32]) {
    let mut phi = vec![0.0; N_FEATURES];
    let mut per_row = |passes: usize, explain: &mut dyn FnMut(&[f32], &mut [f64])| {
        let start = thread_cpu_ns()?;
        for _ in 0..passes {
            for row in x.chunks_exact(N_FEATURES) {
                phi.fill(0.0);
                explain(black_box(row), &mut phi);
                black_box(&phi);
            }
        }
        let end = thread_cpu_ns()?;
        Some((end - start) as f64 / 1e3 / (passes * ROWS) as f64)
    };
    let quadrature = per_row(5, &mut |row, phi| {
        fast.add_shap_values(row, phi).expect("explain");
    });
    let algorithm2 = per_row(1, &mut |row, phi| {
        reference.add_shap_values(row, phi).expect("explain");
    });
    if let (Some(q), Some(a)) = (quadrature, algorithm2) {
        println!(
            "{name}: CPU time per row over {ROWS} rows: quadrature {q:.1} µs (5 passes), \
             algorithm 2 {a:.1} µs (1 pass), ratio {:.2}",
            a / q
        );
    }
}

fn synthetic(c: &mut Criterion) {
    let x = uniform_rows(101, N_FEATURES, ROWS);
    for (name, seed, trees, leaves) in [
        ("treeshap_100x31", 100, 100, 31),
        ("treeshap_187x15", 187, 187, 15),
    ] {
        let ensemble = leafwise_ensemble(seed, N_FEATURES, trees, leaves);
        bench_shape(c, name, &ensemble, &x, name == "treeshap_100x31");
    }
}

fn read_f64(path: &Path) -> Vec<f64> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    bytes
        .chunks_exact(8)
        .map(|b| f64::from_le_bytes(b.try_into().expect("8 bytes")))
        .collect()
}

/// LightGBM's models and rows, its contributions checked first.
fn lightgbm(c: &mut Criterion) {
    let Some(dir) = std::env::var_os("QUALIFY_BENCH_LIGHTGBM").map(PathBuf::from) else {
        return;
    };
    let bytes = std::fs::read(dir.join("rows_1000x40.f32")).expect("rows");
    let x: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes(b.try_into().expect("4 bytes")))
        .collect();
    assert_eq!(x.len(), ROWS * N_FEATURES);
    for shape in ["100x31", "187x15"] {
        let json =
            std::fs::read_to_string(dir.join(format!("lightgbm_{shape}.json"))).expect("ensemble");
        let ensemble: TreeEnsemble = serde_json::from_str(&json).expect("ensemble JSON");
        let expected = read_f64(&dir.join(format!("contribs_{shape}.f64")));
        let fast = TreeShap::new(&ensemble).expect("covers");
        let reference = ReferenceTreeShap::new(ensemble.clone()).expect("covers");
        let (mut worst_fast, mut worst_reference) = (0.0f64, 0.0f64);
        for (r, row) in x.chunks_exact(N_FEATURES).enumerate() {
            let lgb = &expected[r * (N_FEATURES + 1)..][..N_FEATURES + 1];
            for (algorithm, worst, base) in [
                (0, &mut worst_fast, fast.expected_value()),
                (1, &mut worst_reference, reference.expected_value()),
            ] {
                let mut phi = vec![0.0; N_FEATURES];
                if algorithm == 0 {
                    fast.add_shap_values(row, &mut phi).expect("explain");
                } else {
                    reference.add_shap_values(row, &mut phi).expect("explain");
                }
                phi.push(base);
                for (a, b) in phi.iter().zip(lgb) {
                    *worst = worst.max((a - b).abs());
                }
            }
        }
        println!(
            "lightgbm_{shape}: largest difference from LightGBM's pred_contrib over {ROWS} rows: \
             quadrature {worst_fast:.2e}, algorithm 2 {worst_reference:.2e}"
        );
        assert!(
            worst_fast < 1e-6 && worst_reference < 1e-6,
            "LightGBM disagrees"
        );
        bench_shape(c, &format!("lightgbm_{shape}"), &ensemble, &x, false);
    }
}

criterion_group!(benches, synthetic, lightgbm);
criterion_main!(benches);
