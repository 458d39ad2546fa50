//! The training pipeline and the bundle writer through their public API: what is published,
//! what never is, and how concurrent producers share a model directory.

use std::path::Path;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use qualify_core::bundle::{Bundle, ModelKind};
use qualify_core::value::RawTable;
use qualify_data::label::LabelError;
use qualify_data::synth::{SynthConfig, generate, to_raw_table};
use qualify_train::bundle_writer::{BundleWriter, GoldenSource, WriteError};
use qualify_train::pipeline::{
    DataSource, ModelChoice, PipelineError, TrainConfig, TrainData, TrainedBundle, train,
};
use qualify_train::progress::{Progress, Silent, Stage};

fn leads() -> Vec<qualify_data::synth::SynthLead> {
    generate(&SynthConfig::new(1200, 5))
}

fn table() -> RawTable {
    to_raw_table(&leads()).expect("synthetic table")
}

fn source() -> DataSource {
    DataSource {
        name: "synthetic".into(),
        sha256: "0".repeat(64),
    }
}

fn config() -> TrainConfig {
    TrainConfig {
        label: Some("converted".into()),
        id: Some("id".into()),
        folds: 3,
        l2_grid: vec![0.1, 10.0],
        ..TrainConfig::default()
    }
}

fn run(table: &RawTable, config: &TrainConfig, dir: &Path) -> Result<TrainedBundle, PipelineError> {
    let source = source();
    let data = TrainData::new(table, &source);
    train(config, &data, dir, &Silent)
}

/// Names in a model directory: (visible versions, hidden entries).
fn entries(dir: &Path) -> (Vec<String>, Vec<String>) {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names.into_iter().partition(|n| !n.starts_with('.'))
}

#[derive(Default)]
struct Recorder(Mutex<Vec<&'static str>>);

impl Progress for Recorder {
    fn stage(&self, stage: Stage) {
        self.0.lock().expect("lock").push(stage.name());
    }
}

#[test]
fn publishes_a_verified_bundle_whose_manifest_is_what_it_returned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let models = dir.path().join("leads");
    let table = table();
    let recorder = Recorder::default();
    let source = source();
    let data = TrainData::new(&table, &source);
    let trained = train(&config(), &data, &models, &recorder).expect("train");
    assert_eq!(
        *recorder.0.lock().expect("lock"),
        [
            "preparing",
            "fitting",
            "evaluating",
            "staging",
            "verifying",
            "publishing"
        ]
    );
    assert_eq!(
        entries(&models),
        (vec![trained.manifest.version.clone()], vec![])
    );
    let model = qualify_runtime::Model::load(&models).expect("loads");
    assert_eq!(model.manifest(), &trained.manifest);
    assert_eq!(trained.manifest.name, "leads");
    assert_eq!(trained.manifest.model.kind, ModelKind::Logistic);
    assert_eq!(trained.manifest.metrics.as_ref(), Some(&trained.metrics));
    let test_rows = trained.manifest.training_data.test_rows;
    assert_eq!(test_rows, 240);
    assert!(
        trained.metrics.test.roc_auc > 0.7,
        "{:?}",
        trained.metrics.test
    );
    assert!(trained.metrics.test.log_loss < trained.metrics.prior.log_loss);
    assert!(trained.metrics.selection.is_none());
    // 25 test rows, the all-missing record and the all-unseen-level record.
    let bundle = Bundle::read(&trained.dir).expect("read");
    assert_eq!(bundle.golden.rows.len(), 27);
    assert!(bundle.golden.rows[25].record.is_empty());
    assert!(
        bundle.golden.rows[26]
            .record
            .values()
            .all(|v| v == "__unseen_by_qualify__")
    );

    // Two paths to the test figures: the pipeline's (native scores of the batch-encoded test
    // part) and `evaluate` on the test rows alone (the runtime's graph, as `qualify evaluate`).
    let labels = qualify_data::label::read_labels(&table, "converted").expect("labels");
    let split = qualify_train::split::stratified_split(&labels, 0.2, 42);
    let all = leads();
    let test_leads: Vec<_> = split.test.iter().map(|&r| all[r].clone()).collect();
    let test_table = to_raw_table(&test_leads).expect("test part");
    let evaluated =
        qualify_train::evaluate::evaluate(&model, &test_table, None, None).expect("evaluate");
    let (a, b) = (&evaluated.metrics, &trained.metrics.test);
    assert_eq!((a.n, a.positives), (b.n, b.positives));
    for (x, y) in [
        (a.roc_auc, b.roc_auc),
        (a.log_loss, b.log_loss),
        (a.brier, b.brier),
        (a.ece, b.ece),
    ] {
        assert!((x - y).abs() < 1e-6, "evaluate {x} vs pipeline {y}");
    }
    assert_eq!(evaluated.prior, trained.metrics.prior);

    // The same run again: the same figures, beside the first version.
    let again = run(&table, &config(), &models).expect("train again");
    assert_eq!(again.metrics, trained.metrics);
    assert_ne!(again.dir, trained.dir);
    assert_eq!(entries(&models).0.len(), 2);
}

