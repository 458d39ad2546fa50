use proptest::prelude::*;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::*;
use crate::bins::bin_training;
use crate::params::Data;

proptest! {
    #[test]
    fn partition_is_a_stable_filter(
        column in prop::collection::vec(0u8..10, 1..300),
        bin in 0u8..10,
        keep in 0usize..300,
    ) {
        let mut rows: Vec<u32> = (0..column.len() as u32).filter(|r| *r as usize % 3 != keep % 3).collect();
        let left: Vec<u32> = rows.iter().copied().filter(|&r| column[r as usize] <= bin).collect();
        let right: Vec<u32> = rows.iter().copied().filter(|&r| column[r as usize] > bin).collect();
        let mut scratch = vec![0; rows.len()];
        let mid = partition(&mut rows, &mut scratch, &column, bin);
        prop_assert_eq!(&rows[..mid], &left[..]);
        prop_assert_eq!(&rows[mid..], &right[..]);
    }
}

/// A grown tree routes each row, by its raw values and the `x <= threshold` rule, to the
/// leaf whose row range holds it; leaves carry `lr × -G / (H + λ)` of their rows; the tree
/// keeps to its leaf budget.
#[test]
fn leaves_hold_the_rows_the_tree_routes_to_them() {
    let (n, cols) = (3000, 4);
    let mut rng = StdRng::seed_from_u64(5);
    let x: Vec<f32> = (0..n * cols).map(|_| rng.random_range(-1.0..1.0)).collect();
    let y: Vec<bool> = (0..n)
        .map(|r| x[r * cols] * x[r * cols + 1] > 0.0)
        .collect();
    let gh: Vec<[f32; 2]> = y
        .iter()
        .map(|&y| [if y { -0.5 } else { 0.5 }, 0.25])
        .collect();
    let data = Data {
        x: &x,
        cols,
        y: &y,
        weights: None,
    };
    let (mapper, binned) = bin_training(&data, 64).expect("bins");
    let signs = vec![0; cols];
    let rules = Rules {
        mapper: &mapper,
        signs: &signs,
        l2: 1.0,
        min_hessian: 2.0,
    };
    let mut grower = Grower::new(&binned, rules, 12, 0.1);
    let grown = grower.grow(&gh);
    assert_eq!(grown.leaves.len(), 12);
    let tree = &grown.tree;
    for &(begin, end, value) in &grown.leaves {
        let rows = &grower.order()[begin..end];
        let (g, h) = rows.iter().fold((0.0, 0.0), |a, &r| {
            (
                a.0 + f64::from(gh[r as usize][0]),
                a.1 + f64::from(gh[r as usize][1]),
            )
        });
        assert!((value - 0.1 * -g / (h + 1.0)).abs() < 1e-12);
        assert!(h >= 2.0);
        for &r in rows {
            let r = r as usize;
            assert_eq!(tree.leaf_value(&x[r * cols..(r + 1) * cols]), value);
            let row_bins: Vec<u8> = (0..cols).map(|f| binned.columns[f * n + r]).collect();
            assert_eq!(grown.binned_value(&row_bins), value);
        }
    }
    let covered: usize = grown.leaves.iter().map(|l| l.1 - l.0).sum();
    assert_eq!(covered, n);
}
