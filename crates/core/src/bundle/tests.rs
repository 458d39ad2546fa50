use super::*;
use crate::Error;
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
            kind: ModelKind::Logistic,
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
        metrics: None,
        history: None,
        reference: None,
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
    assert!(
        matches!(again, Error::Bundle(BundleError::Exists { .. })),
        "{again}"
    );
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

fn staged(dir: &Path, at: DateTime<Utc>) -> StagedBundle {
    let staged = StagedBundle::reserve(dir, at).expect("reserve");
    let mut m = manifest();
    m.version = staged.version().to_string();
    staged.write_onnx(b"onnx").expect("onnx");
    staged.write_golden(&golden()).expect("golden");
    staged.write_manifest(&m).expect("manifest");
    staged
}

fn visible(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

/// Issue 11, R8: two producers in the same millisecond both land, in distinct versions that
/// still sort in creation order; a staged bundle is invisible until published.
#[test]
fn same_millisecond_producers_get_distinct_versions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let at = manifest().created_at;
    let first = staged(dir.path(), at);
    let second = staged(dir.path(), at);
    assert_eq!(first.version(), "20261125T100000.000Z");
    assert_eq!(second.version(), "20261125T100000.001Z");
    assert!(visible(dir.path()).is_empty(), "staged bundles are hidden");
    let read = Bundle::read(dir.path()).expect_err("nothing published");
    assert!(
        matches!(read, Error::Bundle(BundleError::NotABundle { .. })),
        "{read}"
    );
    second.publish().expect("publish second");
    first.publish().expect("publish first");
    // Published by the first producer meanwhile: the next claimant moves on.
    let third = staged(dir.path(), at);
    assert_eq!(third.version(), "20261125T100000.002Z");
    drop(third);
    assert_eq!(
        visible(dir.path()),
        ["20261125T100000.000Z", "20261125T100000.001Z"]
    );
    let names: Vec<_> = fs::read_dir(dir.path()).expect("list").collect();
    assert_eq!(names.len(), 2, "the dropped staging directory is gone");
}

/// Many threads staging and publishing at one instant: every one lands, none overwritten.
#[test]
fn concurrent_producers_all_land() {
    let dir = tempfile::tempdir().expect("tempdir");
    let at = manifest().created_at;
    let barrier = std::sync::Barrier::new(8);
    let published: Vec<PathBuf> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    staged(dir.path(), at).publish().expect("publish")
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let mut unique = published.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 8, "{published:?}");
    assert_eq!(visible(dir.path()).len(), 8);
    for path in &published {
        Bundle::read(path).expect("each version reads");
    }
}

#[test]
fn unpublished_or_incomplete_staging_leaves_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let at = manifest().created_at;
    let staged = StagedBundle::reserve(dir.path(), at).expect("reserve");
    staged.write_onnx(b"onnx").expect("onnx");
    let err = staged.publish().expect_err("incomplete");
    assert!(
        matches!(
            err,
            BundleError::Incomplete {
                missing: GOLDEN_FILE,
                ..
            }
        ),
        "{err}"
    );
    let staged = StagedBundle::reserve(dir.path(), at).expect("reserve");
    let mut m = manifest();
    m.version = "20991231T000000.000Z".into();
    let err = staged.write_manifest(&m).expect_err("wrong version");
    assert!(matches!(err, BundleError::VersionMismatch { .. }), "{err}");
    drop(staged);
    assert_eq!(fs::read_dir(dir.path()).expect("list").count(), 0);
    let err = StagedBundle::reserve_exact(dir.path(), "../x").expect_err("path");
    assert!(matches!(err, BundleError::BadVersion { .. }), "{err}");
}

/// Typed metrics: a trained bundle's figures round-trip; an imported bundle's `{}` reads as
/// none and is written back as `{}`.
#[test]
fn metrics_keep_their_json_shape() {
    use metrics::{CvPoint, CvResults, Metrics};
    let figures =
        Metrics::compute(&[false, true, false, true], &[0.2, 0.7, 0.4, 0.6]).expect("metrics");
    let mut m = manifest();
    m.metrics = Some(TrainingMetrics {
        test: figures.clone(),
        prior: figures,
        cv: CvResults::Logistic(vec![CvPoint {
            l2: 1.0,
            log_loss: 0.5,
            roc_auc: 0.8,
        }]),
        selection: None,
    });
    let json = serde_json::to_value(&m).expect("json");
    assert!(json["metrics"]["cv"].is_array(), "{json}");
    assert!(json["metrics"].get("selection").is_none(), "{json}");
    assert_eq!(json["model"]["kind"], "logistic");
    let back: Manifest = serde_json::from_value(json).expect("read back");
    assert_eq!(back, m);
    m.metrics = None;
    let json = serde_json::to_value(&m).expect("json");
    assert_eq!(json["metrics"], serde_json::json!({}));
    assert_eq!(serde_json::from_value::<Manifest>(json).expect("back"), m);
}

#[test]
fn model_kind_names_are_their_serde_names() {
    for kind in ModelKind::ALL {
        assert_eq!(
            serde_json::to_value(kind).expect("json"),
            serde_json::Value::String(kind.to_string())
        );
    }
}
