//! The native tree evaluator and TreeSHAP, against independent paths: tract running the same
//! ONNX file, the reference evaluator of qualify-core, and brute-force Shapley values.

mod common;

use common::{random_ensemble, random_rows};
use proptest::prelude::*;
use qualify_core::trees::{Node, TreeEnsemble, goes_left};
use qualify_onnx::trees::tree_ensemble_to_onnx;
use qualify_onnx::{Dim, ML_DOMAIN, ModelBuilder, NODE_COVERS_KEY, attr};
use qualify_runtime::NativeKind;
use qualify_runtime::explain::Explainer;
use qualify_runtime::forest::shap::child_shares;
use qualify_runtime::native::Native;
use qualify_runtime::onnx::OnnxModel;

fn load(ensemble: &TreeEnsemble) -> OnnxModel {
    let bytes = tree_ensemble_to_onnx(ensemble, "test").expect("export");
    OnnxModel::from_bytes(&bytes).expect("load")
}

/// The ensemble the runtime read back from the graph.
fn read_back(model: &OnnxModel) -> &TreeEnsemble {
    match model.native() {
        Some(Native::Trees { ensemble, .. }) => ensemble,
        other => panic!("expected a native tree ensemble, got {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn native_equals_tract_and_the_reference(
        seed in any::<u64>(),
        n_features in 1usize..12,
        n_trees in 1usize..30,
        depth in 0u32..6,
        rows in 1usize..40,
    ) {
        let ensemble = random_ensemble(seed, n_features, n_trees, depth);
        let model = load(&ensemble);
        prop_assert_eq!(model.native_kind(), NativeKind::Trees);
        let x = random_rows(seed, n_features, rows);
        let native = model.logits(&x, rows).expect("native");
        let tract = model.tract_logits(&x, rows).expect("tract");
        for (i, row) in x.chunks(n_features).enumerate() {
            let reference = ensemble.raw_score(row);
            prop_assert!((native[i] - f64::from(tract[i])).abs() < 1e-5,
                "row {}: native {} tract {}", i, native[i], tract[i]);
            prop_assert!((native[i] - reference).abs() < 1e-5,
                "row {}: native {} reference {}", i, native[i], reference);
            prop_assert_eq!(model.logit(row).expect("one row"), native[i]);
        }
    }

    #[test]
    fn treeshap_adds_up_to_the_raw_score(
        seed in any::<u64>(),
        n_features in 1usize..12,
        n_trees in 1usize..30,
        depth in 0u32..7,
    ) {
        let ensemble = random_ensemble(seed, n_features, n_trees, depth);
        let model = load(&ensemble);
        let explainer = Explainer::for_native(model.native().expect("native")).expect("covers");
        let x = random_rows(seed, n_features, 8);
        for row in x.chunks(n_features) {
            let (base, phi) = explainer.attribute(row).expect("attribute");
            let raw = model.logit(row).expect("score");
            let total = base + phi.iter().sum::<f64>();
            prop_assert!((total - raw).abs() < 1e-6, "base {} + Σφ = {} vs raw {}", base, total, raw);
        }
    }
}

/// `E[f(x) | x_S]` by the path-dependent definition: follow `x` on features in `s`, average
/// the children by their cover shares elsewhere.
#[test]
fn batches_across_row_blocks_score_as_single_rows() {
    // The batch walks rows in blocks, tree after tree; 600 rows span whole and part blocks.
    let ensemble = random_ensemble(7, 9, 40, 5);
    let model = load(&ensemble);
    let rows = 600;
    let x = random_rows(8, 9, rows);
    let batch = model.logits(&x, rows).expect("batch");
    assert_eq!(batch.len(), rows);
    for (i, row) in x.chunks(9).enumerate() {
        // The same sums in the same order: equal to the bit.
        assert_eq!(batch[i], model.logit(row).expect("one row"), "row {i}");
        // The graph holds leaf weights as f32.
        assert!((batch[i] - ensemble.raw_score(row)).abs() < 1e-5, "row {i}");
    }
}

fn conditional(nodes: &[Node], i: usize, x: &[f32], s: u32) -> f64 {
    match nodes[i] {
        Node::Leaf { value, .. } => value,
        Node::Split {
            feature,
            threshold,
            nan_left,
            left,
            right,
            ..
        } => {
            if s & (1 << feature) != 0 {
                let next = if goes_left(x[feature], threshold, nan_left) {
                    left
                } else {
                    right
                };
                conditional(nodes, next, x, s)
            } else {
                let (a, b) = child_shares(nodes, left, right);
                a * conditional(nodes, left, x, s) + b * conditional(nodes, right, x, s)
            }
        }
    }
}

/// Shapley values by enumerating every coalition.
fn brute_force_shap(ensemble: &TreeEnsemble, x: &[f32]) -> Vec<f64> {
    let m = ensemble.n_features;
    let value = |s: u32| -> f64 {
        ensemble
            .trees
            .iter()
            .map(|t| conditional(&t.nodes, 0, x, s))
            .sum()
    };
    let factorial = |n: usize| (1..=n).map(|k| k as f64).product::<f64>();
    (0..m)
        .map(|i| {
            (0u32..1 << m)
                .filter(|s| s & (1 << i) == 0)
                .map(|s| {
                    let k = s.count_ones() as usize;
                    let weight = factorial(k) * factorial(m - k - 1) / factorial(m);
                    weight * (value(s | 1 << i) - value(s))
                })
                .sum()
        })
        .collect()
}

#[test]
fn treeshap_equals_brute_force_shapley_values() {
    let mut checked = 0;
    for seed in 0..60u64 {
        let n_features = 1 + (seed % 5) as usize;
        let mut ensemble = random_ensemble(seed, n_features, 1 + (seed % 4) as usize, 4);
        // Covers that do not add up (as an imported model may have) must still give Shapley
        // values of the same game.
        if seed % 3 == 0 {
            for tree in &mut ensemble.trees {
                for (k, node) in tree.nodes.iter_mut().enumerate() {
                    if let Node::Split { cover: Some(c), .. } = node {
                        *c *= 1.0 + (k % 3) as f64 * 0.37;
                    }
                }
            }
        }
        let model = load(&ensemble);
        let explainer = Explainer::for_native(model.native().expect("native")).expect("covers");
        let read = read_back(&model);
        for row in random_rows(seed, n_features, 5).chunks(n_features) {
            let (_, phi) = explainer.attribute(row).expect("attribute");
            let expected = brute_force_shap(read, row);
            for (f, (a, b)) in phi.iter().zip(&expected).enumerate() {
                assert!(
                    (a - b).abs() < 1e-9,
                    "seed {seed}, feature {f}: TreeSHAP {a} vs brute force {b}"
                );
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 300);
}

/// A hand-written classifier node: two trees, with a `BRANCH_LT` split whose NaN goes to the
/// true branch, and `post_transform` as given.
fn handmade(post_transform: &str, with_covers: bool) -> Vec<u8> {
    let mut b = ModelBuilder::new("g");
    b.input("features", &[Dim::param("N"), Dim::Fixed(2)]);
    let node = b.node_in_domain(
        ML_DOMAIN,
        1,
        "TreeEnsembleClassifier",
        &["features"],
        &["label", "scores"],
    );
    node.attribute.extend([
        attr::ints("classlabels_int64s", &[0, 1]),
        attr::ints("nodes_treeids", &[0, 0, 0, 0, 0, 1]),
        attr::ints("nodes_nodeids", &[0, 1, 2, 3, 4, 0]),
        attr::ints("nodes_featureids", &[0, 0, 1, 0, 0, 0]),
        attr::floats("nodes_values", &[0.5, 0.0, -1.0, 0.0, 0.0, 0.0]),
        attr::strings(
            "nodes_modes",
            &["BRANCH_LT", "LEAF", "BRANCH_LEQ", "LEAF", "LEAF", "LEAF"],
        ),
        attr::ints("nodes_truenodeids", &[1, 0, 3, 0, 0, 0]),
        attr::ints("nodes_falsenodeids", &[2, 0, 4, 0, 0, 0]),
        attr::ints("nodes_missing_value_tracks_true", &[1, 0, 0, 0, 0, 0]),
        attr::ints("class_treeids", &[0, 0, 0, 1]),
        attr::ints("class_nodeids", &[1, 3, 4, 0]),
        attr::ints("class_ids", &[0, 0, 0, 0]),
        attr::floats("class_weights", &[1.0, 2.0, 4.0, 0.5]),
        attr::string("post_transform", post_transform),
    ]);
    b.node("Slice", &["scores", "starts", "ends", "axes"], &["logit"]);
    b.output("logit", &[Dim::param("N"), Dim::Fixed(1)]);
    // The Slice bounds as int64 initializers (the writer uses Constant nodes).
    for (name, v) in [("starts", 1i64), ("ends", 2), ("axes", 1)] {
        b.initializer_i64(name, &[1], &[v]).expect("bound");
    }
    if with_covers {
        b.metadata(NODE_COVERS_KEY, "[[10, 4, 6, 3, 3], [10]]".to_owned());
    }
    b.to_bytes("t")
}

#[test]
fn branch_lt_and_nan_tracking_match_tract() {
    let model = OnnxModel::from_bytes(&handmade("NONE", true)).expect("load");
    assert_eq!(
        model.native_kind(),
        NativeKind::Trees,
        "{:?}",
        model.not_native_reason()
    );
    let rows: Vec<[f32; 2]> = vec![
        [0.5, -1.0],
        [0.5f32.next_down(), 0.0],
        [f32::NAN, f32::NAN],
        [1.0, f32::NAN],
        [1.0, -1.0],
        [f32::INFINITY, f32::NEG_INFINITY],
        [f32::NEG_INFINITY, f32::INFINITY],
    ];
    let x: Vec<f32> = rows.iter().flatten().copied().collect();
    let native = model.logits(&x, rows.len()).expect("native");
    let tract = model.tract_logits(&x, rows.len()).expect("tract");
    let expected = [2.5, 1.5, 1.5, 4.5, 2.5, 2.5, 1.5];
    for i in 0..rows.len() {
        assert_eq!(native[i], f64::from(tract[i]), "row {i}: {:?}", rows[i]);
        assert_eq!(native[i], expected[i], "row {i}: {:?}", rows[i]);
    }
    // And TreeSHAP adds up on these rows, NaN included.
    let explainer = Explainer::for_native(model.native().expect("native")).expect("covers");
    for row in &rows {
        let (base, phi) = explainer.attribute(row).expect("attribute");
        let raw = model.logit(row).expect("score");
        assert!((base + phi.iter().sum::<f64>() - raw).abs() < 1e-12);
    }
}

#[test]
fn graphs_the_native_evaluator_does_not_reproduce_are_left_to_tract() {
    let model = OnnxModel::from_bytes(&handmade("LOGISTIC", true)).expect("load");
    assert_eq!(model.native_kind(), NativeKind::Graph);
    let why = model.not_native_reason().expect("a reason").to_string();
    assert!(why.contains("post_transform LOGISTIC"), "{why}");
    // tract still scores it: sigmoid of the sum of leaves.
    let got = model.logits(&[1.0, -1.0], 1).expect("tract");
    assert!(
        (got[0] - 1.0 / (1.0 + (-2.5f64).exp())).abs() < 1e-6,
        "{got:?}"
    );

    let model = OnnxModel::from_bytes(&handmade("NONE", false)).expect("load");
    assert_eq!(model.native_kind(), NativeKind::Trees);
    assert!(Explainer::for_native(model.native().expect("native")).is_none());
}
