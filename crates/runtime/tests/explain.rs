//! Loading tree and logistic bundles, scoring and explaining records through `Model`.

mod common;

use std::collections::BTreeMap;

use common::bundle::{SCHEMA, as_of, bundle, encoder, record, table};
use proptest::prelude::*;
use qualify_core::schema::Schema;
use qualify_core::value::RawValue;
use qualify_runtime::{Model, RuntimeError, Unexplainable};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Map, Value, json};

struct Fixture {
    _dir: tempfile::TempDir,
    model: Model,
    records: Vec<Map<String, Value>>,
    reference: Reference,
}

/// The raw score of an encoded row, computed without the runtime.
type Reference = Box<dyn Fn(&[f32]) -> f64>;

fn trees_fixture(seed: u64) -> Fixture {
    let mut rng = StdRng::seed_from_u64(seed);
    let records: Vec<_> = (0..60).map(|_| record(&mut rng)).collect();
    let schema = Schema::from_toml(SCHEMA, "test").expect("schema");
    let encoder = encoder(&schema, &records);
    let ensemble = common::random_ensemble(seed, encoder.n_features(), 25, 5);
    let onnx = qualify_onnx::trees::tree_ensemble_to_onnx(&ensemble, "t").expect("export");
    let dir = tempfile::tempdir().expect("tempdir");
    let reference = move |x: &[f32]| ensemble.raw_score(x);
    let path = bundle(dir.path(), "gbm", onnx, encoder, &records[..10], &reference);
    let model = Model::load(&path).expect("load");
    Fixture {
        _dir: dir,
        model,
        records,
        reference: Box::new(reference),
    }
}

fn logistic_fixture(seed: u64) -> Fixture {
    let mut rng = StdRng::seed_from_u64(seed);
    let records: Vec<_> = (0..60).map(|_| record(&mut rng)).collect();
    let schema = Schema::from_toml(SCHEMA, "test").expect("schema");
    let encoder = encoder(&schema, &records);
    let weights: Vec<f32> = (0..encoder.n_features())
        .map(|_| rng.random_range(-2.0..2.0))
        .collect();
    let bias = rng.random_range(-1.0f32..1.0);
    let onnx = qualify_onnx::logistic_to_onnx(&weights, bias, "t").expect("export");
    let dir = tempfile::tempdir().expect("tempdir");
    let reference = move |x: &[f32]| {
        f64::from(bias)
            + x.iter()
                .zip(&weights)
                .map(|(&a, &w)| f64::from(a) * f64::from(w))
                .sum::<f64>()
    };
    let path = bundle(
        dir.path(),
        "logistic",
        onnx,
        encoder,
        &records[..10],
        &reference,
    );
    let model = Model::load(&path).expect("load");
    Fixture {
        _dir: dir,
        model,
        records,
        reference: Box::new(reference),
    }
}

fn encode(model: &Model, record: &Map<String, Value>) -> Vec<f32> {
    let mut x = vec![0.0; model.n_features()];
    model
        .manifest()
        .encoder
        .encode_json(record, as_of(), &mut x)
        .expect("encode");
    x
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn explanations_add_up_to_the_raw_score(seed in any::<u64>(), logistic in any::<bool>()) {
        let f = if logistic { logistic_fixture(seed) } else { trees_fixture(seed) };
        prop_assert!(f.model.can_explain());
        for record in &f.records {
            let (scored, e) = f.model.explain_json(record, as_of(), 3).expect("explain");
            let total = e.base + e.contributions.iter().sum::<f64>();
            let reference = (f.reference)(&encode(&f.model, record));
            // The sum is the raw score: exactly the reference in f64 arithmetic, and the
            // scored logit (f64 natively for trees, f32 through tract for logistic).
            prop_assert!((total - reference).abs() < 1e-6, "Σ {} vs reference {}", total, reference);
            prop_assert!((e.raw_score - total).abs() < 1e-9);
            prop_assert!((scored.logit - reference).abs() < 1e-5, "logit {} vs {}", scored.logit, reference);
            prop_assert_eq!(&scored, &f.model.score_json(record, as_of()).expect("score"));
            // One contribution per schema feature; each reason echoes the sent value.
            let columns: Vec<&str> =
                f.model.manifest().encoder.column_spans().into_iter().map(|(c, _)| c).collect();
            prop_assert_eq!(columns, ["employees", "industry", "visits", "partner"]);
            prop_assert_eq!(e.contributions.len(), 4);
            for r in e.top_positive.iter().chain(&e.top_negative) {
                prop_assert_eq!(&r.value, record.get(&r.column).unwrap_or(&Value::Null));
            }
            prop_assert!(e.top_positive.len() <= 3 && e.top_negative.len() <= 3);
            prop_assert!(e.top_positive.windows(2).all(|w| w[0].contribution >= w[1].contribution));
            prop_assert!(e.top_negative.windows(2).all(|w| w[0].contribution <= w[1].contribution));
            prop_assert!(e.top_positive.iter().all(|r| r.contribution > 0.0));
            prop_assert!(e.top_negative.iter().all(|r| r.contribution < 0.0));
        }
    }
}

