//! The runtime's TreeSHAP (Gauss–Legendre quadrature over edge products) against two
//! independent paths: Algorithm 2 of Lundberg et al. (`forest::shap::reference`) and
//! Shapley values by enumerating every coalition of the path-dependent game, on random
//! ensembles with covers that add up, covers that do not, zero covers, NaN routing, features
//! split several times on one path, single-leaf trees and paths 40 splits deep.

mod common;

use common::{random_ensemble, random_rows};
use proptest::prelude::*;
use qualify_core::trees::{Node, Tree, TreeEnsemble, TreeError, goes_left};
use qualify_runtime::forest::shap::reference::ReferenceTreeShap;
use qualify_runtime::forest::shap::{Operand, ShapError, TreeShap};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// A child's weight in the path-dependent game, from the covers alone.
fn share(nodes: &[Node], child: usize, sibling: usize) -> f64 {
    let c = nodes[child].cover().expect("cover");
    let total = c + nodes[sibling].cover().expect("cover");
    if total > 0.0 { c / total } else { 0.5 }
}

/// `E[f(x) | x_S]` for one tree: follow `x` on features in `s`, average by cover elsewhere.
fn conditional(nodes: &[Node], i: usize, x: &[f32], s: u64) -> f64 {
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
            if s >> feature & 1 == 1 {
                let next = if goes_left(x[feature], threshold, nan_left) {
                    left
                } else {
                    right
                };
                conditional(nodes, next, x, s)
            } else {
                share(nodes, left, right) * conditional(nodes, left, x, s)
                    + share(nodes, right, left) * conditional(nodes, right, x, s)
            }
        }
    }
}

/// Shapley values by enumerating every coalition (`n_features` ≤ 12), and the game's value
/// of the empty set.
fn brute_force(ensemble: &TreeEnsemble, x: &[f32]) -> (f64, Vec<f64>) {
    let m = ensemble.n_features;
    let values: Vec<f64> = (0u64..1 << m)
        .map(|s| {
            ensemble
                .trees
                .iter()
                .map(|t| conditional(&t.nodes, 0, x, s))
                .sum::<f64>()
        })
        .collect();
    let factorial = |n: usize| (1..=n).map(|k| k as f64).product::<f64>();
    let phi = (0..m)
        .map(|i| {
            (0u64..1 << m)
                .filter(|s| s >> i & 1 == 0)
                .map(|s| {
                    let k = s.count_ones() as usize;
                    let weight = factorial(k) * factorial(m - k - 1) / factorial(m);
                    weight * (values[(s | 1 << i) as usize] - values[s as usize])
                })
                .sum()
        })
        .collect();
    (ensemble.base_score + values[0], phi)
}

fn explain(shap: &TreeShap, x: &[f32]) -> Vec<f64> {
    let mut phi = vec![0.0; shap.n_features()];
    shap.add_shap_values(x, &mut phi).expect("explain");
    phi
}

fn explain_reference(ensemble: &TreeEnsemble, x: &[f32]) -> (f64, Vec<f64>) {
    let reference = ReferenceTreeShap::new(ensemble.clone()).expect("covers");
    let mut phi = vec![0.0; ensemble.n_features];
    reference.add_shap_values(x, &mut phi).expect("explain");
    (reference.expected_value(), phi)
}

/// Holds TreeSHAP to Algorithm 2, to brute force (when `brute` and the width allows) and to
/// the raw score, on `rows`.
fn check(ensemble: &TreeEnsemble, rows: &[f32], brute: bool) -> Result<(), TestCaseError> {
    let n = ensemble.n_features;
    let shap = TreeShap::new(ensemble).expect("covers");
    for (r, x) in rows.chunks(n).enumerate() {
        let phi = explain(&shap, x);
        let (expected, reference) = explain_reference(ensemble, x);
        prop_assert!((shap.expected_value() - expected).abs() < 1e-9);
        for f in 0..n {
            prop_assert!(
                (phi[f] - reference[f]).abs() < 1e-9,
                "row {r}, feature {f}: quadrature {} vs Algorithm 2 {}",
                phi[f],
                reference[f]
            );
        }
        let total = shap.expected_value() + phi.iter().sum::<f64>();
        let raw = ensemble.raw_score(x);
        prop_assert!(
            (total - raw).abs() < 1e-9,
            "row {r}: Σ {total} vs raw {raw}"
        );
        if brute && n <= 12 {
            let (empty, exact) = brute_force(ensemble, x);
            prop_assert!((shap.expected_value() - empty).abs() < 1e-9);
            for f in 0..n {
                prop_assert!(
                    (phi[f] - exact[f]).abs() < 1e-9,
                    "row {r}, feature {f}: quadrature {} vs brute force {}",
                    phi[f],
                    exact[f]
                );
            }
        }
    }
    Ok(())
}

