//! What one `/v1/score` request costs the server beyond HTTP, step by step, on the bundled
//! model and rules and the load test's lead (scripts/load/lead.json): parse the body,
//! score (model + rules + explanation), serialize the answer — and what moving that work to
//! the blocking pool adds (`work_run_round_trip` against `block_on_baseline`). The load test
//! (scripts/load-test) measures the whole service; this says where its time goes.

use std::path::Path;

use chrono::{DateTime, Utc};
use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use qualify_core::lead::LeadRecord;
use qualify_server::{AppState, Config};

fn bench(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let state = AppState::open(Config {
        models: root.join("models"),
        rules: root.join("rules/default.toml"),
        ..Config::default()
    })
    .expect("bundled model and rules");
    let body = std::fs::read(root.join("scripts/load/lead.json")).expect("lead");
    let lead: LeadRecord = serde_json::from_slice(&body).expect("lead parses");
    let as_of: DateTime<Utc> = "2026-11-25T00:00:00Z".parse().expect("time");
    let served = state.registry.current();
    let model = served.champion();
    let scorer = state.scorer();

    let mut g = c.benchmark_group("request");
    g.bench_function("parse", |b| {
        b.iter(|| serde_json::from_slice::<LeadRecord>(black_box(&body)).expect("parses"))
    });
    g.bench_function("to_flat", |b| b.iter(|| black_box(&lead).to_flat()));
    g.bench_function("model_only", |b| {
        let flat = lead.to_flat();
        b.iter(|| {
            model
                .model
                .score_flat(black_box(&flat), as_of)
                .expect("scores")
        })
    });
    g.bench_function("rules_only", |b| {
        b.iter(|| served.rules.rules.evaluate(black_box(&lead), as_of))
    });
    for explain in [false, true] {
        g.bench_function(format!("score_explain_{explain}"), |b| {
            b.iter(|| {
                scorer
                    .score(&served, model, black_box(&lead), as_of, explain)
                    .map(|_| ())
                    .expect("scores")
            })
        });
    }
    g.bench_function("score_and_serialize", |b| {
        b.iter(|| {
            let response = scorer
                .score(&served, model, black_box(&lead), as_of, true)
                .expect("scores");
            serde_json::to_vec(&response).expect("serializes")
        })
    });

    // The hand-off to the blocking pool and back (admission, a core, spawn_blocking), with
    // no work in it; the baseline is the same runtime entered with nothing to do.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let work = &state.work;
    g.bench_function("block_on_baseline", |b| {
        b.iter(|| runtime.block_on(async { black_box(1) }))
    });
    g.bench_function("work_run_round_trip", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let _admitted = work.admit(1).expect("room");
                let (job, _cancel) = work.job();
                work.run(&job, |_| Ok(black_box(1))).await.expect("runs")
            })
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