/// Batch scoring works in chunks of rows; across chunk boundaries it scores each row as the
/// whole matrix scored at once does, and as the reference computes it.
#[test]
fn a_table_is_scored_in_chunks_as_one_matrix() {
    for f in [logistic_fixture(5), trees_fixture(5)] {
        let rows = qualify_runtime::SCORE_CHUNK_ROWS * 2 + 7;
        let records: Vec<_> = (0..rows)
            .map(|i| f.records[i % f.records.len()].clone())
            .collect();
        let table = table(&records);
        let chunked = f.model.score_table(&table, Some(as_of())).expect("scores");
        let all: Vec<usize> = (0..rows).collect();
        let x = f
            .model
            .manifest()
            .encoder
            .encode_table(&table, &all, as_of())
            .expect("encodes");
        let whole = f.model.score_matrix(&x, rows).expect("scores");
        assert_eq!(chunked.len(), rows);
        let calibrator = &f.model.manifest().calibrator;
        for (i, (c, w)) in chunked.iter().zip(&whole).enumerate() {
            assert!((c - w).abs() <= 1e-12, "row {i}: {c} vs {w}");
            let width = f.model.n_features();
            let reference = calibrator.apply((f.reference)(&x[i * width..(i + 1) * width]));
            assert!((c - reference).abs() <= 1e-5, "row {i}: {c} vs {reference}");
        }
    }
}

#[test]
fn a_logistic_columns_contribution_is_what_removing_it_costs_through_tract() {
    let f = logistic_fixture(11);
    for record in &f.records[..20] {
        let (_, e) = f.model.explain_json(record, as_of(), 10).expect("explain");
        let x = encode(&f.model, record);
        let full = f.model.graph().tract_logits(&x, 1).expect("tract")[0];
        let spans = f.model.manifest().encoder.column_spans();
        assert_eq!(spans.len(), e.contributions.len());
        for ((column, span), &contribution) in spans.into_iter().zip(&e.contributions) {
            let mut without = x.clone();
            without[span].fill(0.0);
            let rest = f.model.graph().tract_logits(&without, 1).expect("tract")[0];
            let removed = f64::from(full) - f64::from(rest);
            assert!(
                (removed - contribution).abs() < 1e-5,
                "{column}: tract difference {removed} vs contribution {contribution}"
            );
        }
    }
}

#[test]
fn flat_and_json_records_explain_alike() {
    let f = trees_fixture(5);
    for record in &f.records[..20] {
        let flat: BTreeMap<String, RawValue> = record
            .iter()
            .map(|(k, v)| (k.clone(), RawValue::from_json(v)))
            .collect();
        let a = f.model.explain_json(record, as_of(), 2).expect("json");
        let b = f.model.explain_flat(&flat, as_of(), 2).expect("flat");
        assert_eq!(a.0, b.0);
        assert_eq!((a.1.base, a.1.raw_score), (b.1.base, b.1.raw_score));
        assert_eq!(a.1.contributions, b.1.contributions);
        // Values differ only in JSON spelling (a flat record's numbers are f64: 900.0).
        let key = |r: &qualify_runtime::Reason| {
            (
                r.column.clone(),
                RawValue::from_json(&r.value),
                r.contribution,
            )
        };
        for (x, y) in [
            (&a.1.top_positive, &b.1.top_positive),
            (&a.1.top_negative, &b.1.top_negative),
        ] {
            let x: Vec<_> = x.iter().map(key).collect();
            let y: Vec<_> = y.iter().map(key).collect();
            assert_eq!(x, y);
        }
    }
}

