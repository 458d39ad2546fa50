//! `Model::load` refuses a broken bundle with an error that says what broke and where, and
//! never calls the bundle's own fault an input error.

mod common;

use std::path::{Path, PathBuf};

use common::bundle::{SCHEMA, as_of, bundle, encoder, record, write};
use qualify_core::bundle::{GoldenRow, MANIFEST_FILE, ONNX_FILE};
use qualify_core::encoder::Encoder;
use qualify_core::schema::Schema;
use qualify_core::trees::TreeEnsemble;
use qualify_onnx::trees::tree_ensemble_to_onnx;
use qualify_onnx::{ContractError, logistic_to_onnx};
use qualify_runtime::onnx::GraphError;
use qualify_runtime::{Model, RuntimeError};
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Map, Value, json};

struct Setup {
    dir: tempfile::TempDir,
    encoder: Encoder,
    records: Vec<Map<String, Value>>,
    ensemble: TreeEnsemble,
}

fn setup(seed: u64) -> Setup {
    let mut rng = StdRng::seed_from_u64(seed);
    let records: Vec<_> = (0..30).map(|_| record(&mut rng)).collect();
    let schema = Schema::from_toml(SCHEMA, "test").expect("schema");
    let encoder = encoder(&schema, &records);
    let ensemble = common::random_ensemble(seed, encoder.n_features(), 10, 4);
    Setup {
        dir: tempfile::tempdir().expect("tempdir"),
        encoder,
        records,
        ensemble,
    }
}

impl Setup {
    /// A tree bundle whose golden scores are the ensemble's raw score plus `offset`.
    fn trees(&self, offset: f64) -> PathBuf {
        let onnx = tree_ensemble_to_onnx(&self.ensemble, "t").expect("export");
        bundle(
            self.dir.path(),
            "gbm",
            onnx,
            self.encoder.clone(),
            &self.records[..5],
            |x| self.ensemble.raw_score(x) + offset,
        )
    }

    /// A bundle `name` around `onnx` with one golden row `record` expecting 0.5.
    fn with(&self, name: &str, onnx: Vec<u8>, record: Map<String, Value>) -> PathBuf {
        let rows = vec![GoldenRow {
            record,
            propensity: 0.5,
        }];
        let dir = self.dir.path().join(name);
        write(&dir, "gbm", onnx, self.encoder.clone(), rows)
    }
}

fn load_err(path: &Path) -> RuntimeError {
    Model::load(path).expect_err("a broken bundle")
}

#[test]
fn a_golden_row_that_does_not_reproduce_is_a_golden_mismatch() {
    let s = setup(9);
    let path = s.trees(0.01);
    let err = load_err(&path);
    let RuntimeError::GoldenMismatch {
        dir,
        row,
        expected,
        got,
    } = &err
    else {
        panic!("{err:?}");
    };
    assert_eq!((dir, *row), (&path, 0));
    assert!((expected - got).abs() > 1e-3, "{err}");
    assert!(err.to_string().contains("golden row 0"), "{err}");
    // The same bundle without the offset loads.
    let ok = setup(9);
    Model::load(&ok.trees(0.0)).expect("load");
}

#[test]
fn a_golden_record_the_encoder_refuses_is_the_bundles_fault_not_an_input_error() {
    let s = setup(3);
    let onnx = tree_ensemble_to_onnx(&s.ensemble, "t").expect("export");
    let mut bad = Map::new();
    bad.insert("employees".into(), json!("many"));
    let err = load_err(&s.with("bad", onnx, bad));
    assert!(
        matches!(err, RuntimeError::GoldenRecord { row: 0, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("employees"), "{err}");
}

#[test]
fn corrupt_files_are_bundle_errors() {
    let s = setup(4);
    let path = s.trees(0.0);
    let onnx = std::fs::read(path.join(ONNX_FILE)).expect("read onnx");
    let mut flipped = onnx.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    std::fs::write(path.join(ONNX_FILE), &flipped).expect("write");
    let err = load_err(&path);
    assert!(matches!(err, RuntimeError::Bundle { .. }), "{err:?}");
    std::fs::write(path.join(ONNX_FILE), &onnx).expect("restore");
    Model::load(&path).expect("restored");

    std::fs::write(path.join(MANIFEST_FILE), b"{ not json").expect("write");
    assert!(matches!(load_err(&path), RuntimeError::Bundle { .. }));
    let missing = s.dir.path().join("no-such-model");
    let err = load_err(&missing);
    assert!(
        matches!(&err, RuntimeError::Bundle { dir, .. } if *dir == missing),
        "{err:?}"
    );
}

#[test]
fn a_graph_that_does_not_load_or_fit_the_manifest_is_named() {
    let s = setup(5);
    let n = s.encoder.n_features();
    let err = load_err(&s.with("garbage", b"not onnx".to_vec(), Map::new()));
    assert!(
        matches!(
            err,
            RuntimeError::Graph {
                error: GraphError::Contract(ContractError::Decode { .. }),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("model.onnx"), "{err}");

    let wide = logistic_to_onnx(&vec![0.5; n + 1], 0.0, "t").expect("export");
    let err = load_err(&s.with("wide", wide, Map::new()));
    assert!(
        matches!(err, RuntimeError::Width { graph, manifest, .. } if graph == n + 1 && manifest == n),
        "{err:?}"
    );
}

#[test]
fn a_record_the_encoder_refuses_is_an_input_error_naming_the_field() {
    let s = setup(6);
    let model = Model::load(&s.trees(0.0)).expect("load");
    let mut bad = Map::new();
    bad.insert("visits".into(), json!([1, 2]));
    let err = model
        .score_json(&bad, as_of())
        .expect_err("a list in a number");
    assert!(
        matches!(&err, RuntimeError::Input { field: Some(f), .. } if f == "visits"),
        "{err:?}"
    );
}
