//! The GBM work of `qualify train --model gbm`, on an encoded CSV (the export_encoded example
//! of qualify-train: features, then the label): 5 stratified folds, each fitted on the other
//! folds minus a stratified 10% that early stopping watches (50 rounds, up to 1,000 trees)
//! and scoring its held-out fold; a refit on all rows at the mean of the folds' best tree
//! counts; every fit's trees checked on every training row against the booster's scores;
//! Platt scaling of the out-of-fold log-odds. The folds are fitted side by side on rayon's
//! threads, as qualify-train fits them. The folds and early-stopping rows are drawn
//! exactly as qualify-train's `split.rs` draws them (copied below), the settings are
//! qualify's defaults. Reading the CSV is not timed (as in the LightGBM peer,
//! `scripts/bench_lightgbm_pipeline.py`).
//!
//! `cargo run --release -p qualify-gbm --example pipeline -- ENCODED.csv [THREADS]`

use std::time::Instant;

use qualify_gbm::{Data, Params, fit};
use rand::SeedableRng;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rayon::prelude::*;

const FOLDS: usize = 5;
const SEED: u64 = 42;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args
        .first()
        .ok_or("usage: pipeline ENCODED.csv [THREADS]")?;
    let threads: Option<usize> = args.get(1).map(|t| t.parse()).transpose()?;
    let text = std::fs::read_to_string(path)?;
    let mut lines = text.lines();
    let cols = lines.next().ok_or("empty file")?.split(',').count() - 1;
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for line in lines {
        let mut fields = line.split(',');
        for _ in 0..cols {
            x.push(fields.next().ok_or("short row")?.parse::<f32>()?);
        }
        y.push(fields.next().ok_or("no label")?.trim() == "1");
    }
    let params = Params {
        learning_rate: 0.05,
        max_leaves: 15,
        min_leaf_hessian: 5.0,
        l2: 1.0,
        max_bins: 256,
        early_stopping_rounds: 50,
        threads: None,
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.unwrap_or(0))
        .build()?;
    Ok(pool.install(|| run(&x, cols, &y, &params))?)
}

/// The timed work (module docs) on the current rayon pool.
fn run(x: &[f32], cols: usize, y: &[bool], params: &Params) -> Result<(), String> {
    let start = Instant::now();
    let n = y.len();
    let weights = vec![1.0; n];
    let fold_of = stratified_folds(y, FOLDS, SEED);
    let mut oof = vec![0.0; n];
    // The folds side by side, as qualify-train fits them.
    let fitted: Vec<Result<(Vec<usize>, qualify_gbm::Fitted), String>> = (0..FOLDS)
        .into_par_iter()
        .map(|fold| {
            let (held_out, rest): (Vec<usize>, Vec<usize>) =
                (0..n).partition(|&i| fold_of[i] == fold);
            let rest_y: Vec<bool> = rest.iter().map(|&i| y[i]).collect();
            let (fit_rows, stop_rows) =
                stratified_split(&rest_y, 0.1, SEED.wrapping_add(fold as u64));
            let pick = |rows: &[usize]| {
                let rows: Vec<usize> = rows.iter().map(|&r| rest[r]).collect();
                let px: Vec<f32> = rows
                    .iter()
                    .flat_map(|&r| x[r * cols..(r + 1) * cols].to_vec())
                    .collect();
                let py: Vec<bool> = rows.iter().map(|&r| y[r]).collect();
                (px, py)
            };
            let ((fx, fy), (sx, sy)) = (pick(&fit_rows), pick(&stop_rows));
            let train = Data {
                x: &fx,
                cols,
                y: &fy,
                weights: Some(&weights[..fy.len()]),
            };
            let watch = Data {
                x: &sx,
                cols,
                y: &sy,
                weights: Some(&weights[..sy.len()]),
            };
            let fitted = fit(train, Some(watch), 1000, params, &[]).map_err(|e| e.to_string())?;
            check(&fitted, &fx, cols)?;
            Ok((held_out, fitted))
        })
        .collect();
    let mut best = Vec::new();
    for fitted in fitted {
        let (held_out, fitted) = fitted?;
        for &i in &held_out {
            oof[i] = fitted.ensemble.raw_score(&x[i * cols..(i + 1) * cols]);
        }
        best.push(fitted.ensemble.trees.len());
    }
    let final_trees = ((best.iter().sum::<usize>() as f64 / FOLDS as f64).round() as usize).max(1);
    let all = Data {
        x,
        cols,
        y,
        weights: Some(&weights),
    };
    let refit = fit(all, None, final_trees, params, &[]).map_err(|e| e.to_string())?;
    check(&refit, x, cols)?;
    let (a, b) = platt(&oof, y);
    let seconds = start.elapsed().as_secs_f64();
    let softplus = |z: f64| z.max(0.0) + (-z.abs()).exp().ln_1p();
    let loss = oof
        .iter()
        .zip(y)
        .map(|(&z, &t)| softplus(if t { -z } else { z }))
        .sum::<f64>()
        / n as f64;
    println!(
        "qualify-gbm pipeline on {n}x{cols}: {seconds:.3} s; folds' best trees {best:?}, refit {final_trees}; \
         CV log loss {loss:.4}; Platt a {a:.4} b {b:.4}"
    );
    println!(
        "{{\"seconds\": {seconds}, \"cv_log_loss\": {loss}, \"best_trees\": {best:?}, \"final_trees\": {final_trees}}}"
    );
    Ok(())
}

