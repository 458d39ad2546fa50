//! `Ranking` on arbitrary real scores: by hand on rule-like points, and against the
//! probability-only functions after a monotone map of the scores (ranking figures depend on
//! the order alone, so both paths must agree).

use proptest::prelude::*;
use qualify_eval::{EvalError, Ranking, average_precision, lift_at, roc_auc};

#[test]
fn tied_rule_points_by_hand() {
    // Scores 30 | 10, 10 | -5 with labels 1 | 1, 0 | 0: pairs (pos, neg): (30,10)=1, (30,-5)=1,
    // (10,10)=1/2, (10,-5)=1 -> 3.5 / 4.
    let y = [true, true, false, false];
    let s = [30.0, 10.0, 10.0, -5.0];
    let r = Ranking::new(&y, &s).expect("ranking");
    assert_eq!(r.roc_auc().expect("auc"), 0.875);
    // AP: threshold 30 -> recall 1/2, precision 1; threshold 10 -> recall 1, precision 2/3.
    assert!((r.average_precision().expect("ap") - (0.5 + 0.5 * 2.0 / 3.0)).abs() < 1e-12);
    // Working 1, 2, 2.5 and 4 leads.
    assert_eq!(r.captured(1.0), 1.0);
    assert_eq!(r.captured(2.0), 1.5);
    assert_eq!(r.captured(2.5), 1.75);
    assert_eq!(r.captured(4.0), 2.0);
    assert_eq!(r.captured(99.0), 2.0);
    assert_eq!(
        r.gains_curve(),
        vec![(0.0, 0.0), (1.0, 1.0), (3.0, 2.0), (4.0, 2.0)]
    );
    // Lift at 25%: 1 lead, 1 conversion, base rate 1/2 -> 2.
    assert_eq!(r.lift_at(0.25).expect("lift"), 2.0);
}

#[test]
fn non_finite_scores_are_refused_by_index() {
    let err = Ranking::new(&[true, false], &[1.0, f64::NAN]).expect_err("NaN");
    assert!(
        matches!(err, EvalError::InvalidScore { index: 1, .. }),
        "{err}"
    );
    assert!(matches!(
        Ranking::new(&[true], &[1.0, 2.0]),
        Err(EvalError::LengthMismatch { .. })
    ));
}

proptest! {
    /// Points in hundredths over a wide range, mapped monotonically into [0, 1].
    #[test]
    fn order_alone_decides(
        rows in prop::collection::vec((any::<bool>(), -300i32..300), 2..120),
        fraction in 0.05f64..=1.0,
    ) {
        let y: Vec<bool> = rows.iter().map(|r| r.0).collect();
        prop_assume!(y.iter().any(|&l| l) && y.iter().any(|&l| !l));
        let points: Vec<f64> = rows.iter().map(|r| f64::from(r.1 / 10)).collect();
        let unit: Vec<f64> = points.iter().map(|p| (p + 30.0) / 60.0).collect();
        let r = Ranking::new(&y, &points).expect("ranking");
        prop_assert!((r.roc_auc().expect("auc") - roc_auc(&y, &unit).expect("auc")).abs() < 1e-12);
        prop_assert!((r.average_precision().expect("ap") - average_precision(&y, &unit).expect("ap")).abs() < 1e-12);
        prop_assert!((r.lift_at(fraction).expect("lift") - lift_at(&y, &unit, fraction).expect("lift")).abs() < 1e-9);
        // Gains: captured(k) is linear between the curve's points and ends at all positives.
        let curve = r.gains_curve();
        for w in curve.windows(2) {
            let mid = (w[0].0 + w[1].0) / 2.0;
            prop_assert!((r.captured(mid) - (w[0].1 + w[1].1) / 2.0).abs() < 1e-9);
        }
        let last = curve.last().copied().expect("points");
        prop_assert_eq!(last, (y.len() as f64, r.positives() as f64));
    }
}
