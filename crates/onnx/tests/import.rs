//! Converting foreign classifier graphs (laid out as skl2onnx and onnxmltools write them)
//! into qualify's contract, read back through the contract check and recognition. The real
//! exports are converted end to end, against onnxruntime, by the binary's `tests/import.rs`.

use qualify_onnx::import::{Classifier, convert};
use qualify_onnx::pb::AttributeProto;
use qualify_onnx::{
    Dim, ImportError, ML_DOMAIN, ModelBuilder, Recognised, attr, check_contract, decode, recognise,
};

const COLUMNS: [&str; 2] = ["employees", "visits"];

/// `input` → `pre` nodes → `op` (with `attrs`) → ZipMap, the way skl2onnx lays it out.
fn foreign(op: &str, attrs: Vec<AttributeProto>, pre: &[&str], width: usize) -> Vec<u8> {
    let mut b = ModelBuilder::new("foreign");
    b.input("float_input", &[Dim::param("None"), Dim::Fixed(width)]);
    let mut last = "float_input".to_owned();
    for (i, p) in pre.iter().enumerate() {
        let out = format!("pre{i}");
        b.node(p, &[&last], &[&out]);
        last = out;
    }
    b.node_in_domain(ML_DOMAIN, 1, op, &[&last], &["label", "probabilities"])
        .attribute = attrs;
    b.node_in_domain(
        ML_DOMAIN,
        1,
        "ZipMap",
        &["probabilities"],
        &["output_probability"],
    );
    b.output("label", &[Dim::param("None")]);
    b.to_bytes("1.0")
}

fn linear_attrs(post: &str) -> Vec<AttributeProto> {
    vec![
        attr::ints("classlabels_ints", &[0, 1]),
        attr::floats("coefficients", &[-0.5, 2.0, 0.5, -2.0]),
        attr::floats("intercepts", &[0.25, -0.25]),
        attr::string("post_transform", post),
    ]
}

/// Tree 0 splits `visits <= 1.5`; tree 1 is a single leaf.
fn tree_attrs(weights: [f32; 3], base_values: &[f32], mode: &str) -> Vec<AttributeProto> {
    vec![
        attr::ints("classlabels_int64s", &[0, 1]),
        attr::ints("nodes_treeids", &[0, 0, 0, 1]),
        attr::ints("nodes_nodeids", &[0, 1, 2, 0]),
        attr::ints("nodes_featureids", &[1, 0, 0, 0]),
        attr::floats("nodes_values", &[1.5, 0.0, 0.0, 0.0]),
        attr::strings("nodes_modes", &[mode, "LEAF", "LEAF", "LEAF"]),
        attr::ints("nodes_truenodeids", &[1, 0, 0, 0]),
        attr::ints("nodes_falsenodeids", &[2, 0, 0, 0]),
        attr::ints("class_treeids", &[0, 0, 1]),
        attr::ints("class_nodeids", &[1, 2, 0]),
        attr::ints("class_ids", &[0, 0, 0]),
        attr::floats("class_weights", &weights),
        attr::floats("base_values", base_values),
        attr::string("post_transform", "LOGISTIC"),
    ]
}

fn recognised(onnx: &[u8]) -> Option<Recognised> {
    let proto = decode(onnx).expect("decode");
    let signature = check_contract(&proto).expect("the converted graph meets the contract");
    assert_eq!(signature.n_features, COLUMNS.len());
    recognise(&proto, &signature).expect("readable")
}

#[test]
fn a_linear_classifier_becomes_the_logistic_graph_of_class_1() {
    let bytes = foreign("LinearClassifier", linear_attrs("LOGISTIC"), &[], 2);
    let imported = convert(&bytes, &COLUMNS, &[], "t").expect("convert");
    assert_eq!(imported.classifier, Classifier::Linear);
    assert_eq!(imported.producer, "qualify 1.0");
    assert_eq!(imported.covers_rows, None);
    assert_eq!(
        recognised(&imported.onnx),
        Some(Recognised::Linear {
            weights: vec![0.5, -2.0],
            bias: -0.25
        })
    );
}

