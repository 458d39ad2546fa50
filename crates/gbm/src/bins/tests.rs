use proptest::prelude::*;

use super::*;

fn data<'a>(x: &'a [f32], cols: usize, y: &'a [bool]) -> Data<'a> {
    Data {
        x,
        cols,
        y,
        weights: None,
    }
}

#[test]
fn few_distinct_values_get_a_bin_each_with_midpoint_bounds() {
    let column = [3.0f32, 1.0, 2.0, 1.0, 3.0, -0.0, 0.0];
    let u = boundaries(&column.map(|v| v + 0.0), None, 255);
    assert_eq!(u, vec![0.5, 1.5, 2.5, f32::INFINITY]);
}

#[test]
fn greedy_bins_have_about_equal_weight_and_heavy_values_alone() {
    // 1000 distinct values of weight 1, then one value of weight 300.
    let mut counts = vec![1.0; 1000];
    counts.push(300.0);
    let cuts = cut_after(&counts, 10);
    assert_eq!(cuts.len(), 9, "{cuts:?}");
    // The heavy value (index 1000) is alone in the last bin.
    assert_eq!(cuts.last(), Some(&999));
    // Once as many values remain as bins, each gets its own: the tail before it.
    assert_eq!(cuts[7], 998);
    let mut sizes = Vec::new();
    let mut prev = 0;
    for &c in &cuts {
        sizes.push(c + 1 - prev);
        prev = c + 1;
    }
    assert!(
        sizes[..7].iter().all(|&s| (100..=150).contains(&s)),
        "{sizes:?}"
    );
}

#[test]
fn a_weight_of_two_bins_like_two_copies() {
    let column: Vec<f32> = (0..2000)
        .map(|i| ((i * 7919) % 1013) as f32 / 7.0)
        .collect();
    let weights: Vec<f64> = (0..2000)
        .map(|i| if i % 3 == 0 { 2.0 } else { 1.0 })
        .collect();
    let mut copies = Vec::new();
    for (v, w) in column.iter().zip(&weights) {
        copies.extend(std::iter::repeat_n(*v, *w as usize));
    }
    assert_eq!(
        boundaries(&column, Some(&weights), 64),
        boundaries(&copies, None, 64)
    );
}

#[test]
fn sparse_rows_and_default_bins_rebuild_the_columns() {
    let (n, cols) = (3000, 4);
    let x: Vec<f32> = (0..n * cols)
        .map(|i| match i % cols {
            0 => (i % 97) as f32,
            1 => f32::from(u8::from(i % 13 == 0)),
            2 => 5.0,
            _ => ((i * 31) % 1009) as f32 * 0.25,
        })
        .collect();
    let y: Vec<bool> = (0..n).map(|i| i % 2 == 0).collect();
    // One feature block, two and three (one per thread).
    for threads in [1, 2, 3] {
        let (mapper, binned) = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("pool")
            .install(|| bin_training(&data(&x, cols, &y), 255))
            .expect("bins");
        assert_eq!(mapper.bins, vec![97, 2, 1, 255]);
        assert_eq!(mapper.default_bin[1], 0);
        let sparse = &binned.sparse;
        assert_eq!(sparse.blocks.len(), threads);
        let covered: Vec<usize> = sparse.blocks.iter().flat_map(|b| b.bins.clone()).collect();
        assert_eq!(covered, (0..mapper.total_bins()).collect::<Vec<_>>());
        let features: Vec<usize> = sparse
            .blocks
            .iter()
            .flat_map(|b| b.features.clone())
            .collect();
        assert_eq!(features, (0..cols).collect::<Vec<_>>());
        let mut cells = 0;
        for r in 0..n {
            let mut row: Vec<u8> = mapper.default_bin.clone();
            for block in &sparse.blocks {
                let Cells::Narrow(block_cells) = &block.cells else {
                    panic!("narrow cells expected")
                };
                for &c in &block_cells[block.start[r]..block.start[r + 1]] {
                    let bin = block.bins.start + c.index();
                    assert!(block.bins.contains(&bin), "cell outside its block");
                    let f = mapper.offsets.partition_point(|&o| o <= bin) - 1;
                    assert!(block.features.contains(&f), "feature outside its block");
                    row[f] = (bin - mapper.offsets[f]) as u8;
                    cells += 1;
                }
            }
            for (f, &b) in row.iter().enumerate() {
                assert_eq!(b, binned.columns[f * n + r], "row {r} feature {f}");
                assert_eq!(b, mapper.bin(f, x[r * cols + f]));
            }
        }
        assert!(
            (sparse.cells_per_row - cells as f64 / n as f64).abs() < 1e-12,
            "{}",
            sparse.cells_per_row
        );
        // One-hot and constant features store (almost) nothing.
        assert!(cells < n * 2 + n / 10, "{cells}");
    }
}

#[test]
fn feature_blocks_share_the_cells_and_cover_every_feature() {
    // Blocks as (first feature, end) pairs.
    let check = |cells: &[usize], threads: usize, want: &[(usize, usize)]| {
        let got: Vec<(usize, usize)> = feature_blocks(cells, threads)
            .into_iter()
            .map(|b| (b.start, b.end))
            .collect();
        assert_eq!(got, want, "{cells:?} on {threads}");
    };
    check(&[10, 10, 10, 10], 1, &[(0, 4)]);
    check(&[10, 10, 10, 10], 2, &[(0, 2), (2, 4)]);
    check(&[10, 10, 10, 10], 4, &[(0, 1), (1, 2), (2, 3), (3, 4)]);
    // Never more blocks than features, never an empty one.
    check(&[10, 10], 8, &[(0, 1), (1, 2)]);
    check(&[100, 1, 1], 3, &[(0, 1), (1, 2), (2, 3)]);
    check(&[1, 1, 100], 2, &[(0, 2), (2, 3)]);
    check(&[0, 0, 0], 2, &[(0, 1), (1, 3)]);
    check(&[], 4, &[(0, 0)]);
}

proptest! {
    /// The bin rule and the tree rule agree: `bin(x) <= k` exactly when
    /// `x <= threshold(k)`, for training values and for values never seen.
    #[test]
    fn bin_order_is_the_threshold_rule(
        values in prop::collection::vec(-1e3f32..1e3, 2..600),
        probes in prop::collection::vec(-2e3f32..2e3, 50),
        max_bins in 2usize..=256,
    ) {
        let y: Vec<bool> = (0..values.len()).map(|i| i % 2 == 0).collect();
        let (mapper, _) = bin_training(&data(&values, 1, &y), max_bins).expect("bins");
        prop_assert!(mapper.bins[0] <= max_bins);
        for &x in values.iter().chain(&probes) {
            let b = mapper.bin(0, x);
            for k in 0..mapper.bins[0] {
                prop_assert_eq!(b as usize <= k, x <= mapper.threshold(0, k as u8));
            }
        }
    }
}
