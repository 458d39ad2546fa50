use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};

use super::*;
use crate::bins::{Binned, bin_training};
use crate::params::Data;

/// `n` rows of `cols` features with few distinct values, and gradient pairs that are
/// multiples of 1/64 (sums of them are exact in any order).
fn setup(n: usize, cols: usize, seed: u64, dyadic: bool) -> (BinMapper, Binned, Vec<[f32; 2]>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let x: Vec<f32> = (0..n * cols)
        .map(|i| match i % cols {
            0 => f32::from(u8::from(rng.random_bool(0.1))),
            _ => rng.random_range(0..300) as f32,
        })
        .collect();
    let y: Vec<bool> = (0..n).map(|i| i % 3 == 0).collect();
    let data = Data {
        x: &x,
        cols,
        y: &y,
        weights: None,
    };
    let (mapper, binned) = bin_training(&data, 255).expect("bins");
    let gh = (0..n)
        .map(|_| {
            if dyadic {
                [
                    rng.random_range(-64..64) as f32 / 64.0,
                    rng.random_range(0..64) as f32 / 64.0,
                ]
            } else {
                [rng.random_range(-1.0..1.0), rng.random_range(0.0..0.25)]
            }
        })
        .collect();
    (mapper, binned, gh)
}

/// The histogram by definition: for every row and feature, add to the row's bin.
fn naive(mapper: &BinMapper, binned: &Binned, gh: &[[f32; 2]], rows: &[u32]) -> Vec<Bin> {
    let mut out = vec![[0.0; 2]; mapper.total_bins()];
    for &r in rows {
        let r = r as usize;
        for f in 0..mapper.features() {
            let b = binned.columns[f * binned.rows + r];
            let bin = &mut out[mapper.offsets[f] + usize::from(b)];
            bin[0] += f64::from(gh[r][0]);
            bin[1] += f64::from(gh[r][1]);
        }
    }
    out
}

fn built(mapper: &BinMapper, binned: &Binned, gh: &[[f32; 2]], rows: RowSet<'_>) -> Vec<Bin> {
    let mut out = vec![[1.0; 2]; mapper.total_bins()];
    build(&binned.sparse.blocks, mapper, gh, rows, &mut out);
    out
}

#[test]
fn built_histograms_equal_the_definition_small_and_chunked() {
    // 40k rows × 8 features: enough cells for several chunks.
    for (n, cols) in [(500, 3), (40_000, 8)] {
        let (mapper, binned, gh) = setup(n, cols, n as u64, true);
        let all: Vec<u32> = (0..n as u32).collect();
        let some: Vec<u32> = (0..n as u32).filter(|r| r % 3 != 1).collect();
        assert_eq!(
            built(&mapper, &binned, &gh, RowSet::All(n)),
            naive(&mapper, &binned, &gh, &all)
        );
        assert_eq!(
            built(&mapper, &binned, &gh, RowSet::Some(&some)),
            naive(&mapper, &binned, &gh, &some)
        );
    }
}

#[test]
fn subtraction_gives_the_other_child_exactly() {
    let n = 5000;
    let (mapper, binned, gh) = setup(n, 5, 7, true);
    let (left, right): (Vec<u32>, Vec<u32>) = (0..n as u32).partition(|r| r % 7 < 3);
    let mut parent = built(&mapper, &binned, &gh, RowSet::All(n));
    subtract(
        &mut parent,
        &built(&mapper, &binned, &gh, RowSet::Some(&left)),
    );
    assert_eq!(parent, built(&mapper, &binned, &gh, RowSet::Some(&right)));
}

#[test]
fn subtraction_is_close_with_any_gradients() {
    let n = 5000;
    let (mapper, binned, gh) = setup(n, 5, 8, false);
    let (left, right): (Vec<u32>, Vec<u32>) = (0..n as u32).partition(|r| r % 5 < 2);
    let mut parent = built(&mapper, &binned, &gh, RowSet::All(n));
    subtract(
        &mut parent,
        &built(&mapper, &binned, &gh, RowSet::Some(&left)),
    );
    let direct = built(&mapper, &binned, &gh, RowSet::Some(&right));
    for (a, b) in parent.iter().zip(&direct) {
        assert!(
            (a[0] - b[0]).abs() < 1e-9 && (a[1] - b[1]).abs() < 1e-9,
            "{a:?} vs {b:?}"
        );
    }
}

#[test]
fn the_thread_count_does_not_change_a_bit() {
    // Binned and built on 1, 2 and 3 threads (1, 2 and 3 feature blocks), with gradients
    // whose sums round: the whole root (row chunks), a leaf shared by feature block and a
    // leaf too small to share.
    let n = 60_000;
    let rows: Vec<u32> = (0..n as u32).filter(|r| r % 5 == 2).collect();
    let tiny: Vec<u32> = (0..n as u32).filter(|r| r % 997 == 3).collect();
    let run = |threads| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(|| {
                let (mapper, binned, gh) = setup(n, 8, 9, false);
                [
                    built(&mapper, &binned, &gh, RowSet::All(n)),
                    built(&mapper, &binned, &gh, RowSet::Some(&rows)),
                    built(&mapper, &binned, &gh, RowSet::Some(&tiny)),
                ]
            })
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(3));
}
