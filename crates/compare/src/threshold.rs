//! Suggested MQL thresholds on the rule score, from past deals.
//!
//! The field's advice is to set the MQL threshold from what past leads did. Two targets: a
//! **capacity** (the most leads sales can work: the lowest threshold that qualifies no more
//! than that) and a **precision** (the conversion rate sales should see among MQLs: the lowest
//! threshold, so the most leads, whose MQL-or-better set converts at least that often).
//!
//! Moving `stages.mql` to `t` changes nothing but who reaches it: a lead is MQL or better at
//! `t` when it qualifies anyway (product milestones) or qualifies by points and scores at
//! least `t` ([`Leads::qualifies_at`]). The set only shrinks as `t` grows, so the capacity
//! suggestion is well defined; precision is not monotone in `t`, so every candidate (each
//! distinct score of a lead that qualifies by points) is tried. The binary re-runs the rules
//! with the suggested threshold and reports that set as `applied`, which must agree.

use serde::Serialize;

use crate::leads::Leads;
use crate::selection::Selection;

/// One suggestion.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Suggestion {
    /// The capacity (leads) or precision aimed at.
    pub target: f64,
    /// Where the target came from.
    pub target_source: String,
    /// The suggested `stages.mql`; `None` when no threshold meets the target.
    pub threshold: Option<f64>,
    /// The MQL-or-better set at the threshold.
    pub selection: Option<Selection>,
    /// The same set from re-running the rules with `mql = threshold` (set by the caller, who
    /// has the rules).
    pub applied: Option<Selection>,
}

/// Both suggestions beside the current threshold.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Thresholds {
    pub current: f64,
    pub for_capacity: Suggestion,
    pub for_precision: Suggestion,
}

/// `(threshold, leads, conversions)` of the MQL-or-better set at each candidate threshold,
/// highest threshold first.
fn steps(leads: &Leads) -> Vec<(f64, usize, usize)> {
    let (mut n, mut pos) = (0usize, 0usize);
    let mut by_points: Vec<(f64, bool)> = Vec::new();
    for i in 0..leads.n() {
        if leads.qualifies_anyway[i] {
            n += 1;
            pos += usize::from(leads.labels[i]);
        } else if leads.qualifies_by_points[i] {
            by_points.push((leads.rule_score[i], leads.labels[i]));
        }
    }
    by_points.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    let mut out = Vec::new();
    for (i, &(score, y)) in by_points.iter().enumerate() {
        n += 1;
        pos += usize::from(y);
        if by_points.get(i + 1).is_none_or(|next| next.0 != score) {
            out.push((score, n, pos));
        }
    }
    out
}

fn suggestion(
    leads: &Leads,
    target: f64,
    target_source: String,
    step: Option<(f64, usize, usize)>,
) -> Suggestion {
    let positives = leads.positives();
    Suggestion {
        target,
        target_source,
        threshold: step.map(|s| s.0),
        selection: step.map(|(_, n, pos)| Selection::new(n as f64, pos as f64, positives)),
        applied: None,
    }
}

/// Suggestions for a capacity of `capacity` leads and a precision of `precision`.
pub fn thresholds(
    leads: &Leads,
    current: f64,
    capacity: (usize, String),
    precision: (f64, String),
) -> Thresholds {
    let steps = steps(leads);
    let by_capacity = steps
        .iter()
        .take_while(|s| s.1 <= capacity.0)
        .last()
        .copied();
    let by_precision = steps
        .iter()
        .rev()
        .find(|s| s.2 as f64 / s.1 as f64 >= precision.0)
        .copied();
    Thresholds {
        current,
        for_capacity: suggestion(leads, capacity.0 as f64, capacity.1, by_capacity),
        for_precision: suggestion(leads, precision.0, precision.1, by_precision),
    }
}

#[cfg(test)]
mod tests {
    use qualify_rules::Stage;

    use super::*;

    /// | lead | score | stage        | label |                                  |
    /// |------|-------|--------------|-------|----------------------------------|
    /// | 0    | 100   | Disqualified | 1     | never qualifies                  |
    /// | 1    | 90    | MQL          | 1     |                                  |
    /// | 2    | 80    | MQL          | 0     |                                  |
    /// | 3    | 80    | MQL          | 1     |                                  |
    /// | 4    | 60    | Lead         | 0     |                                  |
    /// | 5    | 60    | Nurture      | 1     | never qualifies                  |
    /// | 6    | 40    | Lead         | 0     |                                  |
    /// | 7    | 10    | PQL          | 0     | qualifies whatever the threshold |
    ///
    /// MQL-or-better at t: lead 7, plus by-points leads scoring at least t.
    /// At 90: 2 leads, 1 conversion; at 80: 4, 2; at 60: 5, 2; at 40: 6, 2.
    /// Capacity 4 -> 80; capacity 3 -> 90 (the tie at 80 would make 4); capacity 1 -> none.
    /// Precision 0.5 -> 80 (2/4), 0.4 -> 60 (2/5), 0.3 -> 40 (2/6), 0.6 -> none (best 1/2).
    #[test]
    fn thresholds_by_hand() {
        let stage = vec![
            Stage::Disqualified,
            Stage::Mql,
            Stage::Mql,
            Stage::Mql,
            Stage::Lead,
            Stage::Nurture,
            Stage::Lead,
            Stage::Pql,
        ];
        let y = vec![true, true, false, true, false, true, false, false];
        let s = vec![100.0, 90.0, 80.0, 80.0, 60.0, 60.0, 40.0, 10.0];
        let leads = Leads::new(y, vec![0.5; 8], s, stage).expect("leads");
        let t = |k: usize, prec: f64| {
            let t = thresholds(&leads, 75.0, (k, "k".into()), (prec, "p".into()));
            (t.for_capacity.threshold, t.for_precision.threshold)
        };
        assert_eq!(t(4, 0.5), (Some(80.0), Some(80.0)));
        assert_eq!(t(3, 0.4), (Some(90.0), Some(60.0)));
        assert_eq!(t(100, 0.3), (Some(40.0), Some(40.0)));
        assert_eq!(t(1, 0.6), (None, None));
        let full = thresholds(&leads, 75.0, (4, "k".into()), (0.4, "p".into()));
        let sel = full.for_precision.selection.expect("selection");
        assert_eq!(
            (sel.leads, sel.conversions, sel.precision),
            (5.0, 2.0, Some(0.4))
        );
        // Recall counts every conversion, the never-qualifying ones too: 2 of 4.
        assert_eq!(sel.recall, 0.5);
        // The selection is exactly the set `qualifies_at` picks.
        let direct = Selection::of(&leads.labels, |i| leads.qualifies_at(i, 60.0));
        assert_eq!(direct, sel);
    }
}
