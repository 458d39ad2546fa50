//! The benchmark design matrix: 100,000 leads × 40 features, shared by `benches/fit.rs` and
//! `scripts/bench_logistic.sh` (which times scikit-learn on the very same rows).
//!
//! `cargo run --release -p qualify-train --example bench_data -- OUT.csv [ROWS] [COLS]` writes
//! it as CSV (features `x0..`, label `y`).

use std::io::Write;

/// A deterministic design: standard-normal-ish features (sum of uniforms), a sparse true
/// weight vector, ~15% positives. The same (rows, cols, seed) always gives the same data.
pub fn design(rows: usize, cols: usize, seed: u64) -> (Vec<f32>, Vec<bool>) {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut uniform = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let weights: Vec<f64> = (0..cols)
        .map(|j| {
            if j % 4 == 0 {
                0.8 / (1.0 + j as f64 / 8.0)
            } else {
                0.0
            }
        })
        .collect();
    let mut x = Vec::with_capacity(rows * cols);
    let mut y = Vec::with_capacity(rows);
    for _ in 0..rows {
        let mut z = -2.2;
        for w in &weights {
            let v = (uniform() + uniform() + uniform() - 1.5) * 2.0;
            z += w * v;
            x.push(v as f32);
        }
        y.push(uniform() < 1.0 / (1.0 + (-z).exp()));
    }
    (x, y)
}

pub fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let out = args.get(1).map_or("bench-data.csv", String::as_str);
    let rows = args.get(2).and_then(|v| v.parse().ok()).unwrap_or(100_000);
    let cols = args.get(3).and_then(|v| v.parse().ok()).unwrap_or(40);
    let (x, y) = design(rows, cols, 42);
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    let header: Vec<String> = (0..cols)
        .map(|j| format!("x{j}"))
        .chain(["y".to_string()])
        .collect();
    writeln!(file, "{}", header.join(","))?;
    for (row, label) in x.chunks(cols).zip(&y) {
        for v in row {
            write!(file, "{v},")?;
        }
        writeln!(file, "{}", u8::from(*label))?;
    }
    Ok(())
}
