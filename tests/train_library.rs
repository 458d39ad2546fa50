//! A library user trains exactly as the CLI does: `qualify train` and
//! `qualify_train::pipeline::train` on the same file and settings publish bundles with the
//! same metrics, model, calibrator and golden rows.

use std::path::{Path, PathBuf};
use std::process::Command;

use qualify_core::bundle::Bundle;
use qualify_core::schema::Schema;
use qualify_train::gbm::GbmParams;
use qualify_train::pipeline::{DataSource, ModelChoice, TrainConfig, TrainData, train};
use qualify_train::progress::Silent;

fn qualify(args: &[&str]) {
    let out = Command::new(env!("CARGO_BIN_EXE_qualify"))
        .args(args)
        .output()
        .expect("run qualify");
    assert!(
        out.status.success(),
        "qualify {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn library_and_cli_publish_the_same_bundle() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("leads.csv");
    let schema_path = dir.path().join("schema.toml");
    qualify(&["synth", "--rows", "2000", "--seed", "3", "--out", s(&data)]);
    qualify(&[
        "schema",
        "infer",
        "--data",
        s(&data),
        "--label",
        "converted",
        "--id",
        "id",
        "--time",
        "created_at",
        "--out",
        s(&schema_path),
    ]);

    let by_cli: PathBuf = dir.path().join("cli").join("leads");
    qualify(&[
        "train",
        "--data",
        s(&data),
        "--schema",
        s(&schema_path),
        "--model",
        "auto",
        "--max-trees",
        "60",
        "--learning-rate",
        "0.1",
        "--folds",
        "3",
        "--out",
        s(&by_cli),
    ]);

    let schema = Schema::read(&schema_path).expect("schema");
    let options = qualify_data::ReadOptions::for_schema(&schema, None);
    let table = qualify_data::read_table(&data, &options).expect("table");
    let config = TrainConfig {
        schema: Some(schema),
        model: ModelChoice::Auto,
        folds: 3,
        gbm: GbmParams {
            max_trees: 60,
            learning_rate: 0.1,
            ..GbmParams::default()
        },
        ..TrainConfig::default()
    };
    let source = DataSource::file(&data).expect("hash");
    let by_library = dir.path().join("library").join("leads");
    let trained = train(
        &config,
        &TrainData::new(&table, &source),
        &by_library,
        &Silent,
    )
    .expect("train through the library");

    let cli = Bundle::read(&by_cli).expect("CLI bundle");
    let library = Bundle::read(&trained.dir).expect("library bundle");
    let (a, b) = (&cli.manifest, &library.manifest);
    assert!(a.metrics.is_some());
    assert_eq!(a.metrics, b.metrics, "metrics");
    assert_eq!(a.model.kind, b.model.kind);
    assert_eq!(a.model.hyperparameters, b.model.hyperparameters);
    assert_eq!(a.calibrator, b.calibrator);
    assert_eq!(a.encoder, b.encoder);
    assert_eq!(a.schema_hash, b.schema_hash);
    assert_eq!(a.training_data, b.training_data);
    assert_eq!(a.name, b.name);
    assert_eq!(cli.onnx, library.onnx, "the same graph, byte for byte");
    assert_eq!(cli.golden, library.golden, "golden rows and their scores");
}
