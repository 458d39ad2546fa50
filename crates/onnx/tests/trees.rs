//! The tree-ensemble writer against the reader and against tract, on random ensembles.
//!
//! Values (thresholds, leaf values, base score) are drawn on a grid of eighths, so every sum
//! is exact in `f32` and the round trip can be held to equality; rows often sit exactly on a
//! threshold, and some cells are NaN.

use proptest::prelude::*;
use qualify_core::trees::{Node, Tree, TreeEnsemble};
use qualify_onnx::trees::tree_ensemble_to_onnx;
use qualify_onnx::{
    Dim, LOGIT_NAME, ML_DOMAIN, ModelBuilder, NODE_COVERS_KEY, ReadError, Recognised, WriteError,
    attr, check_contract, decode, recognise,
};
use tract_onnx::prelude::*;

/// A preorder list of `(split?, feature, threshold in quarters, leaf value in eighths,
/// NaN left?)`, turned into a tree by [`build_tree`].
type Spec = Vec<(bool, usize, i32, i32, bool)>;

fn spec() -> impl Strategy<Value = Spec> {
    prop::collection::vec(
        (
            prop::bool::weighted(0.7),
            0usize..8,
            -8i32..=8,
            -16i32..=16,
            any::<bool>(),
        ),
        32,
    )
}

/// Grows a tree of depth at most `depth` from `spec`; covers add up (leaves 1..=7), or are
/// absent.
fn build_tree(spec: &Spec, n_features: usize, depth: u32, covers: bool) -> Tree {
    fn grow(
        spec: &Spec,
        n_features: usize,
        next: &mut usize,
        depth: u32,
        nodes: &mut Vec<Node>,
    ) -> f64 {
        let (split, feature, threshold, value, nan_left) = spec[*next % spec.len()];
        *next += 1;
        let index = nodes.len();
        if !split || depth == 0 {
            let cover = 1.0 + (*next % 7) as f64;
            nodes.push(Node::Leaf {
                value: f64::from(value) / 8.0,
                cover: Some(cover),
            });
            return cover;
        }
        nodes.push(Node::Leaf {
            value: 0.0,
            cover: None,
        });
        let left = nodes.len();
        let lc = grow(spec, n_features, next, depth - 1, nodes);
        let right = nodes.len();
        let rc = grow(spec, n_features, next, depth - 1, nodes);
        nodes[index] = Node::Split {
            feature: feature % n_features,
            threshold: threshold as f32 / 4.0,
            nan_left,
            left,
            right,
            cover: Some(lc + rc),
        };
        lc + rc
    }
    let mut nodes = Vec::new();
    grow(spec, n_features, &mut 0, depth, &mut nodes);
    if !covers {
        for node in &mut nodes {
            match node {
                Node::Split { cover, .. } | Node::Leaf { cover, .. } => *cover = None,
            }
        }
    }
    Tree { nodes }
}

fn ensemble() -> impl Strategy<Value = TreeEnsemble> {
    (
        1usize..7,
        0u32..5,
        prop::collection::vec(spec(), 1..10),
        -24i32..=24,
        any::<bool>(),
    )
        .prop_map(|(n_features, depth, specs, base, covers)| TreeEnsemble {
            n_features,
            base_score: f64::from(base) / 8.0,
            trees: specs
                .iter()
                .map(|s| build_tree(s, n_features, depth, covers))
                .collect(),
        })
}

/// Rows on the quarter grid (so on thresholds), with some NaN cells.
fn rows(n_features: usize, seed: &[(i32, bool)]) -> Vec<f32> {
    seed.iter()
        .take(seed.len() / n_features * n_features)
        .map(|&(q, nan)| if nan { f32::NAN } else { q as f32 / 4.0 })
        .collect()
}

fn read_back(bytes: &[u8]) -> TreeEnsemble {
    let proto = decode(bytes).expect("decode");
    let signature = check_contract(&proto).expect("contract");
    match recognise(&proto, &signature).expect("readable") {
        Some(Recognised::Trees(e)) => e,
        other => panic!("expected trees, got {other:?}"),
    }
}