#[test]
fn unexplainable_and_bad_records_are_errors() {
    let f = trees_fixture(3);
    let mut bad = Map::new();
    bad.insert("employees".into(), json!("many"));
    let err = f
        .model
        .explain_json(&bad, as_of(), 3)
        .expect_err("text in a number");
    assert!(err.to_string().contains("employees"), "{err}");

    // A graph of another shape (here: logit = Identity(MatMul(...))) scores but cannot explain.
    use qualify_onnx::{Dim, ModelBuilder};
    let mut rng = StdRng::seed_from_u64(1);
    let records: Vec<_> = (0..30).map(|_| record(&mut rng)).collect();
    let schema = Schema::from_toml(SCHEMA, "test").expect("schema");
    let encoder = encoder(&schema, &records);
    let n = encoder.n_features();
    let mut b = ModelBuilder::new("g");
    b.input("features", &[Dim::param("N"), Dim::Fixed(n)])
        .initializer_f32("W", &[n, 1], &vec![0.25; n])
        .expect("W");
    b.node("MatMul", &["features", "W"], &["xw"]);
    b.node("Identity", &["xw"], &["logit"]);
    b.output("logit", &[Dim::param("N"), Dim::Fixed(1)]);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = bundle(
        dir.path(),
        "imported_linear",
        b.to_bytes("t"),
        encoder,
        &records[..5],
        |x| x.iter().map(|&v| 0.25 * f64::from(v)).sum(),
    );
    let model = Model::load(&path).expect("load");
    assert!(!model.can_explain());
    // Light per lead: a logistic graph always, trees without TreeSHAP, another graph never.
    assert!(!model.light_per_lead(false));
    assert!(f.model.light_per_lead(false) && !f.model.light_per_lead(true));
    let logistic = logistic_fixture(3).model;
    assert!(logistic.light_per_lead(true) && logistic.light_per_lead(false));
    let err = model
        .explain_json(&records[0], as_of(), 3)
        .expect_err("not explainable");
    assert!(
        matches!(
            err,
            RuntimeError::NotExplainable {
                reason: Unexplainable::Unrecognised { why: None },
                ..
            }
        ),
        "{err}"
    );
    assert!(
        err.to_string().contains("neither a logistic model"),
        "{err}"
    );
    model
        .score_json(&records[0], as_of())
        .expect("still scores");
}

#[test]
fn a_row_of_the_wrong_width_is_an_explain_error() {
    for f in [trees_fixture(4), logistic_fixture(4)] {
        let explainer = qualify_runtime::explain::Explainer::for_native(
            f.model.graph().native().expect("recognised"),
        )
        .expect("explainable");
        let n = f.model.n_features();
        assert_eq!(explainer.n_features(), n);
        let short = vec![0.0f32; n - 1];
        let err = f
            .model
            .explain_encoded(&explainer, &short, |_| Value::Null, 3)
            .expect_err("short row");
        assert!(
            matches!(
                &err,
                RuntimeError::Explain {
                    error: qualify_runtime::explain::ExplainError::Width { expected, got }
                } if *expected == n && *got == n - 1
            ),
            "{err}"
        );
        assert!(err.to_string().contains(&format!("reads {n}")), "{err}");
        let x = encode(&f.model, &f.records[0]);
        let e = f
            .model
            .explain_encoded(&explainer, &x, |_| Value::Null, 3)
            .expect("right width");
        let (_, via_json) = f
            .model
            .explain_json(&f.records[0], as_of(), 3)
            .expect("json");
        assert_eq!((e.base, e.raw_score), (via_json.base, via_json.raw_score));
    }
}