/// Covers that do not add up (scaled per node), and some that are 0 (a branch no training
/// row took, or a split neither of whose children did).
fn perturb_covers(ensemble: &mut TreeEnsemble, seed: u64) {
    let mut rng = StdRng::seed_from_u64(seed ^ 0xc0fe);
    for tree in &mut ensemble.trees {
        for node in &mut tree.nodes {
            let (Node::Split { cover: Some(c), .. } | Node::Leaf { cover: Some(c), .. }) = node
            else {
                continue;
            };
            match rng.random_range(0..10) {
                0 | 1 => *c = 0.0,
                2..=4 => *c *= rng.random_range(0.5..2.0),
                _ => {}
            }
        }
    }
}

/// One path `depth` splits deep with a leaf hanging off each split (on a random side), over
/// `n_features` features (random ones, or with `in_order` level `i` on feature `i mod
/// n_features`); covers 0..=20 that need not add up.
fn chain(rng: &mut StdRng, n_features: usize, depth: usize, in_order: bool) -> Tree {
    let mut nodes = Vec::with_capacity(2 * depth + 1);
    let cover = |rng: &mut StdRng| Some(f64::from(rng.random_range(0u32..=20)));
    for level in 0..depth {
        let (leaf, spine) = (2 * level + 1, 2 * level + 2);
        let (left, right) = if rng.random_bool(0.5) {
            (spine, leaf)
        } else {
            (leaf, spine)
        };
        let feature = if in_order {
            level % n_features
        } else {
            rng.random_range(0..n_features)
        };
        nodes.push(Node::Split {
            feature,
            threshold: rng.random_range(-8i32..=8) as f32 / 4.0,
            nan_left: rng.random_bool(0.5),
            left,
            right,
            cover: cover(rng),
        });
        nodes.push(Node::Leaf {
            value: rng.random_range(-1.0..1.0),
            cover: cover(rng),
        });
    }
    nodes.push(Node::Leaf {
        value: rng.random_range(-1.0..1.0),
        cover: cover(rng),
    });
    Tree { nodes }
}