fn tract_logits(bytes: &[u8], n_features: usize, x: &[f32]) -> Vec<f32> {
    let rows = x.len() / n_features;
    let mut model = onnx()
        .model_for_read(&mut &*bytes)
        .expect("tract reads the graph")
        .with_input_fact(0, f32::fact([rows, n_features]).into())
        .expect("input fact");
    model
        .select_outputs_by_name([LOGIT_NAME])
        .expect("logit output");
    let model = model
        .into_optimized()
        .expect("optimise")
        .into_runnable()
        .expect("plan");
    let input = Tensor::from_shape(&[rows, n_features], x).expect("input tensor");
    let out = model.run(tvec![input.into_tvalue()]).expect("run");
    let logit = out[0].to_plain_array_view::<f32>().expect("f32 logit");
    assert_eq!(logit.shape(), [rows, 1]);
    logit.iter().copied().collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Written, then read back: the same trees, with the base score in tree 0's leaves.
    #[test]
    fn the_reader_reads_back_what_the_writer_wrote(
        e in ensemble(),
        seed in prop::collection::vec((-10i32..=10, prop::bool::weighted(0.1)), 60),
    ) {
        prop_assert_eq!(e.validate(), Ok(()));
        let back = read_back(&tree_ensemble_to_onnx(&e, "t").expect("write"));
        let mut expected = e.clone();
        expected.base_score = 0.0;
        for node in &mut expected.trees[0].nodes {
            if let Node::Leaf { value, .. } = node {
                *value += e.base_score;
            }
        }
        prop_assert_eq!(&back, &expected);
        for row in rows(e.n_features, &seed).chunks(e.n_features) {
            prop_assert_eq!(back.raw_score(row), e.raw_score(row));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// tract running the written graph agrees with the reference evaluator, NaN included.
    #[test]
    fn tract_runs_the_written_graph_like_the_reference(
        e in ensemble(),
        seed in prop::collection::vec((-10i32..=10, prop::bool::weighted(0.1)), 60),
    ) {
        let bytes = tree_ensemble_to_onnx(&e, "t").expect("write");
        let x = rows(e.n_features, &seed);
        let got = tract_logits(&bytes, e.n_features, &x);
        for (row, &logit) in x.chunks(e.n_features).zip(&got) {
            let expected = e.raw_score(row);
            prop_assert!(
                (f64::from(logit) - expected).abs() < 1e-5,
                "tract {} vs reference {} on {:?}", logit, expected, row
            );
        }
    }
}

#[test]
fn an_ensemble_without_trees_is_one_leaf_holding_its_base() {
    let e = TreeEnsemble {
        n_features: 3,
        base_score: -1.5,
        trees: Vec::new(),
    };
    let bytes = tree_ensemble_to_onnx(&e, "v").expect("write");
    assert_eq!(tract_logits(&bytes, 3, &[0.0; 6]), [-1.5, -1.5]);
    let back = read_back(&bytes);
    assert_eq!(back.trees.len(), 1);
    assert_eq!(back.raw_score(&[0.0; 3]), -1.5);
}

#[test]
fn covers_travel_in_the_metadata_only_when_every_node_has_one() {
    let leaf = |value, cover| Node::Leaf { value, cover };
    let split = |cover| Node::Split {
        feature: 1,
        threshold: 0.5,
        nan_left: false,
        left: 1,
        right: 2,
        cover,
    };
    let with = TreeEnsemble {
        n_features: 2,
        base_score: 0.25,
        trees: vec![Tree {
            nodes: vec![
                split(Some(10.0)),
                leaf(-1.0, Some(6.0)),
                leaf(2.0, Some(4.0)),
            ],
        }],
    };
    let proto = decode(&tree_ensemble_to_onnx(&with, "v").expect("write")).expect("decode");
    let entry = proto
        .metadata_props
        .iter()
        .find(|p| p.key == NODE_COVERS_KEY)
        .expect("covers entry");
    assert_eq!(entry.value, "[[10,6,4]]");

    let without = TreeEnsemble {
        trees: vec![Tree {
            nodes: vec![split(None), leaf(-1.0, None), leaf(2.0, None)],
        }],
        ..with
    };
    let bytes = tree_ensemble_to_onnx(&without, "v").expect("write");
    let proto = decode(&bytes).expect("decode");
    assert!(proto.metadata_props.is_empty());
    assert!(!read_back(&bytes).has_covers());
}

#[test]
fn invalid_ensembles_are_not_written() {
    let leaf = |value| Node::Leaf {
        value,
        cover: Some(1.0),
    };
    let e = |n_features, value| TreeEnsemble {
        n_features,
        base_score: 0.0,
        trees: vec![Tree {
            nodes: vec![leaf(value)],
        }],
    };
    let err = tree_ensemble_to_onnx(&e(1, f64::NAN), "v").expect_err("NaN leaf");
    assert!(matches!(err, WriteError::InvalidEnsemble { .. }), "{err}");
    assert!(err.to_string().contains("leaf 0"), "{err}");
    let err = tree_ensemble_to_onnx(&e(1, 1e300), "v").expect_err("overflow");
    assert_eq!(
        err,
        WriteError::LeafOverflow {
            tree: 0,
            node: 0,
            value: 1e300
        }
    );
    assert_eq!(
        tree_ensemble_to_onnx(&e(0, 0.0), "v"),
        Err(WriteError::NoFeatures)
    );
}

/// A hand-written classifier over 2 features whose attributes `edit` changes, with a
/// `Slice` head; covers as given.
fn handmade(
    edit: impl FnOnce(&mut Vec<tract_onnx::pb::AttributeProto>),
    covers: Option<&str>,
) -> Vec<u8> {
    let mut b = ModelBuilder::new("g");
    b.input("features", &[Dim::batch(), Dim::Fixed(2)]);
    let node = b.node_in_domain(
        ML_DOMAIN,
        1,
        "TreeEnsembleClassifier",
        &["features"],
        &["label", "scores"],
    );
    node.attribute.extend([
        attr::ints("classlabels_int64s", &[0, 1]),
        attr::ints("nodes_treeids", &[0, 0, 0, 1]),
        attr::ints("nodes_nodeids", &[0, 1, 2, 0]),
        attr::ints("nodes_featureids", &[1, 0, 0, 0]),
        attr::floats("nodes_values", &[0.5, 0.0, 0.0, 0.0]),
        attr::strings("nodes_modes", &["BRANCH_LT", "LEAF", "LEAF", "LEAF"]),
        attr::ints("nodes_truenodeids", &[1, 0, 0, 0]),
        attr::ints("nodes_falsenodeids", &[2, 0, 0, 0]),
        attr::ints("nodes_missing_value_tracks_true", &[1, 0, 0, 0]),
        attr::ints("class_treeids", &[0, 0, 1, 1]),
        attr::ints("class_nodeids", &[1, 2, 0, 0]),
        attr::ints("class_ids", &[0, 0, 0, 0]),
        attr::floats("class_weights", &[1.0, 2.0, 0.25, 0.25]),
        attr::string("post_transform", "NONE"),
    ]);
    edit(&mut node.attribute);
    b.initializer_i64("starts", &[1], &[1])
        .and_then(|b| b.initializer_i64("ends", &[1], &[2]))
        .and_then(|b| b.initializer_i64("axes", &[1], &[1]))
        .expect("bounds");
    b.node("Slice", &["scores", "starts", "ends", "axes"], &["logit"]);
    b.output("logit", &[Dim::batch(), Dim::Fixed(1)]);
    if let Some(covers) = covers {
        b.metadata(NODE_COVERS_KEY, covers.to_owned());
    }
    b.to_bytes("t")
}

fn read(bytes: &[u8]) -> Result<Option<Recognised>, ReadError> {
    let proto = decode(bytes).expect("decode");
    let signature = check_contract(&proto).expect("contract");
    recognise(&proto, &signature)
}

fn set(attrs: &mut [tract_onnx::pb::AttributeProto], new: tract_onnx::pb::AttributeProto) {
    let slot = attrs
        .iter_mut()
        .find(|a| a.name == new.name)
        .expect("attribute");
    *slot = new;
}

#[test]
fn a_foreign_layout_reads_into_the_one_tree_type() {
    let bytes = handmade(|_| {}, Some("[[10, 4, 6], [10]]"));
    let Ok(Some(Recognised::Trees(e))) = read(&bytes) else {
        panic!("readable");
    };
    assert_eq!(
        e.trees[0].nodes[0],
        Node::Split {
            feature: 1,
            threshold: 0.5f32.next_down(),
            nan_left: true,
            left: 1,
            right: 2,
            cover: Some(10.0),
        }
    );
    // Two weights on one leaf add up.
    assert_eq!(
        e.trees[1].nodes[0],
        Node::Leaf {
            value: 0.5,
            cover: Some(10.0)
        }
    );
    // The reader agrees with tract on the node's own semantics (BRANCH_LT, NaN tracking).
    let x = [
        0.0,
        0.5,
        0.0,
        0.5f32.next_down(),
        0.0,
        f32::NAN,
        0.0,
        f32::INFINITY,
    ];
    let tract = tract_logits(&bytes, 2, &x);
    for (row, t) in x.chunks(2).zip(tract) {
        assert_eq!(e.raw_score(row), f64::from(t), "{row:?}");
    }
}

#[test]
fn what_the_reader_does_not_reproduce_is_named() {
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            handmade(|a| set(a, attr::string("post_transform", "LOGISTIC")), None),
            "post_transform LOGISTIC",
        ),
        (
            handmade(|a| set(a, attr::ints("class_ids", &[0, 1, 0, 0])), None),
            "class id 1",
        ),
        (
            handmade(|a| a.push(attr::floats("base_values", &[0.5])), None),
            "attribute base_values is not supported",
        ),
        (
            handmade(
                |a| {
                    set(
                        a,
                        attr::strings("nodes_modes", &["BRANCH_GT", "LEAF", "LEAF", "LEAF"]),
                    )
                },
                None,
            ),
            "tree 0 node 0 has mode BRANCH_GT",
        ),
        (
            handmade(|a| set(a, attr::floats("nodes_values", &[0.5])), None),
            "attribute nodes_values has 1 values, expected 4",
        ),
        (
            handmade(|a| set(a, attr::ints("nodes_treeids", &[0, 0, 0, 2])), None),
            "no node has tree id 1",
        ),
        (
            handmade(|a| set(a, attr::ints("nodes_nodeids", &[0, 1, 3, 0])), None),
            "tree 0: node ids are not 0..n (found 3 after 2 nodes)",
        ),
        (
            handmade(
                |a| set(a, attr::ints("nodes_truenodeids", &[-1, 0, 0, 0])),
                None,
            ),
            "attribute nodes_truenodeids holds -1",
        ),
        (
            handmade(|a| set(a, attr::ints("class_nodeids", &[0, 2, 0, 0])), None),
            "tree 0 node 0, which is not a leaf",
        ),
        (
            handmade(|_| {}, Some("[[10, 4, 6]]")),
            "hold 1 trees, the ensemble has 2",
        ),
        (
            handmade(|_| {}, Some("[[10, 4], [10]]")),
            "no entry for tree 0 node 2",
        ),
        (
            handmade(|_| {}, Some("[[10, 4, -6], [10]]")),
            "node 2 has cover -6",
        ),
        (
            handmade(|_| {}, Some("{\"a\": 1}")),
            "not a JSON array of arrays",
        ),
        (
            handmade(
                |a| set(a, attr::ints("nodes_featureids", &[2, 0, 0, 0])),
                None,
            ),
            "splits on feature 2 of 2",
        ),
    ];
    for (bytes, needle) in cases {
        let err = read(&bytes).expect_err(needle);
        assert!(err.to_string().contains(needle), "{needle}: {err}");
    }
}
