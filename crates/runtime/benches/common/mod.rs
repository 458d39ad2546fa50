//! Random tree ensembles shaped like LightGBM's, for the benches.

use qualify_core::trees::{Node, Tree, TreeEnsemble};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// A tree grown leaf-wise (like LightGBM's `num_leaves`): split a random leaf until there
/// are `leaves` leaves; covers add up from 1,000 at the root, each split sending 20–80% left.
pub fn leafwise_tree(rng: &mut StdRng, n_features: usize, leaves: usize) -> Tree {
    let mut nodes = vec![Node::Leaf {
        value: 0.0,
        cover: Some(1000.0),
    }];
    let mut open = vec![0usize];
    while open.len() < leaves {
        let i = open.swap_remove(rng.random_range(0..open.len()));
        let cover = nodes[i].cover().unwrap_or(0.0);
        let share = rng.random_range(0.2..0.8);
        let left = nodes.len();
        for c in [cover * share, cover * (1.0 - share)] {
            nodes.push(Node::Leaf {
                value: rng.random_range(-0.2..0.2),
                cover: Some(c),
            });
        }
        nodes[i] = Node::Split {
            feature: rng.random_range(0..n_features),
            threshold: rng.random_range(-1.5f32..1.5),
            nan_left: false,
            left,
            right: left + 1,
            cover: Some(cover),
        };
        open.extend([left, left + 1]);
    }
    Tree { nodes }
}

/// `n_trees` leaf-wise trees of `leaves` leaves over `n_features` features.
pub fn leafwise_ensemble(
    seed: u64,
    n_features: usize,
    n_trees: usize,
    leaves: usize,
) -> TreeEnsemble {
    let mut rng = StdRng::seed_from_u64(seed);
    TreeEnsemble {
        n_features,
        base_score: -1.7,
        trees: (0..n_trees)
            .map(|_| leafwise_tree(&mut rng, n_features, leaves))
            .collect(),
    }
}

/// `rows` rows of `n_features` values uniform in [-2, 2).
pub fn uniform_rows(seed: u64, n_features: usize, rows: usize) -> Vec<f32> {
    let mut rng = StdRng::seed_from_u64(seed);
    (0..rows * n_features)
        .map(|_| rng.random_range(-2.0..2.0))
        .collect()
}
