use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::*;
use crate::bins::{BinMapper, bin_training};
use crate::hist::{RowSet, build};
use crate::params::Data;

struct Case {
    x: Vec<f32>,
    cols: usize,
    gh: Vec<[f32; 2]>,
    mapper: BinMapper,
    hist: Vec<Bin>,
    total: Bin,
}

fn case(n: usize, cols: usize, seed: u64) -> Case {
    let mut rng = StdRng::seed_from_u64(seed);
    let x: Vec<f32> = (0..n * cols)
        .map(|_| rng.random_range(0..40) as f32 * 0.5)
        .collect();
    // Gradients that lean on feature 0, so splits have real gains.
    let gh: Vec<[f32; 2]> = (0..n)
        .map(|r| {
            let lean = if x[r * cols] > 10.0 { -0.3 } else { 0.2 };
            [
                lean + rng.random_range(-0.5..0.5),
                rng.random_range(0.05..0.25),
            ]
        })
        .collect();
    let y: Vec<bool> = (0..n).map(|i| i % 2 == 0).collect();
    let data = Data {
        x: &x,
        cols,
        y: &y,
        weights: None,
    };
    let (mapper, binned) = bin_training(&data, 255).expect("bins");
    let mut hist = vec![[0.0; 2]; mapper.total_bins()];
    let total = build(
        &binned.sparse.blocks,
        &mapper,
        &gh,
        RowSet::All(n),
        &mut hist,
    );
    Case {
        x,
        cols,
        gh,
        mapper,
        hist,
        total,
    }
}

/// Every split `x[f] <= t` over every feature and every value `t` seen, with the sums
/// taken from the rows; the gain of the best one, its feature and threshold.
fn brute_force(
    c: &Case,
    signs: &[i8],
    l2: f64,
    min_h: f64,
    bounds: Bounds,
) -> Option<(f64, usize, f32)> {
    let n = c.gh.len();
    let reduction = |g: f64, h: f64, w: f64| -(2.0 * g * w + (h + l2) * w * w);
    let (g, h) = c.gh.iter().fold((0.0, 0.0), |a, p| {
        (a.0 + f64::from(p[0]), a.1 + f64::from(p[1]))
    });
    let parent = reduction(g, h, leaf_value(g, h, l2, bounds));
    let mut best: Option<(f64, usize, f32)> = None;
    for (f, &sign) in signs.iter().enumerate().take(c.cols) {
        let mut values: Vec<f32> = (0..n).map(|r| c.x[r * c.cols + f]).collect();
        values.sort_by(f32::total_cmp);
        values.dedup();
        for &t in &values[..values.len() - 1] {
            let (mut gl, mut hl) = (0.0, 0.0);
            for r in 0..n {
                if c.x[r * c.cols + f] <= t {
                    gl += f64::from(c.gh[r][0]);
                    hl += f64::from(c.gh[r][1]);
                }
            }
            let (gr, hr) = (g - gl, h - hl);
            if hl < min_h || hr < min_h {
                continue;
            }
            let (wl, wr) = (
                leaf_value(gl, hl, l2, bounds),
                leaf_value(gr, hr, l2, bounds),
            );
            if (sign > 0 && wl > wr) || (sign < 0 && wl < wr) {
                continue;
            }
            let gain = reduction(gl, hl, wl) + reduction(gr, hr, wr) - parent;
            if gain > 0.0 && best.is_none_or(|b| gain > b.0) {
                best = Some((gain, f, t));
            }
        }
    }
    best
}

fn check(c: &Case, signs: &[i8], l2: f64, min_h: f64, bounds: Bounds) {
    let rules = Rules {
        mapper: &c.mapper,
        signs,
        l2,
        min_hessian: min_h,
    };
    let found = best_split(&rules, &c.hist, 0, 0..c.cols, c.total, bounds);
    let want = brute_force(c, signs, l2, min_h, bounds);
    match (found, want) {
        (Some(s), Some((gain, f, t))) => {
            assert_eq!(s.feature, f, "{s:?} vs {want:?}");
            // The bin's bound lies between the value and the next one: the same rows go left.
            let threshold = c.mapper.threshold(f, s.bin);
            let left = |v: f32| v <= threshold;
            assert!(left(t), "{s:?} vs {want:?}");
            let next = (0..c.gh.len())
                .map(|r| c.x[r * c.cols + f])
                .filter(|&v| v > t)
                .fold(f32::INFINITY, f32::min);
            assert!(!left(next), "{s:?} vs {want:?}");
            assert!(
                (s.gain - gain).abs() <= 1e-9 * gain.abs().max(1.0),
                "{s:?} vs {gain}"
            );
        }
        (None, None) => {}
        other => panic!("{other:?}"),
    }
}

#[test]
fn histogram_split_search_finds_the_brute_force_best() {
    for seed in 0..6 {
        let c = case(400, 3, seed);
        check(&c, &[0, 0, 0], 1.0, 1.0, FREE);
        check(&c, &[0, 0, 0], 0.0, 5.0, FREE);
    }
}

#[test]
fn constrained_search_finds_the_brute_force_best() {
    for seed in 10..16 {
        let c = case(400, 3, seed);
        // Feature 0 wants to go down (its gradients lean negative above 10): increasing it
        // rules those splits out.
        check(&c, &[1, 0, 0], 1.0, 1.0, FREE);
        check(&c, &[-1, 0, 1], 1.0, 1.0, FREE);
        check(&c, &[0, 0, 0], 1.0, 1.0, (-0.2, 0.1));
    }
}

#[test]
fn no_split_when_every_side_is_too_light() {
    let c = case(50, 2, 3);
    let rules = Rules {
        mapper: &c.mapper,
        signs: &[0, 0],
        l2: 1.0,
        min_hessian: c.total[1],
    };
    assert_eq!(
        best_split(&rules, &c.hist, 0, 0..c.cols, c.total, FREE),
        None
    );
}

#[test]
fn children_bounds_meet_in_the_middle() {
    let s = Split {
        feature: 0,
        bin: 3,
        gain: 1.0,
        left_value: -1.0,
        right_value: 3.0,
    };
    assert_eq!(child_bounds(&s, 1, (-5.0, 5.0)), ((-5.0, 1.0), (1.0, 5.0)));
    assert_eq!(child_bounds(&s, -1, (-5.0, 5.0)), ((1.0, 5.0), (-5.0, 1.0)));
    assert_eq!(child_bounds(&s, 0, (-5.0, 5.0)), ((-5.0, 5.0), (-5.0, 5.0)));
}
