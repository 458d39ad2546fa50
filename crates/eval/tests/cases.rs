//! Hand-computed small cases and error reporting.

use qualify_eval::{
    EvalError, Metrics, average_precision, brier, ece, lift_at, log_loss, precision_recall_curve,
    reliability_table, roc_auc, roc_curve,
};

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-12
}

#[test]
fn auc_matches_sklearn_docs_example() {
    let y = [false, false, true, true];
    let p = [0.1, 0.4, 0.35, 0.8];
    assert!(close(roc_auc(&y, &p).expect("auc"), 0.75));
    assert!(close(average_precision(&y, &p).expect("ap"), 5.0 / 6.0));
}

#[test]
fn auc_perfect_reversed_and_tied() {
    assert!(close(
        roc_auc(&[false, true], &[0.2, 0.9]).expect("auc"),
        1.0
    ));
    assert!(close(
        roc_auc(&[true, false], &[0.2, 0.9]).expect("auc"),
        0.0
    ));
    assert!(close(
        roc_auc(&[true, false, true], &[0.3; 3]).expect("auc"),
        0.5
    ));
}

#[test]
fn auc_counts_ties_as_half() {
    // Pairs (pos, neg): (.5,.5)=1/2, (.5,.2)=1, (.8,.5)=1, (.8,.2)=1 -> 3.5/4.
    let y = [false, true, false, true];
    let p = [0.5, 0.5, 0.2, 0.8];
    assert!(close(roc_auc(&y, &p).expect("auc"), 0.875));
}

#[test]
fn negative_zero_ties_with_zero() {
    assert!(close(
        roc_auc(&[true, false], &[0.0, -0.0]).expect("auc"),
        0.5
    ));
}

#[test]
fn ap_groups_tied_scores() {
    // Threshold 0.5: tp 1 of 2 seen (precision 1/2); threshold 0.1: 2 of 3.
    let y = [true, false, true];
    let p = [0.5, 0.5, 0.1];
    let expected = 0.5 * 0.5 + 0.5 * (2.0 / 3.0);
    assert!(close(average_precision(&y, &p).expect("ap"), expected));
    assert!(close(
        average_precision(&[true, true], &[0.1, 0.7]).expect("ap"),
        1.0
    ));
}

#[test]
fn log_loss_and_brier_small() {
    let y = [true, false];
    let p = [0.8, 0.3];
    let ll = -(0.8f64.ln() + 0.7f64.ln()) / 2.0;
    assert!(close(log_loss(&y, &p).expect("ll"), ll));
    assert!(close(brier(&y, &p).expect("brier"), (0.04 + 0.09) / 2.0));
}

#[test]
fn log_loss_clips_certain_mistakes() {
    let ll = log_loss(&[false, true], &[1.0, 0.0]).expect("ll");
    let q: f64 = 1.0 - 1e-15;
    // Row 0 is clipped down to 1 - 1e-15, row 1 up to 1e-15.
    assert!(close(ll, (-(1.0 - q).ln() - 1e-15f64.ln()) / 2.0));
    assert!(ll.is_finite() && ll > 30.0);
}

#[test]
fn ece_and_reliability_table() {
    let y = [true, false, true, false];
    let p = [0.05, 0.05, 0.95, 1.0];
    // Bin 0: mean .05 vs rate .5; bin 9 (holds 1.0): mean .975 vs rate .5.
    assert!(close(
        ece(&y, &p, 10).expect("ece"),
        0.5 * 0.45 + 0.5 * 0.475
    ));
    let table = reliability_table(&y, &p, 10).expect("table");
    assert_eq!(table.len(), 10);
    assert_eq!(table[0].count, 2);
    assert_eq!(table[9].count, 2);
    assert!(close(table[9].upper, 1.0) && close(table[3].lower, 0.3));
    assert!(
        table[1..9]
            .iter()
            .all(|b| b.count == 0 && b.mean_predicted.is_none() && b.observed_rate.is_none())
    );
    assert!(close(table[9].mean_predicted.expect("mean"), 0.975));
    assert!(close(table[9].observed_rate.expect("rate"), 0.5));
}

#[test]
fn lift_distinct_scores() {
    let p: Vec<f64> = (0..10).map(|i| f64::from(i) / 10.0).collect();
    let mut y = vec![false; 10];
    y[9] = true; // highest score
    y[0] = true;
    // Top 1 row: rate 1, base rate 0.2.
    assert!(close(lift_at(&y, &p, 0.1).expect("lift"), 5.0));
    assert!(close(lift_at(&y, &p, 1.0).expect("lift"), 1.0));
}

