use super::*;
use crate::value::{RawColumn, RawTable};

fn manifest() -> Manifest {
    let schema = Schema::from_toml(
        "[[column]]\nname = \"y\"\nrole = \"label\"\n[[column]]\nname = \"x\"\nrole = \"feature\"\ntype = \"numeric\"\n",
        "test",
    )
    .expect("schema");
    let mut table = RawTable::new();
    table
        .push("x", RawColumn::Number(vec![Some(1.0), Some(3.0)]))
        .expect("col");
    let encoder = Encoder::fit(&schema, &table, &[0, 1], None).expect("fit");
    let created_at = DateTime::parse_from_rfc3339("2026-11-25T10:00:00Z")
        .expect("time")
        .to_utc();
    Manifest {
        format_version: BUNDLE_FORMAT_VERSION,
        name: "test".into(),
        version: version_for(created_at),
        created_at,
        model: ModelInfo {
            kind: "logistic".into(),
            hyperparameters: serde_json::json!({"l2": 1.0}),
            onnx_input: "features".into(),
            onnx_output: "logit".into(),
            n_features: encoder.n_features(),
            onnx_sha256: sha256_hex(b"onnx"),
        },
        schema_hash: schema.hash(),
        schema,
        encoder,
        calibrator: Calibrator::Platt { a: 1.0, b: 0.0 },
        training_data: DataFingerprint {
            file: "t.csv".into(),
            sha256: sha256_hex(b"data"),
            rows: 2,
            label_rate: 0.5,
            train_rows: 2,
            test_rows: 0,
            split: "none".into(),
        },
        metrics: serde_json::json!({}),
        libraries: BTreeMap::new(),
    }
}

fn golden() -> Golden {
    Golden {
        as_of: Utc::now(),
        rows: vec![GoldenRow {
            record: serde_json::Map::new(),
            propensity: 0.5,
        }],
    }
}

#[test]
fn writes_atomically_reads_back_and_never_overwrites() {
    let dir = tempfile::tempdir().expect("tempdir");
    let m = manifest();
    let path = Bundle::write(dir.path(), &m, b"onnx", &golden()).expect("write");
    assert_eq!(path, dir.path().join("20261125T100000.000Z"));
    let names: Vec<_> = fs::read_dir(dir.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name())
        .collect();
    assert_eq!(
        names.len(),
        1,
        "no temporary directory left behind: {names:?}"
    );
    let back = Bundle::read(dir.path()).expect("read latest version");
    assert_eq!(back.manifest, m);
    let again = Bundle::write(dir.path(), &m, b"other", &golden()).expect_err("exists");
    assert!(again.to_string().contains("never overwritten"));
    assert_eq!(fs::read(path.join(ONNX_FILE)).expect("onnx"), b"onnx");
}

#[test]
fn corrupt_bundles_are_refused_with_reasons() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = Bundle::write(dir.path(), &manifest(), b"onnx", &golden()).expect("write");
    fs::write(path.join(ONNX_FILE), b"tampered").expect("tamper");
    let err = Bundle::read(&path).expect_err("hash").to_string();
    assert!(err.contains("sha256"), "{err}");
    fs::write(path.join(MANIFEST_FILE), b"{not json").expect("tamper");
    let err = Bundle::read(&path).expect_err("json").to_string();
    assert!(err.contains("manifest.json"), "{err}");
    let err = Bundle::read(&dir.path().join("nope"))
        .expect_err("missing")
        .to_string();
    assert!(err.contains("nope"), "{err}");
}