#[test]
fn a_tree_ensemble_gets_its_base_folded_and_covers_counted_on_the_rows() {
    let attrs = tree_attrs([-1.0, 2.0, 0.5], &[0.25], "BRANCH_LEQ");
    let bytes = foreign("TreeEnsembleClassifier", attrs, &[], 2);
    let x = [0.0, 1.0, 0.0, 1.5, 0.0, 2.0, 9.0, 7.0, 3.0, -1.0];
    let imported = convert(&bytes, &COLUMNS, &x, "t").expect("convert");
    assert_eq!(imported.classifier, Classifier::TreeEnsemble);
    assert_eq!(imported.covers_rows, Some(5));
    let Some(Recognised::Trees(e)) = recognised(&imported.onnx) else {
        panic!("trees");
    };
    // visits <= 1.5 for rows 0, 1 and 4: leaf 1 (-1 + 0.25), else leaf 2 (2 + 0.25); + 0.5.
    let scores: Vec<f64> = x.chunks(2).map(|r| e.raw_score(r)).collect();
    assert_eq!(scores, [-0.25, -0.25, 2.75, 2.75, -0.25]);
    assert_eq!(e.covers(), Some(vec![vec![5.0, 3.0, 2.0], vec![5.0]]));
}

#[test]
fn a_tree_ensemble_the_reader_does_not_read_is_converted_without_covers() {
    let attrs = tree_attrs([-1.0, 2.0, 0.5], &[], "BRANCH_GT");
    let bytes = foreign("TreeEnsembleClassifier", attrs, &[], 2);
    let imported = convert(&bytes, &COLUMNS, &[0.0, 1.0], "t").expect("convert");
    assert_eq!(imported.covers_rows, None);
    let proto = decode(&imported.onnx).expect("decode");
    let signature = check_contract(&proto).expect("contract");
    let err = recognise(&proto, &signature).expect_err("BRANCH_GT");
    assert!(err.to_string().contains("mode BRANCH_GT"), "{err}");
}

#[test]
fn what_cannot_be_imported_is_refused_naming_it() {
    let trees = |w, b: &[f32]| tree_attrs(w, b, "BRANCH_LEQ");
    let mut three_labels = linear_attrs("LOGISTIC");
    three_labels[0] = attr::ints("classlabels_ints", &[0, 1, 2]);
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            foreign("LinearClassifier", linear_attrs("LOGISTIC"), &["Scaler"], 2),
            "unsupported operator(s) Scaler besides the LinearClassifier",
        ),
        (
            foreign("LinearClassifier", linear_attrs("LOGISTIC"), &["Cast"], 2),
            "does not read the graph input `float_input` directly",
        ),
        (
            foreign("LinearClassifier", linear_attrs("NONE"), &[], 2),
            "post_transform NONE",
        ),
        (
            foreign("LinearClassifier", three_labels, &[], 2),
            "has 3 class labels",
        ),
        (
            foreign("LinearClassifier", linear_attrs("LOGISTIC"), &[], 3),
            "the model reads 3 features, but the schema has 2 feature columns (employees, visits)",
        ),
        (
            foreign(
                "TreeEnsembleClassifier",
                trees([1.0, 2.0, 0.5], &[]),
                &[],
                2,
            ),
            "non-negative (a random forest?)",
        ),
        (
            foreign(
                "TreeEnsembleClassifier",
                trees([-1.0, 2.0, 0.5], &[0.1, 0.2]),
                &[],
                2,
            ),
            "has 2 base_values",
        ),
        (b"not onnx".to_vec(), "not a valid ONNX protobuf"),
    ];
    for (bytes, needle) in cases {
        let err = convert(&bytes, &COLUMNS, &[], "t").expect_err(needle);
        assert!(err.to_string().contains(needle), "{needle}: {err}");
    }

    let mut b = ModelBuilder::new("calibrated");
    b.input("x", &[Dim::param("N"), Dim::Fixed(2)]);
    for i in 0..2 {
        let outputs = [format!("l{i}"), format!("p{i}")];
        b.node_in_domain(
            ML_DOMAIN,
            1,
            "LinearClassifier",
            &["x"],
            &[&outputs[0], &outputs[1]],
        );
    }
    b.node("Sum", &["p0", "p1"], &["p"]);
    b.output("p", &[Dim::param("N"), Dim::Fixed(2)]);
    let err = convert(&b.to_bytes("t"), &COLUMNS, &[], "t").expect_err("two classifiers");
    assert!(
        matches!(err, ImportError::ClassifierCount { count: 2, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("LinearClassifier, Sum"), "{err}");
}
