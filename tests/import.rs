//! `qualify import` on real skl2onnx / onnxmltools exports (tests/fixtures/import, made by
//! its make_fixtures.py): imported bundles reproduce onnxruntime's probabilities, and what
//! cannot be imported is refused with the operator named.

use std::path::{Path, PathBuf};
use std::process::Command;

use qualify_runtime::NativeKind;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/import")
}

fn import(model: &str, out: &Path) -> std::process::Output {
    let f = fixtures();
    Command::new(env!("CARGO_BIN_EXE_qualify"))
        .args(["import", "--onnx"])
        .arg(f.join(format!("{model}.onnx")))
        .arg("--schema")
        .arg(f.join("schema.toml"))
        .arg("--data")
        .arg(f.join("data.csv"))
        .arg("--out")
        .arg(out)
        .output()
        .expect("run qualify")
}

fn number(v: qualify_core::value::RawValue) -> f64 {
    match v {
        qualify_core::value::RawValue::Number(n) => n,
        other => panic!("not a number: {other:?}"),
    }
}

#[test]
fn imported_models_reproduce_onnxruntime() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data =
        qualify_data::read_table(&fixtures().join("data.csv"), &Default::default()).expect("data");
    let expected = qualify_data::read_table(&fixtures().join("expected.csv"), &Default::default())
        .expect("expected");
    for (name, explains_trees) in [
        ("sklearn_logistic", false),
        ("sklearn_logistic_nozipmap", false),
        ("sklearn_gbm", true),
        ("lightgbm", true),
    ] {
        let out = dir.path().join(name);
        let run = import(name, &out);
        assert!(
            run.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        let model = qualify_runtime::Model::load(&out).expect("load");
        // Golden rows: 25 of the 300 data rows, spread evenly, and the all-missing record.
        let bundle = qualify_core::bundle::Bundle::read(&out).expect("read");
        assert_eq!(bundle.golden.rows.len(), 26, "{name}");
        assert_eq!(bundle.golden.rows[1].record["id"], "lead-012", "{name}");
        assert!(bundle.golden.rows[25].record.is_empty(), "{name}");
        assert_eq!(
            bundle.manifest.model.kind,
            if explains_trees {
                qualify_core::bundle::ModelKind::ImportedTrees
            } else {
                qualify_core::bundle::ModelKind::ImportedLinear
            }
        );
        assert!(bundle.manifest.metrics.is_none());
        assert_eq!(
            model.graph().native_kind(),
            if explains_trees {
                NativeKind::Trees
            } else {
                NativeKind::Linear
            },
            "{name}"
        );
        assert!(model.can_explain(), "{name}");
        let column = expected.column(name).expect("expected column");
        let as_of = model.manifest().encoder.reference_time();
        let mut worst = 0.0f64;
        for row in 0..data.rows() {
            let record = data.row_json(row);
            let (scored, e) = model.explain_json(&record, as_of, 3).expect("explain");
            let ort = number(column.get(row));
            worst = worst.max((scored.propensity - ort).abs());
            let total = e.base + e.contributions.iter().sum::<f64>();
            assert!((total - scored.logit).abs() < 1e-5, "{name} row {row}");
        }
        assert!(
            worst < 1e-5,
            "{name}: max |qualify - onnxruntime| = {worst}"
        );
    }
}

#[test]
fn unsupported_graphs_are_refused_naming_the_operator() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, needle) in [
        ("sklearn_scaled_logistic", "unsupported operator(s) Scaler"),
        ("sklearn_calibrated", "ArrayFeatureExtractor"),
    ] {
        let out = dir.path().join(name);
        let run = import(name, &out);
        assert!(!run.status.success(), "{name} should be refused");
        let err = String::from_utf8_lossy(&run.stderr);
        assert!(err.contains(needle), "{name}: {err}");
        assert!(!out.exists(), "{name}: nothing written");
    }
}

#[test]
fn a_schema_that_does_not_match_the_input_width_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let schema = dir.path().join("schema.toml");
    let full = std::fs::read_to_string(fixtures().join("schema.toml")).expect("schema");
    // Drop the `partner` column: 4 features for a 5-wide model.
    let cut = full.replace(
        "[[column]]\nname = \"partner\"\nrole = \"feature\"\ntype = \"boolean\"\n",
        "",
    );
    assert_ne!(cut, full);
    std::fs::write(&schema, cut).expect("write schema");
    let run = Command::new(env!("CARGO_BIN_EXE_qualify"))
        .args(["import", "--onnx"])
        .arg(fixtures().join("lightgbm.onnx"))
        .arg("--schema")
        .arg(&schema)
        .arg("--data")
        .arg(fixtures().join("data.csv"))
        .arg("--out")
        .arg(dir.path().join("m"))
        .output()
        .expect("run");
    assert!(!run.status.success());
    let err = String::from_utf8_lossy(&run.stderr);
    assert!(
        err.contains("the model reads 5 features, but the schema has 4 feature columns"),
        "{err}"
    );
}