#[test]
fn auto_records_both_candidates_and_keeps_the_lower_cv_log_loss() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = TrainConfig {
        model: ModelChoice::Auto,
        gbm: qualify_train::gbm::GbmParams {
            max_trees: 40,
            learning_rate: 0.1,
            ..Default::default()
        },
        ..config()
    };
    let trained = run(&table(), &config, dir.path()).expect("train");
    let selection = trained.metrics.selection.as_ref().expect("selection");
    let kinds: Vec<ModelKind> = selection.candidates.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, [ModelKind::Logistic, ModelKind::Gbm]);
    let best = selection
        .candidates
        .iter()
        .min_by(|a, b| a.cv_log_loss.total_cmp(&b.cv_log_loss))
        .expect("candidate");
    assert_eq!(selection.chosen, best.kind);
    assert_eq!(trained.manifest.model.kind, best.kind);
    assert_eq!(trained.metrics.test, best.test);
}

#[test]
fn bad_settings_and_data_fail_before_anything_is_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let models = dir.path().join("m");
    let table = table();
    type Expected = fn(&PipelineError) -> bool;
    let cases: [(TrainConfig, Expected); 5] = [
        (
            TrainConfig {
                test_fraction: 1.0,
                ..config()
            },
            |e| matches!(e, PipelineError::TestFraction { .. }),
        ),
        (
            TrainConfig {
                class_weight: qualify_train::gbm_cv::ClassWeight::Balanced,
                ..config()
            },
            |e| matches!(e, PipelineError::ClassWeightWithoutGbm),
        ),
        (
            TrainConfig {
                label: Some("nope".into()),
                ..config()
            },
            |e| matches!(e, PipelineError::Label(LabelError::Missing { label, .. }) if label == "nope"),
        ),
        (
            TrainConfig {
                label: None,
                ..config()
            },
            |e| matches!(e, PipelineError::NoLabel),
        ),
        (
            TrainConfig {
                folds: 10_000,
                ..config()
            },
            |e| matches!(e, PipelineError::TooManyFolds { folds: 10_000, .. }),
        ),
    ];
    for (config, expected) in cases {
        let err = run(&table, &config, &models).expect_err("must fail");
        assert!(expected(&err), "{err:?}");
    }
    assert!(!models.exists(), "nothing was created");
}

/// A writer over a published bundle's contents, with its own scorer and creation time.
fn rewrite(
    bundle: &Bundle,
    table: &RawTable,
    created_at: DateTime<Utc>,
    scorer: &qualify_train::bundle_writer::RawScorer<'_>,
    models: &Path,
) -> Result<std::path::PathBuf, WriteError> {
    let m = &bundle.manifest;
    let rows: Vec<usize> = (0..table.rows()).collect();
    BundleWriter {
        name: m.name.clone(),
        created_at,
        schema: &m.schema,
        encoder: &m.encoder,
        calibrator: m.calibrator.clone(),
        kind: m.model.kind,
        hyperparameters: m.model.hyperparameters.clone(),
        onnx: &bundle.onnx,
        training_data: m.training_data.clone(),
        metrics: m.metrics.clone(),
        history: m.history.clone(),
        reference: m.reference.clone(),
        golden: GoldenSource {
            table,
            rows: &rows,
            max_rows: 10,
            raw_scores: scorer,
        },
    }
    .write(models, &Silent)
    .map(|p| p.dir)
}

/// Issue 11, R8: two producers writing into one model directory in the same millisecond both
/// land, under distinct versions; and a bundle whose check fails is never published.
#[test]
fn same_millisecond_writers_both_land_and_a_failed_check_leaves_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let table = table();
    let first = run(&table, &config(), &dir.path().join("source")).expect("train");
    let bundle = Bundle::read(&first.dir).expect("read");
    let model = qualify_runtime::Model::load(&first.dir).expect("load");
    let tract = move |x: &[f32], rows: usize| -> Result<Vec<f64>, _> {
        model.logits(x, rows).map_err(Into::into)
    };
    let models = dir.path().join("shared");
    let at = Utc::now();
    let barrier = std::sync::Barrier::new(2);
    let published: Vec<std::path::PathBuf> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    rewrite(&bundle, &table, at, &tract, &models).expect("write")
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    assert_ne!(published[0], published[1]);
    let (visible, hidden) = entries(&models);
    assert_eq!(visible.len(), 2, "{visible:?}");
    assert!(hidden.is_empty(), "{hidden:?}");
    for path in &published {
        qualify_runtime::Model::load(path).expect("each loads");
    }

    // Golden scores that the graph does not reproduce: refused before publishing.
    let wrong = |_: &[f32], rows: usize| Ok(vec![2.5; rows]);
    let lonely = dir.path().join("lonely");
    let err = rewrite(&bundle, &table, at, &wrong, &lonely).expect_err("must fail its check");
    assert!(matches!(err, WriteError::Verification { .. }), "{err}");
    assert!(err.to_string().contains("golden row"), "{err}");
    assert_eq!(
        entries(&lonely),
        (vec![], vec![]),
        "nothing visible, nothing staged"
    );
    let err = rewrite(&bundle, &table, at, &wrong, &models).expect_err("must fail");
    assert!(matches!(err, WriteError::Verification { .. }), "{err}");
    assert_eq!(entries(&models), (visible, vec![]));
}
