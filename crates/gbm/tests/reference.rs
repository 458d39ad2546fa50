//! qualify-gbm against a naive reference booster on tiny data: the same model written the
//! slow, obvious way (rows in vectors, every split of every leaf searched by summing rows,
//! no bins, no histograms, no subtraction, no threads). On data with fewer distinct values
//! per feature than bins, both must grow the same trees: same raw scores on every row.

use qualify_core::trees::f32_threshold_leq;
use qualify_gbm::{Data, Params, fit};
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

/// A reference tree: leaves as (conditions (feature, threshold, goes left), value).
type Leaves = Vec<(Vec<(usize, f32, bool)>, f64)>;

struct Reference {
    base: f64,
    /// Per tree: leaves as (conditions (feature, threshold, goes left), value).
    trees: Vec<Leaves>,
}

impl Reference {
    fn score(&self, row: &[f32]) -> f64 {
        let mut z = self.base;
        for tree in &self.trees {
            for (conditions, value) in tree {
                if conditions.iter().all(|&(f, t, left)| (row[f] <= t) == left) {
                    z += value;
                }
            }
        }
        z
    }
}

/// Leaf-wise boosting by brute force (see the file docs).
fn reference(x: &[f32], cols: usize, y: &[bool], trees: usize, p: &Params) -> Reference {
    let n = y.len();
    let rate = y.iter().filter(|&&v| v).count() as f64 / n as f64;
    let base = (rate / (1.0 - rate)).ln();
    // Candidate thresholds: midpoints between consecutive distinct training values.
    let thresholds: Vec<Vec<f32>> = (0..cols)
        .map(|f| {
            let mut v: Vec<f32> = (0..n).map(|r| x[r * cols + f]).collect();
            v.sort_by(f32::total_cmp);
            v.dedup();
            v.windows(2)
                .map(|w| {
                    f32_threshold_leq(f64::from(w[0]) + (f64::from(w[1]) - f64::from(w[0])) / 2.0)
                })
                .collect()
        })
        .collect();
    let mut model = Reference {
        base,
        trees: Vec::new(),
    };
    let mut z = vec![base; n];
    let score = |g: f64, h: f64| g * g / (h + p.l2);
    for _ in 0..trees {
        let gh: Vec<(f64, f64)> = (0..n)
            .map(|r| {
                let q = 1.0 / (1.0 + (-z[r]).exp());
                let t = if y[r] { 1.0 } else { 0.0 };
                (f64::from((q - t) as f32), f64::from((q * (1.0 - q)) as f32))
            })
            .collect();
        let sums = |rows: &[usize]| {
            rows.iter()
                .fold((0.0, 0.0), |a, &r| (a.0 + gh[r].0, a.1 + gh[r].1))
        };
        // The best split of a leaf: (gain, feature, threshold).
        let best = |rows: &[usize]| -> Option<(f64, usize, f32)> {
            let (g, h) = sums(rows);
            let mut best: Option<(f64, usize, f32)> = None;
            for (f, ts) in thresholds.iter().enumerate() {
                for &t in ts {
                    let left: Vec<usize> = rows
                        .iter()
                        .copied()
                        .filter(|&r| x[r * cols + f] <= t)
                        .collect();
                    let (gl, hl) = sums(&left);
                    let (gr, hr) = (g - gl, h - hl);
                    if hl < p.min_leaf_hessian || hr < p.min_leaf_hessian {
                        continue;
                    }
                    let gain = score(gl, hl) + score(gr, hr) - score(g, h);
                    if gain > 0.0 && best.is_none_or(|b| gain > b.0) {
                        best = Some((gain, f, t));
                    }
                }
            }
            best
        };
        let all: Vec<usize> = (0..n).collect();
        let mut leaves = vec![(Vec::new(), best(&all), all)];
        while leaves.len() < p.max_leaves {
            let pick = (0..leaves.len())
                .filter(|&i| leaves[i].1.is_some())
                .max_by(|&a, &b| {
                    let (ga, gb) = (
                        leaves[a].1.map_or(0.0, |s| s.0),
                        leaves[b].1.map_or(0.0, |s| s.0),
                    );
                    ga.total_cmp(&gb).then(b.cmp(&a))
                });
            let Some(i) = pick else { break };
            let (conditions, split, rows) = leaves.remove(i);
            let Some((_, f, t)) = split else { break };
            let (l, r): (Vec<usize>, Vec<usize>) =
                rows.iter().partition(|&&r| x[r * cols + f] <= t);
            for (side, goes_left) in [(l, true), (r, false)] {
                let mut c = conditions.clone();
                c.push((f, t, goes_left));
                let s = best(&side);
                leaves.push((c, s, side));
            }
        }
        if leaves.len() < 2 {
            break;
        }
        let mut tree = Vec::new();
        for (conditions, _, rows) in leaves {
            let (g, h) = sums(&rows);
            let value = p.learning_rate * -g / (h + p.l2);
            for &r in &rows {
                z[r] += value;
            }
            tree.push((conditions, value));
        }
        model.trees.push(tree);
    }
    model
}

#[test]
fn grows_the_trees_of_a_naive_reference() {
    for (seed, leaves) in [(1u64, 4usize), (2, 8), (3, 6)] {
        let mut rng = StdRng::seed_from_u64(seed);
        let (n, cols) = (300, 3);
        // Values on a grid of 40 per feature: fewer than the bins, so bins are values.
        let x: Vec<f32> = (0..n * cols)
            .map(|_| rng.random_range(0..40) as f32 / 8.0 - 2.5)
            .collect();
        let y: Vec<bool> = (0..n)
            .map(|r| {
                let s = f64::from(x[r * cols]) - f64::from(x[r * cols + 1] * x[r * cols + 2]);
                rng.random::<f64>() < 1.0 / (1.0 + (-s).exp())
            })
            .collect();
        let params = Params {
            learning_rate: 0.3,
            max_leaves: leaves,
            min_leaf_hessian: 2.0,
            l2: 0.5,
            threads: Some(1),
            ..Params::default()
        };
        let data = Data {
            x: &x,
            cols,
            y: &y,
            weights: None,
        };
        let fitted = fit(data, None, 12, &params, &[]).expect("fit");
        let naive = reference(&x, cols, &y, 12, &params);
        assert_eq!(fitted.ensemble.trees.len(), naive.trees.len());
        for (tree, naive) in fitted.ensemble.trees.iter().zip(&naive.trees) {
            let leaves = tree
                .nodes
                .iter()
                .filter(|n| matches!(n, qualify_core::trees::Node::Leaf { .. }));
            assert_eq!(leaves.count(), naive.len());
        }
        let probes: Vec<f32> = (0..200 * cols)
            .map(|_| rng.random_range(-3.0..3.0))
            .collect();
        for row in x.chunks(cols).chain(probes.chunks(cols)) {
            let (a, b) = (fitted.ensemble.raw_score(row), naive.score(row));
            assert!((a - b).abs() < 1e-9, "seed {seed}, {row:?}: {a} vs {b}");
        }
    }
}
