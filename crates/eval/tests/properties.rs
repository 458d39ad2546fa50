//! Property tests: the fast O(n log n) implementations against slow reference
//! formulas written directly from the definitions.

use proptest::prelude::*;
use qualify_eval::{
    EvalError, Metrics, average_precision, brier, ece, lift_at, log_loss, precision_recall_curve,
    reliability_table, roc_auc, roc_curve,
};

const TOL: f64 = 1e-9;

/// Labels plus scores that are either continuous or drawn from 11 values (heavy ties).
fn data() -> impl Strategy<Value = (Vec<bool>, Vec<f64>)> {
    (1usize..80).prop_flat_map(|n| {
        let scores = prop_oneof![
            prop::collection::vec(0.0f64..=1.0, n),
            prop::collection::vec((0u8..=10).prop_map(|k| f64::from(k) / 10.0), n),
            prop::collection::vec((0u8..=2).prop_map(|k| f64::from(k) / 2.0), n),
        ];
        (prop::collection::vec(any::<bool>(), n), scores)
    })
}

fn counts(y: &[bool]) -> (usize, usize) {
    let pos = y.iter().filter(|&&l| l).count();
    (pos, y.len() - pos)
}

/// O(n^2): fraction of (positive, negative) pairs ranked correctly, ties = 1/2.
fn pairwise_auc(y: &[bool], p: &[f64]) -> f64 {
    let (pos, neg) = counts(y);
    let mut wins = 0.0;
    for i in (0..y.len()).filter(|&i| y[i]) {
        for j in (0..y.len()).filter(|&j| !y[j]) {
            wins += if p[i] > p[j] {
                1.0
            } else if p[i] == p[j] {
                0.5
            } else {
                0.0
            };
        }
    }
    wins / (pos as f64 * neg as f64)
}

/// AP as the mean, over positives, of precision at that positive's score
/// (every row scoring at least as high counts as predicted positive).
fn definition_ap(y: &[bool], p: &[f64]) -> f64 {
    let (pos, _) = counts(y);
    let mut sum = 0.0;
    for i in (0..y.len()).filter(|&i| y[i]) {
        let selected: Vec<usize> = (0..y.len()).filter(|&j| p[j] >= p[i]).collect();
        let hits = selected.iter().filter(|&&j| y[j]).count();
        sum += hits as f64 / selected.len() as f64;
    }
    sum / pos as f64
}

/// Each row's weight in the top `k` rows: 1 if it fits above the cut, 0 below,
/// `(k - rows strictly above) / rows tied` (clamped to [0, 1]) at the cut.
fn reference_lift(y: &[bool], p: &[f64], fraction: f64) -> f64 {
    let n = y.len() as f64;
    let k = fraction * n;
    let mut captured = 0.0;
    for i in 0..y.len() {
        let above = p.iter().filter(|&&q| q > p[i]).count() as f64;
        let tied = p.iter().filter(|&&q| q == p[i]).count() as f64;
        let w = ((k - above) / tied).clamp(0.0, 1.0);
        if y[i] {
            captured += w;
        }
    }
    let (pos, _) = counts(y);
    (captured / k) / (pos as f64 / n)
}

