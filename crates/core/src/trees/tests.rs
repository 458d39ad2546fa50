use super::*;
use proptest::prelude::*;

proptest! {
    #[test]
    fn f32_threshold_gives_the_same_branch(t in -1e6f64..1e6, x in -1e6f32..1e6) {
        let t32 = f32_threshold_leq(t);
        prop_assert!(f64::from(t32) <= t);
        prop_assert_eq!(f64::from(x) <= t, x <= t32);
        // and for the f32 neighbours of t itself
        for y in [t32, t32.next_up(), t32.next_down()] {
            prop_assert_eq!(f64::from(y) <= t, y <= t32);
        }
    }
}

fn split(feature: usize, threshold: f32, nan_left: bool, left: usize, right: usize) -> Node {
    Node::Split {
        feature,
        threshold,
        nan_left,
        left,
        right,
        cover: Some(10.0),
    }
}

fn leaf(value: f64) -> Node {
    Node::Leaf {
        value,
        cover: Some(5.0),
    }
}

fn ensemble(n_features: usize, nodes: Vec<Node>) -> TreeEnsemble {
    TreeEnsemble {
        n_features,
        base_score: 0.25,
        trees: vec![Tree { nodes }],
    }
}

#[test]
fn raw_score_walks_left_on_leq_and_routes_nan_as_told() {
    let e = ensemble(2, vec![split(1, 0.5, false, 1, 2), leaf(-1.0), leaf(2.0)]);
    assert_eq!(e.validate(), Ok(()));
    assert_eq!(e.raw_score(&[9.0, 0.5]), -0.75);
    assert_eq!(e.raw_score(&[9.0, 0.6]), 2.25);
    assert_eq!(e.raw_score(&[9.0, f32::NAN]), 2.25);
    let e = ensemble(2, vec![split(1, 0.5, true, 1, 2), leaf(-1.0), leaf(2.0)]);
    assert_eq!(e.raw_score(&[9.0, f32::NAN]), -0.75);
    assert_eq!(e.raw_score(&[9.0, f32::INFINITY]), 2.25);
    assert_eq!(e.trees[0].path(&[0.0, 0.0]).collect::<Vec<_>>(), [0, 1]);
}

#[test]
fn covers_are_on_every_node_or_none() {
    let e = ensemble(1, vec![split(0, 0.0, false, 1, 2), leaf(1.0), leaf(2.0)]);
    assert!(e.has_covers());
    assert_eq!(e.covers(), Some(vec![vec![10.0, 5.0, 5.0]]));
    let mut bare = e.clone();
    for node in &mut bare.trees[0].nodes {
        match node {
            Node::Split { cover, .. } | Node::Leaf { cover, .. } => *cover = None,
        }
    }
    assert_eq!(bare.validate(), Ok(()));
    assert!(!bare.has_covers());
    assert_eq!(bare.covers(), None);

    let mut mixed = bare.clone();
    mixed.trees[0].nodes[2] = leaf(2.0);
    assert_eq!(
        mixed.validate(),
        Err(TreeError::MixedCovers {
            tree: 0,
            node: 2,
            has: true
        })
    );
    let mut negative = e.clone();
    negative.trees[0].nodes[1] = Node::Leaf {
        value: 1.0,
        cover: Some(-1.0),
    };
    assert!(matches!(
        negative.validate(),
        Err(TreeError::BadCover { node: 1, .. })
    ));
}

#[test]
fn validate_names_the_tree_and_node() {
    let cyclic = ensemble(1, vec![split(0, 0.0, false, 0, 0)]);
    assert_eq!(
        cyclic.validate(),
        Err(TreeError::ReachedTwice { tree: 0, node: 0 })
    );
    let wide = ensemble(2, vec![split(3, 0.0, false, 1, 2), leaf(0.0), leaf(0.0)]);
    let err = wide.validate().expect_err("feature out of range");
    assert_eq!(
        err,
        TreeError::FeatureOutOfRange {
            tree: 0,
            node: 0,
            feature: 3,
            n_features: 2
        }
    );
    assert!(err.to_string().contains("feature 3 of 2"), "{err}");
    let outside = ensemble(1, vec![split(0, 0.0, false, 1, 7), leaf(0.0)]);
    assert!(matches!(
        outside.validate(),
        Err(TreeError::ChildOutOfRange { child: 7, .. })
    ));
    let orphan = ensemble(1, vec![leaf(0.0), leaf(1.0)]);
    assert_eq!(
        orphan.validate(),
        Err(TreeError::Unreachable { tree: 0, node: 1 })
    );
    let nan = ensemble(
        1,
        vec![split(0, f32::NAN, false, 1, 2), leaf(0.0), leaf(0.0)],
    );
    assert!(matches!(
        nan.validate(),
        Err(TreeError::NanThreshold { .. })
    ));
    let inf = ensemble(1, vec![leaf(f64::INFINITY)]);
    assert!(matches!(
        inf.validate(),
        Err(TreeError::NonFiniteLeaf { .. })
    ));
    let empty = ensemble(1, Vec::new());
    assert_eq!(empty.validate(), Err(TreeError::EmptyTree { tree: 0 }));
    let base = TreeEnsemble {
        base_score: f64::NAN,
        ..ensemble(1, vec![leaf(0.0)])
    };
    assert!(matches!(
        base.validate(),
        Err(TreeError::NonFiniteBase { .. })
    ));
}

#[test]
fn an_invalid_tree_scores_nan_instead_of_panicking() {
    let outside = ensemble(1, vec![split(0, 0.0, false, 1, 7), leaf(0.0)]);
    assert!(outside.raw_score(&[1.0]).is_nan());
    let short_row = ensemble(3, vec![split(2, 0.0, false, 1, 2), leaf(1.0), leaf(2.0)]);
    assert_eq!(
        short_row.raw_score(&[0.0]),
        2.25,
        "a missing cell reads as NaN"
    );
}
