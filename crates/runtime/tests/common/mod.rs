//! Random tree ensembles and rows for the runtime's tests.

#![allow(dead_code)] // each test file uses a different part

pub mod bundle;

use qualify_core::trees::{Node, Tree, TreeEnsemble};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// Thresholds and inputs are drawn from a grid of quarters, so rows often sit exactly on a
/// threshold (the `<=` edge).
fn grid(rng: &mut StdRng) -> f32 {
    rng.random_range(-8i32..=8) as f32 / 4.0
}

/// A random ensemble: `n_trees` trees of depth at most `max_depth` over `n_features`
/// features, covers adding up (leaf covers 1..=20).
pub fn random_ensemble(
    seed: u64,
    n_features: usize,
    n_trees: usize,
    max_depth: u32,
) -> TreeEnsemble {
    let mut rng = StdRng::seed_from_u64(seed);
    let trees = (0..n_trees)
        .map(|_| {
            let mut nodes = Vec::new();
            grow(&mut rng, n_features, max_depth, &mut nodes);
            Tree { nodes }
        })
        .collect();
    TreeEnsemble {
        n_features,
        base_score: rng.random_range(-2.0..2.0),
        trees,
    }
}

fn grow(rng: &mut StdRng, n_features: usize, depth: u32, nodes: &mut Vec<Node>) -> f64 {
    let index = nodes.len();
    if depth == 0 || rng.random_bool(0.25) {
        let cover = f64::from(rng.random_range(1u32..=20));
        nodes.push(Node::Leaf {
            value: rng.random_range(-1.0..1.0),
            cover: Some(cover),
        });
        return cover;
    }
    nodes.push(Node::Leaf {
        value: 0.0,
        cover: None,
    });
    let feature = rng.random_range(0..n_features);
    let threshold = grid(rng);
    let nan_left = rng.random_bool(0.3);
    let left = nodes.len();
    let lc = grow(rng, n_features, depth - 1, nodes);
    let right = nodes.len();
    let rc = grow(rng, n_features, depth - 1, nodes);
    nodes[index] = Node::Split {
        feature,
        threshold,
        nan_left,
        left,
        right,
        cover: Some(lc + rc),
    };
    lc + rc
}

/// `rows` random rows on the grid (plus the odd off-grid value, and the odd NaN, which
/// splits route by their `nan_left`).
pub fn random_rows(seed: u64, n_features: usize, rows: usize) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x5eed);
    (0..rows * n_features)
        .map(|_| match rng.random_range(0..20) {
            0 => f32::NAN,
            1..=4 => rng.random_range(-2.5f32..2.5),
            _ => grid(&mut rng),
        })
        .collect()
}