fn naive_ece(y: &[bool], p: &[f64], bins: usize) -> f64 {
    let n = y.len() as f64;
    let mut total = 0.0;
    for b in 0..bins {
        let idx: Vec<usize> = (0..y.len())
            .filter(|&i| ((p[i] * bins as f64).floor() as usize).min(bins - 1) == b)
            .collect();
        if idx.is_empty() {
            continue;
        }
        let m = idx.len() as f64;
        let mean_p: f64 = idx.iter().map(|&i| p[i]).sum::<f64>() / m;
        let rate = idx.iter().filter(|&&i| y[i]).count() as f64 / m;
        total += m / n * (mean_p - rate).abs();
    }
    total
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn auc_matches_pairwise((y, p) in data()) {
        let (pos, neg) = counts(&y);
        match roc_auc(&y, &p) {
            Ok(auc) => prop_assert!((auc - pairwise_auc(&y, &p)).abs() < TOL),
            Err(e) => {
                prop_assert!(pos == 0 || neg == 0);
                let single_class = matches!(e, EvalError::SingleClass { .. });
                prop_assert!(single_class);
            }
        }
    }

    #[test]
    fn auc_is_symmetric_under_label_flip((y, p) in data()) {
        let flipped: Vec<bool> = y.iter().map(|l| !l).collect();
        if let (Ok(a), Ok(b)) = (roc_auc(&y, &p), roc_auc(&flipped, &p)) {
            prop_assert!((a + b - 1.0).abs() < TOL);
        }
    }

    #[test]
    fn roc_curve_area_is_auc((y, p) in data()) {
        if let (Ok(curve), Ok(auc)) = (roc_curve(&y, &p), roc_auc(&y, &p)) {
            prop_assert_eq!(curve.first().copied(), Some((0.0, 0.0)));
            prop_assert_eq!(curve.last().copied(), Some((1.0, 1.0)));
            let area: f64 = curve
                .windows(2)
                .map(|w| (w[1].0 - w[0].0) * (w[1].1 + w[0].1) / 2.0)
                .sum();
            prop_assert!((area - auc).abs() < TOL);
        }
    }

    #[test]
    fn ap_matches_definition((y, p) in data()) {
        match average_precision(&y, &p) {
            Ok(ap) => {
                prop_assert!((ap - definition_ap(&y, &p)).abs() < TOL);
                let curve = precision_recall_curve(&y, &p).expect("curve");
                let mut prev = 0.0;
                let mut step_sum = 0.0;
                for (recall, precision) in curve {
                    step_sum += (recall - prev) * precision;
                    prev = recall;
                }
                prop_assert!((ap - step_sum).abs() < TOL);
            }
            Err(_) => prop_assert_eq!(counts(&y).0, 0),
        }
    }

    #[test]
    fn lift_matches_per_row_weights((y, p) in data(), fraction in 0.01f64..=1.0) {
        if counts(&y).0 > 0 {
            let lift = lift_at(&y, &p, fraction).expect("lift");
            prop_assert!((lift - reference_lift(&y, &p, fraction)).abs() < TOL);
            let whole = lift_at(&y, &p, 1.0).expect("lift");
            prop_assert!((whole - 1.0).abs() < TOL);
        }
    }

    #[test]
    fn calibration_matches_naive((y, p) in data(), bins in 1usize..15) {
        let n = y.len() as f64;
        let ll: f64 = y.iter().zip(&p).map(|(&l, &q)| {
            let q = q.clamp(1e-15, 1.0 - 1e-15);
            if l { -q.ln() } else { -(1.0 - q).ln() }
        }).sum::<f64>() / n;
        prop_assert!((log_loss(&y, &p).expect("ll") - ll).abs() < TOL);
        let br: f64 = y.iter().zip(&p).map(|(&l, &q)| {
            let t = if l { 1.0 } else { 0.0 };
            (q - t) * (q - t)
        }).sum::<f64>() / n;
        prop_assert!((brier(&y, &p).expect("brier") - br).abs() < TOL);
        prop_assert!((ece(&y, &p, bins).expect("ece") - naive_ece(&y, &p, bins)).abs() < TOL);
        let table = reliability_table(&y, &p, bins).expect("table");
        prop_assert_eq!(table.len(), bins);
        prop_assert_eq!(table.iter().map(|b| b.count).sum::<usize>(), y.len());
    }

    #[test]
    fn bundle_agrees_with_single_metrics((y, p) in data()) {
        let (pos, neg) = counts(&y);
        prop_assume!(pos > 0 && neg > 0);
        let m = Metrics::compute(&y, &p).expect("metrics");
        prop_assert_eq!(m.roc_auc, roc_auc(&y, &p).expect("auc"));
        prop_assert_eq!(m.pr_auc, average_precision(&y, &p).expect("ap"));
        prop_assert_eq!(m.lift_at_10, lift_at(&y, &p, 0.1).expect("lift"));
        prop_assert_eq!(m.ece, ece(&y, &p, 10).expect("ece"));
        prop_assert_eq!(m.log_loss, log_loss(&y, &p).expect("ll"));
        let prior = Metrics::constant_prior(&y).expect("prior");
        prop_assert!((prior.roc_auc - 0.5).abs() < TOL);
        prop_assert!((prior.lift_at_10 - 1.0).abs() < TOL);
        prop_assert!((prior.pr_auc - m.positive_rate).abs() < TOL);
    }
}