#[test]
fn lift_shares_tied_slots_pro_rata() {
    // k = 1 slot, two rows tied at the top with one positive: 0.5 captured.
    let mut p = vec![0.5; 10];
    p[0] = 0.9;
    p[1] = 0.9;
    let mut y = vec![false; 10];
    y[0] = true;
    y[2] = true;
    assert!(close(lift_at(&y, &p, 0.1).expect("lift"), 0.5 / 0.2));
}

#[test]
fn lift_fractional_cut() {
    // k = 2.5: rows .9 (T) and .8 (F) fully, half of .7 (T) -> 1.5 / 2.5 over 0.4.
    let p = [0.9, 0.8, 0.7, 0.6, 0.5];
    let y = [true, false, true, false, false];
    assert!(close(lift_at(&y, &p, 0.5).expect("lift"), 0.6 / 0.4));
}

#[test]
fn curves_small() {
    let y = [false, false, true, true];
    let p = [0.1, 0.4, 0.35, 0.8];
    let roc = roc_curve(&y, &p).expect("roc");
    assert_eq!(
        roc,
        vec![(0.0, 0.0), (0.0, 0.5), (0.5, 0.5), (0.5, 1.0), (1.0, 1.0)]
    );
    let pr = precision_recall_curve(&y, &p).expect("pr");
    assert_eq!(pr.len(), 4);
    assert_eq!(pr[0], (0.5, 1.0));
    assert_eq!(pr[3], (1.0, 0.5));
}

#[test]
fn errors_are_specific() {
    assert_eq!(roc_auc(&[], &[]), Err(EvalError::Empty));
    assert_eq!(
        brier(&[true], &[0.1, 0.2]),
        Err(EvalError::LengthMismatch {
            labels: 1,
            scores: 2
        })
    );
    let single = roc_auc(&[true, true], &[0.1, 0.2]).expect_err("single class");
    assert!(single.to_string().contains("only one class"), "{single}");
    assert!(
        single.to_string().contains("ROC AUC is undefined"),
        "{single}"
    );
    assert!(matches!(
        average_precision(&[false], &[0.1]),
        Err(EvalError::NoPositives { .. })
    ));
    let bad = log_loss(&[true, false, true], &[0.1, 0.2, f64::NAN]).expect_err("nan");
    assert!(matches!(
        bad,
        EvalError::InvalidProbability { index: 2, .. }
    ));
    assert!(bad.to_string().contains("index 2 is NaN"), "{bad}");
    let out = ece(&[true, false], &[0.5, 1.5], 10).expect_err("range");
    assert!(out.to_string().contains("index 1 is 1.5"), "{out}");
    assert!(roc_auc(&[true, false], &[f64::INFINITY, 0.1]).is_err());
    assert!(roc_auc(&[true, false], &[-0.1, 0.1]).is_err());
    assert_eq!(ece(&[true], &[0.5], 0), Err(EvalError::ZeroBins));
    for f in [0.0, -0.1, 1.5, f64::NAN] {
        assert!(matches!(
            lift_at(&[true, false], &[0.5, 0.1], f),
            Err(EvalError::InvalidFraction(_))
        ));
    }
    assert!(Metrics::compute(&[false, false], &[0.1, 0.2]).is_err());
    assert_eq!(Metrics::constant_prior(&[]), Err(EvalError::Empty));
}

#[test]
fn constant_prior_is_no_skill() {
    let y: Vec<bool> = (0..10).map(|i| i < 3).collect();
    let m = Metrics::constant_prior(&y).expect("prior");
    assert_eq!((m.n, m.positives), (10, 3));
    assert!(close(m.positive_rate, 0.3));
    assert!(close(m.roc_auc, 0.5));
    assert!(close(m.pr_auc, 0.3));
    assert!(close(m.lift_at_10, 1.0));
    assert!(m.ece.abs() < 1e-12);
    assert!(close(m.brier, 0.21));
    assert!(close(m.log_loss, -(0.3f64.ln() * 0.3 + 0.7f64.ln() * 0.7)));
}

#[test]
fn metrics_json_round_trip_with_null_empty_bins() {
    let y = [false, false, true, true];
    let p = [0.1, 0.4, 0.35, 0.8];
    let m = Metrics::compute(&y, &p).expect("metrics");
    let json = serde_json::to_string(&m).expect("serialize");
    assert!(json.contains("\"mean_predicted\":null"), "{json}");
    let back: Metrics = serde_json::from_str(&json).expect("deserialize");
    assert_eq!(back, m);
}
