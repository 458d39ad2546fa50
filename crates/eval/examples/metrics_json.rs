//! Reads `label,probability` CSV lines from stdin and prints `Metrics` as JSON.
//!
//! Labels are `0` or `1`. Blank lines and a leading `label,probability`
//! header are skipped. Used by `scripts/check_metrics.py` to compare against
//! scikit-learn.
//!
//! ```text
//! printf '0,0.1\n1,0.8\n' | cargo run -q -p qualify-eval --example metrics_json
//! ```

use std::error::Error;
use std::io::{BufRead, Write};

use qualify_eval::Metrics;

fn main() -> Result<(), Box<dyn Error>> {
    let mut labels = Vec::new();
    let mut probs = Vec::new();
    for (i, line) in std::io::stdin().lock().lines().enumerate() {
        let line = line?;
        let line = line.trim();
        if line.is_empty() || (i == 0 && line.starts_with("label")) {
            continue;
        }
        let lineno = i + 1;
        let (label, prob) = line
            .split_once(',')
            .ok_or_else(|| format!("line {lineno}: expected `label,probability`, got {line:?}"))?;
        labels.push(match label.trim() {
            "0" => false,
            "1" => true,
            other => {
                return Err(format!("line {lineno}: label must be 0 or 1, got {other:?}").into());
            }
        });
        let prob: f64 = prob
            .trim()
            .parse()
            .map_err(|e| format!("line {lineno}: bad probability {prob:?}: {e}"))?;
        probs.push(prob);
    }
    let metrics = Metrics::compute(&labels, &probs)?;
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &metrics)?;
    writeln!(out)?;
    Ok(())
}