fn chains(seed: u64, n_features: usize, depth: usize, n_trees: usize) -> TreeEnsemble {
    let mut rng = StdRng::seed_from_u64(seed);
    TreeEnsemble {
        n_features,
        base_score: 0.25,
        trees: (0..n_trees)
            .map(|_| chain(&mut rng, n_features, depth, false))
            .collect(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn quadrature_equals_algorithm_2_and_brute_force(
        seed in any::<u64>(),
        n_features in 1usize..9,
        n_trees in 1usize..6,
        depth in 0u32..9,
        perturb in any::<bool>(),
    ) {
        let mut ensemble = random_ensemble(seed, n_features, n_trees, depth);
        if perturb {
            perturb_covers(&mut ensemble, seed);
        }
        check(&ensemble, &random_rows(seed, n_features, 6), true)?;
    }

    #[test]
    fn deep_paths_with_repeated_features(
        seed in any::<u64>(),
        n_features in 1usize..5,
        depth in 1usize..41,
        n_trees in 1usize..4,
    ) {
        let ensemble = chains(seed, n_features, depth, n_trees);
        prop_assert_eq!(ensemble.validate(), Ok(()));
        check(&ensemble, &random_rows(seed, n_features, 6), true)?;
    }

    /// Too wide for brute force: Algorithm 2 and the raw score only.
    #[test]
    fn deep_paths_of_mostly_distinct_features(
        seed in any::<u64>(),
        n_features in 20usize..41,
        depth in 1usize..41,
    ) {
        let ensemble = chains(seed, n_features, depth, 2);
        check(&ensemble, &random_rows(seed, n_features, 4), false)?;
    }
}

/// Paths of 1 to 48 distinct features need every kernel width (1–8, 12, 16) and, past 32
/// features, a rule integrated in two blocks of 16 nodes.
#[test]
fn every_kernel_width_agrees_with_algorithm_2() {
    let mut rng = StdRng::seed_from_u64(48);
    for depth in 1..=48 {
        let ensemble = TreeEnsemble {
            n_features: 48,
            base_score: 0.0,
            trees: vec![
                chain(&mut rng, 48, depth, true),
                chain(&mut rng, 48, depth, false),
            ],
        };
        check(&ensemble, &random_rows(depth as u64, 48, 3), false).expect("equal");
    }
}

#[test]
fn single_leaf_trees_add_only_to_the_base() {
    let leaf = |value| Tree {
        nodes: vec![Node::Leaf {
            value,
            cover: Some(3.0),
        }],
    };
    let mut ensemble = random_ensemble(7, 3, 4, 3);
    ensemble.trees.insert(1, leaf(0.75));
    ensemble.trees.push(leaf(-2.0));
    let shap = TreeShap::new(&ensemble).expect("covers");
    let without = TreeShap::new(&TreeEnsemble {
        trees: vec![ensemble.trees[0].clone(), ensemble.trees[2].clone()]
            .into_iter()
            .chain(ensemble.trees[3..5].iter().cloned())
            .collect(),
        ..ensemble.clone()
    })
    .expect("covers");
    assert!((shap.expected_value() - without.expected_value() - (0.75 - 2.0)).abs() < 1e-12);
    for x in random_rows(7, 3, 10).chunks(3) {
        assert_eq!(explain(&shap, x), explain(&without, x));
    }
    check(&ensemble, &random_rows(8, 3, 10), true).expect("equal");
    // Only leaves: every contribution is 0.
    let only = TreeEnsemble {
        n_features: 2,
        base_score: 1.0,
        trees: vec![leaf(0.5), leaf(0.25)],
    };
    let shap = TreeShap::new(&only).expect("covers");
    assert_eq!(shap.expected_value(), 1.75);
    assert_eq!(explain(&shap, &[f32::NAN, 3.0]), [0.0, 0.0]);
}

#[test]
fn bad_ensembles_and_rows_are_typed_errors() {
    let ensemble = random_ensemble(3, 4, 3, 3);
    let shap = TreeShap::new(&ensemble).expect("covers");
    let mut phi = vec![0.0; 4];
    assert_eq!(
        shap.add_shap_values(&[0.0; 3], &mut phi),
        Err(ShapError::Width {
            operand: Operand::Row,
            expected: 4,
            got: 3
        })
    );
    let err = shap
        .add_shap_values(&[0.0; 4], &mut [0.0; 5])
        .expect_err("phi too long");
    assert_eq!(
        err.to_string(),
        "the contribution buffer has 5 entries, the ensemble reads 4 features"
    );
    assert_eq!(phi, [0.0; 4], "nothing written on error");

    let mut bare = ensemble.clone();
    for node in bare.trees.iter_mut().flat_map(|t| &mut t.nodes) {
        let (Node::Split { cover, .. } | Node::Leaf { cover, .. }) = node;
        *cover = None;
    }
    assert_eq!(TreeShap::new(&bare).err(), Some(ShapError::NoCovers));
    assert_eq!(
        ReferenceTreeShap::new(bare).err(),
        Some(ShapError::NoCovers)
    );

    let mut broken = ensemble;
    broken.trees[1].nodes.clear();
    assert_eq!(
        TreeShap::new(&broken).err(),
        Some(ShapError::Invalid {
            error: TreeError::EmptyTree { tree: 1 }
        })
    );
}
