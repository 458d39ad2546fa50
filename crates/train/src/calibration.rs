//! Fitting calibrators on held-out (out-of-fold) scores.
//!
//! Platt scaling uses linfa's Newton method (with Platt's smoothed targets). Isotonic
//! regression is pool-adjacent-violators written here: it is twenty lines, and we need its
//! knots in qualify-core's serialisable form, which linfa-linear's isotonic model does not
//! expose. `auto` picks whichever gives the lower log loss in a 2-fold check on the same
//! held-out scores.

use linfa::ParamGuard;
use linfa::composing::platt_scaling::{Platt, platt_newton_method};
use ndarray::ArrayView1;
use qualify_core::calibrate::{Calibrator, ISOTONIC_CLAMP};
use serde::{Deserialize, Serialize};

use crate::error::TrainError;

/// Which calibration to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalibrationMethod {
    Platt,
    Isotonic,
    /// The better of the two by held-out log loss.
    Auto,
}

/// Fits a calibrator mapping `logits` to P(`labels`).
pub fn fit_calibrator(
    method: CalibrationMethod,
    logits: &[f64],
    labels: &[bool],
) -> Result<Calibrator, TrainError> {
    match method {
        CalibrationMethod::Platt => fit_platt(logits, labels),
        CalibrationMethod::Isotonic => Ok(fit_isotonic(logits, labels)),
        CalibrationMethod::Auto => {
            let platt = two_fold_log_loss(logits, labels, CalibrationMethod::Platt)?;
            let isotonic = two_fold_log_loss(logits, labels, CalibrationMethod::Isotonic)?;
            let best = if isotonic < platt {
                CalibrationMethod::Isotonic
            } else {
                CalibrationMethod::Platt
            };
            fit_calibrator(best, logits, labels)
        }
    }
}

/// Platt scaling: `sigmoid(a · logit + b)`.
pub fn fit_platt(logits: &[f64], labels: &[bool]) -> Result<Calibrator, TrainError> {
    let params = Platt::<f64, ()>::params()
        .check()
        .map_err(|source| TrainError::Platt { source })?;
    let (a, b) = platt_newton_method(ArrayView1::from(logits), ArrayView1::from(labels), &params)
        .map_err(|source| TrainError::Platt { source })?;
    // linfa's convention is P = 1 / (1 + exp(a·f + b)); ours is sigmoid(a·f + b).
    let calibrator = Calibrator::Platt { a: -a, b: -b };
    calibrator
        .validate()
        .map_err(|source| TrainError::Calibrator { source })?;
    Ok(calibrator)
}

/// Isotonic regression by pool-adjacent-violators over logits (ties pooled first); knots at
/// the ends of each constant block, values kept inside (0, 1).
pub fn fit_isotonic(logits: &[f64], labels: &[bool]) -> Calibrator {
    let mut order: Vec<usize> = (0..logits.len()).collect();
    order.sort_by(|&a, &b| logits[a].total_cmp(&logits[b]));
    // Blocks: (first x, last x, sum of labels, count).
    let mut blocks: Vec<(f64, f64, f64, f64)> = Vec::new();
    for &i in &order {
        let (x, y) = (logits[i], f64::from(u8::from(labels[i])));
        match blocks.last_mut() {
            Some(last) if last.1 == x => {
                last.2 += y;
                last.3 += 1.0;
            }
            _ => blocks.push((x, x, y, 1.0)),
        }
        while blocks.len() >= 2 {
            let n = blocks.len();
            let (prev, cur) = (blocks[n - 2], blocks[n - 1]);
            if prev.2 / prev.3 < cur.2 / cur.3 {
                break;
            }
            blocks[n - 2] = (prev.0, cur.1, prev.2 + cur.2, prev.3 + cur.3);
            blocks.pop();
        }
    }
    let mut x = Vec::with_capacity(blocks.len() * 2);
    let mut y = Vec::with_capacity(blocks.len() * 2);
    for (first, last, sum, count) in blocks {
        let value = (sum / count).clamp(ISOTONIC_CLAMP, 1.0 - ISOTONIC_CLAMP);
        for knot in [first, last] {
            if x.last().is_none_or(|&prev| knot > prev) {
                x.push(knot);
                y.push(value);
            }
        }
    }
    Calibrator::Isotonic { x, y }
}

/// Mean log loss of a calibration method fitted on one half of the held-out scores and judged
/// on the other, both ways.
fn two_fold_log_loss(
    logits: &[f64],
    labels: &[bool],
    method: CalibrationMethod,
) -> Result<f64, TrainError> {
    let mut total = 0.0;
    for half in 0..2 {
        let (fit_rows, eval_rows): (Vec<usize>, Vec<usize>) =
            (0..logits.len()).partition(|i| i % 2 == half);
        let pick = |rows: &[usize]| -> (Vec<f64>, Vec<bool>) {
            (
                rows.iter().map(|&i| logits[i]).collect(),
                rows.iter().map(|&i| labels[i]).collect(),
            )
        };
        let (fx, fy) = pick(&fit_rows);
        let (ex, ey) = pick(&eval_rows);
        let calibrator = fit_calibrator(method, &fx, &fy)?;
        let p: Vec<f64> = ex.iter().map(|&z| calibrator.apply(z)).collect();
        total += qualify_eval::log_loss(&ey, &p)
            .map_err(TrainError::metric("calibration check log loss"))?;
    }
    Ok(total / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isotonic_is_monotone_and_matches_block_means() {
        let logits = [-2.0, -1.0, -1.0, 0.0, 1.0, 2.0];
        let labels = [false, true, false, false, true, true];
        let Calibrator::Isotonic { x, y } = fit_isotonic(&logits, &labels) else {
            panic!("isotonic")
        };
        assert!(x.windows(2).all(|w| w[0] < w[1]) && y.windows(2).all(|w| w[0] <= w[1]));
        // -1, -1 and 0 pool to one block of rate 1/3.
        let c = Calibrator::Isotonic { x, y };
        assert!((c.apply(-1.0) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(c.apply(-2.0), ISOTONIC_CLAMP);
        assert_eq!(c.apply(3.0), 1.0 - ISOTONIC_CLAMP);
    }

    #[test]
    fn platt_recovers_a_scaled_logit() {
        // Labels drawn deterministically from sigmoid(2z - 1) via a low-discrepancy sequence.
        let n = 4000;
        let logits: Vec<f64> = (0..n).map(|i| -3.0 + 6.0 * i as f64 / n as f64).collect();
        let labels: Vec<bool> = logits
            .iter()
            .enumerate()
            .map(|(i, z)| {
                ((i as f64 * 0.618_033_988_75) % 1.0)
                    < qualify_core::calibrate::sigmoid(2.0 * z - 1.0)
            })
            .collect();
        let Calibrator::Platt { a, b } = fit_platt(&logits, &labels).expect("fit") else {
            panic!("platt")
        };
        assert!(
            (a - 2.0).abs() < 0.25 && (b + 1.0).abs() < 0.2,
            "a={a} b={b}"
        );
        let auto = fit_calibrator(CalibrationMethod::Auto, &logits, &labels).expect("auto");
        assert!(matches!(
            auto,
            Calibrator::Platt { .. } | Calibrator::Isotonic { .. }
        ));
    }
}