/// The check `qualify_train::gbm::fit` runs: the ensemble scores every training row as the
/// booster did.
fn check(fitted: &qualify_gbm::Fitted, x: &[f32], cols: usize) -> Result<(), String> {
    for (row, (features, &want)) in x.chunks(cols).zip(&fitted.train_scores).enumerate() {
        let got = fitted.ensemble.raw_score(features);
        let diff = (got - want).abs();
        if diff.is_nan() || diff > 1e-9 {
            return Err(format!("row {row}: {got} vs {want}"));
        }
    }
    Ok(())
}

/// Platt scaling `p = sigmoid(a z + b)` by Newton's method on the log loss.
fn platt(z: &[f64], y: &[bool]) -> (f64, f64) {
    let (mut a, mut b) = (1.0, 0.0);
    for _ in 0..50 {
        let (mut ga, mut gb, mut haa, mut hab, mut hbb) = (0.0, 0.0, 1e-12, 0.0, 1e-12);
        for (&z, &t) in z.iter().zip(y) {
            let p = 1.0 / (1.0 + (-(a * z + b)).exp());
            let r = p - if t { 1.0 } else { 0.0 };
            let w = p * (1.0 - p);
            (ga, gb) = (ga + r * z, gb + r);
            (haa, hab, hbb) = (haa + w * z * z, hab + w * z, hbb + w);
        }
        let det = haa * hbb - hab * hab;
        a -= (hbb * ga - hab * gb) / det;
        b -= (haa * gb - hab * ga) / det;
    }
    (a, b)
}

/// qualify-train's `split::stratified_split`: (train, test) row indices.
fn stratified_split(labels: &[bool], test_fraction: f64, seed: u64) -> (Vec<usize>, Vec<usize>) {
    let mut rng = StdRng::seed_from_u64(seed);
    let (mut train, mut test) = (Vec::new(), Vec::new());
    for class in [false, true] {
        let mut rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        rows.shuffle(&mut rng);
        let n_test = (rows.len() as f64 * test_fraction).round() as usize;
        test.extend_from_slice(&rows[..n_test]);
        train.extend_from_slice(&rows[n_test..]);
    }
    train.sort_unstable();
    test.sort_unstable();
    (train, test)
}

/// qualify-train's `split::stratified_folds`: the fold of each row.
fn stratified_folds(labels: &[bool], k: usize, seed: u64) -> Vec<usize> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0x9e37_79b9_7f4a_7c15);
    let mut fold = vec![0; labels.len()];
    let negatives = labels.iter().filter(|&&y| !y).count();
    for class in [false, true] {
        let mut rows: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == class).collect();
        rows.shuffle(&mut rng);
        let offset = if class { negatives } else { 0 };
        for (i, row) in rows.into_iter().enumerate() {
            fold[row] = (i + offset) % k;
        }
    }
    fold
}
