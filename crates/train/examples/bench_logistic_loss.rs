//! The quality side of `scripts/bench_logistic.sh`: fits the benchmark design (100,000 × 40,
//! seed 42, `examples/bench_data.rs`) at `alpha = 1` with each solver and prints the training
//! log loss, intercept and path, to compare with scikit-learn's fit of the same rows.
//!
//! `cargo run --release -p qualify-train --example bench_logistic_loss`

use qualify_train::logistic::{Method, Solver, fit_warm};
use qualify_train::matrix::column_major;

#[allow(dead_code)]
#[path = "bench_data.rs"]
mod bench_data;

fn main() -> Result<(), qualify_train::error::TrainError> {
    let (rows, cols) = (100_000, 40);
    let (x, y) = bench_data::design(rows, cols, 42);
    let x = column_major(&x, rows, cols);
    for method in [Method::Newton, Method::Lbfgs] {
        let solver = Solver {
            method,
            ..Solver::default()
        };
        let fitted = fit_warm(&x, &y, 1.0, solver, None)?;
        let logits = fitted.model.logits(x.view());
        let loss: f64 = logits
            .iter()
            .zip(&y)
            .map(|(&z, &label)| {
                // -log σ(±z), stably.
                let s = if label { -z } else { z };
                s.max(0.0) + (-s.abs()).exp().ln_1p()
            })
            .sum::<f64>()
            / rows as f64;
        println!(
            "qualify {method:?} fit {rows}x{cols}: training log loss {loss:.9}, intercept {:.6}, {:?}",
            fitted.model.intercept, fitted.path
        );
    }
    Ok(())
}
